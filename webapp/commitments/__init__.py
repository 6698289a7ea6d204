"""The township commitments pages. The rules are workflows/commitments's."""
from .routes import bp  # noqa: F401
