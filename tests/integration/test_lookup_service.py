"""逢办必查 look-ups through the services, on both databases: by each key, with and without a hit,
an open objection shown, civil servants' IDs masked; every look-up kept and audited; the deal's
outcome after a hit; who sees which look-ups; the monthly report; the signed extract verifies."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.applications import file_objection
from workflows.case_errors import CaseError, Conflict, NotFound
from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.demo import SUBJECTS
from workflows.documents import find_by_code, verify_pdf
from workflows.lookups.model import Lookup
from workflows.lookups.report import monthly_report
from workflows.lookups.search import LookupInvalid
from workflows.lookups.service import issue_extract, look_up, lookup_for, record_outcome, visible_lookups
from workflows.models import AuditEvent, Record
from workflows.records import open_record
from workflows.runtime import Actor, UnitOfWork
from workflows.settings import Settings

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, TOWN, PERSON, PERSON2 = range(5)


def publish(world, capture, subject=A) -> int:
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    return record.id


def checker(world, username: str, department: int | None) -> Actor:
    with world.uow() as uow:
        user = create_user(uow, username, "pw", f"查询{username}", ["checker"])
        user.department_id = world.subjects[department] if department is not None else None
        uow.commit()
        return Actor.of(user)


def lookup(world, actor, key_kind, value, deal_kind="procurement", deal_ref="YLCG-2026-118", clock=None):
    with UnitOfWork(world.factory, actor, clock or world.clock) as uow:
        made = look_up(uow, key_kind, value, deal_kind, deal_ref)
        uow.commit()
        return made


def events(world, action: str) -> list[AuditEvent]:
    with world.factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_by_code_a_record_flags_caution_with_its_facts_and_open_objection(world, capture):
    record_id = publish(world, capture)
    objection = world.run("subject_a", file_objection, record_id, "factual_error", "金额有误", [])
    me = checker(world, "c_b", B)
    made = lookup(world, me, "code", SUBJECTS[A][2].lower())      # typed in lower case: normalised
    assert made.hit and made.department_id == world.subjects[B] and made.query == SUBJECTS[A][2]
    [subject] = made.result["subjects"]
    assert (subject["name"], subject["caution"]) == (SUBJECTS[A][1], True)
    [record] = subject["records"]
    with world.factory() as session:
        stored = session.get(Record, record_id)
    assert record["id"] == record_id and record["facts"] == capture["facts"] and record["severity"] == "general"
    assert record["decision_date"] == capture["decision_date"]
    assert (record["publication_start"], record["publication_end"]) == (
        stored.publication_start.isoformat(), (stored.publication_end or stored.publication_max_end).isoformat())
    assert record["authority"] == Settings().office_name and record["decision_number"]
    assert record["under_objection"] and record["objection"]["case_id"] == objection.id
    # kept and audited: who, which department, whom, which deal, what was found
    [event] = events(world, "lookup.made")
    assert event.actor == "c_b" and event.data["deal_ref"] == "YLCG-2026-118" and event.data["hit"] is True
    assert event.data["subjects"] == [world.subjects[A]] and event.data["records"] == [record_id]
    assert event.data["department_id"] == world.subjects[B] and event.data["deal_kind"] == "procurement"


def test_by_citizen_id_the_id_is_masked_and_a_clean_subject_is_no_hit(world, capture):
    me = checker(world, "c_a", A)
    number = SUBJECTS[PERSON][2]
    clean = lookup(world, me, "citizen_id", number, "appointment", "RM-2026-3")
    [subject] = clean.result["subjects"]
    assert not clean.hit and not subject["caution"] and subject["records"] == []
    assert subject["code"] == number[:6] + "*" * 10 + number[16:]
    assert number not in str(clean.result) and number not in str(events(world, "lookup.made")[0].data)
    publish(world, capture, PERSON)
    assert lookup(world, me, "citizen_id", number, "honours", "PY-1").hit
    with pytest.raises(LookupInvalid) as refused:
        lookup(world, me, "citizen_id", number[:17] + ("0" if number[17] != "0" else "1"))
    assert set(refused.value.fields) == {"value"}


def test_by_name_and_no_match_is_a_kept_no_record_result(world, capture):
    publish(world, capture, TOWN)
    me = checker(world, "c_a", A)
    assert lookup(world, me, "name", f"  {SUBJECTS[TOWN][1]} ", "funding", "ZJ-9").hit
    nobody = lookup(world, me, "name", "不存在的单位", "bidding", "ZB-1")
    assert (nobody.hit, nobody.result) == (False, {"subjects": []})
    assert [e.data["hit"] for e in events(world, "lookup.made")] == [True, False]
    with pytest.raises(LookupInvalid) as refused:
        lookup(world, me, "name", "某单位", "lottery", "  ")
    assert set(refused.value.fields) == {"deal_kind", "deal_ref"}
    with pytest.raises(LookupInvalid) as refused:
        lookup(world, me, "code", "91350100M000100Y44")
    assert set(refused.value.fields) == {"value"}
    with world.factory() as session:
        assert len(session.scalars(select(Lookup)).all()) == 2       # refusals keep nothing


def test_the_outcome_needs_a_reason_when_the_deal_went_ahead_and_takes_effect_once(world, capture):
    publish(world, capture)
    me = checker(world, "c_a", A)
    made = lookup(world, me, "code", SUBJECTS[A][2])
    with pytest.raises(LookupInvalid) as refused:
        world.run(me, record_outcome, made.id, "proceeded", "   ")
    assert set(refused.value.fields) == {"reason"}
    for _ in range(2):          # a double submit: one effect
        world.run(me, record_outcome, made.id, "proceeded", "唯一供应商，经集体研究。")
    assert len(events(world, "lookup.outcome")) == 1
    with pytest.raises(Conflict):
        world.run(me, record_outcome, made.id, "dropped", "")
    with world.factory() as session:
        kept = session.get(Lookup, made.id)
        assert (kept.outcome, kept.outcome_reason, kept.outcome_by) == ("proceeded", "唯一供应商，经集体研究。", "c_a")
    clear = lookup(world, me, "name", "不存在的单位")
    with pytest.raises(CaseError):
        world.run(me, record_outcome, clear.id, "dropped", "")


def test_a_checker_sees_only_their_departments_look_ups_the_office_all(world):
    mine, colleague, other = checker(world, "c_a", A), checker(world, "c_a2", A), checker(world, "c_b", B)
    made = lookup(world, mine, "name", "某单位")
    lookup(world, other, "name", "某单位")
    with world.factory() as session:
        assert lookup_for(session, colleague, made.id).id == made.id
        with pytest.raises(NotFound):
            lookup_for(session, other, made.id)
        assert visible_lookups(session, other)[1] == 1
        assert visible_lookups(session, world.actors["clerk"])[1] == 2
        with pytest.raises(NotFound):
            lookup_for(session, world.actors["manager"], made.id)
    with pytest.raises(NotFound):
        world.run(other, record_outcome, made.id, "dropped", "")
    with pytest.raises(NotFound):
        world.run(other, issue_extract, made.id)


def test_the_monthly_report_counts_per_department(world, capture):
    publish(world, capture)
    a, a2, b = checker(world, "c_a", A), checker(world, "c_a2", A), checker(world, "c_b", B)
    code = SUBJECTS[A][2]

    def at(month, day, hour=10, minute=0):
        return FixedClock(datetime(2026, month, day, hour, minute, tzinfo=CST))
    # department A in November (China time): 3 look-ups, 2 hits, 1 went ahead, 1 dropped
    hit1 = lookup(world, a, "code", code, clock=at(11, 1, 0, 5))          # just after midnight: November
    hit2 = lookup(world, a2, "code", code, clock=at(11, 30, 23, 55))      # just before midnight: November
    lookup(world, a, "name", "不存在的单位", clock=at(11, 12))
    lookup(world, a, "code", code, clock=at(10, 31, 23, 59))              # October
    lookup(world, a, "code", code, clock=at(12, 1, 0, 0))                 # December
    # department B in November: 2 look-ups, 1 hit, its outcome not yet recorded
    lookup(world, b, "code", code, clock=at(11, 5))
    lookup(world, b, "name", "某单位", clock=at(11, 6))
    world.run(a, record_outcome, hit1.id, "proceeded", "唯一供应商。")
    world.run(a2, record_outcome, hit2.id, "dropped", "")
    with world.factory() as session:
        rows = {r.department_id: r for r in monthly_report(session, world.actors["leader"], "2026-11")}
        mine = monthly_report(session, a, "2026-11")
    ra, rb = rows[world.subjects[A]], rows[world.subjects[B]]
    assert set(rows) == {world.subjects[A], world.subjects[B]}
    assert (ra.made, ra.hits, ra.proceeded, ra.dropped, ra.open) == (3, 2, 1, 1, 0)
    assert (rb.made, rb.hits, rb.proceeded, rb.dropped, rb.open) == (2, 1, 0, 0, 1)
    assert [(r["lookup_id"], r["reason"], r["by"]) for r in ra.reasons] == [(hit1.id, "唯一供应商。", "c_a")]
    assert [r.department_id for r in mine] == [world.subjects[A]]        # a checker: their department only
    with world.factory() as session:
        with pytest.raises(CaseError):
            monthly_report(session, a, "2026-13")


def test_the_signed_extract_verifies_and_is_issued_once(world, capture):
    publish(world, capture)
    me = checker(world, "c_a", A)
    made = lookup(world, me, "code", SUBJECTS[A][2])
    document = world.run(me, issue_extract, made.id)
    assert document.kind == "lookup_extract" and document.title == "信用信息查询结果"
    assert document.number.startswith("榆信查字〔2026〕")
    assert world.run(me, issue_extract, made.id).id == document.id       # asked again: the same document
    with world.factory() as session:
        assert find_by_code(session, document.verification_code).id == document.id
        result = verify_pdf(session, document.pdf, Settings().office_name)
        assert result.signature_valid and result.document.id == document.id
        assert session.get(Lookup, made.id).document_id == document.id
    assert document.source_data["hit"] and document.source_data["found"][0]["caution"]
    nobody = lookup(world, me, "name", "不存在的单位")
    empty = world.run(me, issue_extract, nobody.id)
    assert empty.subject_id is None and empty.source_data["found"] == []
