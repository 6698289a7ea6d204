"""The complaints pages. The rules are workflows/complaints's."""
from .routes import bp  # noqa: F401
