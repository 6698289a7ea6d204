"""The office's working-day calendar through the service layer, on SQLite and PostgreSQL: a year
imported from a file makes its deadlines computable; open tasks' deadlines move with a changed day,
shown before and audited after; a bad file saves nothing; an action whose deadline falls in an
uncovered year is refused with nothing half-saved; admins and leaders are told once a week.

tests/data/calendar/fictional-2027.csv is FICTIONAL test data, not the official 2027 arrangement."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workflows.accounts import create_user
from workflows.audit import verify_chain
from workflows.calendar_admin import CalendarError, apply, plan, uncover_year, year_view
from workflows.calendar_files import CalendarFileError, DayEntry, parse_calendar_file
from workflows.cases import CalendarGap, complete_task
from workflows.clock import CST
from workflows.models import (AuditEvent, CalendarYear, Case, HumanTask, Notification, Record, User,
                              WorkdayOverride)
from workflows.records import open_record
from workflows.runtime import Actor
from workflows.worker import run_once

from in_english import english

FICTIONAL_2027 = (Path(__file__).resolve().parents[1] / "data" / "calendar" / "fictional-2027.csv").read_bytes()
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}


@pytest.fixture
def admin(world):
    with world.uow() as uow:
        user = create_user(uow, "admin", "pw-admin", "系统管理员", ["admin"])
        uow.commit()
        world.actors["admin"] = Actor.of(user)
    return "admin"


def at(clock, *args):
    clock.at = datetime(*args, 9, 0, tzinfo=CST)


def due_day(world, task_id) -> str:
    with world.factory() as session:
        return session.get(HumanTask, task_id).due_at.astimezone(CST).date().isoformat()


def count(world, model, *where) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def actions(world, action) -> list[AuditEvent]:
    with world.factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def import_year(world, data: bytes, year: int = 2027, cover: bool = True):
    entries = parse_calendar_file(data, "fictional-2027.csv", year)
    return world.run("admin", apply, entries, cover_year=year if cover else None, source="fictional-2027.csv")


def test_an_imported_and_covered_year_makes_its_deadlines_computable(world, admin, capture, clock):
    at(clock, 2026, 12, 28)                    # a Monday; 5 working days run into 2027
    with pytest.raises(CalendarGap) as refused:
        world.run("clerk", open_record, world.subjects[0], capture)
    assert refused.value.uncovered.year == 2027 and "/system/calendar?year=2027" in str(refused.value)
    import_year(world, FICTIONAL_2027)
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    # 12-29, 12-30, 12-31, (01-01 a fictional holiday), 01-04, 01-05
    assert due_day(world, world.task(case.id, "legality_review").id) == "2027-01-05"
    with world.factory() as session:
        view = year_view(session, 2027)
        assert view.covered and session.get(CalendarYear, 2027).covered_by == "admin"
        day = view.months[1][1][2]              # February, second week, Wednesday the 10th
        assert (day.day, day.is_workday, day.source, day.entered_by) == (date(2027, 2, 10), False, "override", "admin")
        saturday = view.months[1][0][5]
        assert (saturday.day, saturday.is_workday) == (date(2027, 2, 6), True)
        plain = view.months[2][0][0]            # 2027-03-01, a Monday nobody listed
        assert (plain.day, plain.is_workday, plain.source) == (date(2027, 3, 1), True, "weekday_rule")
        assert year_view(session, 2028).counts["unknown"] == 366
    changed = actions(world, "calendar.changed")
    assert len(changed) == 1 and changed[0].actor == "admin" and len(changed[0].data["days"]) == 7
    assert [e.data["year"] for e in actions(world, "calendar.year_covered")] == [2027]
    with world.factory() as session:
        assert verify_chain(session).ok


def test_a_statutory_year_shows_the_holiday_names(world):
    with world.factory() as session:
        view = year_view(session, 2026)
    october = {d.day: d for week in view.months[9] for d in week if d}
    assert (october[date(2026, 10, 1)].source, october[date(2026, 10, 1)].name) == ("statutory", "National Day")
    assert october[date(2026, 10, 1)].is_workday is False and october[date(2026, 10, 10)].is_workday is True


def test_a_changed_day_moves_the_open_deadlines_it_falls_within_and_audits_each(world, admin, capture, clock):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)      # 2026-06-01
    task = world.task(case.id, "legality_review")
    assert due_day(world, task.id) == "2026-06-08"
    at(clock, 2026, 6, 2)
    _, later = world.run("clerk", open_record, world.subjects[1], capture)
    other = world.task(later.id, "legality_review")
    assert due_day(world, other.id) == "2026-06-09"
    holiday = [DayEntry(date(2026, 6, 9), False, "临时调整", 0)]       # after the first deadline, within the second
    with world.factory() as session:
        preview = plan(session, holiday)
    assert [(m.task.id, m.after.astimezone(CST).date().isoformat()) for m in preview.moved] == [(other.id, "2026-06-10")]
    assert due_day(world, other.id) == "2026-06-09"                     # a preview changes nothing
    world.run("admin", apply, holiday)
    assert (due_day(world, task.id), due_day(world, other.id)) == ("2026-06-08", "2026-06-10")
    with world.factory() as session:
        moved = session.get(HumanTask, other.id).due_at.astimezone(CST)
    assert (moved.hour, moved.minute) == (23, 59)                       # still the end of the day
    events = actions(world, "task.deadline_moved")
    assert [(e.case_id, e.actor, e.data["task_row_id"]) for e in events] == [(later.id, "admin", other.id)]
    # removing the override moves it back, and says so again
    world.run("admin", apply, [], [date(2026, 6, 9)])
    assert due_day(world, other.id) == "2026-06-09" and len(actions(world, "task.deadline_moved")) == 2
    assert count(world, WorkdayOverride) == 0


def test_an_import_into_next_year_moves_a_deadline_already_in_it(world, admin, capture, clock):
    import_year(world, FICTIONAL_2027)
    at(clock, 2026, 12, 28)
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    assert due_day(world, task.id) == "2027-01-05"
    amended = FICTIONAL_2027 + b"2027-01-04,holiday,\xe5\x85\x83\xe6\x97\xa6\xef\xbc\x88\xe8\x99\x9a\xe6\x9e\x84\xef\xbc\x89\n"
    entries = parse_calendar_file(amended, "amended.csv", 2027)
    with world.factory() as session:
        preview = plan(session, entries, cover_year=2027)
    assert [c.day for c in preview.effective] == [date(2027, 1, 4)]     # the other 7 rows are unchanged
    assert [m.task.id for m in preview.moved] == [task.id]
    world.run("admin", apply, entries, cover_year=2027)
    assert due_day(world, task.id) == "2027-01-06"


def test_a_bad_file_saves_nothing(world, admin):
    bad = FICTIONAL_2027 + b"2027-13-01,holiday,x\n2027-02-10,holiday,again\n"
    with pytest.raises(CalendarFileError) as info:
        parse_calendar_file(bad, "bad.csv", 2027)
    assert [p.line for p in info.value.problems] == [10, 11]
    assert count(world, WorkdayOverride) == 0 and count(world, CalendarYear) == 0


def test_a_year_is_covered_only_with_its_holidays_and_uncovered_only_without_deadlines_in_it(world, admin, capture,
                                                                                          clock):
    with pytest.raises(CalendarError, match="尚未录入任何节假日"):
        world.run("admin", apply, [], cover_year=2027)
    with pytest.raises(CalendarError, match="法定数据覆盖"):
        world.run("admin", apply, [], cover_year=2026)
    with pytest.raises(PermissionError):
        world.run("leader", apply, [DayEntry(date(2027, 1, 1), False, "x", 0)], cover_year=2027)
    assert count(world, WorkdayOverride) == 0 and count(world, CalendarYear) == 0
    import_year(world, FICTIONAL_2027)
    at(clock, 2026, 12, 28)
    world.run("clerk", open_record, world.subjects[0], capture)     # due in 2027
    with pytest.raises(CalendarError, match="不能取消覆盖"):
        world.run("admin", uncover_year, 2027)
    assert count(world, CalendarYear) == 1


def test_capture_and_completion_in_an_uncovered_year_are_refused_with_nothing_half_saved(world, capture, clock):
    at(clock, 2026, 12, 14)
    record, case = world.run("clerk", open_record, world.subjects[0], capture)    # due 12-21: still 2026
    review = world.task(case.id, "legality_review")

    def snapshot():
        with world.factory() as session:
            return (session.scalar(select(func.count()).select_from(Record)),
                    session.scalar(select(func.count()).select_from(Case)),
                    [(t.id, t.bpmn_id, t.due_at) for t in session.scalars(select(HumanTask).order_by(HumanTask.id))],
                    session.get(Case, case.id).version,
                    session.scalar(select(func.count()).select_from(AuditEvent)))
    before = snapshot()
    at(clock, 2026, 12, 28)
    with pytest.raises(CalendarGap, match="工作日历未覆盖 2027 年"):
        world.run("clerk", open_record, world.subjects[1], capture)
    with pytest.raises(CalendarGap) as refused:
        world.run("reviewer", complete_task, review.id, APPROVE)      # the leader's task would be due in 2027
    assert refused.value.uncovered.link == "/system/calendar?year=2027"
    assert "does not cover 2027" in english(refused.value.uncovered)
    assert snapshot() == before


# -- the weekly notification ----------------------------------------------------------------------

def calendar_notices(world) -> list[tuple[str, str]]:
    with world.factory() as session:
        return sorted(session.execute(select(User.username, Notification.link).join(User, User.id == Notification.user_id)
                                      .where(Notification.kind == "calendar_uncovered")).all())


def test_admins_and_leaders_are_told_once_a_week_while_next_year_is_not_entered(world, admin, clock):
    with world.uow() as uow:
        create_user(uow, "leader2", "pw", "leader2", ["leader", "reviewer"])
        gone = create_user(uow, "leader3", "pw", "leader3", ["leader"])
        gone.active = False
        uow.commit()
    at(clock, 2026, 10, 31)
    run_once(world.factory, clock)
    assert calendar_notices(world) == []
    at(clock, 2026, 11, 2)                                          # a Monday
    run_once(world.factory, clock)
    first = [("admin", "/system/calendar?year=2027"), ("leader", "/system/calendar?year=2027"),
             ("leader2", "/system/calendar?year=2027")]
    assert calendar_notices(world) == first
    at(clock, 2026, 11, 8)                                          # Sunday, the same ISO week
    run_once(world.factory, clock)
    assert len(calendar_notices(world)) == 3
    at(clock, 2026, 11, 9)
    run_once(world.factory, clock)
    assert len(calendar_notices(world)) == 6
    import_year(world, FICTIONAL_2027)
    at(clock, 2026, 11, 16)
    run_once(world.factory, clock)
    assert len(calendar_notices(world)) == 6
    with world.factory() as session:
        text = session.scalars(select(Notification.text).where(Notification.kind == "calendar_uncovered")).first()
    assert "2027" in text


def test_an_uncovered_current_year_is_told_at_any_time_of_year(world, admin, clock):
    at(clock, 2027, 3, 3)
    run_once(world.factory, clock)
    assert {link for _, link in calendar_notices(world)} == {"/system/calendar?year=2027"}
