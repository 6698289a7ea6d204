"""撤回 withdraw through the service layer, on SQLite and PostgreSQL: the reviewer takes back a
completed review while the leader's step is unclaimed; not once it is claimed; nobody else can."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows.approvals.withdraw import withdraw, withdrawable
from workflows.cases import CaseError, Conflict, Forbidden, claim_task, complete_task
from workflows.models import AuditEvent, Case, Record, TaskDraft
from workflows.records import open_record

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}


def reviewed(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    return record.id, case.id


def can_withdraw(world, user, case_id):
    with world.factory() as session:
        return withdrawable(session, world.actors[user], session.get(Case, case_id))


def test_the_reviewer_withdraws_a_review_the_leader_has_not_taken_up(world, capture):
    record_id, case_id = reviewed(world, capture)
    offer = can_withdraw(world, "reviewer", case_id)
    assert (offer["bpmn_id"], offer["name"]) == ("legality_review", "合法性审核")
    assert can_withdraw(world, "leader", case_id) is None
    with world.factory() as session:
        version = session.get(Case, case_id).version

    row = world.run("reviewer", withdraw, case_id, "", expected_version=version)
    [task] = world.tasks(case_id)
    assert (task.id, task.bpmn_id, task.assignee_id) == (row.id, "legality_review", world.actors["reviewer"].user_id)
    assert task.notice["kind"] == "withdrawn"
    with world.factory() as session:
        assert session.get(TaskDraft, (task.id, task.assignee_id)).data == APPROVE
        assert session.get(Record, record_id).status == "under_review"
        assert session.get(Case, case_id).version == version + 1
        audit = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                         AuditEvent.action == "approval.withdraw")).one()
        assert (audit.actor, audit.data["to"]) == ("reviewer", "legality_review")
    assert can_withdraw(world, "reviewer", case_id) is None    # the step waits again: nothing to take back
    world.run("reviewer", complete_task, task.id, APPROVE)
    assert world.task(case_id, "leader_approval")


def test_no_withdrawal_once_the_next_step_is_taken_up_nor_by_anyone_else(world, capture):
    _, case_id = reviewed(world, capture)
    with pytest.raises(Forbidden):
        world.run("leader", withdraw, case_id, "")
    with pytest.raises(CaseError):
        world.run("clerk", withdraw, case_id, "")     # the capture is not the case's latest step
    world.run("leader", claim_task, world.task(case_id, "leader_approval").id)
    assert can_withdraw(world, "reviewer", case_id) is None
    with pytest.raises(Conflict):
        world.run("reviewer", withdraw, case_id, "")
    assert [t.bpmn_id for t in world.tasks(case_id)] == ["leader_approval"]
