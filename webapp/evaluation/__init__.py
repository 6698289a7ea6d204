"""The integrity evaluation pages. The rules are workflows/evaluation's."""
from .routes import bp  # noqa: F401
