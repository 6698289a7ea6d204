"""The sharing upward pages. The rules are workflows/sharing's."""
from .routes import bp  # noqa: F401
