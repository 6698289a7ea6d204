"""bench/timers.py -- two timer workers against 10,000 timers due at the same instant (PostgreSQL).

Deploys a timer-only process (start -> timer (timeDate `due_at`) -> script -> end, written to a
temporary folder), starts 10,000 cases of it through `workflows.cases.start_case` in units of work
of 500 (the set-up runs on a clock fixed at its start, and every timer is due a few seconds after
that instant, so none fires while the cases are created; by the time the workers run, the system
clock is past it). Then it starts TWO `credflow worker --once --batch 100` processes at the same
moment (DATABASE_URL set; they use the system clock) and measures the wall time until both have
exited. Then it counts:

- fired twice: cases with more than one `case.timers_fired` audit event (or more than one
  `case.completed`), or whose script ran more than once (the script counts its runs in the case data);
- missed: cases still `running`, with a `next_due_at`, in `error`, or with no `case.timers_fired` event;
- the work each worker reports (`fired`), which must add up to 10,000;
- the audit chain (`credflow verify-audit`), which two concurrent writers must not break.

Targets: under 20 s, zero fired twice, zero missed. The last line is one JSON object with every figure.

The database comes from BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/credflow_bench_timers);
its name must contain "bench": every run drops and recreates its schema. It is created when missing.

    python bench/timers.py [--cases 10000] [--workers 2] [--batch 100] [--setup-batch 500]
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.benchdb import create_database_if_missing, drop_schema, pg_conninfo, refuse_unless_bench  # noqa: E402
from bench.procstat import proc_stat, schedstat  # noqa: E402
from workflows.cases import start_case  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.definitions import deploy_folder  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.runtime import Actor, UnitOfWork  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/credflow_bench_timers"
TARGET_S = 20.0
PROCESS_KEY = "bench_timer"
DUE_AFTER_S = 5.0   # the timers fall due this long after the set-up's (fixed) clock instant

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  id="defs_bench_timer" targetNamespace="http://credflow.local/bench">
  <bpmn:process id="bench_timer" name="Bench: one timer, then a script" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait" name="wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>due_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="after_timer" name="after the timer">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>script_runs = script_runs + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after_timer"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after_timer" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def fresh_database(url: str) -> None:
    """Create the database when missing, drop its schema, migrate to the newest revision."""
    create_database_if_missing(url)
    drop_schema(url)
    upgrade_database(url)


def set_up(url: str, cases: int, per_uow: int) -> tuple[datetime, float]:
    """Deploy the process and start the cases; returns the instant the timers are due and the time taken."""
    factory = make_session_factory(make_engine(url))
    anchor = datetime.now(timezone.utc)
    clock = FixedClock(anchor)   # the cases are "created" at this instant, however long the set-up takes
    due = anchor + timedelta(seconds=DUE_AFTER_S)
    deploy(factory, clock)
    t0 = time.perf_counter()
    start_cases(factory, cases, due, clock, per_uow, progress=True)
    factory.kw["bind"].dispose()
    return due, time.perf_counter() - t0


def deploy(factory, clock) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bpmn"
        folder.mkdir()
        (folder / f"{PROCESS_KEY}.bpmn").write_text(BPMN, encoding="utf-8")
        with UnitOfWork(factory, Actor.system("bench-timers"), clock) as uow:
            deploy_folder(uow, folder, Path(tmp) / "forms")
            uow.commit()


def start_cases(factory, cases: int, due: datetime, clock, per_uow: int = 500, progress: bool = False) -> None:
    """Start `cases` cases whose timer is due at `due` (after `clock`'s instant, so none fires at its start)."""
    t0 = time.perf_counter()
    started = 0
    while started < cases:
        n = min(per_uow, cases - started)
        with UnitOfWork(factory, Actor.system("bench-timers"), clock) as uow:
            for _ in range(n):
                start_case(uow, PROCESS_KEY, {"due_at": due.isoformat(), "script_runs": 0})
            uow.commit()
        started += n
        if progress and (started % 2000 == 0 or started == cases):
            print(f"  {started:,} cases started ({time.perf_counter() - t0:.1f} s)", flush=True)


def add_wave(url: str, cases: int, due_after_s: float = 0.5) -> datetime:
    """More timer cases, due `due_after_s` seconds after now (bench/faults.py's later waves)."""
    factory = make_session_factory(make_engine(url))
    try:
        anchor = datetime.now(timezone.utc)
        due = anchor + timedelta(seconds=due_after_s)
        start_cases(factory, cases, due, FixedClock(anchor))
    finally:
        factory.kw["bind"].dispose()
    return due


def cli_command(*args: str) -> list[str]:
    """The `credflow` command of this environment (or `python -m webapp.cli` without the script)."""
    exe = Path(sys.executable).parent / "credflow"
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "webapp.cli", *args]


def worker_command(batch: int) -> list[str]:
    return cli_command("worker", "--once", "--batch", str(batch))


class BackendCpu:
    """Polls the CPU time of the PostgreSQL backends serving this database while the workers run,
    and how long the workers and the backends waited for a CPU (/proc/<pid>/schedstat). A process's
    last reading is at most one poll interval old when it exits: a slight undercount."""

    def __init__(self, url: str, interval: float = 0.2):
        self.url, self.interval = url, interval
        self.seen: dict[int, float] = {}
        self.sched: dict[int, tuple[float, float]] = {}     # backends
        self.workers: dict[int, tuple[float, float]] = {}   # worker processes (pids added by the caller)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        with psycopg.connect(pg_conninfo(self.url), autocommit=True) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            while not self.stop.is_set():
                pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                                   "AND pid <> %s", (me,)).fetchall()]
                for pid in pids:
                    stat, sched = proc_stat(pid), schedstat(pid)
                    if stat is not None:
                        self.seen[pid] = stat[1]
                    if any(sched):
                        self.sched[pid] = sched
                for pid in list(self.workers):
                    sched = schedstat(pid)
                    if any(sched):
                        self.workers[pid] = sched
                self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    @property
    def total(self) -> float:
        return sum(self.seen.values())


def run_workers(url: str, n: int, batch: int, instance: str) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "CREDFLOW_INSTANCE": instance}
    env.pop("CREDFLOW_SETTINGS", None)
    command = worker_command(batch)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    backends = BackendCpu(url)
    backends.__enter__()
    t0 = time.perf_counter()
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    for p in procs:
        backends.workers[p.pid] = (0.0, 0.0)
    ends, outputs = [], []
    for p in procs:
        try:
            out, err = p.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        ends.append(time.perf_counter() - t0)
        outputs.append((p.returncode, out, err))
    wall = max(ends)
    backends.__exit__()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    per_worker = []
    for (code, out, err), end in zip(outputs, ends):
        totals = None
        for line in out.splitlines():
            if line.startswith("{") and "fired" in line:
                totals = ast.literal_eval(line)  # the CLI echoes a dict literal
        warnings = [l for l in err.splitlines() if " WARNING " in l or " ERROR " in l]
        per_worker.append({"exit_code": code, "wall_s": round(end, 2), "fired": (totals or {}).get("fired"),
                           "failed": (totals or {}).get("failed"), "warnings": len(warnings),
                           "stderr_tail": err.strip().splitlines()[-3:] if code else []})
    return {"command": " ".join([Path(command[0]).name, *command[1:]]), "wall_s": round(wall, 2), "workers": per_worker,
            "worker_cpu_s": round(worker_cpu, 2), "postgres_backend_cpu_s": round(backends.total, 2),
            "postgres_backends_seen": len(backends.seen),
            "workers_waiting_for_cpu_s": round(sum(w for _r, w in backends.workers.values()), 2),
            "workers_on_cpu_s": round(sum(r for r, _w in backends.workers.values()), 2),
            "backends_waiting_for_cpu_s": round(sum(w for _r, w in backends.sched.values()), 2)}


def count(url: str) -> dict:
    with psycopg.connect(pg_conninfo(url)) as conn:
        q = lambda s, *a: conn.execute(s, a).fetchone()[0]  # noqa: E731
        fires = """SELECT count(*) FROM (SELECT case_id FROM audit_event WHERE action = %s
                   GROUP BY case_id HAVING count(*) > 1) AS t"""
        statuses = dict(conn.execute('SELECT status, count(*) FROM "case" WHERE process_key = %s GROUP BY status',
                                     (PROCESS_KEY,)).fetchall())
        runs = dict(conn.execute(
            """SELECT (state::jsonb -> 'data' ->> 'script_runs') AS runs, count(*) FROM "case"
               WHERE process_key = %s GROUP BY 1""", (PROCESS_KEY,)).fetchall())
        span = conn.execute("SELECT min(at), max(at) FROM audit_event WHERE action = 'case.timers_fired'").fetchone()
        result = {
            "cases": sum(statuses.values()),
            "statuses": statuses,
            "fired_twice_audit": q(fires, "case.timers_fired"),
            "completed_twice_audit": q(fires, "case.completed"),
            "script_runs_histogram": {str(k): v for k, v in runs.items()},
            "script_ran_twice": sum(v for k, v in runs.items() if k is not None and int(k) > 1),
            "still_running": statuses.get("running", 0),
            "with_next_due_at": q('SELECT count(*) FROM "case" WHERE process_key = %s AND next_due_at IS NOT NULL',
                                  PROCESS_KEY),
            "in_error": statuses.get("error", 0),
            "never_fired": q("""SELECT count(*) FROM "case" c WHERE c.process_key = %s AND NOT EXISTS
                                (SELECT 1 FROM audit_event e WHERE e.case_id = c.id AND e.action = 'case.timers_fired')""",
                             PROCESS_KEY),
            "timers_fired_events": q("SELECT count(*) FROM audit_event WHERE action = 'case.timers_fired'"),
            "firing_span_s": round((span[1] - span[0]).total_seconds(), 2) if span[0] else None,
        }
    result["fired_twice"] = max(result["fired_twice_audit"], result["completed_twice_audit"], result["script_ran_twice"])
    result["missed"] = max(result["still_running"], result["with_next_due_at"], result["never_fired"]) + result["in_error"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100, help="the workers' --batch")
    parser.add_argument("--setup-batch", type=int, default=500, help="cases started per unit of work")
    args = parser.parse_args()
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    refuse_unless_bench(url, "drops the schema")
    started = time.perf_counter()
    fresh_database(url)
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other processes skew the figures)", flush=True)
    print(f"starting {args.cases:,} cases of '{PROCESS_KEY}' in units of work of {args.setup_batch} ...", flush=True)
    due, setup_s = set_up(url, args.cases, args.setup_batch)
    print(f"set-up: {setup_s:.1f} s ({setup_s / args.cases * 1000:.2f} ms per case); every timer due at "
          f"{due.isoformat(timespec='milliseconds')}", flush=True)
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute('VACUUM (ANALYZE) "case", audit_event, audit_head')
        pending = conn.execute('SELECT count(*) FROM "case" WHERE status = %s AND next_due_at = %s',
                               ("running", due)).fetchone()[0]
    if pending != args.cases:
        raise SystemExit(f"expected {args.cases} cases waiting on a timer due at {due}, found {pending}")
    wait = (due - datetime.now(timezone.utc)).total_seconds() + 1.0
    if wait > 0:
        print(f"waiting {wait:.1f} s for the system clock to pass the due time", flush=True)
        time.sleep(wait)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="credflow-bench-timers-") as instance:
        run = run_workers(url, args.workers, args.batch, instance)
    load_after = os.getloadavg()
    print(f"{args.workers} workers (`{run['command']}`), started together: both exited after {run['wall_s']} s",
          flush=True)
    for i, w in enumerate(run["workers"], 1):
        print(f"  worker {i}: exit {w['exit_code']}, {w['wall_s']} s, fired {w['fired']}, failed {w['failed']}, "
              f"{w['warnings']} warning lines" + (f", stderr: {w['stderr_tail']}" if w["stderr_tail"] else ""))

    cpu = run["worker_cpu_s"] + run["postgres_backend_cpu_s"]
    print(f"CPU used: workers {run['worker_cpu_s']} s (both processes, start-up included), their PostgreSQL "
          f"backends {run['postgres_backend_cpu_s']} s ({run['postgres_backends_seen']} backends); together {cpu:.1f} s "
          f"= {cpu / max(run['wall_s'], 1e-9):.2f} of the {os.cpu_count()} cores over the wall time; "
          f"on idle cores the CPU alone would take >= {cpu / os.cpu_count():.1f} s")
    blocked = max(0.0, run["wall_s"] * args.workers - run["workers_on_cpu_s"] - run["workers_waiting_for_cpu_s"])
    print(f"the workers' {run['wall_s'] * args.workers:.1f} process-seconds: on a CPU {run['workers_on_cpu_s']} s, "
          f"runnable but waiting for a CPU (other processes had it) {run['workers_waiting_for_cpu_s']} s, blocked "
          f"(database round trips, locks) {blocked:.1f} s; their backends waited {run['backends_waiting_for_cpu_s']} s "
          "for a CPU (schedstat, sampled every 0.2 s)")

    counts = count(url)
    fired_by_workers = sum(w["fired"] or 0 for w in run["workers"])
    print(f"timers fired: {counts['timers_fired_events']} events for {counts['cases']} cases; reported by the "
          f"workers: {fired_by_workers}; first to last firing {counts['firing_span_s']} s "
          f"(the rest of the wall time is process start-up and the deadline-reminder pass)")
    print(f"fired twice: {counts['fired_twice']} (cases with >1 case.timers_fired: {counts['fired_twice_audit']}, "
          f">1 case.completed: {counts['completed_twice_audit']}, script ran >1 time: {counts['script_ran_twice']})")
    print(f"missed: {counts['missed']} (still running: {counts['still_running']}, next_due_at set: "
          f"{counts['with_next_due_at']}, never fired: {counts['never_fired']}, in error: {counts['in_error']}); "
          f"statuses {counts['statuses']}, script runs per case {counts['script_runs_histogram']}")

    verify = subprocess.run(cli_command("verify-audit"), cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                            capture_output=True, text=True, timeout=600)
    chain = (verify.stdout or verify.stderr).strip().splitlines()[-1] if (verify.stdout or verify.stderr) else ""
    print(f"audit chain: {chain}")

    met = run["wall_s"] < TARGET_S and counts["fired_twice"] == 0 and counts["missed"] == 0
    print(f"target (< {TARGET_S:.0f} s, zero fired twice, zero missed): {'met' if met else 'NOT met'} -- "
          f"{run['wall_s']} s, {counts['fired_twice']} twice, {counts['missed']} missed; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"total run time {time.perf_counter() - started:.1f} s", flush=True)
    with psycopg.connect(pg_conninfo(url)) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    out = {
        "bench": "timers", "cases": args.cases, "workers": args.workers, "batch": args.batch,
        "setup_batch": args.setup_batch, "setup_s": round(setup_s, 2),
        "setup_ms_per_case": round(setup_s / args.cases * 1000, 3), "due_at": due.isoformat(),
        "wall_s": run["wall_s"], "per_worker": run["workers"], "worker_cpu_s": run["worker_cpu_s"],
        "postgres_backend_cpu_s": run["postgres_backend_cpu_s"],
        "workers_on_cpu_s": run["workers_on_cpu_s"], "workers_waiting_for_cpu_s": run["workers_waiting_for_cpu_s"],
        "backends_waiting_for_cpu_s": run["backends_waiting_for_cpu_s"],
        "cpu_floor_s": round((run["worker_cpu_s"] + run["postgres_backend_cpu_s"]) / os.cpu_count(), 2), "fired_by_workers": fired_by_workers,
        **{k: v for k, v in counts.items()}, "audit_chain_ok": verify.returncode == 0, "audit_chain": chain,
        "target_s": TARGET_S, "target_met": met,
        "machine": {"cpu_count": os.cpu_count(), "load_average_before_workers": [round(x, 2) for x in load_before],
                    "load_average_after_workers": [round(x, 2) for x in load_after],
                    "postgresql": server, "python": sys.version.split()[0]},
    }
    print(json.dumps(out, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
