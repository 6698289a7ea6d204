"""bench/inbox.py -- what the task inbox costs on PostgreSQL with a large database.

Loads (once; reruns reuse the data when it is already there at the right size) 1,000,000 records
over 4,000 subjects and 100,000 open human tasks (each with a cheap case row) spread over the
clerk, reviewer and leader lanes, about 30% of them claimed by one of 50 users per lane, due dates
spread +-30 days around the load time, with INSERT ... SELECT generate_series (foreign-key triggers
off while loading: the rows are consistent by construction), then VACUUM ANALYZE. The app's clock
is fixed at the load time, so reruns on another day see the same overdue share. Then, through the
Flask test client, logged in as a reviewer (by posting the login form with the CSRF token taken
from the login page), it times the /inbox page:

- the group tab, first page and a deep page (page min(1000, last full page) of 25-row pages);
- the group tab filtered by severity, field and part of a subject's name;
- the mine tab; the default tab with ?overdue=1; the group tab with ?overdue=1.

Each scenario: 10 warm-up requests, then 200 timed requests; the time is the wall time of
`client.get()` (the test client has no network: routing, the queries, template rendering), and
separately the time spent in `cursor.execute` of the statements. Median and p95 (nearest rank).
Then it prints `EXPLAIN (ANALYZE, BUFFERS)` of every statement one request of each scenario runs
(captured with a `before_cursor_execute` listener, explained with the same parameters) and
whether each used an index scan (and how many rows it sorted). The target is a p95 of at most 50 ms.
A database whose schema differs from the models (an older revision of the migration) is rebuilt.
The last line is one JSON object with every figure.

The database comes from BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/credflow_bench);
its name must contain "bench" because loading truncates every table.

    python bench/inbox.py [--reload] [--quick] [--repeat 200] [--warmup 10]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.benchdb import (create_database_if_missing, drop_schema, pg_conninfo,  # noqa: E402
                          refuse_unless_bench, schema_problems)
from workflows.accounts import hash_password  # noqa: E402
from workflows.clock import FixedClock  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.models import Base  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/credflow_bench"
TARGET_P95_MS = 50.0
PER_PAGE = 25
PASSWORD = "bench-inbox"
MARKER = "bench/inbox.py"   # process_definition.deployed_by of the loaded data set

FULL = {"subjects": 4000, "records": 1_000_000, "tasks": 100_000, "users_per_lane": 50}
QUICK = {"subjects": 1000, "records": 100_000, "tasks": 10_000, "users_per_lane": 50}
LANES = ("clerk", "reviewer", "leader")
LOGIN_AS = "reviewer01"
SUBJECT_FILTER = "延安"     # a city: about 3% of subjects (departments of that city) carry it


def ensure_schema(url: str) -> None:
    upgrade_database(url)
    problems = schema_problems(url)
    if problems:
        # A bench database whose schema came from an older revision of the same migration: start over.
        print("the schema differs from the models (" + "; ".join(problems) + "): recreating it", flush=True)
        drop_schema(url)
        upgrade_database(url)
        problems = schema_problems(url)
        if problems:
            raise SystemExit("schema still differs from the models: " + "; ".join(problems))


# -- loading -----------------------------------------------------------------------------------

def loaded_size(conn) -> dict | None:
    row = conn.execute("SELECT deployed_by, deployed_at FROM process_definition WHERE id = 1").fetchone()
    if row is None or row[0] != MARKER:
        return None
    counts = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
              for t in ("subject", "record", "case", "human_task", "user_account")}
    return {"anchor": row[1], **counts}


FILL = {"boolean": "false", "integer": "0", "bigint": "0", "smallint": "0", "numeric": "0",
        "character varying": "''", "text": "''", "json": "'{}'::json", "jsonb": "'{}'::jsonb",
        "timestamp with time zone": "%(now)s", "date": "%(now)s::date"}


def load(conn, size: dict, anchor: datetime) -> dict:
    """Truncate everything and load the data set; returns seconds per step."""
    steps = {}
    p = {"now": anchor, "n_s": size["subjects"], "n_r": size["records"], "n_t": size["tasks"],
         "n_u": size["users_per_lane"], "step": size["records"] // size["tasks"], "pw": hash_password(PASSWORD)}

    def insert(table: str, columns: str, source: str, params=p):
        """INSERT INTO table (columns) SELECT ... FROM (source): NOT NULL columns without a default that the
        bench does not name (added to the schema since) get a plain value of their type."""
        named = [c.strip() for c in columns.split(",")]
        required = conn.execute("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO'
              AND column_default IS NULL ORDER BY ordinal_position""", (table,)).fetchall()
        extra = [(c, t) for c, t in required if c not in named]
        unknown = [f"{c} ({t})" for c, t in extra if t not in FILL]
        if unknown:
            raise SystemExit(f"{table}: required columns the bench cannot fill: {', '.join(unknown)}")
        if extra:
            print(f"  ({table}: filling {', '.join(f'{c}={FILL[t]}' for c, t in extra)})", flush=True)
        statement = (f"INSERT INTO {sql.Identifier(table).as_string(conn)} "
                     f"({', '.join(named + [c for c, _ in extra])}) "
                     f"SELECT q.*{''.join(', ' + FILL[t] for _, t in extra)} FROM ({source}) AS q")
        t0 = time.perf_counter()
        conn.execute(statement, params)
        steps[table] = round(time.perf_counter() - t0, 2)
        print(f"  {table}: {steps[table]} s", flush=True)

    t0 = time.perf_counter()
    tables = sql.SQL(", ").join(sql.Identifier(t.name) for t in Base.metadata.sorted_tables)
    conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
    steps["truncate"] = round(time.perf_counter() - t0, 2)
    print(f"  truncate: {steps['truncate']} s", flush=True)
    # The rows are consistent by construction: skip the per-row foreign-key triggers while loading.
    conn.execute("SET session_replication_role = replica")
    conn.execute("SELECT setseed(0.4242)")
    insert("process_definition", "id, key, name, version, sha256, bpmn_files, dmn_files, forms, deployed_by, deployed_at",
           "SELECT 1, 'record_lifecycle', 'bench', 1, repeat('0', 64), '{}'::json, '{}'::json, '{}'::json, "
           "%(marker)s::varchar, %(now)s::timestamptz", {**p, "marker": MARKER})
    insert("user_account", "id, username, display_name, password_hash, subject_id, active, created_at", """
        SELECT 1 + (o - 1) * %(n_u)s + k, lane || lpad((k + 1)::text, 2, '0'), lane || ' ' || (k + 1),
               %(pw)s::varchar, NULL::int, true, %(now)s::timestamptz
        FROM unnest(ARRAY['clerk', 'reviewer', 'leader']) WITH ORDINALITY AS lanes(lane, o),
             generate_series(0, %(n_u)s - 1) AS k""")
    insert("user_role", "user_id, role", "SELECT id, regexp_replace(username, '[0-9]+$', '') FROM user_account",
           None)
    insert("subject", "id, kind, name, code, department_id, created_at", """
        SELECT i,
               CASE WHEN i %% 10 < 3 THEN 'department' ELSE 'civil_servant' END,
               CASE WHEN i %% 10 < 3 THEN
                   (ARRAY['榆林','延安','西安','宝鸡','咸阳','渭南','汉中','安康','商洛','铜川'])[1 + (i / 10) %% 10]
                   || '市' || (ARRAY['','某区','某县'])[1 + (i / 100) %% 3]
                   || (ARRAY['住房和城乡建设局','招商服务中心','财政局','交通运输局','自然资源局','水利局',
                             '农业农村局','教育局','卫生健康委员会','市场监督管理局','人民政府办公室',
                             '发展和改革委员会','生态环境局','工业和信息化局','商务局'])[1 + (i / 300) %% 15]
               ELSE
                   (ARRAY['王','李','张','刘','陈','杨','赵','黄','周','吴','徐','孙','胡','朱','高','林',
                          '何','郭','马','罗'])[1 + (i / 10) %% 20]
                   || (ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明',
                             '超','秀英','霞','平','刚','桂英'])[1 + (i / 200) %% 22] || '某'
               END,
               CASE WHEN i %% 10 < 3 THEN '1161' ELSE '6108' END || lpad(i::text, 14, '0'),
               NULL::int, %(now)s::timestamptz - (i %% 3000) * interval '1 hour'
        FROM generate_series(1, %(n_s)s) AS i""")
    insert("record", "id, subject_id, source, field, severity, facts, legal_basis, status, decision_date, "
                     "publication_start, publication_min_end, publication_max_end, publication_end, "
                     "repair_eligible, under_objection, sanctions, publication_rule, rule_snapshot, "
                     "created_by_id, created_at, updated_at", """
        SELECT i, 1 + floor(random() * %(n_s)s)::int,
               (ARRAY['administrative_penalty','court_judgment','audit_finding','inspection'])[1 + floor(random() * 4)::int],
               (ARRAY['government_procurement','ppp','bidding','investment_promotion','government_debt',
                      'township_commitment','other'])[1 + floor(random() * 7)::int],
               (ARRAY['minor','general','serious'])[1 + floor(random() * 3)::int],
               '基准测试记录 ' || i || ' 的失信事实', '《政府采购法》第七十七条',
               (ARRAY['draft','under_review','returned','rejected','confirmed','sanctioned','published',
                      'corrected','revoked','repaired','expired','archived'])[1 + floor(random() * 12)::int],
               d, d + 10, d + 190, d + 1100, NULL::date, random() < 0.2, false, NULL::json,
               '2019', '{"code": "2019"}'::json, NULL::int, c, c
        FROM (SELECT i, (%(now)s::timestamptz::date - floor(random() * 1500)::int) AS d,
                     %(now)s::timestamptz - random() * interval '1500 days' AS c
              FROM generate_series(1, %(n_r)s) AS i) AS g""")
    insert("case", "id, definition_id, process_key, record_id, parent_case_id, status, state, version, "
                   "next_due_at, error, started_by, created_at, updated_at, completed_at", """
        SELECT t, 1, 'record_lifecycle', t * %(step)s, NULL::int, 'running', '{}', 1, NULL::timestamptz, NULL::text,
               'bench', %(now)s::timestamptz, %(now)s::timestamptz, NULL::timestamptz
        FROM generate_series(1, %(n_t)s) AS t""")
    insert("human_task", "id, case_id, task_id, bpmn_id, name, process_key, lane, form_key, assignee_id, "
                         "claimed_at, due_at, record_id, subject_id, subject_name, field, severity, created_at", """
        SELECT g.t, g.t, gen_random_uuid()::text, g.bpmn_id,
               CASE g.bpmn_id WHEN 'capture' THEN '录入失信记录' WHEN 'legality_review' THEN '合法性审核'
                              WHEN 'final_review' THEN '最终审核' ELSE '领导审批' END,
               'record_lifecycle', g.lane, g.bpmn_id || '.json',
               CASE WHEN g.claimed THEN 1 + g.l * %(n_u)s + g.who END,
               CASE WHEN g.claimed THEN g.created + interval '1 hour' END,
               %(now)s::timestamptz + (random() * 60 - 30) * interval '1 day',
               r.id, s.id, s.name, r.field, r.severity, g.created
        FROM (SELECT t, t %% 3 AS l, (ARRAY['clerk','reviewer','leader'])[1 + t %% 3] AS lane,
                     CASE t %% 3 WHEN 0 THEN 'capture' WHEN 1 THEN
                          (ARRAY['legality_review','final_review'])[1 + floor(random() * 2)::int]
                          ELSE 'leader_approval' END AS bpmn_id,
                     random() < 0.3 AS claimed, floor(random() * %(n_u)s)::int AS who,
                     %(now)s::timestamptz - random() * interval '30 days' AS created
              FROM generate_series(1, %(n_t)s) AS t) AS g
        JOIN record AS r ON r.id = g.t * %(step)s
        JOIN subject AS s ON s.id = r.subject_id""")
    conn.execute("SET session_replication_role = DEFAULT")
    for table in ("process_definition", "user_account", "subject", "record", "case", "human_task"):
        conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))")
                     .format(t=sql.Literal(f'"{table}"' if table == "case" else table), i=sql.Identifier(table)))
    t0 = time.perf_counter()
    conn.commit()
    steps["commit"] = round(time.perf_counter() - t0, 2)
    return steps


def prepare_data(url: str, size: dict, reload: bool) -> tuple[datetime, dict | None, dict]:
    """The data set's anchor time, the load figures (None when reused) and the row counts."""
    with psycopg.connect(pg_conninfo(url)) as conn:
        have = loaded_size(conn)
        conn.rollback()
        want = {"subject": size["subjects"], "record": size["records"], "case": size["tasks"],
                "human_task": size["tasks"], "user_account": size["users_per_lane"] * len(LANES)}
        if have and not reload and all(have[k] == v for k, v in want.items()):
            print(f"reusing the loaded data set (anchor {have['anchor'].isoformat()}); --reload forces a reload",
                  flush=True)
            return have["anchor"], None, {k: have[k] for k in want}
        anchor = datetime.now(timezone.utc).replace(microsecond=0)
        print(f"loading {size['records']:,} records, {size['tasks']:,} tasks ...", flush=True)
        t0 = time.perf_counter()
        steps = load(conn, size, anchor)
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        t1 = time.perf_counter()
        conn.execute('VACUUM (ANALYZE) subject, record, "case", human_task, user_account, user_role, process_definition')
        steps["vacuum_analyze"] = round(time.perf_counter() - t1, 2)
        print(f"  vacuum_analyze: {steps['vacuum_analyze']} s", flush=True)
        have = loaded_size(conn)
    total = round(time.perf_counter() - t0, 2)
    print(f"load time: {total} s", flush=True)
    return anchor, {"load_s": total, "steps_s": steps}, {k: have[k] for k in want}


# -- measuring ---------------------------------------------------------------------------------

class SqlRecorder:
    """Times cursor executions; while `capturing`, keeps the statements with their parameters."""

    def __init__(self, engine):
        self.seconds = 0.0
        self.statements = 0
        self.capturing = False
        self.captured: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        if self.capturing:
            self.captured.append((statement, parameters))
        conn.info["bench_t0"] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - conn.info.pop("bench_t0")
        self.statements += 1


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fig(seconds: float) -> float:
    return round(seconds * 1000, 2)


def page_facts(html: str, tab: str) -> dict:
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r'data-count="(\w+)">(\d+)<', html)}
    active = re.search(r'nav-link active" href="[^"]*" data-tab="(\w+)"', html)
    return {"tab": active.group(1) if active else tab, "rows": html.count("data-task-row="), "counts": counts}


def login(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": LOGIN_AS, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login as {LOGIN_AS} failed: HTTP {response.status_code}")
    return "posted the login form (CSRF token parsed from /login)"


def time_scenario(client, recorder: SqlRecorder, url: str, warmup: int, repeat: int) -> dict:
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    wall, db, statements = [], [], 0
    for _ in range(repeat):
        recorder.seconds, recorder.statements = 0.0, 0
        t0 = time.perf_counter()
        response = client.get(url)
        wall.append(time.perf_counter() - t0)
        db.append(recorder.seconds)
        statements = recorder.statements
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
    return {"median_ms": fig(statistics.median(wall)), "p95_ms": fig(percentile(wall, 0.95)),
            "max_ms": fig(max(wall)), "sql_median_ms": fig(statistics.median(db)),
            "sql_p95_ms": fig(percentile(db, 0.95)), "sql_statements": statements,
            **page_facts(response.get_data(as_text=True), url)}


def explain(conn, statement: str, parameters) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) as text to print, and once more as JSON to tell what the plan did."""
    plan = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()]
    tree = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).fetchone()[0][0]
    conn.rollback()
    indexes, seq, sorted_rows = set(), set(), 0

    def walk(node):
        nonlocal sorted_rows
        kind = node["Node Type"]
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if kind == "Seq Scan":
            seq.add(node["Relation Name"])
        children = node.get("Plans", [])
        if kind in ("Sort", "Incremental Sort") and children:
            child = children[0]
            sorted_rows += int(child["Actual Rows"] * child["Actual Loops"])
        for c in children:
            walk(c)
    walk(tree["Plan"])
    text = "\n".join(plan)
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    planning = re.search(r"Planning Time: ([\d.]+) ms", text)
    return {"plan": plan, "index_scan": bool(indexes), "indexes": sorted(indexes), "seq_scans": sorted(seq),
            "sorted_rows": sorted_rows, "execution_ms": float(execution.group(1)) if execution else None,
            "planning_ms": float(planning.group(1)) if planning else None}


def one_line(statement: str) -> str:
    s = " ".join(statement.split())
    s = re.sub(r"SELECT .*? FROM", "SELECT ... FROM", s, count=1)
    return s if len(s) <= 230 else s[:227] + "..."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reload", action="store_true", help="reload the data set even when it is there")
    parser.add_argument("--quick", action="store_true", help="100,000 records / 10,000 tasks")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    refuse_unless_bench(url, "truncates every table")
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    create_database_if_missing(url)
    ensure_schema(url)
    anchor, load_figures, counts = prepare_data(url, size, args.reload)

    os.environ.setdefault("CREDFLOW_INSTANCE", tempfile.mkdtemp(prefix="credflow-bench-"))
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from webapp import create_app
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-inbox", "CLOCK": FixedClock(anchor)})
    engine = app.extensions["credflow.session_factory"].kw["bind"]
    recorder = SqlRecorder(engine)
    client = app.test_client()
    how = login(client)
    print(f"logged in as {LOGIN_AS} (reviewer): {how}; clock fixed at the load time {anchor.isoformat()}", flush=True)

    group = page_facts(client.get("/inbox?tab=group").get_data(as_text=True), "group")["counts"]["group"]
    last_page = max(1, -(-group // PER_PAGE))
    deep = max(1, min(1000, group // PER_PAGE))  # a deep page that is full (25 rows)
    scenarios = {
        "group_first": "/inbox?tab=group",
        "group_deep": f"/inbox?tab=group&page={deep}",
        "group_filtered": f"/inbox?tab=group&severity=serious&field=bidding&subject={SUBJECT_FILTER}",
        "mine": "/inbox?tab=mine",
        "overdue": "/inbox?overdue=1",
        "group_overdue": "/inbox?tab=group&overdue=1",
    }
    print(f"group tab of {LOGIN_AS}: {group} tasks, {last_page} pages of {PER_PAGE}; deep page = {deep}", flush=True)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other processes skew the figures)")
    print(f"\n{args.warmup} warm-up + {args.repeat} timed requests per scenario (wall time of client.get; "
          f"SQL = time inside cursor.execute):", flush=True)
    results = {}
    for key, path in scenarios.items():
        r = time_scenario(client, recorder, path, args.warmup, args.repeat)
        r["url"] = path
        results[key] = r
        print(f"  {key:15} median {r['median_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  "
              f"(SQL median {r['sql_median_ms']:6.2f}, p95 {r['sql_p95_ms']:6.2f} ms, {r['sql_statements']} stmts)  "
              f"{path}  [tab {r['tab']}, {r['rows']} rows, counts {r['counts']}]", flush=True)

    print("\nquery plans (EXPLAIN (ANALYZE, BUFFERS) of the statements one request runs, same parameters; full plans "
          "for human_task, one line for the rest: user_account, user_role, workday_override and calendar_year hold at "
          "most a few hundred rows, where a seq scan is the planner's right choice). The app's statements are planned "
          "with their parameters too: psycopg would prepare a statement on its 6th execution on a connection, but it "
          "empties its prepare cache on every rollback, and each request's session ends with one.")
    with psycopg.connect(pg_conninfo(url)) as conn:
        for key, path in scenarios.items():
            recorder.captured.clear()
            recorder.capturing = True
            client.get(path)
            recorder.capturing = False
            print(f"\n== {key}: {path}")
            plans = []
            for statement, parameters in recorder.captured:
                e = explain(conn, statement, parameters)
                on_tasks = "human_task" in statement
                verdict = ("index scan: " + ", ".join(e["indexes"])) if e["index_scan"] else "NO index scan"
                if e["seq_scans"]:
                    verdict += "; seq scan on " + ", ".join(e["seq_scans"])
                if e["sorted_rows"]:
                    verdict += f"; sorts {e['sorted_rows']} rows"
                print(f"-- {one_line(statement)}")
                print(f"   params {parameters}")
                print(f"   -> {verdict}; execution {e['execution_ms']} ms, planning {e['planning_ms']} ms")
                if on_tasks:
                    for line in e["plan"]:
                        print("   | " + line)
                if on_tasks:  # the JSON keeps the human_task statements; the others are primary-key lookups
                    plans.append({"sql": one_line(statement)[:160], "index_scan": e["index_scan"],
                                  "indexes": e["indexes"], "seq_scans": e["seq_scans"],
                                  "sorted_rows": e["sorted_rows"], "execution_ms": e["execution_ms"]})
            results[key]["human_task_plans"] = plans
            results[key]["human_task_queries_use_index"] = all(p["index_scan"] and "human_task" not in p["seq_scans"]
                                                               for p in plans)

    worst = max(r["p95_ms"] for r in results.values())
    with psycopg.connect(pg_conninfo(url)) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    print(f"\nworst p95 {worst} ms; target p95 <= {TARGET_P95_MS} ms: {'met' if worst <= TARGET_P95_MS else 'NOT met'}"
          f" ({', '.join(k for k, r in results.items() if r['p95_ms'] > TARGET_P95_MS) or 'every scenario within'})")
    print(f"total run time {time.perf_counter() - started:.1f} s", flush=True)
    out = {
        "bench": "inbox", "size": "quick" if args.quick else "full", "rows": counts,
        "group_tasks_of_user": group, "deep_page": deep, "per_page": PER_PAGE,
        "login": how, "user": LOGIN_AS, "warmup": args.warmup, "repeat": args.repeat,
        "load": load_figures or "reused", "anchor": anchor.isoformat(),
        "target_p95_ms": TARGET_P95_MS, "worst_p95_ms": worst, "target_met": worst <= TARGET_P95_MS,
        "scenarios": results,
        "machine": {"cpu_count": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2),
                    "postgresql": server, "shared_buffers": buffers, "python": sys.version.split()[0]},
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
