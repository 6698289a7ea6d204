"""催办 urge: whoever waits on a step reminds its holder, at most once a day per task."""
from __future__ import annotations


def urge(uow, task_row_id: int, reason: str = ""):
    """Send a reminder to the task's holder (or, unclaimed, to the holders of its lane)."""
    raise NotImplementedError


def may_urge(session, actor, row, today) -> bool:
    raise NotImplementedError
