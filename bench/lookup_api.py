"""bench/lookup_api.py -- what a 逢办必查 look-up costs through the API with 1,000,000 records.

Builds a throwaway database on each engine asked for: PostgreSQL (the server of
BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL, in a database of its own named
`credflow_lookup_bench`, dropped and made again) and SQLite (credflow-lookup-bench.sqlite3 in the
temporary folder). With --reuse, a database of an earlier run holding as many records is kept. Each
gets the schema (Alembic), 250,000 subjects (90% departments with valid unified social credit
codes, 10% civil servants) and 1,000,000 records over them (a quarter published), bulk-loaded:
COPY on PostgreSQL (foreign-key triggers off while loading: the rows are consistent by
construction), one executemany transaction on SQLite; then ANALYZE. A checker with a department
and an API token is made through the services.

Then, through the Flask test client with the bearer token, it times POST /api/v1/lookups -- the
look-up as other systems make it: validated, searched, kept with its snapshot and audited, one
transaction -- by code and by name, for subjects picked at random (seeded), after a warm-up.
It prints p50/p95/p99 (nearest rank) per key and engine, and the time spent inside
`cursor.execute` (the database's share; the rest is Python: Flask, the token, the JSON); the target
is a p95 under 50 ms. The machine's load average is printed too: other processes skew the figures.

    python bench/lookup_api.py [--records 1000000] [--requests 400] [--warmup 30] [--only sqlite|postgresql] [--reuse]

Not part of the test suite (it prints figures, it does not pass or fail).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflows.identifiers import USCC_ALPHABET, _ID_CHECK, _ID_WEIGHTS, _ORG_WEIGHTS, _USCC_WEIGHTS  # noqa: E402

BENCH_DB = "credflow_lookup_bench"
STATUSES = ("published", "expired", "repaired", "published", "archived", "revoked", "published", "sanctioned")
RULE = json.dumps({"title": "信用修复管理办法", "general": [3, 12], "serious": [12, 36]}, ensure_ascii=False)
LOADED_AT = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def uscc(i: int) -> str:
    body = f"11610800{i:08d}"
    total = sum(int(c) * w for c, w in zip(body[8:16], _ORG_WEIGHTS))
    org_check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    first = body + org_check
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first, _USCC_WEIGHTS))
    return first + USCC_ALPHABET[(31 - total % 31) % 31]


def citizen_id(i: int) -> str:
    first = f"61{i:015d}"
    return first + _ID_CHECK[sum(int(c) * w for c, w in zip(first, _ID_WEIGHTS)) % 11]


def subject_rows(count: int):
    at = LOADED_AT.isoformat()
    for i in range(1, count + 1):
        if i % 10 == 0:
            yield i, "civil_servant", f"公务员{i:07d}", citizen_id(i), at
        else:
            yield i, "department", f"某单位{i:07d}", uscc(i), at


def record_rows(count: int, subjects: int):
    at = LOADED_AT.isoformat()
    for i in range(1, count + 1):
        status = STATUSES[i % len(STATUSES)]
        decided = (LOADED_AT - timedelta(days=30 + i % 700)).date()
        yield (i, 1 + (i * 7919) % subjects, "administrative_penalty", "government_procurement",
               ("general", "serious", "minor")[i % 3], f"逾期未支付中小企业账款（第{i}号）。", "《保障中小企业款项支付条例》第八条",
               status, decided.isoformat(), decided.isoformat(), (decided + timedelta(days=365)).isoformat(),
               False, i % 97 == 0, False, "2025", RULE, at, at)


RECORD_COLUMNS = ("id", "subject_id", "source", "field", "severity", "facts", "legal_basis", "status", "decision_date",
                  "publication_start", "publication_max_end", "repair_eligible", "under_objection", "sanctions_lifted",
                  "publication_rule", "rule_snapshot", "created_at", "updated_at")
SUBJECT_COLUMNS = ("id", "kind", "name", "code", "created_at")


def load_postgres(url: str, records: int, subjects: int) -> None:
    import psycopg
    from sqlalchemy.engine import make_url
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET session_replication_role = replica")    # no FK triggers while loading
        with conn.cursor() as cur:
            for table, columns, rows in (("subject", SUBJECT_COLUMNS, subject_rows(subjects)),
                                         ("record", RECORD_COLUMNS, record_rows(records, subjects))):
                with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cur.execute("SELECT setval('subject_id_seq', %s), setval('record_id_seq', %s)", (subjects, records))
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE subject")
        conn.execute("VACUUM ANALYZE record")


def load_sqlite(path: Path, records: int, subjects: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(f"INSERT INTO subject ({', '.join(SUBJECT_COLUMNS)}) VALUES ({', '.join('?' * len(SUBJECT_COLUMNS))})",
                         ((i, k, n, c, at.replace("T", " ").replace("+00:00", "")) for i, k, n, c, at in subject_rows(subjects)))
        conn.executemany(f"INSERT INTO record ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})",
                         (r[:-2] + (r[-2].replace("T", " ").replace("+00:00", ""),) * 2 for r in record_rows(records, subjects)))
    conn.execute("ANALYZE")
    conn.close()


def existing_postgres(url: str, records: int) -> bool:
    """The bench database of an earlier run, with this many records (--reuse)."""
    import psycopg
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM record").fetchone()[0] == records
    except psycopg.Error:
        return False


def make_database(engine: str, records: int, subjects: int, folder: Path, reuse: bool = False) -> str:
    from workflows.migrations import upgrade_database
    if engine == "sqlite":
        path = folder / "credflow-lookup-bench.sqlite3"
        url = f"sqlite:///{path}"
        if reuse and path.exists():
            with sqlite3.connect(path) as conn:
                if conn.execute("SELECT count(*) FROM record").fetchone()[0] == records:
                    return url
        for stale in folder.glob("credflow-lookup-bench.sqlite3*"):
            stale.unlink()
        upgrade_database(url)
        load_sqlite(path, records, subjects)
        return url
    import psycopg
    from sqlalchemy.engine import make_url
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        raise SystemExit("no PostgreSQL URL: set BENCH_DATABASE_URL or TEST_DATABASE_URL (the server is used, "
                         f"in a database of its own named {BENCH_DB})")
    u = make_url(base)
    if u.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a database on {u.host}: the benchmark runs against this machine only")
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = u.set(drivername="postgresql", database=BENCH_DB).render_as_string(hide_password=False)
    if reuse and existing_postgres(url, records):
        return url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    upgrade_database(url)
    load_postgres(url, records, subjects)
    return url


def make_checker(url: str) -> str:
    from workflows.accounts import create_api_token, create_user
    from workflows.clock import FixedClock
    from workflows.db import make_engine, make_session_factory
    from workflows.runtime import Actor, UnitOfWork
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine), Actor.system("bench"), FixedClock(LOADED_AT)) as uow:
        from sqlalchemy import select
        from workflows.models import User
        user = uow.session.scalar(select(User).where(User.username == "checker")) \
            or create_user(uow, "checker", "bench-password-1", "查询员", ["checker"])
        user.department_id = 1
        token = create_api_token(uow, user.id, "bench")
        uow.commit()
    engine.dispose()
    return token


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))]


def time_lookups(url: str, token: str, subjects: int, requests: int, warmup: int) -> dict:
    from webapp import create_app
    from workflows.clock import FixedClock
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-lookups", "CLOCK": FixedClock(LOADED_AT)})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    from sqlalchemy import event
    engine, sql = app.extensions["credflow.session_factory"].kw["bind"], {"ms": 0.0, "n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["lookup_bench_t"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        sql["ms"] += (time.perf_counter() - conn.info.pop("lookup_bench_t")) * 1000
        sql["n"] += 1
    rng = random.Random(18)
    results, hits = {}, {}
    for key in ("code", "name"):
        times, found, sql_times, statements = [], 0, [], 0
        for n in range(warmup + requests):
            i = rng.randrange(1, subjects + 1)
            while i % 10 == 0:          # departments (codes are USCCs)
                i = rng.randrange(1, subjects + 1)
            value = uscc(i) if key == "code" else f"某单位{i:07d}"
            body = {"key_kind": key, "value": value, "deal_kind": "procurement", "deal_ref": f"CG-{key}-{n}"}
            sql.update(ms=0.0, n=0)
            started = time.perf_counter()
            response = client.post("/api/v1/lookups", json=body, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 201:
                raise SystemExit(f"{key} look-up answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
            if n >= warmup:
                times.append(elapsed)
                sql_times.append(sql["ms"])
                statements = sql["n"]
                found += response.get_json()["hit"]
        results[key] = {p: round(percentile(times, v), 2) for p, v in (("p50", 50), ("p95", 95), ("p99", 99))}
        results[key].update({f"sql_{p}": round(percentile(sql_times, v), 2) for p, v in (("p50", 50), ("p95", 95))},
                            statements=statements)
        hits[key] = found
    app.extensions["credflow.session_factory"].kw["bind"].dispose()
    return {"results": results, "hits": hits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--reuse", action="store_true", help="keep the databases of an earlier run when they "
                                                              "hold as many records")
    args = parser.parse_args()
    subjects = max(10, args.records // 4)
    os.environ.setdefault("CREDFLOW_INSTANCE", tempfile.mkdtemp(prefix="credflow-lookup-bench-"))
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    folder = Path(tempfile.gettempdir())      # the SQLite file: kept for --reuse
    summary = {}
    for engine in ("postgresql", "sqlite"):
        if args.only and engine != args.only:
            continue
        started = time.perf_counter()
        url = make_database(engine, args.records, subjects, folder, args.reuse)
        loaded = time.perf_counter() - started
        token = make_checker(url)
        how = "reused" if args.reuse and loaded < 10 else f"loaded in {loaded:.1f} s"
        print(f"{engine}: {args.records:,} records over {subjects:,} subjects {how}", flush=True)
        figures = time_lookups(url, token, subjects, args.requests, args.warmup)
        for key, r in figures["results"].items():
            verdict = "ok" if r["p95"] < 50 else "OVER the 50 ms target"
            print(f"  POST /api/v1/lookups by {key:4}: p50 {r['p50']:6.2f} ms  p95 {r['p95']:6.2f} ms  "
                  f"p99 {r['p99']:6.2f} ms  (in SQL: p50 {r['sql_p50']:.2f}, p95 {r['sql_p95']:.2f} ms, "
                  f"{r['statements']} statements; {args.requests} timed after {args.warmup} warm-up; "
                  f"{figures['hits'][key]} hits) {verdict}", flush=True)
        summary[engine] = {"load_s": round(loaded, 1), **figures}
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other processes skew the figures)")
    print(json.dumps({"records": args.records, "subjects": subjects, **summary}))


if __name__ == "__main__":
    main()
