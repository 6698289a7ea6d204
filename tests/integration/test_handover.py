"""转办 transfer and 委派 delegate through the services, on SQLite and PostgreSQL: the inbox rows,
notifications and audit events a user would notice, the case going on, two transfers at once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from workflows.access import may_open_task
from workflows.accounts import create_user
from workflows.approvals.handover import delegate, resolve, transfer, transfer_candidates
from workflows.approvals.model import ApprovalAction
from workflows.approvals.opinions import opinions_of
from workflows.cases import CaseError, Forbidden, complete_task
from workflows.inbox import InboxQuery, list_tasks
from workflows.models import AuditEvent, Case, Notification, Record, TaskDraft
from workflows.records import open_record
from workflows.runtime import Actor

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def add_reviewers(world, *names):
    with world.uow() as uow:
        for name in names:
            world.actors[name] = Actor.of(create_user(uow, name, "pw", name + "名", ["reviewer"]))
        uow.commit()


def mine(world, name):
    with world.factory() as session:
        return [r.id for r in list_tasks(session, world.actors[name], InboxQuery(tab="mine"), world.clock.now()).rows]


def notes(world, name, kind):
    with world.factory() as session:
        return session.scalars(select(Notification).where(Notification.user_id == world.actors[name].user_id,
                                                          Notification.kind == kind)).all()


def events(world, action):
    with world.factory() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def version(world, case_id):
    with world.factory() as session:
        return session.get(Case, case_id).version


def test_a_reviewer_transfers_the_review_to_a_colleague_who_completes_it(world, capture):
    add_reviewers(world, "reviewer2")
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    review = world.task(case.id, "legality_review")
    with world.factory() as session:
        names = [u.username for u in transfer_candidates(session, world.actors["reviewer"], review)]
    assert names == ["reviewer2"]                      # the lane's role, the actor left out
    with pytest.raises(CaseError) as refused:          # the clerk does not hold the reviewer's role
        world.run("reviewer", transfer, review.id, world.actors["clerk"].user_id, "请协助。")
    assert "没有办理此任务的角色" in str(refused.value)
    with pytest.raises(CaseError, match="请填写理由"):
        world.run("reviewer", transfer, review.id, world.actors["reviewer2"].user_id, "  ")

    world.run("reviewer", transfer, review.id, world.actors["reviewer2"].user_id, "本人回避。")
    row = world.task(case.id, "legality_review")
    assert row.assignee_id == world.actors["reviewer2"].user_id and row.owner_id is None
    assert row.notice["kind"] == "transferred" and row.notice["reason"] == "本人回避。"
    assert mine(world, "reviewer2") == [row.id] and mine(world, "reviewer") == []
    [note] = notes(world, "reviewer2", "transferred")
    assert "本人回避。" in note.text and note.link == f"/tasks/{row.id}"
    [event] = events(world, "approval.transfer")
    assert (event.actor, event.data["target"], event.data["reason"]) == ("reviewer", "reviewer2", "本人回避。")

    with pytest.raises(Forbidden):
        world.run("reviewer", complete_task, row.id, APPROVE)
    world.run("reviewer2", complete_task, row.id, APPROVE)
    assert [t.bpmn_id for t in world.tasks(case.id)] == ["leader_approval"]


def test_two_transfers_of_one_task_at_once_one_succeeds_one_is_a_conflict(world, capture):
    add_reviewers(world, "reviewer2", "reviewer3")
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    review = world.task(case.id, "legality_review")
    seen = version(world, case.id)                     # the version the page showed
    barrier = threading.Barrier(2)
    outcomes = []

    def hand(to):
        try:
            with world.uow("reviewer") as uow:
                barrier.wait()
                transfer(uow, review.id, world.actors[to].user_id, "转给" + to, expected_version=seen)
                uow.commit()
            outcomes.append(("ok", to))
        except CaseError as exc:
            outcomes.append(("refused", exc.status))

    threads = [threading.Thread(target=hand, args=(to,)) for to in ("reviewer2", "reviewer3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o[0] for o in outcomes) == ["ok", "refused"], outcomes
    winner = next(o[1] for o in outcomes if o[0] == "ok")
    assert next(o[1] for o in outcomes if o[0] == "refused") == 409
    assert world.task(case.id, "legality_review").assignee_id == world.actors[winner].user_id
    assert len(events(world, "approval.transfer")) == 1 and version(world, case.id) == seen + 1


def test_a_delegate_prepares_the_leaders_task_and_hands_it_back(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    task = world.task(case.id, "leader_approval")
    leader, clerk = world.actors["leader"], world.actors["clerk"]

    world.run("leader", delegate, task.id, clerk.user_id, "请先拟办。")   # the clerk need not hold the lane
    row = world.task(case.id, "leader_approval")
    assert (row.assignee_id, row.owner_id) == (clerk.user_id, leader.user_id)
    assert mine(world, "clerk") == [row.id] and may_open_task(clerk, row)
    assert notes(world, "clerk", "delegated")
    with pytest.raises(CaseError, match="委派的任务请办理后交回委派人"):
        world.run("clerk", complete_task, row.id, LEADER_OK)
    with pytest.raises(Forbidden):
        world.run("leader", complete_task, row.id, LEADER_OK)
    with pytest.raises(CaseError, match="意见不能为空"):
        world.run("clerk", resolve, row.id, "")

    world.run("clerk", resolve, row.id, "拟同意，请审定。", {"leader_decision": "approve", "leader_opinion": "拟同意。"})
    row = world.task(case.id, "leader_approval")
    assert (row.assignee_id, row.owner_id) == (leader.user_id, None)
    assert row.notice["kind"] == "resolved" and mine(world, "clerk") == []
    assert notes(world, "leader", "resolved")
    with world.factory() as session:
        [opinion] = opinions_of(session, case.id)
        assert (opinion.kind, opinion.who, opinion.opinion, opinion.approved) == ("resolve", "clerk", "拟同意，请审定。", None)
        draft = session.get(TaskDraft, (row.id, leader.user_id))
        assert draft.data == {"leader_decision": "approve", "leader_opinion": "拟同意。"}   # the owner's form, prefilled
        delegation = session.scalars(select(ApprovalAction).where(ApprovalAction.kind == "delegate")).one()
        assert delegation.status == "done" and delegation.closed_at is not None
    assert [e.data["reason"] for e in events(world, "approval.delegate")] == ["请先拟办。"]

    world.run("leader", complete_task, row.id, LEADER_OK)
    with world.factory() as session:
        assert session.get(Record, record.id).status == "published"
