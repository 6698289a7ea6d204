"""Early warnings: the open ones a user may see. (Scaffold; the rules come next.)"""
from __future__ import annotations


def open_warnings(session, actor, limit: int = 10) -> list:
    """The newest unacknowledged warnings `actor` may see, at most `limit`."""
    return []
