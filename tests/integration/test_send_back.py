"""退回 send back through the service layer, on SQLite and PostgreSQL: the leader returns the
record's case to the reviewer (inbox row, notice, prefilled draft, notification, audit, record
status, case version) and the case runs on from there; who may; a race; a task that moved on; a
refusal past an issued decision; out of a subprocess and across a parallel section."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from workflows.approvals.send_back import send_back, send_back_targets
from workflows.cases import CaseError, Conflict, Forbidden, claim_task, complete_task, start_case
from workflows.definitions import deploy_folder
from workflows.models import AuditEvent, Case, Notification, Record, TaskDraft
from workflows.records import open_record

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "approvals"


def reviewed(world, capture):
    """A record's case waiting at leader_approval: (record id, case id)."""
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    return record.id, case.id


def get(world, model, key):
    with world.factory() as session:
        return session.get(model, key)


def events(world, case_id, action):
    with world.factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()


def notes(world, user):
    with world.factory() as session:
        return session.scalars(select(Notification).where(Notification.user_id == world.actors[user].user_id)
                               .order_by(Notification.id)).all()


def test_the_leader_sends_back_to_the_reviewer_and_the_case_runs_on(world, capture):
    record_id, case_id = reviewed(world, capture)
    assert get(world, Record, record_id).status == "confirmed"
    leader_row = world.task(case_id, "leader_approval")
    with world.factory() as session:
        targets = send_back_targets(session, leader_row)
    assert [(t.bpmn_id, t.user_name) for t in targets] == [("legality_review", "reviewer"), ("capture", "clerk")]
    version = get(world, Case, case_id).version

    row = world.run("leader", send_back, leader_row.id, "legality_review", "请补充证据。", expected_version=version)
    [task] = world.tasks(case_id)
    assert (task.id, task.bpmn_id) == (row.id, "legality_review")
    assert task.assignee_id == world.actors["reviewer"].user_id
    assert task.notice == {"kind": "returned", "by": "leader", "by_name": "leader", "reason": "请补充证据。",
                           "from": "领导审批"}
    assert get(world, TaskDraft, (task.id, task.assignee_id)).data == APPROVE
    note = notes(world, "reviewer")[-1]
    assert (note.kind, note.link) == ("returned", f"/tasks/{task.id}") and "请补充证据。" in note.text
    [audit] = events(world, case_id, "approval.send_back")
    assert (audit.actor, audit.data["reason"], audit.data["target"], audit.data["to"]) == (
        "leader", "请补充证据。", "reviewer", "legality_review")
    assert get(world, Record, record_id).status == "under_review"
    assert get(world, Case, case_id).version == version + 1

    # the old row moved on; the reviewer decides again and the leader gets the case back
    with pytest.raises(Conflict, match="退回"):
        world.run("leader", send_back, leader_row.id, "legality_review", "再退")
    world.run("reviewer", complete_task, task.id, {**APPROVE, "review_opinion": "已补充。"})
    assert get(world, Record, record_id).status == "confirmed"
    again = world.task(case_id, "leader_approval")
    world.run("leader", complete_task, again.id, LEADER_OK)
    assert get(world, Record, record_id).status == "published"


@pytest.mark.one_database   # who may, and what is refused, does not depend on the database
def test_who_may_send_back_and_where_to(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    review = world.task(case.id, "legality_review")
    with pytest.raises(Forbidden):
        world.run("reviewer", send_back, review.id, "capture", "请补正")
    _, case_id = reviewed(world, capture)
    row = world.task(case_id, "leader_approval")
    with pytest.raises(CaseError, match="理由"):
        world.run("leader", send_back, row.id, "legality_review", "  ")
    with pytest.raises(CaseError, match="不能退回到该步骤"):
        world.run("leader", send_back, row.id, "confirm_record_task", "不行")
    assert world.task(case_id, "leader_approval").assignee_id is None   # nothing saved


def test_a_send_back_and_a_completion_at_once(world, capture):
    _, case_id = reviewed(world, capture)
    row = world.task(case_id, "leader_approval")
    barrier = threading.Barrier(2)
    outcomes = []

    def act(name, fn, *args):
        try:
            with world.uow("leader") as uow:
                barrier.wait()
                fn(uow, row.id, *args)
                uow.commit()
            outcomes.append(name)
        except CaseError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=act, args=("back", send_back, "legality_review", "退回")),
               threading.Thread(target=act, args=("done", complete_task, LEADER_OK))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == 2 and outcomes.count(409) == 1, outcomes
    winner = next(o for o in outcomes if o != 409)
    if winner == "back":
        assert [t.bpmn_id for t in world.tasks(case_id)] == ["legality_review"]
    else:
        assert world.tasks(case_id) == [] and not events(world, case_id, "approval.send_back")


@pytest.mark.one_database
def test_no_send_back_past_an_issued_decision(world, capture, monkeypatch):
    import workflows.documents as documents
    from workflows.documents import issue_document
    record_id, case_id = reviewed(world, capture)
    monkeypatch.setattr(documents, "render_pdf", lambda html: (html.encode(), 0, (350.0, 120.0, 520.0, 185.0)))
    monkeypatch.setattr(documents, "sign_pdf", lambda pdf, *args, **kwargs: b"%PDF-stand-in\n" + pdf)
    with world.uow("leader") as uow:
        number = issue_document(uow, "sanction", uow.session.get(Case, case_id), uow.session.get(Record, record_id),
                                {}).number
        uow.commit()
    row = world.task(case_id, "leader_approval")
    with pytest.raises(CaseError, match=number.replace("〔", ".").replace("〕", ".")):
        world.run("leader", send_back, row.id, "legality_review", "请补充证据。")
    assert world.task(case_id, "leader_approval").id == row.id


@pytest.fixture
def fixture_process(world):
    with world.uow("manager") as uow:
        deploy_folder(uow, FIXTURES / "bpmn", FIXTURES / "forms")
        uow.commit()
    return world


def done(world, user, case_id, bpmn_id):
    world.run(user, complete_task, world.task(case_id, bpmn_id).id, {"opinion": "好"})


def test_back_across_a_parallel_section_and_out_of_a_subprocess(fixture_process):
    world = fixture_process
    case_id = world.run("clerk", start_case, "approvals_sections").id
    done(world, "clerk", case_id, "prepare")
    world.run("reviewer", claim_task, world.task(case_id, "check_a").id)
    # the other branch's steps are no earlier steps of check_b; returning before the split drops them
    check_b = world.task(case_id, "check_b")
    with world.factory() as session:
        assert [t.bpmn_id for t in send_back_targets(session, check_b)] == ["prepare"]
    world.run("leader", send_back, check_b.id, "prepare", "材料不全")
    [row] = world.tasks(case_id)
    assert (row.bpmn_id, row.assignee_id) == ("prepare", world.actors["clerk"].user_id)
    assert "材料不全" in notes(world, "reviewer")[-1].text

    world.run("clerk", complete_task, row.id, {"opinion": "已补全"})
    done(world, "reviewer", case_id, "check_a")
    done(world, "leader", case_id, "check_b")
    inner = world.task(case_id, "inner_approve")
    with world.factory() as session:
        targets = [t.bpmn_id for t in send_back_targets(session, inner)]
    assert targets[0] in ("check_a", "check_b") and targets[1:] == ["prepare"]
    world.run("leader", send_back, inner.id, "prepare", "重新准备")
    assert [t.bpmn_id for t in world.tasks(case_id)] == ["prepare"]
    done(world, "clerk", case_id, "prepare")
    assert sorted(t.bpmn_id for t in world.tasks(case_id)) == ["check_a", "check_b"]
    done(world, "reviewer", case_id, "check_a")
    done(world, "leader", case_id, "check_b")
    done(world, "leader", case_id, "inner_approve")
    assert get(world, Case, case_id).status == "completed"
