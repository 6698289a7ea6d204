"""bench/login.py -- what a failed login costs for a known and an unknown username.

The app in-process (Flask's test client), a fresh database, accounts hashed at the real scrypt
cost: wrong passwords for a known account, for a deactivated one and for names that name nobody,
alternated so each kind sees the same load. Before issue 15 an unknown name answered in ~19 ms and
a known one in ~127 ms (no hash work for an unknown name), so accounts could be enumerated; now
each attempt runs one scrypt of the same cost (workflows/login.py). The throttle is raised so
every attempt reaches the password check. Figures, not pass/fail; the last line is one JSON object.

    python bench/login.py [--rounds 30] [--database-url sqlite:///... | postgresql://.../credflow_bench]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="credflow-bench-login-"))
    os.environ["CREDFLOW_INSTANCE"] = str(folder)
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"

    from webapp import create_app
    from workflows.accounts import create_user
    from workflows.db import make_engine, make_session_factory
    from workflows.migrations import upgrade_database
    from workflows.runtime import Actor, UnitOfWork

    upgrade_database(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine), Actor.system("bench")) as uow:
        create_user(uow, "known", "a-long-password-1", "已知用户", ["clerk"])
        create_user(uow, "gone", "a-long-password-2", "离职用户", ["clerk"]).active = False
        uow.commit()
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "LOGIN_FAILURE_LIMIT": 10 ** 6, "LOGIN_FAILURE_LIMIT_PER_ADDRESS": 10 ** 6})
    client = app.test_client()
    kinds = {"known": lambda i: "known", "deactivated": lambda i: "gone", "unknown": lambda i: f"nobody{i}"}
    times = {kind: [] for kind in kinds}
    client.post("/login", data={"username": "nobody", "password": "warm-up"})    # the dummy hash, made once
    for i in range(args.rounds):
        for kind, name in kinds.items():
            start = time.perf_counter()
            response = client.post("/login", data={"username": name(i), "password": "wrong"})
            times[kind].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 401, (kind, response.status_code)
    result = {kind: {"median_ms": round(statistics.median(t), 1), "p90_ms": round(sorted(t)[int(len(t) * 0.9)], 1)}
              for kind, t in times.items()}
    result["unknown_over_known"] = round(result["unknown"]["median_ms"] / result["known"]["median_ms"], 2)
    for kind in kinds:
        print(f"{kind:12} median {result[kind]['median_ms']:7.1f} ms   p90 {result[kind]['p90_ms']:7.1f} ms")
    print(json.dumps({"bench": "login", "database": url.split(":", 1)[0], "rounds": args.rounds,
                      "python": platform.python_version(), **result}))


if __name__ == "__main__":
    main()
