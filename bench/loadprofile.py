"""Where a load cycle's time goes: the four requests of bench/load.py's cycle run in-process
(Flask test client, no HTTP), one at a time, timed, with SQL time and statements per request kind,
then again under cProfile for the shares of Python time by library."""
from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event

from bench.load import REVIEWERS, reviewer_name
from bench.staff import KINDS, OPINION, PASSWORD, ROW, TASK_ID, TASK_URL
from bench.procstat import backend_cpu
from bench.webclient import TOKEN, ms

AREAS = [("SpiffWorkflow", "SpiffWorkflow"), ("sqlalchemy", "SQLAlchemy"), ("psycopg", "psycopg (driver)"),
         ("jinja2", "Jinja2 (templates)"), ("markupsafe", "Jinja2 (templates)"), ("/work/main/webapp/", "credflow webapp"),
         ("/work/main/workflows/", "credflow workflows"), ("flask", "Flask/Werkzeug/extensions"),
         ("werkzeug", "Flask/Werkzeug/extensions"), ("babel", "Flask/Werkzeug/extensions"),
         ("wtforms", "Flask/Werkzeug/extensions"), ("itsdangerous", "Flask/Werkzeug/extensions"),
         ("jsonschema", "jsonschema"), ("lxml", "lxml"), ("json/", "json (stdlib)"), ("uuid", "uuid (stdlib)")]


def area_of(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins / C calls"
    for needle, name in AREAS:
        if needle in filename:
            return name
    return "other"


def profile_cycles(url: str, cycles: int) -> dict:
    """The four requests in-process (test client): wall, SQL time and statements, Python time by library."""
    os.environ.setdefault("CREDFLOW_INSTANCE", tempfile.mkdtemp(prefix="credflow-bench-load-"))
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from webapp import create_app
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-load-profile"})
    engine = app.extensions["credflow.session_factory"].kw["bind"]
    sql_time = {"s": 0.0, "n": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        sql_time["s"] += time.perf_counter() - conn.info.pop("bench_t0")
        sql_time["n"] += 1
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": TOKEN.search(page).group(1), "username": reviewer_name(REVIEWERS),
                                           "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"profile login: HTTP {response.status_code}")
    figures = {k: {"wall": [], "cpu": [], "sql": [], "statements": []} for k in KINDS}
    # CPU time, not wall time: on a busy machine wall time charges the waits for a CPU to whatever runs
    profiles = {k: cProfile.Profile(time.process_time) for k in KINDS}
    mode = {"record": False, "profile": False}

    def timed(kind, fn):
        sql_time.update(s=0.0, n=0)
        if mode["profile"]:
            profiles[kind].enable()
        t0, c0 = time.perf_counter(), time.process_time()
        r = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if mode["profile"]:
            profiles[kind].disable()
        if mode["record"]:
            figures[kind]["wall"].append(wall)
            figures[kind]["cpu"].append(cpu)
            figures[kind]["sql"].append(sql_time["s"])
            figures[kind]["statements"].append(sql_time["n"])
        return r

    def cycle() -> bool:
        html = timed("inbox", lambda: client.get("/inbox?tab=group")).get_data(as_text=True)
        rows = ROW.findall(html)
        if not rows:
            return False
        token = TOKEN.search(html).group(1)
        r = timed("claim", lambda: client.post("/tasks/next", data={"csrf_token": token}))
        if r.status_code != 302 or not TASK_URL.search(r.headers["Location"]):
            raise RuntimeError(f"profile claim: HTTP {r.status_code}")
        row = TASK_URL.search(r.headers["Location"]).group(1)
        page = timed("task", lambda: client.get(f"/tasks/{row}")).get_data(as_text=True)
        data = {"csrf_token": TOKEN.search(page).group(1), "task_id": TASK_ID.search(page).group(1),
                "review_decision": "approve", "review_opinion": OPINION, "action": "complete"}
        r = timed("complete", lambda: client.post(f"/tasks/{row}", data=data))
        if r.status_code != 302:
            raise RuntimeError(f"profile complete: HTTP {r.status_code}")
        return True

    for _ in range(2):  # warm-up (the first parse of the process's specs, the templates)
        cycle()
    done = profiled = 0
    mode["record"] = True            # timed without the profiler
    pg_before = backend_cpu(url)
    c0 = time.process_time()
    while done < cycles and cycle():
        done += 1
    app_cpu = time.process_time() - c0
    pg_cpu = sum(v - pg_before.get(k, 0.0) for k, v in backend_cpu(url).items())
    mode.update(record=False, profile=True)   # then the same again under cProfile, for the shares
    while profiled < cycles and cycle():
        profiled += 1
    out = {"cycles": done, "profiled_cycles": profiled,
           "app_cpu_ms_per_cycle": ms(app_cpu / max(done, 1)), "postgres_cpu_ms_per_cycle": ms(pg_cpu / max(done, 1))}
    for kind in KINDS:
        f = figures[kind]
        if not f["wall"]:
            continue
        st = pstats.Stats(profiles[kind])
        total = sum(v[2] for v in st.stats.values()) or 1e-9
        by_area = Counter()
        for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in st.stats.items():
            by_area[area_of(filename)] += tt
        top = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:6]
        out[kind] = {
            "wall_ms": ms(statistics.median(f["wall"])), "sql_ms": ms(statistics.median(f["sql"])),
            "outside_sql_ms": ms(statistics.median(w - q for w, q in zip(f["wall"], f["sql"]))),
            "app_cpu_ms": ms(statistics.median(f["cpu"])),
            "statements": int(statistics.median(f["statements"])),
            "python_share_by_area": {k: round(v / total, 3) for k, v in by_area.most_common(8)},
            "top_functions": [f"{Path(fn).name}:{line}({name}) {ms(v[2] / max(profiled, 1))} ms"
                              for (fn, line, name), v in top],
        }
    engine.dispose()
    return out
