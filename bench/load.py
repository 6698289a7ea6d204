"""bench/load.py -- N reviewers working the legality-review queue through gunicorn, over HTTP.

Prepares a PostgreSQL database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/credflow_bench_load; its name must contain "bench"): the shipped
processes deployed (`deploy_folder`), a clerk and 50 reviewers (reviewer01..reviewer50), a few
subjects, and records opened with capture data (`open_record`), so each waits at `legality_review`
in the reviewers' group tab. A rerun reuses the database: tasks a previous run left claimed are
released and records are added until --records wait (--fresh rebuilds everything; so does a schema
that differs from the models). The records are opened on the real clock (gunicorn completes them on
it too): when today's deadlines reach a year the statutory calendar does not cover, the bench's own
database gets a labelled weekday-rule year for it (bench/benchcalendar.py), never a made-up holiday list.

Then it starts `gunicorn -w W -b 127.0.0.1:<free port> 'webapp:create_app()'` (DATABASE_URL set,
CREDFLOW_INSTANCE a temporary folder) and N simulated staff (threads, one reviewer each, default 50;
each its own cookie jar and http.client connection; traffic goes to 127.0.0.1 only). Each logs in
once (the login form with the CSRF token from /login), then, for a fixed duration (default 30 s,
at most 600), loops:

    GET  /inbox?tab=group           -> the group tab (its rows and the "claim next task" button)
    POST /tasks/next                -> 302 to /tasks/<id>: the first unclaimed task, claimed (the
                                       button; on PostgreSQL rows being claimed are skipped)
    GET  /tasks/<id>                -> 200; the form's csrf_token and task_id
    POST /tasks/<id>                -> 302 (review_decision=approve, review_opinion, csrf_token,
                                       task_id, action=complete)

--via api does the same four steps through the JSON API with a bearer token per reviewer:
GET /api/v1/tasks?tab=group, POST /api/v1/tasks/next, GET /api/v1/tasks/<id> (with its form),
POST /api/v1/tasks/<id>/complete -- what an integrating system pays, without HTML.

--pick first / random instead claim a row of the page (POST /tasks/<id>/claim): the first, as
everyone looking at the same list would, or a random one, to show what such contention costs. Then
409s are expected and counted as conflicts, not errors; a conflict sends the reviewer back to the
inbox. It prints task completions per second; p50/p95/p99 latency per
request kind; status counts per kind and errors by status; the CPU used by gunicorn (master and
workers, from /proc, before and after the timed window), by the database's PostgreSQL backends
and by this client; how the workers' time splits into on a CPU / waiting for a CPU / blocked
(/proc/<pid>/schedstat) and what the backends were doing (pg_stat_activity, sampled); the load
average (other sessions share the machine). Then (unless --no-profile) it profiles a few cycles of the
same four requests in-process (Flask test client, no HTTP): wall time, SQL time and statements per
request kind, and where the Python time goes by library. The target: >= 200 completions/s with a
p95 under 100 ms. The script stops by itself: gunicorn is terminated at the end (or on an error).
The last line is one JSON object with every figure.

    python bench/load.py [--users 50] [--workers 2] [--duration 30] [--records 2000] [--fresh]
                         [--threads 1] [--pick next|first|random] [--via pages|api] [--no-profile]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from bench.procstat import BackendCpu, schedstat, tree_cpu  # noqa: E402
from bench.staff import KINDS, PASSWORD, Staff, Stats  # noqa: E402
from bench.webclient import HOST, Server, ms, percentile  # noqa: E402
from bench.benchcalendar import label_uncovered_years  # noqa: E402
from bench.benchdb import (create_database_if_missing, drop_schema, pg_conninfo,  # noqa: E402
                          refuse_unless_bench, schema_problems)
from workflows.accounts import create_api_token, create_user  # noqa: E402
from workflows.clock import SYSTEM_CLOCK  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.definitions import deploy_folder  # noqa: E402
from workflows.demo import CAPTURE, SUBJECTS  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.models import HumanTask, Subject, User  # noqa: E402
from workflows.records import open_record, register_subject  # noqa: E402
from workflows.runtime import Actor, UnitOfWork  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/credflow_bench_load"
TARGET_RATE = 200.0
TARGET_P95_MS = 100.0
MAX_DURATION = 600.0
REVIEWERS = 50
OK = {"inbox": 200, "claim": 302, "task": 200, "complete": 302, "login_page": 200, "login": 302}


# -- the database --------------------------------------------------------------------------------

def ensure_database(url: str, fresh: bool) -> bool:
    """Create the database when missing; rebuild the schema when asked or when it differs. True: rebuilt."""
    create_database_if_missing(url)
    rebuild = fresh
    if not rebuild:
        upgrade_database(url)
        problems = schema_problems(url)
        if problems:
            print("the schema differs from the models (" + "; ".join(problems[:5]) + "): rebuilding", flush=True)
            rebuild = True
    if rebuild:
        drop_schema(url)
        upgrade_database(url)
    return rebuild


def reviewer_name(i: int) -> str:
    return f"reviewer{i:02d}"


def waiting_tasks(session) -> int:
    return session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.bpmn_id == "legality_review", HumanTask.assignee_id.is_(None)))


def prepare(url: str, records: int, fresh: bool) -> dict:
    """Users, processes and enough records waiting at legality_review; returns what was done."""
    t0 = time.perf_counter()
    rebuilt = ensure_database(url, fresh)
    factory = make_session_factory(make_engine(url))
    system = Actor.system("bench-load")
    facts = {"rebuilt": rebuilt, "bench_calendar_years": label_uncovered_years(factory, SYSTEM_CLOCK.today())}
    with UnitOfWork(factory, system) as uow:
        deployed = deploy_folder(uow)
        facts["deployed"] = {r.key: r.version for r in deployed}
        subjects = []
        for kind, name, code in SUBJECTS:
            known = uow.session.scalars(select(Subject.id).where(Subject.code == code)).first()
            subjects.append(known if known is not None else register_subject(uow, kind, name, code).id)
        clerk = uow.session.scalars(select(User).where(User.username == "bench-clerk")).first()
        if clerk is None:
            clerk = create_user(uow, "bench-clerk", PASSWORD, "承办人", ["clerk"])
        have_users = set(uow.session.scalars(select(User.username).where(User.username.like("reviewer%"))))
        for i in range(1, REVIEWERS + 1):
            if reviewer_name(i) not in have_users:
                create_user(uow, reviewer_name(i), PASSWORD, f"审核人{i:02d}", ["reviewer"])
        facts["created_users"] = REVIEWERS - len(have_users & {reviewer_name(i) for i in range(1, REVIEWERS + 1)})
        # tasks a previous run left claimed go back to the group tab
        released = uow.session.execute(update(HumanTask).where(HumanTask.bpmn_id == "legality_review",
                                                               HumanTask.assignee_id.is_not(None))
                                       .values(assignee_id=None, claimed_at=None)).rowcount
        facts["released_claims"] = released
        clerk_actor = Actor.of(clerk)
        have = waiting_tasks(uow.session)
        uow.commit()
    facts["waiting_before"] = have
    missing = max(0, records - have)
    if missing:
        print(f"opening {missing:,} records (capture completed, so each waits at legality_review) ...", flush=True)
        capture = {**CAPTURE, "decision_date": (SYSTEM_CLOCK.today() - timedelta(days=3)).isoformat()}
        t1 = time.perf_counter()
        done = 0
        while done < missing:
            n = min(100, missing - done)
            with UnitOfWork(factory, clerk_actor) as uow:
                for k in range(n):
                    open_record(uow, subjects[(done + k) % len(subjects)], capture)
                uow.commit()
            done += n
            if done % 500 == 0 or done == missing:
                print(f"  {done:,} records ({time.perf_counter() - t1:.1f} s)", flush=True)
        facts["records_opened"] = missing
        facts["records_s"] = round(time.perf_counter() - t1, 1)
        facts["ms_per_record"] = round((time.perf_counter() - t1) / missing * 1000, 1)
    with factory() as session:
        facts["waiting"] = waiting_tasks(session)
    factory.kw["bind"].dispose()
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        conn.execute('VACUUM (ANALYZE) human_task, "case", record, audit_event, audit_head, user_account')
    facts["prepare_s"] = round(time.perf_counter() - t0, 1)
    return facts


def api_tokens(url: str, usernames: set[str]) -> dict[str, str]:
    """A fresh API token for each reviewer (only a token's hash is stored, so a run makes its own)."""
    factory = make_session_factory(make_engine(url))
    with UnitOfWork(factory, Actor.system("bench-load")) as uow:
        users = uow.session.scalars(select(User).where(User.username.in_(usernames))).all()
        tokens = {u.username: create_api_token(uow, u.id, "bench-load") for u in users}
        uow.commit()
    factory.kw["bind"].dispose()
    return tokens


def run_load(url: str, users: int, workers: int, threads: int, duration: float, pick: str, via: str = "pages") -> dict:
    names = [reviewer_name(i % REVIEWERS + 1) for i in range(users)]
    tokens = api_tokens(url, set(names)) if via == "api" else {}
    ok = {**OK, "claim": 200, "complete": 200} if via == "api" else OK
    with tempfile.TemporaryDirectory(prefix="credflow-bench-load-") as tmp:
        server = Server(url, workers, threads, Path(tmp))
        try:
            ready_s = server.wait_ready()
            print(f"gunicorn ({' '.join(server.command[1:])}) ready after {ready_s:.1f} s on {HOST}:{server.port}",
                  flush=True)
            stats = Stats()
            backends = BackendCpu(url)
            backends.start()
            window = {}

            def open_window():  # run by the last thread to reach the gate, before any is released
                window["server_before"] = tree_cpu(server.proc.pid)
                window["sched_before"] = {pid: schedstat(pid) for pid in window["server_before"]}
                backends.mark()
                window["load_before"] = os.getloadavg()
                window["client_before"] = time.process_time()
                window["start"] = time.perf_counter()
                stats.deadline = window["start"] + duration
            gate = threading.Barrier(users + 1, action=open_window)
            staff = [Staff(name, server.port, stats, gate, pick, tokens.get(name)) for name in names]
            t_login = time.perf_counter()
            for s in staff:
                s.start()
            gate.wait(timeout=300)   # everyone has logged in (scrypt: the logins are not part of the window)
            login_wall = window["start"] - t_login
            failed = [s.failed for s in staff if s.failed]
            logins = [s.login_s for s in staff if s.login_s is not None]
            print(f"{len(logins)} reviewers logged in ({login_wall:.1f} s for all; median login "
                  f"{ms(statistics.median(logins)) if logins else '-'} ms)" + (f"; failed: {failed[:3]}" if failed else ""),
                  flush=True)
            start, server_before = window["start"], window["server_before"]
            load_before, client_before = window["load_before"], window["client_before"]
            hard_end = start + duration + 60   # a request in flight at the deadline has 30 s to answer
            for s in staff:
                s.join(timeout=max(0.0, hard_end - time.perf_counter()))
            end = time.perf_counter()
            client_cpu = time.process_time() - client_before
            server_after = tree_cpu(server.proc.pid)
            sched_after = {pid: schedstat(pid) for pid in server_after}
            pg_sched = backends.sched()
            load_after = os.getloadavg()
            postgres_cpu = backends.finish()
            stuck = [s.name for s in staff if s.is_alive()]
            log_tail = server.log_tail()
        finally:
            server.stop()
    # CPU of processes alive at both readings, plus the whole life of workers started in between
    server_cpu = sum(cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items())
    # what the workers' time went to: on a CPU, waiting for a CPU, neither (blocked: the database, locks, sockets)
    sched_before = window["sched_before"]
    worker_pids = [pid for pid in sched_after if pid != server.proc.pid]
    on_cpu = sum(sched_after[p][0] - sched_before.get(p, (0, 0))[0] for p in worker_pids)
    runqueue = sum(sched_after[p][1] - sched_before.get(p, (0, 0))[1] for p in worker_pids)
    span = (end - start) * len(worker_pids)
    samples = sum(backends.states.values()) or 1
    in_window = [t for t in stats.completed_at if t <= start + duration]
    result = {
        "users": users, "gunicorn_workers": workers, "gunicorn_threads": threads, "pick": pick, "via": via,
        "duration_s": duration, "elapsed_s": round(end - start, 2),
        "completions": len(in_window), "completions_after_window": len(stats.completed_at) - len(in_window),
        "completions_per_s": round(len(in_window) / duration, 2),
        "cycles_lost_to_conflicts": stats.cycles_lost, "empty_inbox": stats.empty_inbox,
        "login": {"wall_s": round(login_wall, 2), "median_ms": ms(statistics.median(logins)) if logins else None,
                  "failed": len(failed)},
        "latency_ms": {}, "status": {}, "requests": 0,
        "errors_by_status": {}, "conflicts": 0,
        "server_cpu_s": round(server_cpu, 2), "server_processes": len(server_after),
        "postgres_backend_cpu_s": round(postgres_cpu, 2), "client_cpu_s": round(client_cpu, 2),
        "load_average_before": [round(x, 2) for x in load_before], "load_average_after": [round(x, 2) for x in load_after],
        "worker_time": {"on_cpu_s": round(on_cpu, 2), "waiting_for_cpu_s": round(runqueue, 2),
                        "blocked_s": round(max(0.0, span - on_cpu - runqueue), 2), "of_s": round(span, 2)},
        "postgres_backends": {"on_cpu_s": round(pg_sched[0], 2), "waiting_for_cpu_s": round(pg_sched[1], 2),
                              "state_samples": {k: round(v / samples, 3) for k, v in backends.states.most_common()}},
        "stuck_threads": stuck, "gunicorn_log_tail": log_tail.splitlines()[-5:],
    }
    errors = Counter()
    for kind in KINDS:
        samples = stats.latency.get(kind, [])
        counts = stats.status.get(kind, Counter())
        result["requests"] += sum(counts.values())
        result["status"][kind] = {str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}
        if samples:
            result["latency_ms"][kind] = {"n": len(samples), "p50": ms(percentile(samples, 0.5)),
                                          "p95": ms(percentile(samples, 0.95)), "p99": ms(percentile(samples, 0.99)),
                                          "max": ms(max(samples))}
        for status, n in counts.items():
            if status == ok[kind]:
                continue
            if status == 409:
                result["conflicts"] += n
            else:
                errors[f"{kind} {status}"] += n
    everything = [x for kind in KINDS for x in stats.latency.get(kind, [])]
    if everything:
        result["latency_ms"]["all"] = {"n": len(everything), "p50": ms(percentile(everything, 0.5)),
                                       "p95": ms(percentile(everything, 0.95)), "p99": ms(percentile(everything, 0.99)),
                                       "max": ms(max(everything))}
    result["errors_by_status"] = dict(errors)
    result["errors"] = sum(errors.values())
    result["requests_per_s"] = round(result["requests"] / duration, 1)
    result["server_cpu_per_completion_ms"] = (round(server_cpu / len(in_window) * 1000, 1) if in_window else None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated staff (threads)")
    parser.add_argument("--workers", "-w", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)")
    parser.add_argument("--duration", type=float, default=30.0, help=f"seconds (at most {MAX_DURATION:.0f})")
    parser.add_argument("--records", type=int, default=2000, help="tasks waiting at legality_review before the run")
    parser.add_argument("--pick", choices=("next", "first", "random"), default="next",
                        help="how a reviewer claims: the next-task button, or the first / a random row of the page")
    parser.add_argument("--via", choices=("pages", "api"), default="pages",
                        help="the HTML pages (a browser's requests) or the JSON API (/api/v1, bearer tokens)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the database")
    parser.add_argument("--profile-cycles", type=int, default=20)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    duration = max(1.0, min(args.duration, MAX_DURATION))
    import logging
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    refuse_unless_bench(url, "rebuilds and consumes the data")
    started = time.perf_counter()
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other processes skew the figures)", flush=True)
    reserve = 0 if args.no_profile else 2 * args.profile_cycles + 2
    facts = prepare(url, args.records + reserve, args.fresh)
    print(f"database ready in {facts['prepare_s']} s: {facts['waiting']:,} tasks waiting at legality_review "
          f"({facts.get('records_opened', 0):,} records opened now"
          + (f", {facts['ms_per_record']} ms each" if facts.get("records_opened") else "")
          + f"; {facts['released_claims']} claims from an earlier run released)", flush=True)
    print(f"\n{args.users} reviewers x {duration:.0f} s against gunicorn -w {args.workers}"
          + (f" --threads {args.threads}" if args.threads > 1 else "") + f" (claiming {'with the next-task button' if args.pick == 'next' else f'the {args.pick} row'}"
          + (", through the JSON API" if args.via == "api" else "") + ") ...",
          flush=True)
    r = run_load(url, args.users, args.workers, args.threads, duration, args.pick, args.via)
    print(f"completions: {r['completions']} in {duration:.0f} s = {r['completions_per_s']}/s "
          f"(target >= {TARGET_RATE:.0f}/s); {r['requests']} requests = {r['requests_per_s']}/s; "
          f"cycles lost to a 409: {r['cycles_lost_to_conflicts']}; empty inbox: {r['empty_inbox']}")
    if r["empty_inbox"]:
        print(f"WARNING: the group tab ran empty {r['empty_inbox']} times: the run ran out of tasks, so the rate is a "
              "lower bound; raise --records")
    print("latency (ms)       n      p50      p95      p99      max")
    for kind in (*KINDS, "all"):
        lat = r["latency_ms"].get(kind)
        if lat:
            print(f"  {kind:9} {lat['n']:7} {lat['p50']:8} {lat['p95']:8} {lat['p99']:8} {lat['max']:8}")
    print("status per kind: " + "; ".join(f"{k} {v}" for k, v in r["status"].items()))
    print(f"conflicts (409, expected): {r['conflicts']}; errors: {r['errors']} {r['errors_by_status'] or ''}")
    window_cpu = duration * os.cpu_count()
    print(f"CPU in the window: gunicorn {r['server_cpu_s']} s ({r['server_processes']} processes; "
          f"{r['server_cpu_per_completion_ms']} ms per completion), PostgreSQL backends {r['postgres_backend_cpu_s']} s, "
          f"this client {r['client_cpu_s']} s -- of {window_cpu:.0f} CPU-s the {os.cpu_count()} cores offer "
          f"(the rest went to other processes or idled); load average {r['load_average_before'][0]} -> "
          f"{r['load_average_after'][0]}")
    wt, pb = r["worker_time"], r["postgres_backends"]
    print(f"gunicorn workers' time ({wt['of_s']} worker-seconds): on a CPU {wt['on_cpu_s']} s, runnable but waiting "
          f"for a CPU {wt['waiting_for_cpu_s']} s, blocked (database round trips, row/audit locks, sockets, idle) "
          f"{wt['blocked_s']} s; PostgreSQL backends: on a CPU {pb['on_cpu_s']} s, waiting for a CPU "
          f"{pb['waiting_for_cpu_s']} s; backend states (sampled every 0.1 s): "
          + ", ".join(f"{k} {v:.0%}" for k, v in pb["state_samples"].items()))
    if r["stuck_threads"]:
        print(f"threads still running at the end: {len(r['stuck_threads'])}")
    if r["errors"] and r["gunicorn_log_tail"]:
        print("gunicorn log tail:\n  " + "\n  ".join(r["gunicorn_log_tail"]))

    profile = None
    if not args.no_profile:
        print(f"\nwhere the time goes: {args.profile_cycles} cycles in-process, one request at a time (Flask test "
              "client, no HTTP), median per request kind; then as many again under cProfile for the shares of "
              "Python time by library (self time; the profiler inflates many small calls):")
        from bench.loadprofile import profile_cycles   # it imports this module's request steps
        profile = profile_cycles(url, args.profile_cycles)
        for kind in KINDS:
            p = profile.get(kind)
            if not p:
                continue
            areas = ", ".join(f"{k} {v:.0%}" for k, v in p["python_share_by_area"].items())
            print(f"  {kind:9} {p['wall_ms']:6} ms wall, {p['app_cpu_ms']} ms CPU in the app; SQL (cursor.execute) "
                  f"{p['sql_ms']} ms in {p['statements']} statements, the rest {p['outside_sql_ms']} ms")
            print(f"            app CPU by library: {areas}")
            print(f"            top (self CPU per request): {'; '.join(p['top_functions'][:4])}")
        per_cycle = profile["app_cpu_ms_per_cycle"] + profile["postgres_cpu_ms_per_cycle"]
        profile["cpu_ms_per_cycle"] = round(per_cycle, 1)
        profile["ceiling_completions_per_s"] = round(os.cpu_count() * 1000 / per_cycle, 1) if per_cycle else None
        print(f"  one cycle (4 requests, no conflict) costs {profile['app_cpu_ms_per_cycle']} ms of app CPU + "
              f"{profile['postgres_cpu_ms_per_cycle']} ms of PostgreSQL CPU = {per_cycle:.1f} ms: {os.cpu_count()} idle "
              f"cores with nothing else to do would top out near {profile['ceiling_completions_per_s']} completions/s "
              "(HTTP and gunicorn not counted, every claim won)")

    p95 = r["latency_ms"].get("all", {}).get("p95")
    met = r["completions_per_s"] >= TARGET_RATE and p95 is not None and p95 < TARGET_P95_MS
    print(f"\ntarget (>= {TARGET_RATE:.0f} completions/s, p95 < {TARGET_P95_MS:.0f} ms): {'met' if met else 'NOT met'} -- "
          f"{r['completions_per_s']}/s, p95 {p95} ms over all requests")
    print(f"total run time {time.perf_counter() - started:.1f} s", flush=True)
    with psycopg.connect(pg_conninfo(url)) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    out = {"bench": "load", **r, "prepare": facts, "profile": profile,
           "target": {"completions_per_s": TARGET_RATE, "p95_ms": TARGET_P95_MS, "met": met},
           "machine": {"cpu_count": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                       "postgresql": server, "python": sys.version.split()[0]}}
    print(json.dumps(out, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
