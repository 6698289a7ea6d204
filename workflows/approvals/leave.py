"""Standing delegation (委托) for a date range: while a person is on leave, tasks that would be
given to them go to their deputy, and both names show."""
from __future__ import annotations


def set_leave(uow, deputy_id: int, starts_on, ends_on, reason: str = "", user_id: int | None = None):
    """Record a leave of the actor (or, for an administrator, of `user_id`). Returns the delegation."""
    raise NotImplementedError


def cancel_leave(uow, delegation_id: int) -> None:
    raise NotImplementedError


def leaves_of(session, user_id: int) -> list:
    """The person's delegations (as absentee or as deputy), newest first."""
    raise NotImplementedError
