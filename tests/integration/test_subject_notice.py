"""The office notifies a record's subject at confirmation (告知), once, and not before; the subject sees
the record only from then on. Each application tells its subject when it is accepted or refused at
acceptance, and when it is decided, and lists its steps so far with their dates."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from workflows.application_steps import application_steps
from workflows.applications import file_credit_repair, file_objection, file_self_correction, subject_record
from workflows.cases import NotFound, complete_task
from workflows.db import make_engine
from workflows.migrations import upgrade_database
from workflows.models import AuditEvent, Case, Notification, Record
from workflows.records import open_record
from workflows.runtime import UnitOfWork
from workflows.settings import Settings
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def notes(world, who="subject_a", kind=None) -> list[Notification]:
    with world.factory() as session:
        query = select(Notification).where(Notification.user_id == world.actors[who].user_id)
        if kind:
            query = query.where(Notification.kind == kind)
        return session.scalars(query.order_by(Notification.id)).all()


def get(world, model, id_):
    with world.factory() as session:
        return session.get(model, id_)


def capture_record(world, capture, subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    return record.id, case.id


def confirm(world, case_id):
    world.run("reviewer", complete_task, world.task(case_id, "legality_review").id, APPROVE)


def steps(world, case_id, subject=0):
    with world.factory() as session:
        return application_steps(session, session.get(Case, case_id), world.subjects[subject])


# -- the notice ---------------------------------------------------------------------------------

def test_the_subject_is_notified_once_at_confirmation_and_not_before(world, capture):
    draft, _ = world.run("clerk", open_record, world.subjects[0], None)       # a clerk's unsubmitted draft
    draft_id = draft.id
    record_id, case_id = capture_record(world, capture)                      # under review
    assert get(world, Record, record_id).status == "under_review"
    assert notes(world) == []
    for rid in (draft_id, record_id):
        assert get(world, Record, rid).notified_at is None
        with world.uow("subject_a") as uow, pytest.raises(NotFound):
            subject_record(uow.session, uow.actor, rid)
        with pytest.raises(NotFound):                                        # nor can it apply
            world.run("subject_a", file_objection, rid, "factual_error", "金额有误", [])

    world.clock.advance(hours=2)
    confirm(world, case_id)
    record = get(world, Record, record_id)
    assert record.status == "confirmed" and record.notified_at == world.clock.now()
    [notice] = notes(world)
    assert notice.kind == "record" and notice.link == f"/portal/records/{record_id}"
    assert "已经认定" in notice.text and "提出异议" in notice.text and "主动自新" in notice.text
    assert notes(world, "subject_b") == []                                   # another subject's accounts: nothing
    with world.uow("subject_a") as uow:
        assert subject_record(uow.session, uow.actor, record_id).id == record_id

    world.run("leader", complete_task, world.task(case_id, "leader_approval").id, LEADER_OK)
    assert get(world, Record, record_id).status == "published"
    assert len(notes(world, kind="record")) == 1                             # once: not again at publication
    assert get(world, Record, record_id).notified_at == record.notified_at
    with world.factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.record_id == record_id,
                                                          AuditEvent.action == "record.notified")).all()
    assert [e.data["status"] for e in events] == ["confirmed"]


def test_a_rejected_record_is_never_notified(world, capture):
    record_id, case_id = capture_record(world, capture)
    world.run("reviewer", complete_task, world.task(case_id, "legality_review").id,
              {"review_decision": "reject", "review_opinion": "证据不足。"})
    record = get(world, Record, record_id)
    assert record.status == "rejected" and record.notified_at is None
    assert notes(world) == []


def test_the_status_of_the_notice_is_a_setting(world, capture):
    later = Settings(subject_notice_status="published")
    record_id, case_id = capture_record(world, capture)
    for who, bpmn_id, data in (("reviewer", "legality_review", APPROVE), ("leader", "leader_approval", LEADER_OK)):
        row_id = world.task(case_id, bpmn_id).id
        with UnitOfWork(world.factory, world.actors[who], world.clock, later) as uow:
            complete_task(uow, row_id, data)
            uow.commit()
        if bpmn_id == "legality_review":
            assert get(world, Record, record_id).notified_at is None and notes(world) == []
    assert get(world, Record, record_id).notified_at is not None
    [notice] = notes(world, kind="record")
    assert "主动自新" not in notice.text          # the sanction is decided: no self-correction to offer


# -- acceptance and decision: notices and steps --------------------------------------------------

def test_a_repair_application_lists_its_steps_and_tells_the_subject_at_acceptance_and_decision(world, capture):
    record_id, case_id = capture_record(world, capture)
    confirm(world, case_id)
    world.run("leader", complete_task, world.task(case_id, "leader_approval").id, LEADER_OK)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    filed_at = world.clock.now()
    repair = world.run("subject_a", file_credit_repair, record_id, "已履行", True, [1], [])
    assert [(s.kind, s.current) for s in steps(world, repair.id)] == [("filed", False), ("checking", True)]

    world.clock.advance(hours=3)
    asked_at = world.clock.now()
    world.run("clerk", complete_task, world.task(repair.id, "completeness_check").id,
              {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "内部意见：缺件"})
    found = steps(world, repair.id)
    assert [s.kind for s in found] == ["filed", "supplement"]        # the subject's task is listed apart
    assert found[1].at == asked_at and found[1].text == "缴款凭证原件" and found[1].due is not None
    assert [d.title for d in found[1].documents] == ["补正材料通知书"]

    world.clock.advance(days=1)
    world.run("subject_a", complete_task, world.task(repair.id, "supplement").id, {"supplement_statement": "已补交"})
    world.clock.advance(hours=1)
    accepted_at = world.clock.now()
    world.run("clerk", complete_task, world.task(repair.id, "completeness_check").id,
              {"completeness": "complete", "completeness_reason": "内部意见：齐全"})
    [receipt] = notes(world, kind="receipt")
    assert "信用修复申请" in receipt.text and "已受理，将于" in receipt.text and "前作出决定" in receipt.text
    assert receipt.link == f"/portal/applications/{repair.id}"
    found = steps(world, repair.id)
    assert [s.kind for s in found] == ["filed", "supplement", "handed_in", "accepted", "verifying"]
    assert found[0].at == filed_at and found[2].text == "补正材料" and found[3].at == accepted_at
    assert found[3].due is not None and found[3].due > accepted_at
    assert [d.title for d in found[3].documents] == ["受理回执"]
    assert found[4].current and found[4].at is None
    assert all("内部意见" not in s.text for s in found)               # the clerk's opinions stay internal

    world.clock.advance(days=2)
    decided_at = world.clock.now()
    world.run("reviewer", complete_task, world.task(repair.id, "review").id,
              {"recommendation": "approve", "review_reason": "内部意见：符合条件"})
    world.run("leader", complete_task, world.task(repair.id, "leader_decision").id,
              {"repair_decision": "approve", "decision_reason": "已履行全部义务，准予修复"})
    found = steps(world, repair.id)
    assert [s.kind for s in found] == ["filed", "supplement", "handed_in", "accepted", "decided"]
    decided = found[-1]
    assert (decided.at, decided.outcome, decided.text) == (decided_at, "approved", "已履行全部义务，准予修复")
    assert [d.title for d in decided.documents] == ["信用修复决定书"]
    assert all("内部意见" not in s.text for s in found)
    assert any("已有结果：准予信用修复" in n.text for n in notes(world, kind="decision"))


def test_an_objection_refused_at_acceptance_says_so_with_the_reason(world, capture):
    record_id, case_id = capture_record(world, capture)
    confirm(world, case_id)
    objection = world.run("subject_a", file_objection, record_id, "factual_error", "金额有误", [])
    world.clock.advance(hours=5)
    world.run("clerk", complete_task, world.task(objection.id, "acceptance_check").id,
              {"acceptance": "refuse", "acceptance_reason": "异议事项不属于本记录"})
    found = steps(world, objection.id)
    assert [s.kind for s in found] == ["filed", "not_accepted"]
    assert found[1].text == "异议事项不属于本记录" and found[1].at == world.clock.now()
    assert [d.title for d in found[1].documents] == ["异议不予受理决定书"]
    [told] = notes(world, kind="decision")
    assert "异议申请" in told.text and "不予受理" in told.text and "异议事项不属于本记录" in told.text
    assert notes(world, kind="receipt") == []


def test_an_accepted_objection_tells_the_subject_and_shows_the_marking_then_the_decision(world, capture):
    record_id, case_id = capture_record(world, capture)
    confirm(world, case_id)
    objection = world.run("subject_a", file_objection, record_id, "factual_error", "金额有误", [])
    world.run("clerk", complete_task, world.task(objection.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    [receipt] = notes(world, kind="receipt")
    assert "异议申请" in receipt.text and "已受理" in receipt.text
    assert [s.kind for s in steps(world, objection.id)] == ["filed", "accepted", "marked", "verifying"]
    world.run("reviewer", complete_task, world.task(objection.id, "verification").id,
              {"verification_outcome": "keep", "verification_reason": "内部意见：无误"})
    world.run("leader", complete_task, world.task(objection.id, "leader_approval").id,
              {"final_outcome": "keep", "decision_reason": "记录无误，予以维持"})
    found = steps(world, objection.id)
    assert [s.kind for s in found] == ["filed", "accepted", "marked", "decided"]
    assert found[-1].outcome == "keep" and found[-1].text == "记录无误，予以维持"
    assert [d.title for d in found[1].documents] == ["受理回执"]
    assert len(notes(world, kind="receipt")) == 1


def test_a_self_correction_claim_is_accepted_on_filing_and_decided_before_the_sanction(world, capture):
    record_id, case_id = capture_record(world, {**capture, "severity": "serious"})
    confirm(world, case_id)
    claim = world.run("subject_a", file_self_correction, record_id, ["recovered_loss"], "已全额退赔", [])
    [receipt] = notes(world, kind="receipt")
    assert "主动自新申请" in receipt.text and "已受理" in receipt.text
    assert [(s.kind, s.current) for s in steps(world, claim.id)] == [
        ("filed", False), ("accepted", False), ("verifying", True)]
    world.run("reviewer", complete_task, world.task(claim.id, "assessment").id,
              {"proposal": "refuse", "assessment_reason": "内部意见：未挽回损失"})
    world.run("leader", complete_task, world.task(claim.id, "leader_decision").id,
              {"mitigation_decision": "refused", "decision_reason": "损失尚未挽回"})
    found = steps(world, claim.id)
    assert [s.kind for s in found] == ["filed", "accepted", "decided"]       # a refusal here is a decision
    assert found[-1].outcome == "refused" and found[-1].text == "损失尚未挽回"
    told = [n.text for n in notes(world, kind="decision")]
    assert any("主动自新申请" in t and "已有结果" in t for t in told)
    assert not any("已有结果：不予受理。" in t for t in told)                # decided, not "not accepted"
    assert all("内部意见" not in s.text for s in found)


# -- the migration -------------------------------------------------------------------------------

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL not set"))])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    import psycopg
    base, _, name = PG_URL.rpartition("/")
    own = f"{name}_notice_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone():
            conn.execute(f'CREATE DATABASE "{own}"')
    # emptied by dropping its schema rather than the database (DROP DATABASE waits for a checkpoint)
    with psycopg.connect(f"{base}/{own}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return f"{base}/{own}"


def test_upgrading_counts_records_past_confirmation_as_notified(empty_url):
    upgrade_database(empty_url, "0002")
    engine = make_engine(empty_url)
    pg = engine.dialect.name == "postgresql"
    created, confirmed, changed = (datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=d) for d in (0, 3, 9))
    at = (lambda t: t) if pg else (lambda t: t.strftime("%Y-%m-%d %H:%M:%S"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO subject (id, kind, name, code, created_at) "
                          "VALUES (1, 'department', '某局', '11610800MB2981760X', :at)"), {"at": at(created)})
        for record_id, status in ((1, "published"), (2, "under_review"), (3, "repaired")):
            conn.execute(text("INSERT INTO record (id, subject_id, status, repair_eligible, under_objection, "
                              "sanctions_lifted, publication_rule, rule_snapshot, created_at, updated_at) VALUES "
                              "(:id, 1, :status, false, false, false, '2025', '{}', :created, :changed)"),
                         {"id": record_id, "status": status, "created": at(created), "changed": at(changed)})
        for event_id, new in ((1, "under_review"), (2, "confirmed"), (3, "published")):   # record 1's history only
            conn.execute(text("INSERT INTO audit_event (id, at, actor, action, record_id, data, prev_hash, hash) "
                              "VALUES (:id, :at, 'x', 'record.status', 1, :data, '', :hash)"),
                         {"id": event_id, "at": at(confirmed + timedelta(days=event_id - 2)),
                          "data": f'{{"new": "{new}"}}', "hash": f"h{event_id}"})
    upgrade_database(empty_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, notified_at FROM record")).all())
    engine.dispose()

    def utc(value):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    assert utc(rows[1]) == confirmed            # when its history first shows it confirmed
    assert rows[2] is None                      # under review: the subject does not see it
    assert utc(rows[3]) == changed              # no history: its last change
