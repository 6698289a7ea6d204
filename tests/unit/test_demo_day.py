"""The day the demo sets its stories at (workflows/demo.py), on explicit dates: today when the
calendar covers the stories' history and deadlines, else the latest day it does cover."""
from datetime import date
from pathlib import Path

import pytest

from workflows.demo import HISTORY_DAYS, deadline_horizon, demo_day
from workflows.settings import Settings
from workflows.workdays import WorkdayCalendar

STATUTORY_LAST_DAY = date(2026, 12, 17)   # 10 working days later is 2026-12-31, the data's last day


@pytest.mark.parametrize("today", [date(2026, 6, 1), date(2026, 12, 4), STATUTORY_LAST_DAY])
def test_today_when_the_statutory_data_covers_the_stories(today):
    when = demo_day(WorkdayCalendar(), today, 10)
    assert when.day == today and not when.moved and when.uncovered_years == ()


@pytest.mark.parametrize("today, uncovered", [(date(2026, 12, 18), (2027,)), (date(2027, 3, 1), (2027,)),
                                              (date(2028, 12, 30), (2027, 2028))])
def test_the_latest_covered_day_and_the_missing_years_when_it_does_not(today, uncovered):
    when = demo_day(WorkdayCalendar(), today, 10)
    assert when.day == STATUTORY_LAST_DAY and when.moved and when.uncovered_years == uncovered
    note = when.note()
    assert "\n" not in note
    for text in (", ".join(map(str, uncovered)), today.isoformat(), "2026-12-17", "admin / credflow-demo",
                 "系统管理 › 工作日历", "credflow calendar import FILE"):
        assert text in note


def test_a_year_the_office_covered_counts():
    assert demo_day(WorkdayCalendar(covered_years=[2027]), date(2027, 3, 1), 10).day == date(2027, 3, 1)
    # 2028 covered but not 2027: the stories' history reaches back into 2027, so it moves before it
    when = demo_day(WorkdayCalendar(covered_years=[2028]), date(2028, 6, 1), 10)
    assert when.day == STATUTORY_LAST_DAY and when.uncovered_years == (2027,)
    assert HISTORY_DAYS > 365


def test_a_longer_deadline_moves_the_day_earlier():
    assert demo_day(WorkdayCalendar(), date(2026, 12, 4), 30).day < date(2026, 12, 4)


class _Session:
    def __init__(self, files):
        self.files = files

    def scalars(self, _query):
        return self.files


def test_the_horizon_is_the_longest_working_day_count_of_the_settings_and_the_diagrams():
    shipped = {p.name: p.read_text(encoding="utf-8") for p in (Path(__file__).parents[2] / "bpmn").glob("*.bpmn")}
    assert deadline_horizon(_Session([shipped]), Settings()) == 10
    longer = '<camunda:property name="dueInWorkdays" value="25" /> add_workdays(today(), 18)'
    assert deadline_horizon(_Session([shipped, {"x.bpmn": longer}]), Settings()) == 25
    assert deadline_horizon(_Session([{"x.bpmn": "workday_deadline(40)"}]), Settings()) == 40
