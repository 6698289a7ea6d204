"""The look-ups (逢办必查) pages. The rules are workflows/lookups's."""
from .routes import bp  # noqa: F401
