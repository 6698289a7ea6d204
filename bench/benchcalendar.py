"""A labelled test calendar for a bench's private database, for the years the statutory data lacks.

The benches run real processes (gunicorn, `credflow worker`) on the real clock: the deadlines they
compute depend on today's date. `chinesecalendar` knows the official holidays of a fixed range of
years (1.11.0: 2004-2026) and credflow refuses to compute a deadline in any other year, which is
right for an office. A bench run in such a year (or near its end, when deadlines cross into the
next one) gives ITS OWN THROWAWAY DATABASE a `calendar_year` row per missing year, noted as what it
is -- the weekday rule, no holidays at all, not an official calendar -- so the bench measures the
same work on any date. Years the statutory data covers are left alone, and nothing here is ever
written to a database that is not a bench's own.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import chinese_calendar
from sqlalchemy import select

from workflows.models import CalendarYear

NOTE = "bench: weekday rule, not an official calendar"


def statutory_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


def years_around(today: date) -> range:
    """The years a bench's dates can reach: last year (decisions a few days back in January) to
    next year (deadlines some working days ahead in December)."""
    return range(today.year - 1, today.year + 2)


def label_uncovered_years(session_factory, today: date) -> list[int]:
    """Give the bench's database a weekday-rule year for each year around `today` that neither the
    statutory data nor the database covers; returns the years added."""
    added = []
    with session_factory() as session:
        have = set(session.scalars(select(CalendarYear.year)))
        for year in years_around(today):
            if year in have or statutory_covers(year):
                continue
            session.add(CalendarYear(year=year, note=NOTE, covered_by="bench",
                                     covered_at=datetime.now(timezone.utc)))
            added.append(year)
        session.commit()
    return added
