"""Working days (工作日) from the statutory calendar plus the office's own override table.

A date that neither the `chinese_calendar` package nor a covered override year knows is an
error, never a guess.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

import chinese_calendar


class CalendarNotCovered(LookupError):
    def __init__(self, day: date):
        super().__init__(f"工作日历未覆盖 {day.isoformat()}（{day.year}年）：请在管理后台录入该年度节假日安排 / "
                         f"the working-day calendar does not cover {day.isoformat()}: "
                         f"enter {day.year}'s holidays in the calendar overrides")
        self.day = day


class WorkdayCalendar:
    """`overrides`: day -> is_workday; `covered_years`: years the override table fully covers."""

    def __init__(self, overrides: dict[date, bool] | None = None, covered_years: Iterable[int] = ()):
        self.overrides = dict(overrides or {})
        self.covered_years = set(covered_years)
        self._known: dict[date, bool] = {}   # answers already looked up (the library is slow per call)

    @classmethod
    def from_session(cls, session) -> "WorkdayCalendar":
        from sqlalchemy import select
        from .models import CalendarYear, WorkdayOverride
        overrides = {o.day: o.is_workday for o in session.scalars(select(WorkdayOverride))}
        return cls(overrides, session.scalars(select(CalendarYear.year)))

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._lookup(day)
        return known

    def _lookup(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.covered_years:
            return day.weekday() < 5
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            raise CalendarNotCovered(day) from None

    def add_workdays(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted); count >= 0."""
        if count < 0:
            raise ValueError("count must be >= 0")
        day = start
        while count:
            day += timedelta(days=1)
            if self.is_workday(day):
                count -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_workday(start + timedelta(days=n)))
