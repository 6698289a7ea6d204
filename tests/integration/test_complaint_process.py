"""Complaints (投诉举报) through the services, on both databases: filed on the public form's
service, registered (refused or accepted), verified, decided (unfounded, or founded: a record
opened and linked both ways), the reply letter signed; the identity rule; the challenge."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows.cases import claim_task, complete_task
from workflows.complaints.guard import make_challenge
from workflows.complaints.model import Complaint
from workflows.complaints.service import (ComplaintForm, ComplaintInvalid, file_complaint, identity_panel,
                                          letter_by_code, sees_identity, status_by_code)
from workflows.demo import SUBJECTS
from workflows.documents import verify_pdf
from workflows.models import AuditEvent, Case, HumanTask, Notification, Record
from workflows.records import lifecycle_case
from workflows.settings import Settings
from workflows.worker import run_once

SECRET = "test-secret"
IDENTITY = ("王小明", "13800138000", "wxm@example.cn")


def answered(clock, secret=SECRET) -> tuple[str, str]:
    challenge = make_challenge(secret, clock.now(), 30)
    a, b = (int(x) for x in challenge.question.replace("= ?", "").split("+"))
    return challenge.token, str(a + b)


def a_form(clock, anonymous=False, **changes) -> ComplaintForm:
    token, answer = answered(clock)
    values = dict(concerned="某区住房和城乡建设局", facts="招标结束后拒不签订合同，也不退还保证金。",
                  happened_on="2026-05-20", anonymous=anonymous, challenge_token=token, challenge_answer=answer)
    if not anonymous:
        values.update(contact_name=IDENTITY[0], contact_phone=IDENTITY[1], contact_email=IDENTITY[2])
    values.update(changes)
    return ComplaintForm(**values)


def file(world, **kwargs):
    with world.uow() as uow:
        complaint, code = file_complaint(uow, a_form(world.clock, **kwargs), [], SECRET)
        uow.commit()
        return complaint.id, complaint.case_id, code


def work(world, actor, case_id, bpmn_id, data):
    row = world.task(case_id, bpmn_id)
    world.run(actor, claim_task, row.id)
    return world.run(actor, complete_task, row.id, data)


def subject_code(world, index=0):
    return SUBJECTS[index][2]     # the registered subject's code, as the clerk types it


def test_refused_complaint_tells_the_reason_by_code(world):
    _, case_id, code = file(world)
    work(world, "clerk", case_id, "registration",
         {"registration_decision": "refuse", "registration_reason": "反映的是企业之间的合同纠纷，不属于政务失信投诉范围。"})
    with world.factory() as session:
        status = status_by_code(session, code)
        assert status.stage == "refused"
        assert "合同纠纷" in status.refusal_reason and status.reply is None and status.letter_number is None
        assert session.get(Case, case_id).status == "completed"


def test_accepting_needs_a_registered_subject(world):
    _, case_id, _ = file(world)
    row = world.task(case_id, "registration")
    with pytest.raises(Exception) as refused:
        world.run("clerk", complete_task, row.id, {"registration_decision": "accept", "subject_code": "91350100M000100Y43",
                                                    "registration_reason": "属于受理范围。"})
    assert "已登记" in str(refused.value)
    assert world.task(case_id, "registration").id == row.id     # nothing moved


def register_and_verify(world, case_id, proposed="founded"):
    work(world, "clerk", case_id, "registration",
         {"registration_decision": "accept", "subject_code": subject_code(world).lower(),
          "registration_reason": "属于政务失信投诉，予以受理。"})
    work(world, "reviewer", case_id, "verification",
         {"findings": "调取合同和付款凭证，情况属实。", "proposed_outcome": proposed})


def test_unfounded_complaint_gets_a_signed_letter(world):
    complaint_id, case_id, code = file(world)
    register_and_verify(world, case_id, "unfounded")
    work(world, "leader", case_id, "leader_outcome", {"outcome": "unfounded", "reply": "经核查，保证金已于5月25日退还。"})
    with world.factory() as session:
        status = status_by_code(session, code)
        assert status.stage == "unfounded" and "保证金" in status.reply and status.letter_number
        letter = letter_by_code(session, code)
        assert letter.kind == "complaint_reply" and letter.subject_id is None and letter.record_id is None
        verification = verify_pdf(session, letter.pdf, Settings().office_name)
        assert verification.signature_valid and verification.intact and verification.document.id == letter.id
        assert session.get(Complaint, complaint_id).record_id is None
        assert session.get(Case, case_id).status == "completed"


def test_founded_complaint_opens_a_linked_record(world):
    complaint_id, case_id, code = file(world)
    register_and_verify(world, case_id)
    row = world.task(case_id, "leader_outcome")
    with pytest.raises(Exception):   # founded needs the record's source, field and severity
        world.run("leader", complete_task, row.id, {"outcome": "founded", "reply": "投诉属实。"})
    work(world, "leader", case_id, "leader_outcome",
         {"outcome": "founded", "reply": "投诉属实，已对该单位启动失信记录认定。", "record_source": "breach_of_promise",
          "record_field": "bidding", "record_severity": "general", "legal_basis": "《招标投标法》第四十六条"})
    with world.factory() as session:
        complaint = session.get(Complaint, complaint_id)
        record = session.get(Record, complaint.record_id)
        assert complaint.stage == "founded" and record.subject_id == world.subjects[0]
        assert record.status == "under_review" and complaint.facts in record.facts and record.field == "bidding"
        assert lifecycle_case(session, record.id) is not None
        assert status_by_code(session, code).letter_number
        panel = identity_panel(session, world.actors["leader"], case_id)
        assert panel.record_id == record.id and panel.record_case_id == lifecycle_case(session, record.id).id


def test_overdue_verification_tells_the_leaders(world):
    complaint_id, case_id, _ = file(world)
    work(world, "clerk", case_id, "registration",
         {"registration_decision": "accept", "subject_code": subject_code(world), "registration_reason": "受理。"})
    world.clock.advance(days=30)
    run_once(world.factory, clock=world.clock)
    with world.factory() as session:
        assert session.get(Complaint, complaint_id).overdue
        leader = world.actors["leader"].user_id
        notes = session.scalars(select(Notification).where(Notification.user_id == leader,
                                                           Notification.case_id == case_id)).all()
        assert any("逾期" in n.text for n in notes)
    assert world.task(case_id, "verification")            # non-interrupting: the reviewer still has it


def test_identity_is_seen_only_by_the_staff_on_the_case(world):
    complaint_id, case_id, _ = file(world)
    with world.factory() as session:   # before anyone took a task: nobody
        for name in ("clerk", "clerk2", "reviewer", "leader", "manager"):
            assert not sees_identity(session, world.actors[name], case_id)
    row = world.task(case_id, "registration")
    world.run("clerk", claim_task, row.id)
    with world.factory() as session:
        assert sees_identity(session, world.actors["clerk"], case_id)
        assert identity_panel(session, world.actors["clerk"], case_id).phone == IDENTITY[1]
        hidden = identity_panel(session, world.actors["clerk2"], case_id)
        assert not hidden.visible and hidden.name == "" and hidden.phone == ""
        assert not sees_identity(session, world.actors["manager"], case_id)
        assert not sees_identity(session, None, case_id)
    register_and_verify_rest(world, case_id)
    with world.factory() as session:
        assert sees_identity(session, world.actors["clerk"], case_id)       # held it: still on the case
        assert sees_identity(session, world.actors["reviewer"], case_id)
        assert not sees_identity(session, world.actors["clerk2"], case_id)
        assert_identity_nowhere_else(session, case_id)


def register_and_verify_rest(world, case_id):
    row = world.task(case_id, "registration")
    world.run("clerk", complete_task, row.id, {"registration_decision": "accept", "subject_code": subject_code(world),
                                               "registration_reason": "受理。"})
    work(world, "reviewer", case_id, "verification", {"findings": "属实。", "proposed_outcome": "unfounded"})
    work(world, "leader", case_id, "leader_outcome", {"outcome": "unfounded", "reply": "不属实。"})


def assert_identity_nowhere_else(session, case_id):
    case = session.get(Case, case_id)
    texts = [case.state] + [str(e.data) for e in session.scalars(select(AuditEvent))] + \
        [f"{n.text}{n.message}" for n in session.scalars(select(Notification))] + \
        [str(t.__dict__) for t in session.scalars(select(HumanTask))]
    for secret in IDENTITY:
        assert not any(secret in text for text in texts), secret


def test_anonymous_complaint_stores_no_identity_and_gets_no_letter(world):
    complaint_id, case_id, code = file(world, anonymous=True, contact_name="不该保存", contact_phone="13900000000")
    with world.factory() as session:
        complaint = session.get(Complaint, complaint_id)
        assert (complaint.contact_name, complaint.contact_phone, complaint.contact_email) == (None, None, None)
    register_and_verify_rest(world, case_id)
    with world.factory() as session:
        assert identity_panel(session, world.actors["clerk"], case_id).anonymous
        status = status_by_code(session, code)
        assert status.reply == "不属实。" and status.letter_number is None
        assert "不该保存" not in session.get(Case, case_id).state


def test_bad_input_and_a_replayed_challenge_are_refused(world):
    with world.uow() as uow:
        with pytest.raises(ComplaintInvalid) as bad:
            file_complaint(uow, a_form(world.clock, concerned="", facts="", happened_on="2099-01-01", contact_phone="",
                                       contact_email="", challenge_answer="999"), [], SECRET)
        assert set(bad.value.errors) >= {"concerned", "facts", "happened_on", "contact_phone", "challenge"}
    form = a_form(world.clock)
    with world.uow() as uow:
        file_complaint(uow, form, [], SECRET)
        uow.commit()
    with world.uow() as uow:
        with pytest.raises(ComplaintInvalid) as replay:
            file_complaint(uow, form, [], SECRET)
        assert "重复提交" in str(replay.value.errors["challenge"])
    with world.factory() as session:
        assert len(session.scalars(select(Complaint)).all()) == 1
    stale = a_form(world.clock)
    world.clock.advance(hours=2)
    with world.uow() as uow:
        with pytest.raises(ComplaintInvalid) as expired:
            file_complaint(uow, stale, [], SECRET)
        assert "过期" in str(expired.value.errors["challenge"])
    with world.uow() as uow:   # signed with another secret: refused
        token, answer = answered(world.clock, "another")
        with pytest.raises(ComplaintInvalid):
            file_complaint(uow, a_form(world.clock, challenge_token=token, challenge_answer=answer), [], SECRET)


def test_a_wrong_code_finds_nothing(world):
    _, _, code = file(world)
    with world.factory() as session:
        assert status_by_code(session, code.lower().replace("-", " ")) is not None
        for wrong in ("", "AAAA-AAAA-AAAA-AAAA", code[:-1] + ("A" if code[-1] != "A" else "B"), "' OR 1=1 --"):
            assert status_by_code(session, wrong) is None and letter_by_code(session, wrong) is None


def test_a_task_handed_on_brings_its_holder_onto_the_case_not_the_leader_who_handed_it(world):
    from workflows.cases import assign_task
    _, case_id, _ = file(world)
    row = world.task(case_id, "registration")
    world.run("leader", assign_task, row.id, world.actors["clerk2"].user_id)
    with world.factory() as session:
        assert sees_identity(session, world.actors["clerk2"], case_id)
        assert not sees_identity(session, world.actors["leader"], case_id)
        assert not sees_identity(session, world.actors["clerk"], case_id)
