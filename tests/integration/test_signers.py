"""加签 / 减签: a signer added before or after the leader's approval, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.approvals.model import ApprovalAction
from workflows.approvals.opinions import opinions_of
from workflows.approvals.signers import add_signer, added_signers, remove_signer, sign
from workflows.cases import CaseError, complete_task
from workflows.models import AuditEvent, Notification, Record, TaskDraft
from workflows.records import open_record
from workflows.runtime import Actor

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def at_leader(world, capture):
    """A case waiting for the leader's approval, and a second reviewer to add as a signer."""
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    signer = world.run(None, create_user, "reviewer2", "pw", "审核员二", ["reviewer"])
    world.actors["reviewer2"] = Actor.of(signer)
    return record.id, case.id, signer.id


def signer_rows(world, case_id):
    return [t for t in world.tasks(case_id) if t.kind == "added_signer"]


def the_step(world, case_id):
    [row] = [t for t in world.tasks(case_id) if t.kind == "task" and t.bpmn_id == "leader_approval"]
    return row


def notes(world, username, kind):
    with world.factory() as session:
        return session.scalars(select(Notification).where(
            Notification.user_id == world.actors[username].user_id, Notification.kind == kind)).all()


def events(world, case_id, action):
    with world.factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()


def test_a_signer_before_the_step_answers_first(world, capture):
    record_id, case_id, signer_id = at_leader(world, capture)
    step = the_step(world, case_id)
    added = world.run("leader", add_signer, step.id, signer_id, "before", "请审核员二把关")
    [row] = signer_rows(world, case_id)
    assert (row.id, row.assignee_id, row.parent_task_id, row.name) == (added.id, signer_id, step.task_id, step.name)
    [note] = notes(world, "reviewer2", "signer_added")
    assert note.link == f"/tasks/{added.id}" and "请您对案件" in note.text
    with pytest.raises(CaseError, match="已是此步骤的加签人"):
        world.run("leader", add_signer, step.id, signer_id, "after", "再加一次")
    with pytest.raises(CaseError, match="等待加签人 审核员二 的意见"):
        world.run("leader", complete_task, step.id, LEADER_OK)

    with pytest.raises(CaseError, match="不同意时请填写意见"):
        world.run("reviewer2", sign, row.id, False, "")
    world.run("reviewer2", sign, row.id, True, "可以发布。")
    assert signer_rows(world, case_id) == []
    assert notes(world, "leader", "signer_answered")
    with world.factory() as session:
        [opinion] = opinions_of(session, case_id, step.task_id)
        assert (opinion.kind, opinion.who, opinion.approved, opinion.opinion) == ("sign", "审核员二", True, "可以发布。")
        [entry] = added_signers(session, step)
        assert (entry.status, entry.position, entry.opinion) == ("done", "before", "可以发布。")
    world.run("leader", complete_task, step.id, LEADER_OK)
    assert world.tasks(case_id) == []
    with world.factory() as session:
        assert session.get(Record, record_id).status == "published"


def test_signers_after_the_step_hold_its_completion(world, capture):
    record_id, case_id, signer_id = at_leader(world, capture)
    step = the_step(world, case_id)
    clerk2 = world.actors["clerk2"].user_id
    assert world.run("leader", add_signer, step.id, signer_id, "after", "请审核员二复核") is None
    world.run("leader", add_signer, step.id, clerk2, "after", "请承办人二知悉")
    assert signer_rows(world, case_id) == []          # asked only once the leader has decided

    world.run("leader", complete_task, step.id, LEADER_OK)
    step = the_step(world, case_id)    # the case does not move yet
    assert step.notice["kind"] == "waiting_signers"
    assert sorted(r.assignee_id for r in signer_rows(world, case_id)) == sorted([signer_id, clerk2])
    with pytest.raises(CaseError, match="等待加签人"):
        world.run("leader", complete_task, step.id, LEADER_OK)

    # one disagrees: back to the leader with the notice and the answers kept as a draft; the other is let go
    mine = next(r for r in signer_rows(world, case_id) if r.assignee_id == signer_id)
    world.run("reviewer2", sign, mine.id, False, "事实部分需再核。")
    step = the_step(world, case_id)
    assert step.notice == {"kind": "signer_disagreed", "by": "reviewer2", "by_name": "审核员二",
                           "reason": "事实部分需再核。"}
    assert signer_rows(world, case_id) == []
    assert notes(world, "clerk2", "signer_removed")
    with world.factory() as session:
        assert session.get(TaskDraft, (step.id, world.actors["leader"].user_id)).data == LEADER_OK
        assert [a.status for a in added_signers(session, step)] == ["done", "cancelled"]

    # asked again, they agree: the step completes with the leader's answers, as the leader
    world.run("leader", add_signer, step.id, signer_id, "after", "请再复核")
    world.run("leader", complete_task, step.id, LEADER_OK)
    [mine] = signer_rows(world, case_id)
    world.run("reviewer2", sign, mine.id, True, "")
    assert world.tasks(case_id) == []
    with world.factory() as session:
        assert session.get(Record, record_id).status == "published"
    done = events(world, case_id, "task.completed")[-1]
    assert (done.actor, done.data["task"], done.data["released_by"]) == ("leader", "leader_approval", "reviewer2")
    assert done.data["data"] == LEADER_OK


def test_remove_a_signer_only_before_they_answer(world, capture):
    _, case_id, signer_id = at_leader(world, capture)
    step = the_step(world, case_id)
    added = world.run("leader", add_signer, step.id, signer_id, "before", "请审核员二把关")
    world.run("leader", remove_signer, added.id, "不必了")
    assert signer_rows(world, case_id) == []
    assert notes(world, "reviewer2", "signer_removed")
    [removed] = events(world, case_id, "approval.remove_signer")
    assert (removed.actor, removed.data["target"], removed.data["reason"]) == ("leader", "reviewer2", "不必了")

    # an 'after' signer not yet asked is removed through the action
    world.run("leader", add_signer, step.id, signer_id, "after", "请复核")
    with world.factory() as session:
        [entry] = [s for s in added_signers(session, step) if s.status == "open"]
        assert not entry.asked
    world.run("leader", remove_signer, None, "改为不加签", action_id=entry.action_id)
    world.run("leader", complete_task, step.id, LEADER_OK)   # nobody to wait for
    assert world.tasks(case_id) == []

    # once answered, 减签 is refused
    with pytest.raises(CaseError) as refused:
        world.run("leader", remove_signer, added.id, "太晚了")
    assert refused.value.status == 409


def test_signer_answers_while_the_holder_removes_them(world, capture):
    _, case_id, signer_id = at_leader(world, capture)
    step = the_step(world, case_id)
    added = world.run("leader", add_signer, step.id, signer_id, "before", "请审核员二把关")
    barrier = threading.Barrier(2)
    outcomes = []

    def act(actor, fn, *args):
        try:
            with world.uow(actor) as uow:
                barrier.wait()
                fn(uow, *args)
                uow.commit()
            outcomes.append((actor, "ok"))
        except CaseError as exc:
            outcomes.append((actor, exc.status))

    threads = [threading.Thread(target=act, args=("reviewer2", sign, added.id, True, "同意")),
               threading.Thread(target=act, args=("leader", remove_signer, added.id, "不必了"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o[1] for o in outcomes if o[1] != "ok") == [409] and len(outcomes) == 2, outcomes
    winner = next(o[0] for o in outcomes if o[1] == "ok")
    with world.factory() as session:
        [action] = session.scalars(select(ApprovalAction).where(ApprovalAction.kind == "add_signer")).all()
        assert action.status == ("done" if winner == "reviewer2" else "cancelled")
        kinds = [a.kind for a in session.scalars(select(ApprovalAction).order_by(ApprovalAction.id))]
        assert kinds.count("sign") + kinds.count("remove_signer") == 1
    assert signer_rows(world, case_id) == []
