"""The engine's clock. Tests and the demo move it; SpiffWorkflow's timers read it too."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone, tzinfo

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


class _ClockDatetime(datetime):
    """Stands in for `datetime` inside SpiffWorkflow's timer module: `now()` asks our clock."""

    @classmethod
    def now(cls, tz: tzinfo | None = None):
        now = _current.get().now()
        return now.astimezone(tz) if tz else now.astimezone().replace(tzinfo=None)


def install_timer_clock() -> None:
    from SpiffWorkflow.bpmn.specs.event_definitions import timer
    timer.datetime = _ClockDatetime


install_timer_clock()
