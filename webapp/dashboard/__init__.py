"""The monitoring dashboard pages. The figures are workflows/dashboard's."""
from .routes import bp  # noqa: F401
