"""The audit chain stays one unbroken chain when several workers append at once, and when another
process moved its head since this one last wrote."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

from sqlalchemy import select

from workflows.audit import verify_chain
from workflows.models import AuditEvent

OTHER_WORKER = """
import sys
from workflows.db import make_engine, make_session_factory
from workflows.runtime import Actor, UnitOfWork
with UnitOfWork(make_session_factory(make_engine(sys.argv[1])), Actor.system("other-worker")) as uow:
    uow.audit("other.worker", n=1)
    uow.audit("other.worker", n=2)
    uow.commit()
"""


def _events(world):
    with world.factory() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_actions_committing_at_once_chain_their_events_one_after_another(world):
    workers, rounds = 4, 5
    barrier = threading.Barrier(workers)
    errors = []

    def act(n):
        try:
            for r in range(rounds):
                barrier.wait(10)
                with world.uow("clerk") as uow:
                    uow.audit("test.concurrent", worker=n, round=r, part=1)
                    uow.audit("test.concurrent", worker=n, round=r, part=2)
                    uow.commit()
        except Exception as exc:   # reported below: a thread's failure must fail the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=act, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    events = [e for e in _events(world) if e.action == "test.concurrent"]
    assert len(events) == workers * rounds * 2
    # each action's two events are next to each other in the chain
    for first, second in zip(events[::2], events[1::2]):
        assert (first.data["worker"], first.data["round"]) == (second.data["worker"], second.data["round"])
        assert second.prev_hash == first.hash
    with world.factory() as session:
        report = verify_chain(session)
    assert report.ok, report


def test_an_append_after_another_process_moved_the_head_chains_after_its_events(world, database_url):
    world.run("clerk", lambda uow: uow.audit("before.other"))
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run([sys.executable, "-c", OTHER_WORKER, database_url], check=True, env=env, timeout=60)
    world.run("clerk", lambda uow: uow.audit("after.other"))
    events = _events(world)
    actions = [e.action for e in events]
    assert actions[-4:] == ["before.other", "other.worker", "other.worker", "after.other"]
    assert events[-1].prev_hash == events[-2].hash
    with world.factory() as session:
        report = verify_chain(session)
    assert report.ok, report
