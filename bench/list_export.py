"""bench/list_export.py -- what exporting a long list to .xlsx costs: /records?format=xlsx over a
large record table, the whole filtered list (cut at MAX_ROWS = 100,000 rows), through the Flask
test client as a signed-in clerk.

The database is built as bench/lookup_api.py builds its own (the same bulk load: subjects and records, COPY on
PostgreSQL, in a database named credflow_export_bench; executemany on SQLite; --reuse keeps one of
an earlier run with as many records). For
each export it prints the wall time, the sheet's lines (title, filters and header included), the file's size and the peak of Python
memory allocated while answering (tracemalloc; the sheet is written streaming, so this should not
grow with the rows), next to the cost of one page of the list for comparison.

    python bench/list_export.py [--records 200000] [--only sqlite|postgresql] [--reuse]

Not part of the test suite (it prints figures, it does not pass or fail).
"""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lookup_api  # noqa: E402
from lookup_api import LOADED_AT, make_database  # noqa: E402

lookup_api.BENCH_DB = "credflow_export_bench"     # a PostgreSQL database of its own, not the look-up bench's

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-export-password-1"
EXPORTS = [("one page (HTML)", "/records"), ("all records", "/records?format=xlsx"),
           ("status=published", "/records?status=published&format=xlsx"),
           ("search '某单位00012' (a few hundred)", "/records?q=%E6%9F%90%E5%8D%95%E4%BD%8D00012&format=xlsx")]


def make_clerk(url: str) -> None:
    from sqlalchemy import select
    from workflows.accounts import create_user
    from workflows.clock import FixedClock
    from workflows.db import make_engine, make_session_factory
    from workflows.models import User
    from workflows.runtime import Actor, UnitOfWork
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine), Actor.system("bench"), FixedClock(LOADED_AT)) as uow:
        if uow.session.scalar(select(User).where(User.username == "export_clerk")) is None:
            create_user(uow, "export_clerk", PASSWORD, "导出承办人", ["clerk"])
        uow.commit()
    engine.dispose()


def signed_in_client(url: str):
    from webapp import create_app
    from workflows.clock import FixedClock
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-export", "CLOCK": FixedClock(LOADED_AT)})
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"username": "export_clerk", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, f"login failed: {answer.status_code}"
    return client


def measure(client, path: str) -> dict:
    """Timed once as it is, then once more under tracemalloc (which slows Python) for the memory."""
    started = time.perf_counter()
    response = client.get(path)
    body = response.get_data()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, f"{path}: {response.status_code}"
    tracemalloc.start()
    client.get(path).get_data()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = None
    if response.mimetype.endswith("sheet"):
        from openpyxl import load_workbook
        lines = sum(1 for _ in load_workbook(io.BytesIO(body), read_only=True).worksheets[0].iter_rows())
    return {"seconds": elapsed, "bytes": len(body), "peak_mb": peak / 2 ** 20, "lines": lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir())
    os.environ.setdefault("CREDFLOW_INSTANCE", str(folder / "credflow-export-bench-instance"))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for engine in ("sqlite", "postgresql"):
        if args.only and engine != args.only:
            continue
        started = time.perf_counter()
        url = make_database(engine, args.records, max(1, args.records // 4), folder, reuse=args.reuse)
        make_clerk(url)
        print(f"\n{engine}: {args.records:,} records ready in {time.perf_counter() - started:.1f} s")
        client = signed_in_client(url)
        client.get("/records")          # warm: the templates, the first connection
        for name, path in EXPORTS:
            m = measure(client, path)
            rows = f"{m['lines']:>7,} lines" if m["lines"] else " " * 13
            print(f"  {name:<36} {m['seconds']:7.2f} s  {rows}  {m['bytes'] / 2 ** 20:6.2f} MB file"
                  f"  peak Python memory {m['peak_mb']:6.1f} MB")


if __name__ == "__main__":
    main()
