"""The working-day calendar: a year as month grids, days entered one by one, whole years imported."""
from __future__ import annotations

from . import bp  # noqa: F401


@bp.get("/calendar")
def calendar():
    return "", 501
