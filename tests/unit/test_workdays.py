"""Working days (工作日): the statutory calendar, make-up days (调休), the 2027 gap and overrides."""
from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from workflows.workdays import CalendarNotCovered, WorkdayCalendar

SAT, SUN = 5, 6


@pytest.fixture
def cal():
    return WorkdayCalendar()


# ------------------------------------------------------------------ the statutory calendar

def test_ten_working_days_over_national_day(cal):
    # 2026-10-01..08 are holidays; 2026-10-10 (a Saturday) is a make-up working day
    assert cal.add_workdays(date(2026, 9, 28), 10) == date(2026, 10, 16)
    assert cal.workdays_between(date(2026, 9, 28), date(2026, 10, 16)) == 10


def test_national_day_holidays_are_not_working_days(cal):
    for day in range(1, 8):
        assert not cal.is_workday(date(2026, 10, day))


def test_a_make_up_working_day_on_a_weekend_counts(cal):
    sunday = date(2026, 9, 20)
    assert sunday.weekday() == SUN and chinese_calendar.is_workday(sunday)  # the data this test relies on
    saturday = date(2026, 9, 19)
    assert not chinese_calendar.is_workday(saturday)

    assert cal.is_workday(sunday)
    friday = date(2026, 9, 18)
    assert cal.add_workdays(friday, 1) == sunday
    assert cal.workdays_between(friday, sunday) == 1


def test_ordinary_weekend_is_skipped(cal):
    friday = date(2026, 6, 5)
    assert cal.add_workdays(friday, 1) == date(2026, 6, 8)


def test_zero_working_days_is_the_start_itself_and_negative_is_refused(cal):
    assert cal.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError):
        cal.add_workdays(date(2026, 10, 3), -1)


# ------------------------------------------------------------------ the year nobody knows

def test_a_2027_date_is_an_error_naming_the_year(cal):
    with pytest.raises(CalendarNotCovered) as info:
        cal.is_workday(date(2027, 3, 1))
    assert "2027" in str(info.value)
    assert "2027-03-01" in str(info.value)
    assert info.value.day == date(2027, 3, 1)


def test_a_deadline_running_into_2027_is_an_error_not_a_guess(cal):
    with pytest.raises(CalendarNotCovered, match="2027"):
        cal.add_workdays(date(2026, 12, 21), 10)
    with pytest.raises(CalendarNotCovered, match="2027"):
        cal.workdays_between(date(2026, 12, 21), date(2027, 1, 8))


def test_a_single_override_does_not_make_2027_covered():
    cal = WorkdayCalendar({date(2027, 1, 1): False})
    assert cal.is_workday(date(2027, 1, 1)) is False
    with pytest.raises(CalendarNotCovered):
        cal.is_workday(date(2027, 1, 4))


# ------------------------------------------------------------------ overrides

def test_a_declared_holiday_on_a_weekday_wins_over_the_package():
    wednesday = date(2026, 6, 3)
    assert wednesday.weekday() == 2 and chinese_calendar.is_workday(wednesday)
    cal = WorkdayCalendar({wednesday: False})
    assert not cal.is_workday(wednesday)
    assert cal.add_workdays(date(2026, 6, 2), 1) == date(2026, 6, 4)
    assert cal.workdays_between(date(2026, 6, 1), date(2026, 6, 5)) == 3


def test_a_declared_working_saturday_wins_over_the_package():
    saturday = date(2026, 6, 6)
    assert saturday.weekday() == SAT and not chinese_calendar.is_workday(saturday)
    cal = WorkdayCalendar({saturday: True})
    assert cal.is_workday(saturday)
    assert cal.add_workdays(date(2026, 6, 5), 1) == saturday


def test_an_override_can_cancel_a_make_up_day():
    cal = WorkdayCalendar({date(2026, 9, 20): False})
    assert cal.add_workdays(date(2026, 9, 18), 1) == date(2026, 9, 21)


def test_a_covered_year_uses_weekdays_plus_its_overrides():
    cal = WorkdayCalendar(
        {date(2027, 1, 1): False,     # New Year, a Friday
         date(2027, 2, 20): True},    # a make-up Saturday
        covered_years=[2027])
    assert cal.is_workday(date(2027, 1, 4))          # an ordinary Monday
    assert not cal.is_workday(date(2027, 1, 9))      # an ordinary Saturday
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 2, 20))
    # Thursday 2026-12-31 (package) -> Fri 1 Jan holiday, weekend -> Mon 4 Jan
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert cal.add_workdays(date(2027, 2, 19), 1) == date(2027, 2, 20)
    # the year after is still unknown
    with pytest.raises(CalendarNotCovered, match="2028"):
        cal.is_workday(date(2028, 1, 3))


def test_a_covered_year_without_overrides_counts_plain_weekdays_after_the_package_year():
    cal = WorkdayCalendar(covered_years=[2027])
    # 2026-12-28 is a Monday: 28, 29, 30, 31 Dec (package) then 1 Jan 2027 (no override: a Friday)
    assert cal.add_workdays(date(2026, 12, 25), 5) == date(2027, 1, 1)


# ------------------------------------------------------------------ counting between two days

def test_workdays_between_counts_the_end_not_the_start(cal):
    monday, friday = date(2026, 6, 1), date(2026, 6, 5)
    assert cal.workdays_between(monday, friday) == 4
    assert cal.workdays_between(monday, monday) == 0


def test_workdays_between_backwards_is_negative(cal):
    assert cal.workdays_between(date(2026, 10, 16), date(2026, 9, 28)) == -10
    assert cal.workdays_between(date(2026, 6, 5), date(2026, 6, 1)) == -4


def test_workdays_between_agrees_with_add_workdays(cal):
    start = date(2026, 1, 20)
    for n in (1, 5, 10, 15, 30):
        end = cal.add_workdays(start, n)
        assert cal.workdays_between(start, end) == n
        assert cal.workdays_between(end, start) == -n
