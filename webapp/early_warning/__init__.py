"""The early-warning pages. The rules are workflows/early_warning's."""
from .routes import bp  # noqa: F401
