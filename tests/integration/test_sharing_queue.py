"""Sharing upward: a record's publication and every later change queue one item per platform, in
the transaction of the change, with the national catalogue's fields as they are then."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from workflows.applications import file_credit_repair, file_objection
from workflows.cases import complete_task
from workflows.clock import CST
from workflows.models import AuditEvent, Record
from workflows.records import open_record
from workflows.sharing.model import SharingItem
from workflows.sharing.service import is_overdue
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def items(world, record_id=None):
    with world.factory() as session:
        query = select(SharingItem).order_by(SharingItem.id)
        if record_id is not None:
            query = query.where(SharingItem.record_id == record_id)
        return session.scalars(query).all()


def changes(world, record_id):
    return [(i.change, i.platform) for i in items(world, record_id)]


def open_and_review(world, capture, subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    return record.id, case.id


def publish(world, capture, subject=0):
    record_id, case_id = open_and_review(world, capture, subject)
    world.run("leader", complete_task, world.task(case_id, "leader_approval").id, LEADER_OK)
    return record_id, case_id


def objection(world, record_id, outcome, **extra):
    case = world.run("subject_a", file_objection, record_id, "factual_error", "金额有误", [])
    world.run("clerk", complete_task, world.task(case.id, "acceptance_check").id,
              {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    world.run("reviewer", complete_task, world.task(case.id, "verification").id,
              {"verification_outcome": outcome, "verification_reason": "核实", **extra})
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id,
              {"final_outcome": outcome, "decision_reason": "决定"})
    return case


def test_nothing_is_queued_before_publication(world, capture):
    record_id, _ = open_and_review(world, capture)
    assert items(world, record_id) == []


def test_publication_queues_one_item_per_platform_with_the_catalogue_fields(world, capture):
    record_id, _ = publish(world, capture)
    queued = items(world, record_id)
    assert [(i.change, i.platform, i.state, i.attempts) for i in queued] == [
        ("published", "provincial", "queued", 1), ("published", "national", "queued", 1)]
    payload = queued[0].payload
    with world.factory() as session:
        record = session.get(Record, record_id)
        subject_name, code = record.subject.name, record.subject.code
    assert payload["subject_name"] == subject_name and payload["subject_code"] == code   # a department: in full
    assert payload["subject_code_type"] == "统一社会信用代码"
    assert (payload["record_kind"], payload["record_kind_name"]) == ("administrative_penalty", "行政处罚")
    assert payload["facts"] == capture["facts"] and payload["legal_basis"] == capture["legal_basis"]
    assert payload["decision_date"] == "2026-05-29" and payload["publication_start"] == "2026-05-29"
    assert payload["publication_end"] and payload["issuing_authority"].endswith("办公室")
    assert (payload["change"], payload["change_name"], payload["under_objection"]) == ("published", "新增", False)
    # the deadline: 3 working days after the event (Monday 2026-06-01 -> Thursday 2026-06-04, end of day)
    assert queued[0].due_at == datetime(2026, 6, 4, 23, 59, 59, tzinfo=CST)
    with world.factory() as session:   # in the publication's own transaction, audited with it
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "sharing.queued")).one()
    assert event.record_id == record_id and event.data["change"] == "published"


def test_a_civil_servants_id_goes_in_full_to_the_platforms(world, capture):
    record_id, _ = publish(world, capture, subject=3)
    payload = items(world, record_id)[0].payload
    assert payload["subject_code_type"] == "居民身份证" and len(payload["subject_code"]) == 18
    assert "*" not in payload["subject_code"]


def test_objection_mark_and_correction_are_shared(world, capture):
    record_id, _ = publish(world, capture)
    objection(world, record_id, "correct", corrected_facts="逾期未支付账款 12 万元。")
    shared = items(world, record_id)
    assert [(i.change, i.platform) for i in shared] == [
        ("published", "provincial"), ("published", "national"), ("objection", "provincial"),
        ("objection", "national"), ("corrected", "provincial"), ("corrected", "national")]
    assert shared[2].payload["under_objection"] is True and shared[2].payload["change_name"] == "异议标注"
    corrected = shared[4].payload
    assert corrected["facts"] == "逾期未支付账款 12 万元。" and corrected["under_objection"] is False
    assert corrected["change_name"] == "变更"


def test_an_objection_kept_lifts_the_mark(world, capture):
    record_id, _ = publish(world, capture)
    objection(world, record_id, "keep")
    last = items(world, record_id)[-2:]
    assert [(i.change, i.payload["under_objection"]) for i in last] == [("objection", False)] * 2


def test_revocation_is_shared(world, capture):
    record_id, _ = publish(world, capture)
    objection(world, record_id, "revoke")
    assert changes(world, record_id)[-2:] == [("revoked", "provincial"), ("revoked", "national")]
    payload = items(world, record_id)[-1].payload
    assert payload["change_name"] == "撤销" and payload["publication_end"] == "2026-06-01"


def test_repair_is_shared(world, capture):
    record_id, _ = publish(world, capture)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    case = world.run("subject_a", file_credit_repair, record_id, "已履行", True, [1], [])
    world.run("clerk", complete_task, world.task(case.id, "completeness_check").id,
              {"completeness": "complete", "completeness_reason": "齐全"})
    world.run("reviewer", complete_task, world.task(case.id, "review").id,
              {"recommendation": "approve", "review_reason": "符合条件"})
    world.run("leader", complete_task, world.task(case.id, "leader_decision").id,
              {"repair_decision": "approve", "decision_reason": "同意修复"})
    assert changes(world, record_id)[-2:] == [("repaired", "provincial"), ("repaired", "national")]
    item = items(world, record_id)[-1]
    assert item.payload["change_name"] == "修复"
    assert item.due_at == datetime(2026, 9, 14, 23, 59, 59, tzinfo=CST)   # 3 working days after 2026-09-09


def test_the_end_of_publication_is_shared(world, capture):
    record_id, _ = publish(world, {**capture, "decision_date": "2025-08-01"})
    with world.factory() as session:
        end = session.get(Record, record_id).publication_max_end
    assert end < date(2026, 12, 1)
    world.clock.at = datetime.combine(end + timedelta(days=1), datetime.min.time(), CST).replace(hour=9)
    run_once(world.factory, world.clock)
    assert changes(world, record_id)[-2:] == [("ended", "provincial"), ("ended", "national")]
    assert items(world, record_id)[-1].payload["change_name"] == "终止公示"


def test_overdue_counts_working_days_with_an_explicit_clock(world, capture):
    record_id, _ = publish(world, capture)
    item = items(world, record_id)[0]
    # Monday 2026-06-01: due by the end of Thursday 2026-06-04, whatever the machine's date
    assert not is_overdue(item, datetime(2026, 6, 4, 23, 0, tzinfo=CST))
    assert is_overdue(item, datetime(2026, 6, 5, 0, 1, tzinfo=CST))
    item.state = "acknowledged"
    assert not is_overdue(item, datetime(2026, 6, 30, tzinfo=CST))


@pytest.mark.parametrize("start, due", [(datetime(2026, 9, 29, 10, tzinfo=CST), date(2026, 10, 9)),
                                        (datetime(2026, 6, 17, 10, tzinfo=CST), date(2026, 6, 23))])
def test_the_deadline_skips_holidays(world, capture, start, due):
    """3 working days after 2026-09-29 (09-30, 10-08, 10-09) cross the National Day week; after
    2026-06-17 (06-18, 06-22, 06-23), the Dragon Boat Festival (06-19)."""
    world.clock.at = start
    record_id, _ = publish(world, {**capture, "decision_date": "2026-05-29"})
    assert items(world, record_id)[0].due_at.astimezone(CST).date() == due
