"""bench/record_import.py -- what a bulk import of records costs (workflows/record_import).

A fresh database (the shipped processes deployed, a clerk), a sheet of N rows (each a civil servant
registered by the import, every tenth row a registered department), then: the upload as a queued
job; reading and checking the sheet alone (what the progress bar counts); the worker's whole run of
the job (read, check, then every record opened with its capture completed, in one transaction).
Prints rows/s and total times; figures, not pass/fail. The last line is one JSON object.

    python bench/record_import.py [--rows 10000] [--database-url postgresql://.../credflow_bench_x]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402

HEADER = ["信用主体代码", "信用主体名称", "主体类型", "认定依据", "领域", "失信程度", "失信事实", "法律依据", "认定日期"]


def sheet(rows: int, department: tuple[str, str]) -> bytes:
    from workflows.demo import make_citizen_id
    book = Workbook(write_only=True)
    page = book.create_sheet()
    page.append(HEADER)
    for i in range(rows):
        subject = department if i % 10 == 0 else (
            make_citizen_id(f"610802{19600101 + i % 28 + (i // 28) * 100:08d}{i % 1000:03d}"), f"干部{i:05d}")
        page.append([*subject, "", "行政处罚", "政府采购", ("轻微", "一般", "严重")[i % 3],
                     f"第 {i} 号：未按合同约定支付中小企业账款，逾期超过180日。", "《保障中小企业款项支付条例》第八条", "2026-05-29"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(url: str | None, rows: int, folder: Path) -> dict:
    from sqlalchemy import func, select

    from workflows.accounts import create_user
    from workflows.clock import SYSTEM_CLOCK
    from workflows.db import make_engine, make_read_session_factory, make_session_factory
    from workflows.definitions import deploy_folder
    from workflows.demo import make_uscc
    from workflows.import_jobs import ImportJob, enqueue_import, run_import_jobs
    from workflows.migrations import upgrade_database
    from workflows.models import Case, Record, User
    from workflows.record_import.sheet import check_records, read_records
    from workflows.records import register_subject
    from workflows.runtime import Actor, UnitOfWork
    url = url or f"sqlite:///{folder / 'credflow.sqlite3'}"
    if url.startswith("postgresql"):
        from bench.benchdb import create_database_if_missing, drop_schema, refuse_unless_bench
        refuse_unless_bench(url, "drops its schema")
        create_database_if_missing(url)
        drop_schema(url)
    os.environ["CREDFLOW_INSTANCE"] = str(folder)
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    department = (make_uscc("11610802MB999002"), "榆林市某区基准测试局")
    with UnitOfWork(factory, Actor.system("bench")) as uow:
        deploy_folder(uow)
        register_subject(uow, "department", department[1], department[0])
        create_user(uow, "clerk", "bench-records-2026", "承办人", ["clerk"])
        uow.commit()
    with factory() as session:
        clerk = Actor.of(session.scalars(select(User).where(User.username == "clerk")).one())
    data = sheet(rows, department)

    began = time.perf_counter()
    with UnitOfWork(factory, clerk) as uow:
        job_id = enqueue_import(uow, "records", "bench.xlsx", data).id
        uow.commit()
    upload = time.perf_counter() - began

    began = time.perf_counter()
    parsed = read_records("bench.xlsx", data)
    read = time.perf_counter() - began
    began = time.perf_counter()
    with make_read_session_factory(engine)() as session:
        pending, errors = check_records(session, parsed)
    check = time.perf_counter() - began
    assert not errors, errors[:3]

    began = time.perf_counter()
    run_import_jobs(factory, SYSTEM_CLOCK)
    total = time.perf_counter() - began
    with factory() as session:
        job = session.get(ImportJob, job_id)
        records = session.scalar(select(func.count()).select_from(Record))
        cases = session.scalar(select(func.count()).select_from(Case).where(Case.process_key == "record_lifecycle"))
    engine.dispose()
    return {"database": url.split(":")[0], "rows": rows, "bytes": len(data), "status": job.status,
            "records": records, "cases": cases, "upload_s": round(upload, 3), "read_s": round(read, 2),
            "check_s": round(check, 2), "job_s": round(total, 1), "rows_per_s": round(rows / total, 1),
            "save_s": round(total - read - check, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args()
    import logging
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                               "load": os.getloadavg()[0]},
                   **run(args.database_url, args.rows, Path(tmp))}
    print(f"{figures['rows']} rows ({figures['bytes'] // 1024} KB) on {figures['database']}: job {figures['job_s']} s, "
          f"{figures['rows_per_s']} rows/s (read {figures['read_s']} s, check {figures['check_s']} s, "
          f"save {figures['save_s']} s); {figures['records']} records, {figures['cases']} cases", flush=True)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
