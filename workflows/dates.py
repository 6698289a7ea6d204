"""Small date helpers shared by operations and the script sandbox."""
from __future__ import annotations

import calendar
from datetime import date, datetime, time

from .clock import CST


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (2026-01-31 + 1 month = 2026-02-28)."""
    total = day.month - 1 + int(months)
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_of_day_cst(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), CST)


def end_of_day_cst(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CST)


def as_date(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(CST).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
