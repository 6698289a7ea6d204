"""Working days (工作日) from the statutory calendar plus the office's own override table.

A date that neither the `chinese_calendar` package nor a covered override year knows is an
error, never a guess.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

import chinese_calendar

from .messages import N_, UserError


class CalendarNotCovered(UserError, LookupError):
    """A day neither the statutory data nor the office's calendar covers. The system administrator
    enters the year at 系统管理 › 工作日历 (CALENDAR_PAGE) or with `credflow calendar import`.
    `message` says so (the web shows it translated; str() is the Chinese)."""
    CALENDAR_PAGE = "/system/calendar?year={year}"

    def __init__(self, day: date):
        self.day, self.year = day, day.year
        self.link = self.CALENDAR_PAGE.format(year=day.year)
        super().__init__(N_("工作日历未覆盖 %(year)s 年（无法确定 %(day)s 是否为工作日）：请系统管理员在「系统管理 › 工作日历」"
                            "（%(link)s）录入 %(year)s 年的节假日安排。本次操作未保存。"),
                         year=self.year, day=day.isoformat(), link=self.link)

    def __reduce__(self):
        return (type(self), (self.day,))


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
