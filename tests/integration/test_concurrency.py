"""Two sessions at once, and a timer worker killed mid-pass."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

from sqlalchemy import func, select

from workflows.cases import CaseError, complete_task
from workflows.models import AuditEvent, Case, HumanTask, Record
from workflows.records import open_record
from workflows.runtime import WORKFLOWS
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "同意"}


def test_the_same_task_completed_from_two_sessions_at_once(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    barrier = threading.Barrier(2)
    outcomes = []

    def complete(opinion):
        try:
            with world.uow("reviewer") as uow:
                barrier.wait()
                complete_task(uow, task.id, {**APPROVE, "review_opinion": opinion})
                uow.commit()
            outcomes.append(("ok", opinion))
        except CaseError as exc:
            outcomes.append(("refused", exc.status, str(exc)))

    threads = [threading.Thread(target=complete, args=(f"意见{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [o for o in outcomes if o[0] == "ok"]
    losses = [o for o in outcomes if o[0] == "refused"]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert losses[0][1] == 409, losses
    with world.factory() as session:
        completed = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed",
                                                            AuditEvent.case_id == case.id)).all()
        assert [e.data["task"] for e in completed].count("legality_review") == 1
        assert completed[-1].data["data"]["review_opinion"] == wins[0][1]
        open_tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
        assert [t.bpmn_id for t in open_tasks] == ["leader_approval"]
        assert session.get(Record, record.id).status == "confirmed"


WORKER_SCRIPT = """
import sys, time
from datetime import datetime
from workflows.clock import FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.operations import OPERATIONS
from workflows.worker import run_once

op = OPERATIONS["mark_repair_eligible"]
original = op.func
def slow(ctx, **kw):
    print("firing", ctx.case.id, flush=True)
    time.sleep(0.05)
    return original(ctx, **kw)
op.func = slow
clock = FixedClock(datetime.fromisoformat(sys.argv[2]))
run_once(make_session_factory(make_engine(sys.argv[1])), clock, batch=int(sys.argv[3]))
print("done", flush=True)
"""


def test_a_timer_worker_killed_mid_pass_fires_each_timer_exactly_once(world, capture, database_url):
    case_ids = []
    for n in range(12):
        record, case = world.run("clerk", open_record, world.subjects[n % 5], capture)
        world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
        world.run("leader", complete_task, world.task(case.id, "leader_approval").id,
                  {"leader_decision": "approve", "leader_opinion": "同意"})
        case_ids.append(case.id)
    world.clock.advance(days=100)  # every minimum period has passed
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, database_url, world.clock.now().isoformat(), "4"],
                            stdout=subprocess.PIPE, text=True, env=env)
    fired_lines = 0
    for line in proc.stdout:   # let it commit a batch or so, then kill it in the middle of the next
        fired_lines += line.startswith("firing")
        if fired_lines == 6:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    with world.factory() as session:
        eligible_after_kill = session.scalar(select(func.count()).select_from(Record).where(Record.repair_eligible))
    assert 0 < eligible_after_kill < 12  # some batches landed, the killed one did not

    WORKFLOWS.clear()
    totals = run_once(world.factory, world.clock)
    assert totals["failed"] == 0
    assert totals["fired"] == 12 - eligible_after_kill
    with world.factory() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "record.repair_eligible")).all()
        per_case = sorted(e.case_id for e in events)
        assert per_case == sorted(case_ids)   # exactly once each
        assert session.scalar(select(func.count()).select_from(Record).where(Record.repair_eligible)) == 12
        assert all(c.next_due_at is not None for c in session.scalars(select(Case).where(Case.id.in_(case_ids))))
