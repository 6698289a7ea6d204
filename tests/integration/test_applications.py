"""The subjects' applications end to end, with the clock moved: objection, self-correction, repair."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from workflows.applications import file_credit_repair, file_objection, file_self_correction
from workflows.cases import CaseError, NotFound, complete_task
from workflows.clock import CST
from workflows.models import Case, HumanTask, Notification, Record
from workflows.records import open_record
from workflows.sharing.model import SharingItem
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def get(world, model, id_):
    with world.factory() as session:
        return session.get(model, id_)


def open_tasks(world, case_id):
    return [t.bpmn_id for t in world.tasks(case_id)]


def publish(world, capture, subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    assert get(world, Record, record.id).status == "published"
    return record.id, case.id


def objection(world, record_id, who="subject_a"):
    return world.run(who, file_objection, record_id, "factual_error", "金额有误", [])


# -- objection ----------------------------------------------------------------------------------

def test_objection_accepted_marked_verified_and_corrected(world, capture):
    record_id, lifecycle_id = publish(world, capture)
    case = objection(world, record_id)
    assert open_tasks(world, case.id) == ["acceptance_check"]
    with pytest.raises(CaseError, match="已有异议"):
        objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    assert get(world, Record, record_id).under_objection
    world.run("reviewer", complete_task, world.task(case.id, "verification").id,
              {"verification_outcome": "correct", "verification_reason": "金额确有错误",
               "corrected_facts": "逾期未支付账款 12 万元。"})
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id,
              {"final_outcome": "correct", "decision_reason": "予以更正"})
    record = get(world, Record, record_id)
    assert record.facts == "逾期未支付账款 12 万元。" and not record.under_objection
    assert record.status == "published"          # a corrected record keeps its publication and history
    done = get(world, Case, case.id)
    assert (done.status, done.outcome) == ("completed", "correct")
    assert get(world, Case, lifecycle_id).status == "running"
    with world.factory() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == "decision")).all()
    assert [n.user_id for n in notes] == [world.actors["subject_a"].user_id]
    # a second objection is possible once the first is closed
    assert objection(world, record_id).id != case.id


def test_objection_revoked_leaves_publication(world, capture):
    record_id, lifecycle_id = publish(world, capture)
    case = objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "受理"})
    world.run("reviewer", complete_task, world.task(case.id, "verification").id,
              {"verification_outcome": "revoke", "verification_reason": "认定主体不当"})
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id,
              {"final_outcome": "revoke", "decision_reason": "撤销"})
    assert get(world, Record, record_id).status == "revoked"
    assert get(world, Case, lifecycle_id).status == "completed"


def test_objection_refused_at_acceptance(world, capture):
    record_id, _ = publish(world, capture)
    case = objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "refuse", "acceptance_reason": "不属于受理范围"})
    done = get(world, Case, case.id)
    assert (done.status, done.outcome, done.outcome_reason) == ("completed", "refused", "不属于受理范围")
    assert not get(world, Record, record_id).under_objection


def test_overdue_verification_escalates_to_the_leader(world, capture):
    record_id, _ = publish(world, capture)
    case = objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "受理"})
    verification = world.task(case.id, "verification")
    assert verification.due_at == datetime(2026, 6, 15, 23, 59, 59, tzinfo=CST)  # 10 working days after Monday 06-01
    world.clock.advance(days=20)
    assert run_once(world.factory, world.clock)["fired"] >= 1
    escalated = world.task(case.id, "escalated_verification")
    assert escalated.lane == "leader"


def test_verification_can_be_extended_once(world, capture):
    record_id, _ = publish(world, capture)
    case = objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "受理"})
    world.run("reviewer", complete_task, world.task(case.id, "verification").id,
              {"verification_outcome": "extend", "verification_reason": "情况复杂"})
    assert open_tasks(world, case.id) == ["verification"]
    world.run("reviewer", complete_task, world.task(case.id, "verification").id,
              {"verification_outcome": "extend", "verification_reason": "仍需时间"})
    assert open_tasks(world, case.id) == ["verification_final"]


def test_deadlines_cross_the_national_day_holiday(world, capture):
    record_id, _ = publish(world, capture)
    world.clock.at = datetime(2026, 9, 28, 9, 0, tzinfo=CST)
    case = objection(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "受理"})
    # 10 working days after 2026-09-28, with 10-01..10-07 off and 10-10 a make-up working day
    assert world.task(case.id, "verification").due_at == datetime(2026, 10, 16, 23, 59, 59, tzinfo=CST)


def test_a_deadline_the_calendar_does_not_cover_saves_nothing(world, capture):
    record_id, _ = publish(world, capture)
    world.clock.at = datetime(2026, 12, 21, 9, 0, tzinfo=CST)
    case = objection(world, record_id)
    task = world.task(case.id, "acceptance_check")
    before = get(world, Case, case.id)
    with pytest.raises(CaseError, match="2027"):
        world.run("clerk", complete_task, task.id, {"acceptance": "accept", "acceptance_reason": "受理"})
    after = get(world, Case, case.id)
    assert (after.version, after.state) == (before.version, before.state)
    assert not get(world, Record, record_id).under_objection
    assert world.task(case.id, "acceptance_check").id == task.id


# -- self-correction ----------------------------------------------------------------------------

def capture_for_review(world, capture, severity="serious", subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], {**capture, "severity": severity})
    return record.id, case.id


def test_self_correction_exempts_the_pending_sanction(world, capture):
    record_id, lifecycle_id = capture_for_review(world, capture)
    with pytest.raises(NotFound):        # under review: the subject has not been told of the record yet
        world.run("subject_a", file_self_correction, record_id, ["recovered_loss"], "已全额支付", [])
    world.run("reviewer", complete_task, world.task(lifecycle_id, "legality_review").id, APPROVE)
    case = world.run("subject_a", file_self_correction, record_id, ["recovered_loss"], "已全额支付", [])
    # the leader cannot decide the sanction while the application is open
    with pytest.raises(CaseError, match="主动自新"):
        world.run("leader", complete_task, world.task(lifecycle_id, "leader_approval").id, LEADER_OK)
    world.run("reviewer", complete_task, world.task(case.id, "assessment").id,
              {"proposal": "exempt", "assessment_reason": "已挽回全部损失"})
    world.run("leader", complete_task, world.task(case.id, "leader_decision").id,
              {"mitigation_decision": "exempt", "decision_reason": "免予惩戒"})
    world.run("leader", complete_task, world.task(lifecycle_id, "leader_approval").id, LEADER_OK)
    record = get(world, Record, record_id)
    assert record.status == "exempted" and record.publication_start is None
    assert get(world, Case, lifecycle_id).status == "completed"


def test_self_correction_lighter_recomputes_the_sanction(world, capture):
    record_id, lifecycle_id = capture_for_review(world, capture)
    world.run("reviewer", complete_task, world.task(lifecycle_id, "legality_review").id, APPROVE)   # confirmed
    case = world.run("subject_a", file_self_correction, record_id, ["prevented_harm"], "及时阻止", [])
    world.run("reviewer", complete_task, world.task(case.id, "assessment").id,
              {"proposal": "lighter", "proposed_severity": "general", "assessment_reason": "有效阻止"})
    world.run("leader", complete_task, world.task(case.id, "leader_decision").id,
              {"mitigation_decision": "lighter", "mitigated_severity": "general", "mitigated_max_months": 6,
               "decision_reason": "从轻"})
    world.run("leader", complete_task, world.task(lifecycle_id, "leader_approval").id, LEADER_OK)
    record = get(world, Record, record_id)
    # serious under the 2025 rule would be 12-36 months; general shortened to 6: 3-6 months
    assert record.status == "published"
    assert (record.publication_min_end, record.publication_max_end) == (date(2026, 8, 29), date(2026, 11, 29))


def test_self_correction_only_while_the_sanction_is_pending(world, capture):
    record_id, _ = publish(world, capture)
    with pytest.raises(CaseError, match="惩戒决定作出前"):
        world.run("subject_a", file_self_correction, record_id, ["recovered_loss"], "x", [])


# -- credit repair ------------------------------------------------------------------------------

def repair(world, record_id, who="subject_a"):
    return world.run(who, file_credit_repair, record_id, "已履行", True, [1], [])


def test_repair_applied_too_early_says_when(world, capture):
    record_id, _ = publish(world, capture)
    with pytest.raises(CaseError, match="2026-08-29"):
        repair(world, record_id)


def test_repair_with_a_supplement_then_approved(world, capture):
    record_id, lifecycle_id = publish(world, capture)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    case = repair(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "completeness_check").id,
              {"completeness": "supplement", "missing_items": "缴款凭证", "completeness_reason": "缺缴款凭证"})
    supplement = world.task(case.id, "supplement")
    assert supplement.lane == "subject" and supplement.subject_id == world.subjects[0]
    with pytest.raises(CaseError):   # another subject cannot answer it
        world.run("subject_b", complete_task, supplement.id, {"supplement_statement": "x"})
    world.run("subject_a", complete_task, supplement.id, {"supplement_statement": "已补充缴款凭证"})
    world.run("clerk", complete_task, world.task(case.id, "completeness_check").id,
              {"completeness": "complete", "completeness_reason": "齐全"})
    world.run("reviewer", complete_task, world.task(case.id, "review").id,
              {"recommendation": "approve", "review_reason": "符合条件"})
    world.run("leader", complete_task, world.task(case.id, "leader_decision").id,
              {"repair_decision": "approve", "decision_reason": "同意修复"})
    record = get(world, Record, record_id)
    assert record.status == "repaired" and record.sanctions_lifted
    assert get(world, Case, lifecycle_id).status == "completed"
    with world.factory() as session:
        item = session.scalars(select(SharingItem).where(SharingItem.change == "repaired",
                                                         SharingItem.platform == "national")).one()
    assert item.record_id == record_id and item.due_at.astimezone(CST).date() <= date(2026, 9, 14)
    # the repeat limit: a second repair for this subject within 12 months is refused with its date
    other_id, _ = publish(world, {**capture, "decision_date": "2026-01-05"})
    with pytest.raises(CaseError, match="2027-09"):
        repair(world, other_id)


def test_a_supplement_request_that_lapses_closes_the_application(world, capture):
    record_id, _ = publish(world, capture)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    case = repair(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "completeness_check").id,
              {"completeness": "supplement", "missing_items": "承诺书原件", "supplement_days": 3,
               "completeness_reason": "缺件"})
    world.clock.advance(days=10)
    run_once(world.factory, world.clock)
    done = get(world, Case, case.id)
    assert (done.status, done.outcome) == ("completed", "lapsed")
    assert world.tasks(case.id) == []


def test_an_overdue_repair_decision_reminds_the_leaders(world, capture):
    record_id, _ = publish(world, capture)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    case = repair(world, record_id)
    world.run("clerk", complete_task, world.task(case.id, "completeness_check").id,
              {"completeness": "complete", "completeness_reason": "齐全"})
    world.run("reviewer", complete_task, world.task(case.id, "review").id,
              {"recommendation": "approve", "review_reason": "符合"})
    world.clock.advance(days=20)
    run_once(world.factory, world.clock)
    assert open_tasks(world, case.id) == ["leader_decision"]    # the leader still decides
    with world.factory() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == "overdue",
                                                           Notification.case_id == case.id)).all()
    assert world.actors["leader"].user_id in {n.user_id for n in notes}


def test_subjects_cannot_reach_each_others_records(world, capture):
    record_id, _ = publish(world, capture, subject=0)
    with pytest.raises(NotFound):
        world.run("subject_b", file_objection, record_id, "factual_error", "x", [])
    with pytest.raises(NotFound):
        repair(world, record_id, who="subject_b")
