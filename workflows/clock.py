"""The engine's clock. Tests and the demo move it; timers read it through the script engine
(workflows/engine/timers.py), or `current_clock()` where no engine carries one."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time, for dates shown and deadlines


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self):
        """Today's date in China Standard Time."""
        return self.now().astimezone(CST).date()


class FixedClock(Clock):
    """A clock that stands still until moved."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


SYSTEM_CLOCK = Clock()
_current: ContextVar[Clock] = ContextVar("credflow_clock", default=SYSTEM_CLOCK)


@contextmanager
def using_clock(clock: Clock):
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


def current_clock() -> Clock:
    """The clock of the unit of work (or `using_clock` block) running now: the system clock outside."""
    return _current.get()
