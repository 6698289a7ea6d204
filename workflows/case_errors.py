"""The errors of the case service: each message is meant for the user, and nothing was saved."""
from __future__ import annotations

from .messages import UserError
from .workdays import CalendarNotCovered


class CaseError(UserError):
    """An action could not be done; the message is meant for the user. Nothing was saved."""
    status = 400


class NotFound(CaseError):
    status = 404


class CalendarGap(CaseError):
    """A deadline falls in a year the working-day calendar does not cover: the action is refused
    (nothing is saved) until the system administrator enters that year."""
    status = 409

    def __init__(self, uncovered: CalendarNotCovered):
        super().__init__(uncovered.message)
        self.uncovered = uncovered


def calendar_gap(exc: BaseException | None) -> CalendarNotCovered | None:
    """The CalendarNotCovered behind an engine error (a script or an operation counting days)."""
    for _ in range(6):
        if exc is None or isinstance(exc, CalendarNotCovered):
            return exc
        exc = getattr(exc, "exception", None) or exc.__cause__
    return None


class Forbidden(CaseError):
    status = 403


class Conflict(CaseError):
    status = 409
