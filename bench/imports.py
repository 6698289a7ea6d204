"""bench/imports.py -- what a spreadsheet import costs the web request and the worker.

For each sheet: the wall time of the upload request (the app in-process through Flask's test
client: it stores the file with a queued job and answers), then of the worker's pass that runs the
job (workflows.import_jobs.run_import_jobs), and how the job ended. The sheets:
- the attack: a ~5 KB .xlsx declaring A1:XFD1048576 with a cell in that far corner (before the
  fix, reading it took a web worker past gunicorn's 30 s timeout), uploaded as a roster and as a
  user sheet;
- a wide attack: 6,000 rows each with a cell in column XFD (the reader's most expensive bound);
- a 5,000-row roster as .csv and as .xlsx (the largest roster allowed), each into a fresh database.
Figures, not pass/fail; the last line is one JSON object with every figure.

    python bench/imports.py [--database-url sqlite:///... | postgresql://.../credflow_bench]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402

ROSTER_COLUMNS = ("department_code", "person_id_number", "person_name", "post", "title", "project",
                  "project_phase", "start_date", "end_date")


def attack_xlsx(header=("department_code", "person_id_number")) -> bytes:
    book = Workbook()
    book.active.append(list(header))
    raw = io.BytesIO()
    book.save(raw)
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return _rewrite(raw.getvalue(), lambda xml: re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>',
                                                       xml).replace("</sheetData>", far))


def wide_xlsx(rows: int = 6000) -> bytes:
    book = Workbook()
    book.active.append(list(ROSTER_COLUMNS))
    raw = io.BytesIO()
    book.save(raw)
    cells = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>x</t></is></c><c r="XFD{i}" t="inlineStr">'
                    f"<is><t></t></is></c></row>" for i in range(2, rows + 2))
    return _rewrite(raw.getvalue(), lambda xml: xml.replace("</sheetData>", cells + "</sheetData>"))


def _rewrite(data: bytes, change) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body.decode()).encode()
                            if info.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


def roster_rows(department_code: str, count: int) -> list[tuple]:
    from workflows.demo import make_citizen_id
    start = date(2020, 1, 1)
    return [(department_code, make_citizen_id(f"610802{19600101 + i % 28 + (i // 28) * 100:08d}{i % 1000:03d}"),
             f"干部{i:05d}", ("principal", "official_in_charge", "project_lead")[i % 3], "",
             "河道治理PPP项目" if i % 3 == 2 else "", "",                 # a project lead names the project
             (start + timedelta(days=i % 2000)).isoformat(), "") for i in range(count)]


def roster_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def roster_xlsx(rows) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(ROSTER_COLUMNS))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class Instance:
    """A fresh database with a department, a personnel clerk and an admin, and the app on it."""

    def __init__(self, url: str | None, folder: Path):
        from workflows.accounts import create_user
        from workflows.db import make_engine, make_session_factory
        from workflows.demo import make_uscc
        from workflows.migrations import upgrade_database
        from workflows.records import register_subject
        from workflows.runtime import Actor, UnitOfWork
        folder.mkdir(parents=True, exist_ok=True)
        self.url = url or f"sqlite:///{folder / 'credflow.sqlite3'}"
        if self.url.startswith("postgresql"):
            from bench.benchdb import create_database_if_missing, drop_schema, refuse_unless_bench
            refuse_unless_bench(self.url, "drops its schema")
            create_database_if_missing(self.url)
            drop_schema(self.url)
        upgrade_database(self.url)
        self.factory = make_session_factory(make_engine(self.url))
        self.department_code = make_uscc("11610802MB999001")
        with UnitOfWork(self.factory, Actor.system("bench")) as uow:
            register_subject(uow, "department", "榆林市某区基准测试局", self.department_code)
            create_user(uow, "hr", "bench-imports-2026", "人事", ["personnel"])
            create_user(uow, "root", "bench-imports-2026", "管理员", ["admin"])
            uow.commit()
        os.environ["CREDFLOW_INSTANCE"] = str(folder)
        from webapp import create_app
        self.app = create_app({"DATABASE_URL": self.url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})

    def client(self, username: str):
        client = self.app.test_client()
        response = client.post("/login", data={"username": username, "password": "bench-imports-2026"})
        assert response.status_code == 302, response.status_code
        return client

    def measure(self, username: str, url: str, filename: str, data: bytes) -> dict:
        from workflows.clock import SYSTEM_CLOCK
        from workflows.import_jobs import ImportJob, run_import_jobs
        client = self.client(username)
        began = time.perf_counter()
        response = client.post(url, data={"sheet": (io.BytesIO(data), filename)}, content_type="multipart/form-data")
        web = time.perf_counter() - began
        began = time.perf_counter()
        ran = run_import_jobs(self.factory, SYSTEM_CLOCK)
        worker = time.perf_counter() - began
        with self.factory() as session:
            job = session.query(ImportJob).order_by(ImportJob.id.desc()).first()
            outcome = {"status": job.status, "rows": job.total,
                       "result": {k: (len(v) if isinstance(v, list) else v) for k, v in job.result.items()},
                       "error": str((job.messages or [""])[0])[:90]}
        return {"bytes": len(data), "http": response.status_code, "web_s": round(web, 4), "jobs_run": ran,
                "worker_s": round(worker, 3), **outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    import logging
    logging.basicConfig(level=logging.WARNING)
    figures = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("attack as roster", "hr", "/personnel/roster", "名册.xlsx", attack_xlsx()),
            ("attack as user sheet", "root", "/system/users/import", "users.xlsx", attack_xlsx(("用户名", "姓名", "角色"))),
            ("wide attack as roster", "hr", "/personnel/roster", "名册.xlsx", wide_xlsx()),
        ]
        instance = Instance(args.database_url, Path(tmp) / "attacks")
        for name, user, url, filename, data in cases:
            figures[name] = instance.measure(user, url, filename, data)
            print(f"{name:28} {json.dumps(figures[name], ensure_ascii=False)}", flush=True)
        for kind, make in (("csv", roster_csv), ("xlsx", roster_xlsx)):
            instance = Instance(args.database_url, Path(tmp) / kind)
            data = make(roster_rows(instance.department_code, args.rows))
            name = f"{args.rows}-row roster .{kind}"
            figures[name] = instance.measure("hr", "/personnel/roster", f"名册.{kind}", data)
            print(f"{name:28} {json.dumps(figures[name], ensure_ascii=False)}", flush=True)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
