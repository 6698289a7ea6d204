"""bench/early_warning.py -- what evaluating the early-warning rules costs on a big office.

Builds the data of bench/dashboard.py (10,000 subjects, --records records over three years, 50,000
applications, 20,000 open steps of which half overdue) in databases of its own: PostgreSQL
`credflow_warning_bench` (on the server of BENCH_DATABASE_URL or TEST_DATABASE_URL) and SQLite
(credflow-warning-bench/ in the temporary folder); --reuse keeps those of an earlier run. Then, on
the bench's day (bench/dashboard.NOW), it times inside one transaction that is rolled back:
- the first evaluation (every warning raised: about 2,000 departments and 10,000 overdue steps),
- a second one (every warning found again and updated), and
- each rule alone,
printing the median of --runs runs (the first two once each: they change what follows).

    python bench/early_warning.py [--records 1000000] [--runs 3] [--only sqlite|postgresql] [--reuse]

Not part of the test suite (it prints figures, it does not pass or fail).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench.dashboard as data  # noqa: E402

data.BENCH_DB = "credflow_warning_bench"     # never the dashboard bench's own database


def _ms(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def measure(url: str, runs: int) -> dict:
    from workflows.clock import FixedClock
    from workflows.db import make_engine, make_session_factory
    from workflows.early_warning.evaluate import evaluate_warnings
    from workflows.early_warning.rules import RULES, run_rule
    from workflows.runtime import Actor, UnitOfWork
    engine = make_engine(url)
    factory = make_session_factory(engine)
    figures = {}
    with UnitOfWork(factory, Actor.system("bench"), FixedClock(data.NOW)) as uow:
        first_ms, first = _ms(lambda: evaluate_warnings(uow))
        uow.session.flush()
        again_ms, again = _ms(lambda: evaluate_warnings(uow))
        figures["first evaluation"] = (round(first_ms), f"{len(first.raised):,} raised")
        figures["evaluation again"] = (round(again_ms), f"{again.updated:,} updated, {len(again.raised)} raised")
        for name in RULES:
            times, found = [], None
            for _ in range(runs):
                ms, found = _ms(lambda: run_rule(name, uow.session, uow.clock.today(), uow.calendar, uow.settings))
                times.append(ms)
            figures[f"rule {name}"] = (round(statistics.median(times)), f"{len(found or []):,} found")
        uow.rollback()
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--reuse", action="store_true", help="keep the databases of an earlier run of as many records")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "credflow-warning-bench"
    folder.mkdir(exist_ok=True)
    for engine in ("sqlite", "postgresql"):
        if args.only and engine != args.only:
            continue
        started = time.perf_counter()
        url = data.make_database(engine, args.records, folder, args.reuse)
        print(f"{engine}: {args.records:,} records ready in {time.perf_counter() - started:.0f} s")
        for name, (ms, what) in measure(url, args.runs).items():
            print(f"  {name:<28} {ms:>7,} ms   {what}")


if __name__ == "__main__":
    main()
