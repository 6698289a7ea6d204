"""抄送: a step's case copied to people and roles; recipients are told and read it, the sender sees who has."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from workflows.approvals.copies import copied_to, copies_of, copy_case, mark_copy_read
from workflows.approvals.model import CaseCopy
from workflows.cases import CaseError, complete_task
from workflows.models import AuditEvent, Case, Notification
from workflows.records import open_record

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}


def test_copy_to_people_and_roles_and_who_has_read_it(world, capture):
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    step = world.task(case.id, "leader_approval")
    with world.factory() as session:
        version = session.get(Case, case.id).version
    ids = {name: world.actors[name].user_id for name in ("clerk2", "reviewer", "leader", "manager")}

    # the leader's own role and a stale page are refused; nothing is written
    with pytest.raises(CaseError, match="请选择抄送的人员或角色"):
        world.run("leader", copy_case, step.id, [], ["leader"])
    with pytest.raises(CaseError) as stale:
        world.run("leader", copy_case, step.id, [ids["clerk2"]], [], "", version - 1)
    assert stale.value.status == 409

    copies = world.run("leader", copy_case, step.id, [ids["clerk2"], ids["reviewer"], ids["leader"]],
                       ["reviewer", "manager"], "请知悉", version)
    assert sorted(c.user_id for c in copies) == sorted([ids["clerk2"], ids["reviewer"], ids["manager"]])
    with world.factory() as session:
        notes = session.scalars(select(Notification).where(Notification.kind == "copied")).all()
        assert sorted(n.user_id for n in notes) == sorted(c.user_id for c in copies)
        assert {n.link for n in notes} == {f"/cases/{case.id}"}
        assert "抄送给您" in notes[0].text
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "approval.copy")).all()
        assert (event.actor, event.data["reason"], event.data["roles"]) == ("leader", "请知悉", ["manager", "reviewer"])
        assert sorted(event.data["to"]) == ["clerk2", "manager", "reviewer"]
        assert session.get(Case, case.id).version == version   # a copy does not move the case

    assert world.run("reviewer", mark_copy_read, case.id) == 1
    assert world.run("reviewer", mark_copy_read, case.id) == 0
    with world.factory() as session:
        read = {c.recipient: c.read_at is not None for c in copies_of(session, case.id)}
        assert read == {"reviewer": True, "clerk2": False, "manager": False}
        assert {c.sender for c in copies_of(session, case.id)} == {"leader"}
        [mine] = copied_to(session, ids["reviewer"])
        assert (mine.case_id, mine.case_no, mine.sender, mine.task_name) == (case.id, "C-000001", "leader",
                                                                             step.name)
        assert session.scalars(select(CaseCopy).where(CaseCopy.read_at.is_not(None))).one().user_id == ids["reviewer"]
