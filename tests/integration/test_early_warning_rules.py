"""Early warning: each rule fires at its threshold and stays quiet just below it, on an explicit day;
evaluating again updates the open warning instead of adding one, a condition that ended resolves
it; a rule switched off or short of calendar is skipped and leaves its warnings alone; a warning
is acknowledged once, with a note; the daily digest goes to the leaders once a day."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.case_errors import Forbidden, NotFound
from workflows.clock import CST, FixedClock
from workflows.commitments.model import Commitment
from workflows.dates import add_months
from workflows.db import make_engine
from workflows.early_warning.digest import run_daily_warnings
from workflows.early_warning.evaluate import evaluate_warnings
from workflows.early_warning.model import EarlyWarning, WarningDigest
from workflows.early_warning.service import NoteRequired, acknowledge, open_warnings, warning_text
from workflows.messages import from_data
from workflows.models import Base, Case, HumanTask, Notification, ProcessDefinition, Record, Subject
from workflows.runtime import Actor, UnitOfWork
from workflows.settings import Settings
from workflows.workdays import WorkdayCalendar

TODAY = date(2026, 6, 15)                 # a Monday; the Dragon Boat Festival (6-19) lies ahead
NOW = datetime.combine(TODAY, time(10, 0), CST)
CAL = WorkdayCalendar()
LEADER = Actor("leader1", 1, frozenset({"leader"}), display_name="李领导")


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CST)


def overdue_by(workdays: int) -> date:
    """The latest due day overdue by exactly `workdays` working days today."""
    day = TODAY
    while CAL.workdays_between(day, TODAY) < workdays:
        day -= timedelta(days=1)
    return day


class Office:
    """Rows written straight into the tables, enough for the rules to read."""

    def __init__(self, factory, clock):
        self.factory, self.clock, self.n = factory, clock, 0
        with self.uow() as uow:
            self.definition = ProcessDefinition(key="any", name="any", version=1, sha256="0" * 64, bpmn_files={},
                                                dmn_files={}, forms={}, deployed_by="t", deployed_at=NOW)
            uow.session.add(self.definition)
            for name in ("leader1", "leader2"):
                create_user(uow, name, "pw-" + name, name + "名", ["leader"])
            self.reviewers = {name: create_user(uow, name, "pw-" + name, name + "名", ["reviewer"]).id
                              for name in ("rev1", "rev2")}
            uow.commit()
            self.definition = self.definition.id

    def uow(self, actor: Actor | str | None = None, clock=None, settings=None) -> UnitOfWork:
        if isinstance(actor, str):
            actor = Actor(actor, None, frozenset({"reviewer"}))
        return UnitOfWork(self.factory, actor or Actor.system("test"), clock or self.clock, settings)

    def add(self, *objects):
        with self.uow() as uow:
            uow.session.add_all(objects)
            uow.commit()
            return [o.id for o in objects] if len(objects) > 1 else objects[0].id

    def department(self, name: str) -> int:
        self.n += 1
        return self.add(Subject(kind="department", name=name, code=f"11{self.n:016d}", created_at=NOW))

    def record(self, subject_id: int, decided: date, status: str = "published") -> int:
        return self.add(Record(subject_id=subject_id, status=status, decision_date=decided, publication_rule="2025",
                               rule_snapshot={}, created_at=NOW, updated_at=NOW))

    def case(self, process_key: str, record_id=None, status="running", outcome=None, completed_at=None) -> int:
        return self.add(Case(definition_id=self.definition, process_key=process_key, record_id=record_id, status=status,
                             state="{}", started_by="t", outcome=outcome, completed_at=completed_at,
                             created_at=NOW, updated_at=NOW))

    def task(self, due: date, name: str = "合法性审核") -> int:
        case_id = self.case("record_lifecycle")
        self.n += 1
        return self.add(HumanTask(case_id=case_id, task_id=f"t-{self.n}", bpmn_id="legality_review", name=name,
                                  process_key="record_lifecycle", lane="reviewer", due_at=end_of(due), created_at=NOW))

    def commitment(self, subject_id: int, deadline: date, status: str = "in_progress") -> int:
        return self.add(Commitment(subject_id=subject_id, content="清偿欠款", deadline=deadline, responsible_name="张某",
                                   responsible_post="镇长", status=status, registered_by="t", created_at=NOW))

    def event(self, actor: str, action: str, **data):
        with self.uow(actor) as uow:
            uow.audit(action, **data)
            uow.commit()

    def evaluate(self, clock=None, settings=None):
        with self.uow(clock=clock, settings=settings) as uow:
            result = evaluate_warnings(uow)
            uow.commit()
        return result

    def warnings(self, rule: str | None = None, open_only: bool = True) -> list[EarlyWarning]:
        with self.factory() as session:
            query = select(EarlyWarning).order_by(EarlyWarning.id)
            if rule:
                query = query.where(EarlyWarning.rule == rule)
            if open_only:
                query = query.where(EarlyWarning.resolved_at.is_(None))
            return session.scalars(query).all()


@pytest.fixture
def office(session_factory):
    return Office(session_factory, FixedClock(NOW))


def keys(office, rule):
    return {w.key for w in office.warnings(rule)}


def test_a_department_with_two_records_in_twelve_months(office):
    since = add_months(TODAY, -12)
    a, b, c = office.department("甲局"), office.department("乙局"), office.department("丙局")
    office.record(a, since + timedelta(days=1))
    office.record(a, TODAY)                                   # two within the twelve months: fires
    office.record(b, since)                                   # twelve months ago to the day: outside
    office.record(b, TODAY)
    office.record(c, TODAY)
    office.record(c, TODAY, status="revoked")                 # a revoked record does not count
    office.evaluate()
    (warning,) = office.warnings("department_records")
    assert warning.key == f"department_records:{a}" and warning.department_id == a
    assert str(warning_text(warning)) == "甲局近 12 个月有 2 条失信记录（预警线：2 条）"


def test_a_step_overdue_by_more_than_three_working_days(office):
    fires = office.task(overdue_by(4))
    office.task(overdue_by(3))                                # overdue by exactly three: quiet
    office.task(TODAY + timedelta(days=1))                    # not yet due
    office.evaluate()
    (warning,) = office.warnings("overdue_step")
    assert (warning.key, warning.about, warning.params["days"]) == (f"overdue_step:{fires}", "task", 4)
    assert "已逾期 4 个工作日" in str(warning_text(warning))


def test_a_commitment_due_within_ten_working_days(office):
    town = office.department("东镇")
    eleventh = CAL.add_workdays(TODAY, 11)
    fires = office.commitment(town, eleventh - timedelta(days=1))   # the last day within ten working days
    office.commitment(town, eleventh)                               # quiet: eleven working days away
    office.commitment(town, TODAY, status="fulfilled")              # fulfilled: quiet
    office.evaluate()
    (warning,) = office.warnings("commitment_due")
    assert warning.key == f"commitment_due:{fires}" and warning.department_id == town


def _upheld(office, reviewer: str, outcome: str, completed: datetime) -> int:
    record = office.record(office.department("某局"), TODAY)
    office.event(reviewer, "task.completed", case_id=None, record_id=record, task="legality_review")
    return office.case("objection", record, status="completed", outcome=outcome, completed_at=completed)


def test_objections_upheld_twice_against_one_reviewers_records(office):
    window_start = datetime.combine(add_months(TODAY, -12), time(0, 0), CST)
    first = _upheld(office, "rev1", "correct", window_start)
    second = _upheld(office, "rev1", "revoke", NOW)
    _upheld(office, "rev2", "correct", NOW)
    _upheld(office, "rev2", "keep", NOW)                               # kept: not upheld
    _upheld(office, "rev2", "revoke", window_start - timedelta(seconds=1))   # before the window
    office.evaluate()
    (warning,) = office.warnings("objections_upheld")
    assert warning.key == "objections_upheld:rev1" and warning.about_id == office.reviewers["rev1"]
    assert warning.params["count"] == 2
    assert f"异议成立：A-{first:06d}、A-{second:06d}（" in str(warning_text(warning))


def test_a_repair_decision_deadline_about_to_pass(office):
    fourth = CAL.add_workdays(TODAY, 4)
    fires, quiet = office.case("credit_repair"), office.case("credit_repair")   # the second: four working days away
    decided = office.case("credit_repair", status="completed")
    for case_id, due in ((fires, fourth - timedelta(days=1)), (quiet, fourth), (decided, TODAY)):
        office.event("clerk", "application.accepted", case_id=case_id, decision_due=end_of(due).isoformat())
    office.evaluate()
    (warning,) = office.warnings("repair_deadline")
    assert warning.key == f"repair_deadline:{fires}" and warning.case_id == fires


def test_evaluating_again_updates_then_a_condition_ended_resolves(office):
    town = office.department("西镇")
    row = office.task(overdue_by(4))
    commitment = office.commitment(town, TODAY)
    first = office.evaluate()
    assert len(first.raised) == 2
    later = FixedClock(NOW + timedelta(days=1))               # Tuesday: one more working day overdue
    second = office.evaluate(clock=later)
    assert second.raised == [] and second.resolved == 0
    (step,) = office.warnings("overdue_step")
    assert step.params["days"] == 5 and step.last_seen_at == later.now() and step.raised_at == NOW
    with office.uow() as uow:                                 # the step is done, the commitment fulfilled
        uow.session.delete(uow.session.get(HumanTask, row))
        uow.session.get(Commitment, commitment).status = "fulfilled"
        uow.commit()
    third = office.evaluate(clock=later)
    assert third.resolved == 2 and office.warnings() == []
    with office.uow() as uow:                                 # the commitment's conclusion undone: a new warning
        uow.session.get(Commitment, commitment).status = "in_progress"
        uow.commit()
    office.evaluate(clock=later)
    all_rows = office.warnings("commitment_due", open_only=False)
    assert [w.resolved_at is None for w in all_rows] == [False, True]


def test_a_rule_switched_off_or_short_of_calendar_is_skipped(office, caplog):
    town = office.department("南镇")
    office.commitment(town, TODAY)
    office.evaluate()
    assert len(office.warnings("commitment_due")) == 1
    off = replace(Settings(), warning_rules={"commitment_due": {"on": False}})
    result = office.evaluate(settings=off)
    assert "commitment_due" in result.skipped and len(office.warnings("commitment_due")) == 1   # left alone
    assert "department_records" not in result.skipped         # the other rules keep their defaults
    december = FixedClock(datetime(2026, 12, 28, 10, 0, tzinfo=CST))   # ten working days on is in 2027
    with caplog.at_level(logging.WARNING, logger="credflow.early_warning"):
        result = office.evaluate(clock=december)
    assert "commitment_due" in result.skipped and "repair_deadline" in result.skipped
    assert "overdue_step" not in result.skipped
    assert any("commitment_due skipped" in r.getMessage() and "2027" in r.getMessage() for r in caplog.records)
    assert len(office.warnings("commitment_due")) == 1
    office.task(date(2003, 12, 30))                           # a due day the statutory data does not know
    covered = office.task(overdue_by(4))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="credflow.early_warning"):
        office.evaluate()
    assert keys(office, "overdue_step") == {f"overdue_step:{covered}"}
    assert any("steps due on or before 2003-12-31" in r.getMessage() for r in caplog.records)


def test_acknowledging_needs_a_note_and_happens_once(office):
    office.commitment(office.department("北镇"), TODAY)
    office.evaluate()
    (warning,) = office.warnings()
    with office.uow(LEADER) as uow:
        with pytest.raises(NoteRequired):
            acknowledge(uow, warning.id, "   ")
        with pytest.raises(NotFound):
            acknowledge(uow, warning.id + 1000, "已督办")
    with office.uow(Actor("rev1", None, frozenset({"reviewer"}))) as uow, pytest.raises(Forbidden):
        acknowledge(uow, warning.id, "已督办")
    for note in ("已电话督办，月底前履行。", "第二次提交"):        # a double submit keeps the first
        with office.uow(LEADER) as uow:
            acknowledge(uow, warning.id, note)
            uow.commit()
    with office.factory() as session:
        row = session.get(EarlyWarning, warning.id)
        assert (row.acknowledged_by, row.acknowledgement_note) == ("leader1", "已电话督办，月底前履行。")
        assert open_warnings(session, LEADER) == []           # the dashboard shows unacknowledged ones only
        assert open_warnings(session, Actor("rev1", None, frozenset({"reviewer"}))) == []


def _digests(office):
    with office.factory() as session:
        return session.scalars(select(Notification).where(Notification.kind == "warning_digest")
                               .order_by(Notification.id)).all()


def test_the_daily_digest_once_a_day(office):
    town = office.department("中镇")
    with office.uow() as uow:                                 # the township's own account
        town_account = create_user(uow, "town", "pw-town", "中镇", ["subject"], subject_id=town).id
        uow.commit()
    office.commitment(town, TODAY)
    settings = Settings()
    first = run_daily_warnings(office.factory, office.clock, settings)
    assert (first.new_count, first.open_count, first.recipients) == (1, 1, 2)
    assert run_daily_warnings(office.factory, office.clock, settings) is None     # a second pass, a restart
    notes = _digests(office)
    leaders = [n for n in notes if n.user_id != town_account]
    assert len(leaders) == 2 and {n.link for n in leaders} == {"/warnings"}
    text = str(from_data(leaders[0].message))
    assert text.startswith("预警日报（2026-06-15）：新增 1 条，未处理 1 条。【新】中镇的公开承诺")
    (own,) = [n for n in notes if n.user_id == town_account]
    assert own.link == "/dashboard/" and str(from_data(own.message)).startswith("本单位预警日报（2026-06-15）：新增 1 条")
    tomorrow = FixedClock(NOW + timedelta(days=1))
    office.task(overdue_by(5))
    second = run_daily_warnings(office.factory, tomorrow, settings)
    assert (second.new_count, second.open_count) == (1, 2)     # the step is new, the commitment still open
    notes = _digests(office)[3:]
    text = str(from_data(next(n for n in notes if n.user_id != town_account).message))
    assert text.count("【新】") == 1 and "中镇" in text
    (own,) = [n for n in notes if n.user_id == town_account]  # the office's own step is not the township's
    assert str(from_data(own.message)).startswith("本单位预警日报（2026-06-16）：新增 0 条，未处理 1 条。中镇的公开承诺")
    with office.factory() as session:
        assert session.scalars(select(WarningDigest.day).order_by(WarningDigest.day)).all() == \
            [TODAY, TODAY + timedelta(days=1)]


def test_the_models_and_the_migration_agree(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    ours = [d for d in diffs if "early_warning" in repr(d)]
    assert not ours, ours


def test_two_workers_at_once_send_one_digest(office):
    import threading
    office.commitment(office.department("两镇"), TODAY)
    start, results = threading.Barrier(2), []

    def worker():
        start.wait()
        results.append(run_daily_warnings(office.factory, office.clock, Settings()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r is None for r in results) == [False, True]
    assert len(_digests(office)) == 2                          # the two leaders, once each (no township account)
    assert len(office.warnings()) == 1
