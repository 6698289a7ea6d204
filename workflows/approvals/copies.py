"""抄送 copy: a step's case copied to named people or roles; they read it, the sender sees who has."""
from __future__ import annotations


def copy_case(uow, task_row_id: int, user_ids: list[int], roles: list[str], reason: str = "",
              expected_version: int | None = None) -> list:
    """Copy the case at this step to people and to every holder of roles. Returns the CaseCopy rows."""
    raise NotImplementedError


def mark_copy_read(uow, case_id: int) -> int:
    """The actor opened a case copied to them: their unread copies of it are read. Returns how many."""
    raise NotImplementedError


def copies_of(session, case_id: int) -> list:
    """Who the case was copied to, by whom, at which step, and whether they have read it."""
    raise NotImplementedError


def copied_to(session, user_id: int, limit: int = 100) -> list:
    """The copies sent to a person, newest first (the inbox's 抄送我的)."""
    raise NotImplementedError
