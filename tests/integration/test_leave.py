"""Standing delegation (leave) through the services, on SQLite and PostgreSQL: within the dates a
task given to the person goes to their deputy on their behalf (both names), outside them to the
person; overlapping leaves and a deputy who is the person are refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.approvals.leave import cancel_leave, leaves_of, set_leave
from workflows.cases import CaseError, assign_task
from workflows.inbox import InboxQuery, list_tasks
from workflows.models import AuditEvent, Notification
from workflows.records import open_record
from workflows.runtime import Actor


def assign_review(world, capture):
    """A new record's legality review, assigned by the leader to the reviewer: the row."""
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("leader", assign_task, world.task(case.id, "legality_review").id, world.actors["reviewer"].user_id)
    return world.task(case.id, "legality_review")


def test_a_leave_routes_tasks_given_to_the_person_to_the_deputy_within_its_dates(world, capture):
    with world.uow() as uow:
        world.actors["reviewer2"] = Actor.of(create_user(uow, "reviewer2", "pw", "周审核", ["reviewer"]))
        uow.commit()
    reviewer, deputy = world.actors["reviewer"], world.actors["reviewer2"]
    today = world.clock.today()
    leave = world.run("reviewer", set_leave, deputy.user_id, today + timedelta(days=1), today + timedelta(days=3),
                      "年休假")
    with pytest.raises(CaseError, match="重叠"):
        world.run("reviewer", set_leave, deputy.user_id, today + timedelta(days=3), today + timedelta(days=5))
    with pytest.raises(CaseError, match="代理人不能是休假人本人"):
        world.run("reviewer", set_leave, reviewer.user_id, today + timedelta(days=7), today + timedelta(days=8))
    with pytest.raises(CaseError, match="只能登记自己的休假"):     # a leader is not the personnel office
        world.run("leader", set_leave, deputy.user_id, today + timedelta(days=7), today + timedelta(days=8),
                  user_id=reviewer.user_id)
    with pytest.raises(CaseError, match="结束日期不能早于开始日期"):
        world.run("reviewer", set_leave, deputy.user_id, today + timedelta(days=9), today + timedelta(days=8))

    before = assign_review(world, capture)                 # the day before the leave: the person
    assert (before.assignee_id, before.owner_id) == (reviewer.user_id, None)

    world.clock.advance(days=1)
    during = assign_review(world, capture)
    assert (during.assignee_id, during.owner_id) == (deputy.user_id, reviewer.user_id)   # both names show
    with world.factory() as session:
        mine = list_tasks(session, deputy, InboxQuery(tab="mine"), world.clock.now()).rows
        assert [r.id for r in mine] == [during.id]
        assigned = session.scalars(select(Notification.user_id).where(Notification.kind == "assigned")
                                    .order_by(Notification.id)).all()
        assert assigned == [reviewer.user_id, deputy.user_id]
        told = session.scalars(select(Notification).where(Notification.kind == "leave_deputy")).one()
        assert told.user_id == deputy.user_id
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "approval.leave_set")).all()
        assert (event.actor, event.data["deputy"], event.data["reason"]) == ("reviewer", "reviewer2", "年休假")
        assert [(x.user_name, x.deputy_name) for x in leaves_of(session, deputy.user_id)] == [("reviewer", "周审核")]
    assert world.task(before.case_id, "legality_review").assignee_id == reviewer.user_id   # no bulk move

    world.clock.advance(days=3)                            # the leave is over
    after = assign_review(world, capture)
    assert (after.assignee_id, after.owner_id) == (reviewer.user_id, None)

    world.run("reviewer", cancel_leave, leave.id)
    with pytest.raises(CaseError, match="已取消"):
        world.run("reviewer", cancel_leave, leave.id)
