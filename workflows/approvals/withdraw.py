"""撤回 withdraw: the person who completed a step takes it back while the next step is unclaimed."""
from __future__ import annotations


def withdrawable(session, actor, case) -> dict | None:
    """What the actor could withdraw on this case now: {"bpmn_id", "name", "completed_at"}, or None."""
    raise NotImplementedError


def withdraw(uow, case_id: int, reason: str, expected_version: int | None = None):
    """Take back the actor's last completed step of the case. Returns its new task row."""
    raise NotImplementedError
