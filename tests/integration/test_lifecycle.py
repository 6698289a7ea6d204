"""The record lifecycle through the service layer, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from workflows.audit import verify_chain
from workflows.cases import CaseError, Conflict, Forbidden, complete_task, send_message
from workflows.models import AuditEvent, Case, Record
from workflows.records import open_record
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def record_of(world, record_id) -> Record:
    with world.factory() as session:
        return session.get(Record, record_id)


def case_of(world, case_id) -> Case:
    with world.factory() as session:
        return session.get(Case, case_id)


def publish(world, capture, subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    return record.id, case.id


def test_capture_to_expiry_with_the_clock_moved(world, capture):
    record_id, case_id = publish(world, capture)
    record = record_of(world, record_id)
    assert record.status == "published"
    assert record.sanctions and record.publication_rule == "2025"
    # general severity under the 2025 rule: 3 months minimum, 1 year maximum, from the decision date
    assert (record.publication_start, record.publication_min_end, record.publication_max_end) == (
        date(2026, 5, 29), date(2026, 8, 29), date(2027, 5, 29))
    assert world.tasks(case_id) == []
    assert case_of(world, case_id).next_due_at is not None

    world.clock.advance(days=30)
    assert run_once(world.factory, world.clock) == {"fired": 0, "failed": 0}
    assert not record_of(world, record_id).repair_eligible

    world.clock.advance(days=62)   # 2026-09-01: the minimum period has passed
    assert run_once(world.factory, world.clock)["fired"] == 1
    assert record_of(world, record_id).repair_eligible
    assert record_of(world, record_id).status == "published"

    world.clock.advance(days=365)  # past the maximum: publication ends by itself
    assert run_once(world.factory, world.clock)["fired"] == 1
    record = record_of(world, record_id)
    assert record.status == "expired" and record.publication_end == date(2027, 9, 1)
    case = case_of(world, case_id)
    assert case.status == "completed" and case.next_due_at is None
    assert run_once(world.factory, world.clock) == {"fired": 0, "failed": 0}
    with world.factory() as session:
        assert verify_chain(session).ok


def test_return_for_correction_at_most_three_times(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    for n in range(3):
        world.run("reviewer", complete_task, world.task(case.id, "legality_review").id,
                  {"review_decision": "return", "review_opinion": f"请补充证据 {n}"})
        assert record_of(world, record.id).status == "returned"
        world.run("clerk", complete_task, world.task(case.id, "capture").id, {**capture, "facts": f"补正 {n}"})
        assert record_of(world, record.id).status == "under_review"
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id,
              {"review_decision": "return", "review_opinion": "再退回"})
    # a fourth return is not possible: the reviewer must now decide
    final = world.task(case.id, "final_review")
    assert final.lane == "reviewer"
    world.run("reviewer", complete_task, final.id, APPROVE)
    assert record_of(world, record.id).facts == "补正 2"
    assert world.task(case.id, "leader_approval")


def test_rejection_ends_the_case(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[3], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id,
              {"review_decision": "reject", "review_opinion": "证据不足"})
    assert record_of(world, record.id).status == "rejected"
    assert case_of(world, case.id).status == "completed"
    assert world.tasks(case.id) == []


def test_minor_record_is_sanctioned_but_not_published(world, capture):
    record_id, case_id = publish(world, {**capture, "severity": "minor"})
    assert record_of(world, record_id).status == "sanctioned"
    assert case_of(world, case_id).status == "completed"


def test_the_rule_in_force_on_the_decision_date_stays_with_the_record(world, capture):
    # decided under the 2019 rule: serious records had a 6-month minimum then (12 months now)
    record_id, _ = publish(world, {**capture, "severity": "serious", "decision_date": "2026-03-02"})
    record = record_of(world, record_id)
    assert record.publication_rule == "2019"
    assert record.publication_min_end == date(2026, 9, 2)
    assert record.publication_max_end == date(2029, 3, 2)


def test_corrections_revocation_and_repair_messages(world, capture):
    record_id, case_id = publish(world, capture)
    for n in range(3):
        world.run(None, send_message, case_id, "record_corrected", {"facts": f"更正 {n}"})
    assert record_of(world, record_id).facts == "更正 2"
    assert record_of(world, record_id).status == "published"
    world.run(None, send_message, case_id, "record_repaired", {})
    assert record_of(world, record_id).status == "repaired"
    assert case_of(world, case_id).status == "completed"
    with pytest.raises(CaseError):
        world.run(None, send_message, case_id, "record_revoked", {})

    other_record, other_case = publish(world, capture, subject=1)
    world.run(None, send_message, other_case, "record_revoked", {"reason": "异议成立"})
    assert record_of(world, other_record).status == "revoked"
    assert case_of(world, other_case).next_due_at is None


def test_a_message_the_case_is_not_waiting_for_is_refused(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    version = case_of(world, case.id).version
    with pytest.raises(CaseError, match="record_repaired"):
        world.run(None, send_message, case.id, "record_repaired", {})
    assert case_of(world, case.id).version == version


def test_invalid_form_data_saves_nothing(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    with world.factory() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    before = case_of(world, case.id)
    from workflows.forms import FormInvalid
    with pytest.raises(FormInvalid) as err:
        world.run("reviewer", complete_task, task.id, {"review_decision": "maybe"})
    assert set(err.value.errors) == {"review_decision", "review_opinion"}
    after = case_of(world, case.id)
    assert (after.version, after.state) == (before.version, before.state)
    assert world.task(case.id, "legality_review").id == task.id
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_roles_and_claims_are_enforced(world, capture):
    from workflows.cases import claim_task, unclaim_task
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    with pytest.raises(Forbidden):
        world.run("clerk", complete_task, task.id, APPROVE)
    with pytest.raises(Forbidden):
        world.run("leader", claim_task, task.id)
    world.run("reviewer", claim_task, task.id)
    assert world.task(case.id, "legality_review").assignee_id == world.actors["reviewer"].user_id
    world.run("reviewer", unclaim_task, task.id)
    assert world.task(case.id, "legality_review").assignee_id is None


def test_a_double_submit_completes_once_and_says_who_did_it(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    world.run("reviewer", complete_task, task.id, APPROVE)
    assert world.task(case.id, "leader_approval").id != task.id  # a task id never names another task
    with pytest.raises(Conflict, match="reviewer"):
        world.run("reviewer", complete_task, task.id, APPROVE)
    with world.factory() as session:
        done = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).all()
    assert [e.data["task"] for e in done].count("legality_review") == 1
