"""bench/engine.py -- what one lifecycle step costs, through the service layer and on the engine alone.

Prints, for one step (a correction message delivered to a published record's lifecycle case):
- the median cost through the service layer (session, locking, operation, task rows, audit, commit)
  on SQLite (a file, synchronous=FULL) and on PostgreSQL (when BENCH_DATABASE_URL or
  TEST_DATABASE_URL is set);
- the floor: the same step in SpiffWorkflow alone, plus serializing the state, plus a bare commit of
  the same bytes to the same database;
- the cost of the next step on a record that has already had 1, 10 and 100 corrections delivered.
The last line is one JSON object with every figure.

    python bench/engine.py [--repeat 200]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, text  # noqa: E402

from workflows.accounts import create_user  # noqa: E402
from workflows.applications import file_objection  # noqa: E402
from workflows.cases import complete_task, send_message, _load  # noqa: E402
from workflows.clock import CST, FixedClock, using_clock  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.definitions import deploy_folder  # noqa: E402
from workflows.demo import SUBJECTS  # noqa: E402
from workflows.engine.pruning import prune_finished_loop_iterations  # noqa: E402
from workflows.engine.serializer import dump_state  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.models import Base, Case, HumanTask  # noqa: E402
from workflows.records import open_record, register_subject  # noqa: E402
from workflows.runtime import WORKFLOWS, Actor, UnitOfWork  # noqa: E402
from sqlalchemy import select  # noqa: E402
from SpiffWorkflow.bpmn import BpmnEvent  # noqa: E402
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition  # noqa: E402

CAPTURE = {"source": "administrative_penalty", "field": "bidding", "severity": "general", "facts": "事实",
           "legal_basis": "依据", "decision_date": "2026-05-29"}


def ms(samples):
    return round(statistics.median(samples) * 1000, 3)


class Setup:
    def __init__(self, url: str):
        self.url = url
        self.factory = make_session_factory(make_engine(url))
        self.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
        with self.uow() as uow:
            deploy_folder(uow)
            self.subject = register_subject(uow, *SUBJECTS[0]).id
            self.actors = {r: Actor.of(create_user(uow, r, "pw", r, [r])) for r in ("clerk", "reviewer", "leader")}
            self.subject_actor = Actor.of(create_user(uow, "subject", "pw", "subject", ["subject"],
                                                      subject_id=self.subject))
            uow.commit()

    def uow(self, actor=None):
        return UnitOfWork(self.factory, actor or Actor.system("bench"), self.clock)

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

    def finished_objection(self, record_id: int, subject_actor, n: int) -> None:
        """One objection case from filing to the leader's decision (outcome: correct)."""
        with self.uow(subject_actor) as uow:
            case = file_objection(uow, record_id, "factual_error", f"异议 {n}", [])
            uow.commit()
        steps = [("clerk", "acceptance_check", {"acceptance": "accept", "acceptance_reason": "受理"}),
                 ("reviewer", "verification", {"verification_outcome": "correct", "verification_reason": "核实",
                                               "corrected_facts": f"更正 {n}"}),
                 ("leader", "leader_approval", {"final_outcome": "correct", "decision_reason": "同意"})]
        for role, task, data in steps:
            with self.uow(self.actors[role]) as uow:
                row = uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                                  HumanTask.bpmn_id == task)).one()
                complete_task(uow, row.id, data)
                uow.commit()

    def correct(self, case_id: int, n: int) -> float:
        start = time.perf_counter()
        with self.uow() as uow:
            send_message(uow, case_id, "record_corrected", {"facts": f"更正 {n}"})
            uow.commit()
        return time.perf_counter() - start

    def floor(self, case_id: int, repeat: int) -> dict:
        """SpiffWorkflow alone + serialization + a bare commit of the same bytes."""
        engine_s, dump_s, commit_s = [], [], []
        with self.uow() as uow:
            case = uow.session.get(Case, case_id)
            workflow = _load(uow, case)
            conn = uow.session.connection()
            conn.execute(text("CREATE TABLE IF NOT EXISTS bench_blob (id INTEGER PRIMARY KEY, body TEXT)"))
            conn.execute(text("INSERT INTO bench_blob (id, body) VALUES (1, '')"))
            uow.session.commit()
            # operations touch the database; the floor counts the engine only, so stub the dispatch
            workflow.script_engine.dispatch = lambda task, name, params: None
            for n in range(repeat):
                t0 = time.perf_counter()
                with using_clock(self.clock):
                    workflow.send_event(BpmnEvent(MessageEventDefinition("record_corrected"), payload={"facts": str(n)}))
                    workflow.do_engine_steps()
                    prune_finished_loop_iterations(workflow)  # as the service does, so both hold the same state
                t1 = time.perf_counter()
                state = dump_state(workflow)
                t2 = time.perf_counter()
                uow.session.execute(text("UPDATE bench_blob SET body = :b WHERE id = 1"), {"b": state})
                uow.session.commit()
                t3 = time.perf_counter()
                engine_s.append(t1 - t0)
                dump_s.append(t2 - t1)
                commit_s.append(t3 - t2)
            uow.session.execute(text("DROP TABLE bench_blob"))
            uow.session.commit()
        total = [a + b + c for a, b, c in zip(engine_s, dump_s, commit_s)]
        return {"engine_ms": ms(engine_s), "serialize_ms": ms(dump_s), "commit_ms": ms(commit_s),
                "floor_ms": ms(total), "state_bytes": len(state)}


def bench_database(label: str, url: str, repeat: int) -> dict:
    WORKFLOWS.clear()
    setup = Setup(url)
    case_id = setup.published_case()
    setup.correct(case_id, 0)  # warm
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)
    engine = setup.factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    setup.correct(case_id, 1)
    per_step = len(statements)  # BEGIN and COMMIT are not cursor executions
    event.remove(engine, "before_cursor_execute", count)
    step = [setup.correct(case_id, n) for n in range(2, repeat + 2)]
    floor = setup.floor(setup.published_case(), repeat)
    result = {"service_step_ms": ms(step), "sql_statements_per_step": per_step, **floor,
              "ratio_to_floor": round(ms(step) / floor["floor_ms"], 2)}
    # the next step after 1, 10 and 100 corrections already delivered
    growth = {}
    for history in (1, 10, 100):
        case_id = setup.published_case()
        for n in range(history):
            setup.correct(case_id, n)
        samples = [setup.correct(case_id, history + n) for n in range(min(repeat, 30))]
        with setup.factory() as session:
            size = len(session.get(Case, case_id).state)
        growth[str(history)] = {"step_ms": ms(samples), "state_bytes": size}
    result["after_corrections"] = growth
    result["growth_100_vs_1"] = round(growth["100"]["step_ms"] / growth["1"]["step_ms"], 2)
    # the next step on a record that has been through 1, 10 and 100 finished objection cases
    objections = {}
    for history in (1, 10, 100):
        case_id = setup.published_case()
        with setup.factory() as session:
            record_id = session.get(Case, case_id).record_id
        started = time.perf_counter()
        for n in range(history):
            setup.finished_objection(record_id, setup.subject_actor, n)
        per_objection = (time.perf_counter() - started) / history
        samples = [setup.correct(case_id, 1000 + n) for n in range(min(repeat, 30))]
        with setup.factory() as session:
            size = len(session.get(Case, case_id).state)
        objections[str(history)] = {"step_ms": ms(samples), "state_bytes": size,
                                    "objection_case_ms": round(per_objection * 1000, 1)}
    result["after_objections"] = objections
    result["objections_100_vs_1"] = round(objections["100"]["step_ms"] / objections["1"]["step_ms"], 2)
    print(f"{label}: service step {result['service_step_ms']} ms ({per_step} SQL statements), floor {result['floor_ms']} ms "
          f"(engine {floor['engine_ms']} + serialize {floor['serialize_ms']} + commit {floor['commit_ms']}), "
          f"ratio {result['ratio_to_floor']}x; after 1/10/100 corrections: "
          + ", ".join(f"{k}: {v['step_ms']} ms ({v['state_bytes']} B)" for k, v in growth.items())
          + "; after 1/10/100 finished objection cases: "
          + ", ".join(f"{k}: {v['step_ms']} ms ({v['state_bytes']} B)" for k, v in objections.items()), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    results = {"machine": f"{os.cpu_count()} cores", "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        upgrade_database(url)
        results["sqlite"] = bench_database("sqlite (file, synchronous=FULL)", url, args.repeat)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg:
        upgrade_database(pg)
        engine = make_engine(pg)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        results["postgresql"] = bench_database("postgresql", pg, args.repeat)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
