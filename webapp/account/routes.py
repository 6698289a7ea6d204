"""One's own account pages."""
from __future__ import annotations

from . import bp  # noqa: F401


@bp.get("/")
def index():
    return "", 501
