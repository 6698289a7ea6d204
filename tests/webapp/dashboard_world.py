"""The dashboard tests' small world, made through the real services with the clock moved, and
counted by hand (tests/webapp/test_dashboard_*.py, tests/e2e/test_dashboard_page.py).

    record  subject                 field                   severity  captured     decided (sanction)
    r1      A                       government_procurement  general   06-01 09:00  06-03 09:00 (2 days); repair approved
    r2      A                       bidding                 serious   06-03 09:00  06-07 09:00 (4 days); objection refused
    r3      B                       bidding                 general   06-07 09:00  -- legality review, unclaimed
    r4      Q 陈某某 (of B)          government_procurement  minor     06-07 09:00  -- legality review, claimed by 李审核
    r5      C                       other                   serious   06-07 09:00  06-13 09:00 (6 days)
    r6      P1 (no department)      ppp                     general   07-06 09:00  -- legality review, unclaimed
    r7      A                       government_procurement  serious   07-06 09:00  07-09 09:00 (3 days)
    r8      A                       investment_promotion    general   07-06 09:00  -- leader approval; self-correction pending

All times China time, 2026; the tests look on 07-10 09:00. Decision times: June 2, 4, 6 days (median 4,
p90 6); July 3 (3, 3).
Applications: objection refused 1 (r2), credit repair approved 1 (r1), self-correction pending 1 (r8).
Open steps: legality review 3 (r3, r4, r6), leader approval 1 (r8), self-correction assessment 1 (r8); on
07-10 the two of June (r3, r4: due 06-12) are overdue, the three of July not.
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select

from credflow_web import CAPTURE, WebWorld, password
from workflows.accounts import create_user
from workflows.applications import file_credit_repair, file_objection, file_self_correction
from workflows.cases import claim_task
from workflows.clock import CST
from workflows.models import Record, Subject
from workflows.records import open_record

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, C, P1, Q = 0, 1, 2, 3, 4
SEEN_AT = datetime(2026, 7, 10, 9, 0, tzinfo=CST)    # when the tests look


def _at(world, month, day):
    world.clock.at = datetime(2026, month, day, 9, 0, tzinfo=CST)


def build(world: WebWorld):
    """The records, steps and applications above, on a seeded world; their ids."""
    o = SimpleNamespace()
    with world.uow() as uow:
        o.q = world.subjects[Q]
        uow.session.get(Subject, o.q).department_id = world.subjects[B]    # 陈某某 works for B (set-up data)
        b_account = create_user(uow, "subject_b", password("subject_b"), world.subject_names[B], ["subject"],
                                subject_id=world.subjects[B])
        uow.commit()
        o.b_account = b_account.id

    def capture(subject_id, field, severity, **extra):
        record, case = world.run("clerk", open_record, subject_id, {**CAPTURE, "field": field, "severity": severity,
                                                                    **extra})
        return record.id, case.id

    def decide(case_id):
        world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
        world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)

    s = world.subjects
    _at(world, 6, 1)
    o.r1, c1 = capture(s[A], "government_procurement", "general", decision_date="2025-12-01")
    _at(world, 6, 3)
    decide(c1)
    o.r2, c2 = capture(s[A], "bidding", "serious")
    _at(world, 6, 7)
    decide(c2)
    o.r3, _ = capture(s[B], "bidding", "general")
    o.r4, c4 = capture(o.q, "government_procurement", "minor")
    world.run("reviewer", claim_task, world.task(c4, "legality_review").id)
    o.r5, c5 = capture(s[C], "other", "serious")
    _at(world, 6, 13)
    decide(c5)
    o.objection = world.run("subject", file_objection, o.r2, "factual_error", "金额有误", []).id
    world.complete("clerk", world.task(o.objection, "acceptance_check").id,
                   {"acceptance": "refuse", "acceptance_reason": "不属于受理范围"})
    o.repair = world.run("subject", file_credit_repair, o.r1, "已履行", True, [1], []).id
    world.complete("clerk", world.task(o.repair, "completeness_check").id,
                   {"completeness": "complete", "completeness_reason": "齐全"})
    world.complete("reviewer", world.task(o.repair, "review").id, {"recommendation": "approve", "review_reason": "符合条件"})
    world.complete("leader", world.task(o.repair, "leader_decision").id,
                   {"repair_decision": "approve", "decision_reason": "同意修复"})
    _at(world, 7, 6)
    o.r6, _ = capture(s[P1], "ppp", "general")
    o.r7, c7 = capture(s[A], "government_procurement", "serious")
    o.r8, c8 = capture(s[A], "investment_promotion", "general")
    world.complete("reviewer", world.task(c8, "legality_review").id, APPROVE)
    o.self_correction = world.run("subject", file_self_correction, o.r8, ["recovered_loss"], "已全额支付", []).id
    _at(world, 7, 9)
    decide(c7)
    with world.factory() as session:
        o.statuses = dict(session.execute(select(Record.id, Record.status)).all())
    o.reviewer = world.user_ids["reviewer"]
    o.subjects = list(world.subjects)
    return o
