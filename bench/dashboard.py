"""bench/dashboard.py -- what each dashboard query costs with 1,000,000 records.

Builds a throwaway database on each engine asked for: PostgreSQL (the server of
BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL, in a database of its own named
`credflow_dashboard_bench`, dropped and made again) and SQLite (credflow-dashboard-bench.sqlite3 in
the temporary folder). With --reuse, a database of an earlier run holding as many records is kept.
Each gets the schema (Alembic), 10,000 subjects (2,000 departments, 8,000 civil servants each of
a department), 1,000,000 records captured over three years (7 fields, 3 severities), a sanction
decision for 60% of them (issued 0-45 days after capture), 50,000 objections, self-correction
requests and repair applications, and 20,000 open steps (a third claimed, half overdue),
bulk-loaded as bench/lookup_api.py does (COPY on PostgreSQL, executemany on SQLite); then ANALYZE.

Then it times each query of workflows/dashboard (the figures of every chart, as the page runs
them) for a few viewers and filters: the leader's default view (the last twelve months), the
whole three years, one department, one field, and a department's own account. It prints the
median and p95 (nearest rank) of each query over --runs runs after one warm-up; the target is
under 300 ms each.

    python bench/dashboard.py [--records 1000000] [--runs 9] [--only sqlite|postgresql] [--reuse]

Not part of the test suite (it prints figures, it does not pass or fail).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lookup_api import citizen_id, percentile, uscc  # noqa: E402

BENCH_DB = "credflow_dashboard_bench"
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
DEPARTMENTS, PEOPLE = 2_000, 8_000
FIELDS = ("government_procurement", "ppp", "bidding", "investment_promotion", "government_debt",
          "township_commitment", "other")
STATUSES = ("published", "expired", "repaired", "published", "archived", "revoked", "published", "sanctioned",
            "under_review", "confirmed")
RULE = json.dumps({"title": "信用修复管理办法", "general": [3, 12], "serious": [12, 36]}, ensure_ascii=False)
OUTCOMES = {"objection": ("refused", "correct", "revoke", "keep", None), "self_correction": ("lighter", "exempt", None),
            "credit_repair": ("approved", "refused", "lapsed", None)}
APPLICATIONS, STEPS = 50_000, 20_000
STEP_NAMES = (("record_lifecycle", "legality_review", "合法性审核", "reviewer"),
              ("record_lifecycle", "leader_approval", "领导审批", "leader"),
              ("objection", "verification", "核查", "reviewer"), ("credit_repair", "completeness_check", "材料审查", "clerk"))


def ts(at: datetime) -> str:
    return at.isoformat()


def captured(i: int) -> datetime:
    return NOW - timedelta(days=i % 1095, seconds=(i * 7919) % 86400)


def subject_rows(count: int):
    at = ts(NOW)
    for i in range(1, DEPARTMENTS + PEOPLE + 1):
        if i <= DEPARTMENTS:
            yield i, "department", f"某单位{i:05d}", uscc(i), None, at
        else:
            yield i, "civil_servant", f"公务员{i:05d}", citizen_id(i), 1 + i % DEPARTMENTS, at


def record_rows(count: int):
    for i in range(1, count + 1):
        at = captured(i)
        status = STATUSES[i % len(STATUSES)]
        notified = None if status == "under_review" else ts(at + timedelta(days=1))
        yield (i, 1 + (i * 7919) % (DEPARTMENTS + PEOPLE), "administrative_penalty", FIELDS[i % 7],
               ("general", "serious", "minor")[i % 3], f"逾期未支付中小企业账款（第{i}号）。", status,
               at.date().isoformat(), False, i % 97 == 0, False, "2025", RULE, ts(at), ts(at), notified)


def document_rows(count: int):
    for i in range(1, count + 1):
        if i % 5 >= 3:
            continue
        issued = captured(i) + timedelta(days=i % 46, hours=i % 24)
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        yield (i, "sanction", issued.year, i, f"榆信惩决〔{issued.year}〕{i}号", "处理决定书", f"V{i:012d}", i, b"",
               digest, "{}", "leader", ts(issued))


def case_rows(count: int):
    kinds = tuple(OUTCOMES)
    yield 1, 1, "record_lifecycle", None, "running", "{}", 1, "bench", ts(NOW), ts(NOW), None
    for n in range(2, APPLICATIONS + 2):
        kind = kinds[n % 3]
        outcome = OUTCOMES[kind][n % len(OUTCOMES[kind])]
        filed = captured(n * 13) + timedelta(days=20)
        yield (n, 1, kind, 1 + (n * 13) % count, "running" if outcome is None else "completed", "{}", 1, "bench",
               ts(filed), ts(filed), outcome)


def task_rows(count: int):
    for n in range(1, STEPS + 1):
        process, bpmn_id, name, lane = STEP_NAMES[n % len(STEP_NAMES)]
        record = 1 + (n * 31) % count
        started = captured(record) + timedelta(days=1)
        due = started + timedelta(days=10) if n % 2 else NOW + timedelta(days=n % 10 + 1)
        yield (n, 1, f"t{n}", bpmn_id, name, process, lane, (2 + n % 5) if n % 3 == 0 else None, ts(due), record,
               ts(started), "task")


TABLES = (
    ("subject", ("id", "kind", "name", "code", "department_id", "created_at"), subject_rows),
    ("record", ("id", "subject_id", "source", "field", "severity", "facts", "status", "decision_date", "repair_eligible",
                "under_objection", "sanctions_lifted", "publication_rule", "rule_snapshot", "created_at", "updated_at",
                "notified_at"), record_rows),
    ("document", ("id", "kind", "year", "serial", "number", "title", "verification_code", "record_id", "pdf", "sha256",
                  "source_data", "issued_by", "issued_at"), document_rows),
    ("process_definition", ("id", "key", "name", "version", "sha256", "bpmn_files", "dmn_files", "forms", "deployed_by",
                            "deployed_at"), lambda count: [(1, "record_lifecycle", "bench", 1, "0" * 64, "{}", "{}", "{}",
                                                            "bench", ts(NOW))]),
    ("case", ("id", "definition_id", "process_key", "record_id", "status", "state", "version", "started_by",
              "created_at", "updated_at", "outcome"), case_rows),
    ("user_account", ("id", "username", "display_name", "password_hash", "active", "created_at"),
     lambda count: [(n, f"staff{n}", f"办理人{n}", "x", True, ts(NOW)) for n in range(1, 8)]),
    ("human_task", ("id", "case_id", "task_id", "bpmn_id", "name", "process_key", "lane", "assignee_id", "due_at",
                    "record_id", "created_at", "kind"), task_rows),
)
SEQUENCES = {"subject": DEPARTMENTS + PEOPLE, "case": APPLICATIONS + 1, "human_task": STEPS, "user_account": 7}


def load_postgres(url: str, records: int) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET session_replication_role = replica")    # no FK triggers while loading
        with conn.cursor() as cur:
            for table, columns, rows in TABLES:
                with cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows(records):
                        copy.write_row(row)
            for table, last in {**SEQUENCES, "record": records, "document": records}.items():
                cur.execute(f"SELECT setval('{table}_id_seq', %s)", (last,))
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for table, _, _ in TABLES:
            conn.execute(f'VACUUM ANALYZE "{table}"')


def load_sqlite(path: Path, records: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")

    def fix(value):      # SQLite keeps naive UTC text: what UTCDateTime writes
        if isinstance(value, str) and len(value) >= 25 and value[10] == "T" and value.endswith("+00:00"):
            return value[:-6].replace("T", " ") + ("" if "." in value else ".000000")
        return value
    with conn:
        for table, columns, rows in TABLES:
            conn.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})',
                             (tuple(fix(v) for v in row) for row in rows(records)))
    conn.execute("ANALYZE")
    conn.close()


def make_database(engine: str, records: int, folder: Path, reuse: bool) -> str:
    from workflows.migrations import upgrade_database
    if engine == "sqlite":
        path = folder / "credflow-dashboard-bench.sqlite3"
        if reuse and path.exists():
            with sqlite3.connect(path) as conn:
                if conn.execute("SELECT count(*) FROM record").fetchone()[0] == records:
                    return f"sqlite:///{path}"
        for stale in folder.glob("credflow-dashboard-bench.sqlite3*"):
            stale.unlink()
        upgrade_database(f"sqlite:///{path}")
        load_sqlite(path, records)
        return f"sqlite:///{path}"
    import psycopg
    from sqlalchemy.engine import make_url
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        raise SystemExit(f"no PostgreSQL URL: set BENCH_DATABASE_URL or TEST_DATABASE_URL (database {BENCH_DB} is made)")
    u = make_url(base)
    if u.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a database on {u.host}: the benchmark runs against this machine only")
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = u.set(drivername="postgresql", database=BENCH_DB).render_as_string(hide_password=False)
    if reuse:
        try:
            with psycopg.connect(url) as conn:
                if conn.execute("SELECT count(*) FROM record").fetchone()[0] == records:
                    return url
        except psycopg.Error:
            pass
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    upgrade_database(url)
    load_postgres(url, records)
    return url


def views(session):
    """(name, actor, query string) of the views timed."""
    from workflows.runtime import Actor
    leader = Actor("leader", 1, frozenset({"leader"}))
    department = Actor("dept", 2, frozenset({"subject"}), subject_id=7)
    return [("leader, last 12 months", leader, {}),
            ("leader, three years", leader, {"from": "2023-11-01", "to": "2026-11-20"}),
            ("leader, one department", leader, {"department": "7"}),
            ("leader, one field", leader, {"field": "bidding"}),
            ("department account", department, {})]


def queries(session, scope, filters):
    from workflows.dashboard import figures
    return {
        "records by department": lambda: figures.records_by_department(session, filters, scope),
        "records by field, severity, month": lambda: figures.records_by(session, filters, scope),
        "steps by step": lambda: figures.steps_by_step(session, filters, scope, NOW),
        "steps by person": lambda: figures.steps_by_person(session, filters, scope, NOW),
        "open cases": lambda: figures.open_cases(session, filters, scope),
        "applications by outcome": lambda: figures.applications_by_outcome(session, filters, scope),
        "capture to decision": lambda: figures.decision_times(session, filters, scope),
    }


def time_queries(url: str, runs: int) -> dict:
    from workflows.clock import CST
    from workflows.dashboard.filters import parse_filters
    from workflows.dashboard.scope import scope_of
    from workflows.db import make_engine, make_session_factory
    engine = make_engine(url)
    factory = make_session_factory(engine)
    results = {}
    with factory() as session:
        from workflows.models import User
        if session.get(User, 2) is not None:
            session.get(User, 2).subject_id = 7      # staff2 stands for department 7's own account
            session.commit()
        for name, actor, args in views(session):
            scope = scope_of(session, actor)
            filters = parse_filters(session, scope, args, NOW.astimezone(CST).date())
            results[name] = {}
            for query, run in queries(session, scope, filters).items():
                run()          # warm-up
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    run()
                    times.append((time.perf_counter() - started) * 1000)
                results[name][query] = (round(percentile(times, 50), 1), round(percentile(times, 95), 1))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--reuse", action="store_true", help="keep the databases of an earlier run when they hold "
                                                              "as many records")
    args = parser.parse_args()
    os.environ.setdefault("CREDFLOW_INSTANCE", tempfile.mkdtemp(prefix="credflow-dashboard-bench-"))
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    summary = {}
    for engine in ("postgresql", "sqlite"):
        if args.only and engine != args.only:
            continue
        started = time.perf_counter()
        url = make_database(engine, args.records, Path(tempfile.gettempdir()), args.reuse)
        print(f"{engine}: {args.records:,} records ready in {time.perf_counter() - started:.1f} s", flush=True)
        results = time_queries(url, args.runs)
        worst = 0.0
        for view, timed in results.items():
            print(f"  {view}:")
            for query, (p50, p95) in timed.items():
                worst = max(worst, p95)
                print(f"    {query:33} median {p50:7.1f} ms   p95 {p95:7.1f} ms{'' if p95 < 300 else '   OVER 300 ms'}")
        print(f"  worst p95 {worst:.1f} ms ({'under' if worst < 300 else 'OVER'} the 300 ms target)", flush=True)
        summary[engine] = results
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other processes skew the figures)")
    print(json.dumps({"records": args.records, **summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
