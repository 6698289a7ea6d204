"""bench/evaluation.py -- what computing a year's integrity evaluation costs on a big office.

Builds the data of bench/dashboard.py (10,000 subjects, --records records over three years, 50,000
applications) in databases of its own: PostgreSQL `credflow_evaluation_bench` (on the server of
BENCH_DATABASE_URL or TEST_DATABASE_URL) and SQLite (credflow-evaluation-bench/ in the temporary
folder); --reuse keeps those of an earlier run. Then, inside one transaction that is rolled back,
it times for the bench's year (bench/dashboard.NOW): the counting (workflows/evaluation/scoring.py
count_year: every department's records by severity, objections, repairs, commitments, look-ups),
the whole computation (counting, the formula, one score row per department written) and reading
the ranking, printing the median of --runs runs.

    python bench/evaluation.py [--records 1000000] [--runs 3] [--only sqlite|postgresql] [--reuse]

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

data.BENCH_DB = "credflow_evaluation_bench"     # never the dashboard bench's own database


def _ms(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def measure(url: str, runs: int) -> dict:
    from workflows.clock import FixedClock
    from workflows.db import make_engine, make_session_factory
    from workflows.evaluation.indicators import default_indicators
    from workflows.evaluation.model import EvaluationRound
    from workflows.evaluation.scoring import compute, count_year, departments, ranking
    from workflows.runtime import Actor, UnitOfWork
    engine = make_engine(url)
    factory = make_session_factory(engine)
    figures, year = {}, data.NOW.year
    with UnitOfWork(factory, Actor.system("bench"), FixedClock(data.NOW)) as uow:
        session = uow.session
        evaluation = EvaluationRound(year=year, status="open", indicators=default_indicators(), computations=0,
                                     created_by="bench", created_at=data.NOW)
        session.add(evaluation)
        session.flush()
        count = len(departments(session))
        for name, step in (("count the year", lambda: count_year(session, year, {})),
                           ("compute (count, score, write)", lambda: compute(session, evaluation)),
                           ("read the ranking", lambda: ranking(session, evaluation.id))):
            times, found = [], None
            for _ in range(runs):
                ms, found = _ms(step)
                session.flush()
                times.append(ms)
            figures[name] = (round(statistics.median(times)), f"{len(found):,} departments of {count:,}")
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
    folder = Path(tempfile.gettempdir()) / "credflow-evaluation-bench"
    folder.mkdir(exist_ok=True)
    for engine in ("sqlite", "postgresql"):
        if args.only and engine != args.only:
            continue
        started = time.perf_counter()
        url = data.make_database(engine, args.records, folder, args.reuse)
        print(f"{engine}: {args.records:,} records ready in {time.perf_counter() - started:.0f} s")
        for name, (ms, what) in measure(url, args.runs).items():
            print(f"  {name:<30} {ms:>7,} ms   {what}")


if __name__ == "__main__":
    main()
