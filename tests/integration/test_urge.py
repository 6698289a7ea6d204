"""催办 urge through the services, on SQLite and PostgreSQL: the holder is reminded, at most once a
China calendar day per task, two urgers at once get one success and one 409."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from workflows.approvals.urge import may_urge, urge
from workflows.cases import CaseError, Conflict, claim_task
from workflows.models import AuditEvent, Case, Notification
from workflows.records import open_record


def reminders(world, name):
    with world.factory() as session:
        return session.scalars(select(Notification).where(Notification.user_id == world.actors[name].user_id,
                                                          Notification.kind == "urged").order_by(Notification.id)).all()


def test_the_holder_is_reminded_once_a_china_day(world, capture):
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    review = world.task(case.id, "legality_review")
    world.run("reviewer", claim_task, review.id)

    def version():
        with world.factory() as session:
            return session.get(Case, case.id).version
    before = version()

    with pytest.raises(CaseError, match="不能催办自己办理的任务"):
        world.run("reviewer", urge, review.id)
    world.run("clerk", urge, review.id, "当事人在等结果。")            # 09:00 China time
    [note] = reminders(world, "reviewer")
    assert "当事人在等结果。" in note.text and note.link == f"/tasks/{review.id}"
    assert version() == before                                       # the case itself is unchanged
    with world.factory() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "approval.urge")).all()
        assert (event.actor, event.data["target"], event.data["reason"]) == ("clerk", "reviewer", "当事人在等结果。")
        assert not may_urge(session, world.actors["leader"], review, world.clock.today())

    world.clock.advance(hours=14, minutes=30)                        # 23:30: still the same day
    with pytest.raises(Conflict, match="今天已于 09:00 催办过"):
        world.run("leader", urge, review.id)
    world.clock.advance(hours=1)                                     # 00:30 the next day (still the same UTC day)
    world.run("leader", urge, review.id)
    assert len(reminders(world, "reviewer")) == 2


def test_two_urgers_at_once_one_reminds_the_other_is_told(world, capture):
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    review = world.task(case.id, "legality_review")                  # unclaimed: the lane's holders are told
    barrier = threading.Barrier(2)
    outcomes = []

    def remind(who):
        try:
            with world.uow(who) as uow:
                barrier.wait()
                urge(uow, review.id)
                uow.commit()
            outcomes.append("ok")
        except CaseError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=remind, args=(who,)) for who in ("clerk", "leader")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes, key=str) == [409, "ok"], outcomes
    assert len(reminders(world, "reviewer")) == 1
