"""转办 transfer and 委派 delegate (and the delegate handing the task back)."""
from __future__ import annotations


def check_completion(uow, row) -> None:
    """Refuse completing a task while it is delegated to the actor (they hand it back instead)."""
    return None


def transfer_candidates(session, actor, row) -> list:
    """Active colleagues (User) whose roles cover the task's lane, the actor left out."""
    raise NotImplementedError


def transfer(uow, task_row_id: int, user_id: int, reason: str, expected_version: int | None = None):
    """转办: hand one's task to a colleague who holds the lane's role. Returns the row."""
    raise NotImplementedError


def delegate(uow, task_row_id: int, user_id: int, reason: str, expected_version: int | None = None):
    """委派: ask a colleague to handle the task and hand it back. Returns the row."""
    raise NotImplementedError


def resolve(uow, task_row_id: int, opinion: str, data: dict | None = None, expected_version: int | None = None):
    """The delegate hands the task back to its owner with an opinion (and the form as filled,
    prefilled for the owner). Returns the row."""
    raise NotImplementedError
