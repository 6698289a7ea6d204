"""退回 send back: the decider returns the case to an earlier user step it has passed; the step
goes back to the person who completed it, with their previous input and the reason."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """An earlier step the case can be sent back to, and who completed it."""
    bpmn_id: str
    name: str
    user_id: int | None
    user_name: str


def send_back_targets(session, row) -> list[Target]:
    """The earlier user steps `row`'s case passed on the way to it, nearest first."""
    raise NotImplementedError


def send_back(uow, task_row_id: int, target: str, reason: str, expected_version: int | None = None):
    """Return the case from the held task `task_row_id` to the earlier step `target` (a BPMN id).
    Returns the new task row of that step."""
    raise NotImplementedError
