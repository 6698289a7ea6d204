"""Township commitments (乡镇政府公开承诺) through the services with the clock moved: registered and
published, reminded 10 and 3 working days before the deadline (the Dragon Boat holiday of 2026-06-19
is not counted), reported at the deadline, reviewed fulfilled, partly fulfilled or failed; a failed
one, confirmed by a leader, opens a dishonesty record for the township with the commitment attached
and linked both ways; a township that does not report in time; bad input; other townships."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from workflows.cases import CaseError, Forbidden, NotFound, complete_task, fire_due_timers
from workflows.clock import CST
from workflows.commitments.model import Commitment
from workflows.commitments.service import (CommitmentInvalid, Draft, own_commitment, public_commitments,
                                           register_commitment, report_task)
from workflows.models import Attachment, Case, Notification, Record, User

DEADLINE = "2026-06-30"          # a Tuesday; the clock starts at 2026-06-01 09:00


def draft(world, subject=0, **changes):
    values = dict(subject_id=world.subjects[subject], content="年底前完成辖区内拖欠中小企业账款清零。",
                  deadline=DEADLINE, responsible_name="张某", responsible_post="镇长")
    values.update(changes)
    return Draft(**values)


def register(world, actor="subject_a", **changes) -> Commitment:
    return world.run(actor, register_commitment, draft(world, **changes))


def at(world, text):
    world.clock.at = datetime.fromisoformat(text).replace(tzinfo=CST)


def fire(world) -> list[int]:
    with world.uow() as uow:
        fired = fire_due_timers(uow)["fired"]
        uow.commit()
    return fired


def get(world, model, id_):
    with world.factory() as session:
        return session.get(model, id_)


def notes(world, username, kind):
    with world.factory() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                          Notification.kind == kind)).all()


def to_review(world, commitment, report="已全部结清，附付款凭证。"):
    at(world, "2026-07-01T00:00:01")
    assert fire(world)      # the reminders' timers are past too: they fire first, then the deadline
    row = world.task(commitment.case_id, "report")
    assert row.lane == "subject" and row.subject_id == world.subjects[0]
    assert row.due_at.astimezone(CST).isoformat().startswith("2026-07-07T23:59:59")   # 5 working days
    world.run("subject_a", complete_task, row.id, {"fulfilment_report": report})
    return world.task(commitment.case_id, "review")


def test_published_reminded_reported_fulfilled(world):
    commitment = register(world)
    with world.factory() as session:
        listed = public_commitments(session)
        case = session.get(Case, commitment.case_id)
    assert [(c.id, c.status) for c, _s in listed] == [(commitment.id, "in_progress")]
    assert get(world, Commitment, commitment.id).published_at is not None
    assert case.party_id == world.subjects[0] and case.status == "running"
    # the 10-working-day reminder: 2026-06-15 09:00, not a minute earlier
    assert case.next_due_at.astimezone(CST).isoformat() == "2026-06-15T09:00:00+08:00"
    at(world, "2026-06-15T08:59:00")
    assert fire(world) == []
    assert notes(world, "subject_a", "commitment_due") == []
    at(world, "2026-06-15T09:00:01")      # the engine fires a timer once its time has passed
    assert fire(world) == [commitment.case_id]
    due = notes(world, "subject_a", "commitment_due")
    assert len(due) == 1 and "10 个工作日" in due[0].text and "2026-06-30" in due[0].text
    assert len(notes(world, "clerk", "commitment_due")) == 1 and len(notes(world, "clerk2", "commitment_due")) == 1
    assert notes(world, "subject_b", "commitment_due") == []        # another department's accounts
    # the 3-working-day one
    assert get(world, Case, commitment.case_id).next_due_at.astimezone(CST).isoformat() == "2026-06-25T09:00:00+08:00"
    at(world, "2026-06-25T09:00:01")
    assert fire(world) == [commitment.case_id]
    assert len(notes(world, "subject_a", "commitment_due")) == 2
    assert "3 个工作日" in notes(world, "subject_a", "commitment_due")[-1].text
    # the deadline: the township is asked to report
    assert world.tasks(commitment.case_id) == []
    review = to_review(world, commitment)
    assert len(notes(world, "subject_a", "commitment_report")) == 1
    world.run("reviewer", complete_task, review.id, {"review_outcome": "fulfilled", "review_opinion": "凭证齐全，已履行。"})
    done = get(world, Commitment, commitment.id)
    assert done.status == "fulfilled" and done.opinion == "凭证齐全，已履行。" and done.record_id is None
    assert get(world, Case, commitment.case_id).status == "completed"


def test_partly_fulfilled(world):
    commitment = register(world)
    review = to_review(world, commitment, "完成八成，余款分期支付。")
    world.run("reviewer", complete_task, review.id, {"review_outcome": "partly", "review_opinion": "部分履行。"})
    assert get(world, Commitment, commitment.id).status == "partly"
    assert get(world, Case, commitment.case_id).status == "completed"


def test_failed_opens_a_record_with_the_commitment_attached(world):
    commitment = register(world)
    at(world, "2026-07-01T00:00:01")
    fire(world)
    row = world.task(commitment.case_id, "report")
    with world.uow("subject_a") as uow:
        evidence = Attachment(case_id=commitment.case_id, uploaded_by_id=uow.actor.user_id, filename="说明.pdf",
                              content_type="application/pdf", size=3, sha256="0" * 64, created_at=uow.clock.now())
        uow.session.add(evidence)
        uow.session.flush()
        complete_task(uow, row.id, {"fulfilment_report": "因资金未到位未能完成。", "fulfilment_evidence": [evidence.id]})
        uow.commit()
    review = world.task(commitment.case_id, "review")
    world.run("reviewer", complete_task, review.id, {"review_outcome": "failed", "review_opinion": "未履行。"})
    assert get(world, Commitment, commitment.id).status == "in_progress"     # until a leader confirms
    confirm = world.task(commitment.case_id, "leader_confirm")
    with pytest.raises(Forbidden):
        world.run("reviewer", complete_task, confirm.id, {"leader_decision": "confirm", "leader_opinion": "确认。"})
    world.run("leader", complete_task, confirm.id, {"leader_decision": "confirm", "leader_opinion": "确认未履行。"})
    failed = get(world, Commitment, commitment.id)
    assert failed.status == "failed" and failed.record_id is not None
    record = get(world, Record, failed.record_id)
    assert record.subject_id == world.subjects[0]
    assert (record.source, record.field) == ("breach_of_promise", "township_commitment")
    number = f"C-{commitment.case_id:06d}"
    assert record.facts.startswith(f"来源：公开承诺 {number}") and "拖欠中小企业账款" in record.facts
    # linked both ways: the commitment's case now names the record; the record's case has the files
    assert get(world, Case, commitment.case_id).record_id == record.id
    with world.factory() as session:
        lifecycle = session.scalars(select(Case).where(Case.record_id == record.id,
                                                       Case.process_key == "record_lifecycle")).one()
        files = session.scalars(select(Attachment).where(Attachment.case_id == lifecycle.id)).all()
    assert [f.filename for f in files] == ["说明.pdf"]
    capture = world.task(lifecycle.id, "capture")       # a clerk completes the prefilled capture
    assert capture.lane == "clerk"
    assert notes(world, "clerk", "commitment_failed")


def test_leader_may_make_it_partly(world):
    commitment = register(world)
    review = to_review(world, commitment)
    world.run("reviewer", complete_task, review.id, {"review_outcome": "failed", "review_opinion": "未履行。"})
    confirm = world.task(commitment.case_id, "leader_confirm")
    world.run("leader", complete_task, confirm.id, {"leader_decision": "partly", "leader_opinion": "已部分完成。"})
    done = get(world, Commitment, commitment.id)
    assert done.status == "partly" and done.record_id is None and done.opinion == "已部分完成。"


def test_township_not_reporting_in_time(world):
    commitment = register(world)
    at(world, "2026-07-01T00:00:01")
    fire(world)
    assert world.task(commitment.case_id, "report")
    at(world, "2026-07-07T23:59:00")
    assert fire(world) == []
    at(world, "2026-07-08T00:00:01")
    assert fire(world) == [commitment.case_id]
    assert [t.bpmn_id for t in world.tasks(commitment.case_id)] == ["review"]   # the review goes on without it
    review = world.task(commitment.case_id, "review")
    world.run("reviewer", complete_task, review.id, {"review_outcome": "failed", "review_opinion": "逾期未报告。"})
    assert world.task(commitment.case_id, "leader_confirm")


def test_bad_input(world):
    def refused(actor="clerk", **changes):
        with pytest.raises(CommitmentInvalid) as exc:
            register(world, actor, **changes)
        return {name: str(message) for name, message in exc.value.errors.items()}

    assert "已过" in refused(deadline="2026-05-31")["deadline"]
    assert refused(deadline="31/12/2026")["deadline"]
    assert refused(content="   ")["content"] == "承诺内容必填"
    assert refused(subject_id=999999)["subject_id"]
    assert refused(subject=3)["subject_id"]                  # a civil servant is not a township
    assert set(refused(responsible_name="", responsible_post="")) == {"responsible_name", "responsible_post"}
    with pytest.raises(Forbidden):
        register(world, "reviewer")
    with pytest.raises(Forbidden):
        register(world, "subject_c")                         # a civil servant's account
    with world.factory() as session:
        assert session.scalars(select(Commitment)).all() == []
        assert session.scalars(select(Case).where(Case.process_key == "commitment")).all() == []
    # a clerk registers for any department; a township's account only ever for itself
    mine = register(world, "subject_a", subject=1)
    assert mine.subject_id == world.subjects[0]
    theirs = register(world, "clerk", subject=1)
    assert theirs.subject_id == world.subjects[1]


def test_another_township_cannot_see_or_act(world):
    commitment = register(world)
    at(world, "2026-07-01T00:00:01")
    fire(world)
    row = world.task(commitment.case_id, "report")
    with world.uow("subject_b") as uow:
        with pytest.raises(NotFound):
            own_commitment(uow.session, uow.actor, commitment.id)
        assert report_task(uow.session, uow.actor, commitment) is None
        with pytest.raises(Forbidden):
            complete_task(uow, row.id, {"fulfilment_report": "冒名报告"})
    with world.uow("subject_a") as uow:
        assert own_commitment(uow.session, uow.actor, commitment.id).id == commitment.id
        assert report_task(uow.session, uow.actor, commitment).id == row.id
    assert world.task(commitment.case_id, "report")


def test_a_double_submit_reports_once(world):
    commitment = register(world)
    at(world, "2026-07-01T00:00:01")
    fire(world)
    row = world.task(commitment.case_id, "report")
    world.run("subject_a", complete_task, row.id, {"fulfilment_report": "已完成。"})
    with pytest.raises(CaseError):
        world.run("subject_a", complete_task, row.id, {"fulfilment_report": "已完成。"})
    assert [t.bpmn_id for t in world.tasks(commitment.case_id)] == ["review"]


def test_a_deadline_in_a_year_the_calendar_does_not_cover_is_refused_clearly(world):
    """The reminders count working days back from the deadline: an uncovered year is an error that
    says what to do, and nothing is registered (workflows/workdays.py)."""
    with pytest.raises(CaseError) as exc:
        register(world, "clerk", deadline="2027-03-01")
    assert "2027" in str(exc.value) and "工作日历" in str(exc.value)
    with world.factory() as session:
        assert session.scalars(select(Commitment)).all() == []


def test_the_worker_fires_the_reminders_and_the_deadline(world):
    """`credflow worker`'s pass (workflows/worker.run_once) is what fires them in production."""
    from workflows.worker import run_once
    commitment = register(world)
    at(world, "2026-06-12T17:00:00")
    assert run_once(world.factory, clock=world.clock)["fired"] == 0
    at(world, "2026-06-15T09:30:00")
    assert run_once(world.factory, clock=world.clock)["fired"] == 1
    assert len(notes(world, "subject_a", "commitment_due")) == 1
    at(world, "2026-07-01T08:00:00")
    run_once(world.factory, clock=world.clock)
    assert len(notes(world, "subject_a", "commitment_due")) == 2
    assert world.task(commitment.case_id, "report").lane == "subject"
