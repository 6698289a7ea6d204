"""bench/engine.py -- what one step costs through the service layer, and whether it grows with a
case's history.

Prints, for SQLite (a file, synchronous=FULL) and PostgreSQL (when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set):
- the service step: a correction message delivered to a published record's lifecycle case, median
  time, SQL statements and commits per step; against the floor: the same step in SpiffWorkflow alone
  (with compaction, as the service runs it) + serializing the state + a bare commit of the same
  bytes to the same database; service and floor steps alternate, so both see the same load;
- loops: each loop kind of tests/data/loops (a gateway back-edge, a standard loop with and without
  loopMaximum, sequential and parallel multi-instance) and the record's correction loop (a standard
  loop over a subprocess, driven by messages), run through the service layer to 10 / 100 / 1,000 /
  10,000 rounds; at each, the median step warm (the workflow in this worker's cache) and cold (read
  from the case row, as another worker sees it), statements and commits per step, the state's size;
  and the ratio of the step at the last mark to the step at 10.
The last line is one JSON object with every figure.

    python bench/engine.py [--repeat 200] [--rounds 10,100,1000,10000] [--kinds gateway,...]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select, text  # noqa: E402
from SpiffWorkflow.bpmn import BpmnEvent  # noqa: E402
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition  # noqa: E402

from workflows.accounts import create_user  # noqa: E402
from workflows.case_store import load_workflow  # noqa: E402
from workflows.cases import complete_task, send_message, start_case  # noqa: E402
from workflows.clock import CST, FixedClock  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.definitions import deploy_folder  # noqa: E402
from workflows.demo import SUBJECTS  # noqa: E402
from workflows.engine.compaction import compact  # noqa: E402
from workflows.engine.serializer import dump_state  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.models import Base, Case, HumanTask  # noqa: E402
from workflows.records import open_record, register_subject  # noqa: E402
from workflows.runtime import WORKFLOWS, Actor, UnitOfWork  # noqa: E402

LOOPS = ROOT / "tests" / "data" / "loops"
CAPTURE = {"source": "administrative_penalty", "field": "bidding", "severity": "general", "facts": "事实",
           "legal_basis": "依据", "decision_date": "2026-05-29"}
# kind -> (process, start data, the most rounds it can run)
KINDS = {"gateway": ("loop_gateway", {}, None), "standard": ("loop_standard", {}, None),
         "standard_max": ("loop_standard_max", {}, 10_000), "mi_sequential": ("loop_mi_sequential", {"planned": 10**6}, None),
         "mi_parallel": ("loop_mi_parallel", {"planned": 1000}, 1000), "correction_loop": (None, {}, None)}


def ms(samples):
    return round(statistics.median(samples) * 1000, 3)


class Counter:
    """SQL statements and commits on an engine while `counting`."""

    def __init__(self, engine):
        self.statements = self.commits = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args, **_kwargs):
        self.statements += self.on

    def _commit(self, *_args, **_kwargs):
        self.commits += self.on


class Setup:
    def __init__(self, url: str):
        self.url = url
        self.factory = make_session_factory(make_engine(url))
        self.counter = Counter(self.factory.kw["bind"])
        self.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
        with self.uow() as uow:
            deploy_folder(uow)
            deploy_folder(uow, LOOPS / "bpmn", LOOPS / "forms")
            self.subject = register_subject(uow, *SUBJECTS[0]).id
            self.actors = {r: Actor.of(create_user(uow, r, "pw", r, [r])) for r in ("clerk", "reviewer", "leader")}
            uow.commit()

    def uow(self, actor=None):
        return UnitOfWork(self.factory, actor or Actor.system("bench"), self.clock)

    def timed(self, fn, *args, cold=False) -> tuple[float, int, int]:
        """One service call in its own transaction: (seconds, statements, commits)."""
        if cold:
            WORKFLOWS.clear()
        c = self.counter
        before = (c.statements, c.commits)
        c.on = True
        start = time.perf_counter()
        with self.uow(self.actors["clerk"]) as uow:
            fn(uow, *args)
            uow.commit()
        elapsed = time.perf_counter() - start
        c.on = False
        return elapsed, c.statements - before[0], c.commits - before[1]

    def published_case(self) -> int:
        with self.uow(self.actors["clerk"]) as uow:
            _, case = open_record(uow, self.subject, CAPTURE)
            uow.commit()
        for role, data in (("reviewer", {"review_decision": "approve", "review_opinion": "同意"}),
                           ("leader", {"leader_decision": "approve", "leader_opinion": "同意"})):
            with self.uow(self.actors[role]) as uow:
                row = uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).one()
                complete_task(uow, row.id, data)
                uow.commit()
        return case.id

    def state_bytes(self, case_id: int) -> int:
        with self.factory() as session:
            return len(session.get(Case, case_id).state.encode())

    # -- one round of each loop kind --------------------------------------------------------

    def loop_case(self, kind: str) -> int:
        process, data, _ = KINDS[kind]
        if process is None:
            return self.published_case()
        with self.uow(self.actors["clerk"]) as uow:
            case = start_case(uow, process, {"rounds": 0, **data})
            uow.commit()
            return case.id

    def round(self, kind: str, case_id: int, n: int, cold=False):
        if kind == "correction_loop":
            return self.timed(send_message, case_id, "record_corrected", {"facts": f"更正 {n}"}, cold=cold)
        with self.factory() as session:
            row_id = session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id)
                                     .order_by(HumanTask.id).limit(1)).one()
        return self.timed(complete_task, row_id, {"decision": "again"}, cold=cold)

    def floor(self, case_id: int) -> "Floor":
        return Floor(self, case_id)


class Floor:
    """SpiffWorkflow alone (with compaction, as the service runs it) + serialization + a bare
    commit of the same bytes, one step at a time, so that service steps and floor steps can
    alternate and see the same machine load."""

    def __init__(self, setup: Setup, case_id: int):
        self.uow = setup.uow().__enter__()
        self.workflow = load_workflow(self.uow, self.uow.session.get(Case, case_id))
        conn = self.uow.session.connection()
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_blob (id INTEGER PRIMARY KEY, body TEXT)"))
        conn.execute(text("INSERT INTO bench_blob (id, body) VALUES (1, '')"))
        self.uow.session.commit()
        self.workflow.script_engine.dispatch = lambda task, name, params: None   # operations are not the engine
        self.state = ""

    def step(self, n: int) -> tuple[float, float, float]:
        """(engine, serialize, commit) seconds of one step."""
        t0 = time.perf_counter()
        self.workflow.send_event(BpmnEvent(MessageEventDefinition("record_corrected"), payload={"facts": str(n)}))
        self.workflow.do_engine_steps()
        compact(self.workflow)
        t1 = time.perf_counter()
        self.state = dump_state(self.workflow)
        t2 = time.perf_counter()
        self.uow.session.execute(text("UPDATE bench_blob SET body = :b WHERE id = 1"), {"b": self.state})
        self.uow.session.commit()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2

    def close(self) -> None:
        self.uow.session.execute(text("DROP TABLE bench_blob"))
        self.uow.session.commit()
        self.uow.__exit__(None, None, None)


def service_step(setup: Setup, repeat: int) -> dict:
    """The service step and the floor step, alternately, `repeat` times each (medians)."""
    case_id = setup.published_case()
    floor = setup.floor(setup.published_case())
    setup.round("correction_loop", case_id, 0)   # warm
    floor.step(0)
    runs, floors = [], []
    for n in range(1, repeat + 1):
        runs.append(setup.round("correction_loop", case_id, n))
        floors.append(floor.step(n))
    floor.close()
    step = ms([r[0] for r in runs])
    floor_ms = ms([sum(f) for f in floors])
    return {"service_step_ms": step, "sql_statements_per_step": statistics.median(r[1] for r in runs),
            "commits_per_step": statistics.median(r[2] for r in runs),
            "engine_ms": ms([f[0] for f in floors]), "serialize_ms": ms([f[1] for f in floors]),
            "commit_ms": ms([f[2] for f in floors]), "floor_ms": floor_ms,
            "state_bytes": len(floor.state.encode()), "ratio_to_floor": round(step / floor_ms, 2)}


def loop_growth(setup: Setup, kind: str, marks: list[int], samples: int) -> dict:
    """Rounds through the service layer; at each mark, the median of the last steps before it,
    alternately warm and cold."""
    limit = KINDS[kind][2]
    marks = [m for m in marks if limit is None or m <= limit]
    case_id = setup.loop_case(kind)
    result, done = {}, 0
    for mark in marks:
        window = min(2 * samples, mark)
        while done < mark - window:
            done += 1
            setup.round(kind, case_id, done)
        warm, cold = [], []
        while done < mark:
            done += 1
            (cold if done % 2 else warm).append(setup.round(kind, case_id, done, cold=bool(done % 2)))
        result[str(mark)] = {"warm_ms": ms([r[0] for r in warm]), "cold_ms": ms([r[0] for r in cold]),
                             "statements": statistics.median(r[1] for r in warm + cold),
                             "commits": statistics.median(r[2] for r in warm + cold),
                             "state_bytes": setup.state_bytes(case_id)}
        print(f"  {kind} round {mark}: warm {result[str(mark)]['warm_ms']} ms, cold {result[str(mark)]['cold_ms']} ms, "
              f"{result[str(mark)]['statements']} statements, {result[str(mark)]['commits']} commit(s), "
              f"state {result[str(mark)]['state_bytes']} B", flush=True)
    first, last = result[str(marks[0])], result[str(marks[-1])]
    return {"rounds": result, "last_vs_first": {
        "rounds": f"{marks[-1]} vs {marks[0]}",
        "warm": round(last["warm_ms"] / first["warm_ms"], 2), "cold": round(last["cold_ms"] / first["cold_ms"], 2),
        "state": round(last["state_bytes"] / first["state_bytes"], 2)}}


def bench_database(label: str, url: str, repeat: int, marks: list[int], kinds: list[str]) -> dict:
    WORKFLOWS.clear()
    setup = Setup(url)
    result = service_step(setup, repeat)
    print(f"{label}: service step {result['service_step_ms']} ms ({result['sql_statements_per_step']} statements, "
          f"{result['commits_per_step']} commit), floor {result['floor_ms']} ms (engine {result['engine_ms']} + "
          f"serialize {result['serialize_ms']} + commit {result['commit_ms']}): {result['ratio_to_floor']}x", flush=True)
    result["loops"] = {}
    for kind in kinds:
        result["loops"][kind] = loop_growth(setup, kind, marks, samples=15)
        growth = result["loops"][kind]["last_vs_first"]
        print(f"{label}: {kind} {growth['rounds']}: warm {growth['warm']}x, cold {growth['cold']}x, "
              f"state {growth['state']}x", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--rounds", default="10,100,1000,10000")
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    logging.getLogger("spiff").setLevel(logging.WARNING)
    marks = [int(r) for r in args.rounds.split(",")]
    kinds = [k for k in args.kinds.split(",") if k]
    results = {"machine": f"{os.cpu_count()} cores", "load_average": os.getloadavg()[0], "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade_database(url)
        results["sqlite"] = bench_database("sqlite (file, synchronous=FULL)", url, args.repeat, marks, kinds)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        upgrade_database(pg)
        engine = make_engine(pg)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        results["postgresql"] = bench_database("postgresql", pg, args.repeat, marks, kinds)
    results["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
