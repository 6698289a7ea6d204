"""`make run` on whatever date it is: `credflow init-db`, `deploy` and `demo` as subprocesses on a
fresh SQLite instance folder, then `credflow serve`, whose login page and clerk's inbox must load.

These read the real date (hence `date_sensitive`; CI runs them again with the clock moved into
years the statutory calendar does not cover). When the calendar does not cover what the demo's
stories need, the demo sets them at the latest date it covers and says so in one line."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.staff import ROW  # noqa: E402
from bench.timers import cli_command  # noqa: E402
from bench.webclient import WebUser, free_port  # noqa: E402
from workflows.clock import CST  # noqa: E402
from workflows.demo import DEMO_PASSWORD, PLANS  # noqa: E402

pytestmark = pytest.mark.date_sensitive

NOTE = re.compile(r"^note: the working-day calendar does not cover ([0-9, ]+) \(today is (\d{4}-\d\d-\d\d)\), so the "
                  r"demo's data is set at (\d{4}-\d\d-\d\d), the latest date whose deadlines it covers; to use today's "
                  r"date the admin \(admin / " + re.escape(DEMO_PASSWORD) + r"\) enters \1 at 系统管理 › 工作日历 or with "
                  r"`credflow calendar import FILE`$", re.M)


def statutory_covers(day: date) -> bool:
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-instance")
    env = {**os.environ, "CREDFLOW_INSTANCE": str(folder)}
    for key in ("DATABASE_URL", "CREDFLOW_SETTINGS", "CREDFLOW_SIGNING_P12", "CREDFLOW_SECRET_KEY"):
        env.pop(key, None)   # like `make run` on a new machine: the instance folder's own SQLite and certificate
    today = datetime.now(CST).date()
    runs = {}
    for step in (["init-db"], ["deploy"], ["demo"], ["demo"]):
        done = subprocess.run(cli_command(*step), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        runs.setdefault(step[0], []).append(done)
    return {"folder": folder, "env": env, "today": today, "runs": runs}


def demo_day(instance) -> date:
    """The day the demo says its data is set at, or today."""
    found = NOTE.search(instance["runs"]["demo"][0].stdout)
    return date.fromisoformat(found.group(3)) if found else instance["today"]


def test_every_step_succeeds_without_a_traceback(instance):
    for name, runs in instance["runs"].items():
        for done in runs:
            assert done.returncode == 0, f"credflow {name}:\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stdout + done.stderr, f"credflow {name}:\n{done.stderr}"
    first, again = instance["runs"]["demo"]
    assert "demo logins: clerk / credflow-demo" in first.stdout
    assert "demo logins: clerk / credflow-demo" in again.stdout


def test_the_demo_says_when_the_calendar_made_it_set_its_stories_earlier(instance):
    today, out = instance["today"], instance["runs"]["demo"][0].stdout
    notes = NOTE.findall(out)
    if not statutory_covers(today):
        # the statutory data stops before today and a fresh database covers no year of its own
        assert len(notes) == 1, out
    if statutory_covers(today + timedelta(days=60)):
        assert notes == [], out    # the demo's deadlines (10 working days at most) fit: no note
    if notes:
        years, said_today, day = notes[0]
        uncovered = [int(y) for y in years.split(", ")]
        assert date.fromisoformat(said_today) == today
        assert date.fromisoformat(day) < today
        assert today.year in uncovered or (today + timedelta(days=60)).year in uncovered
        assert all(not statutory_covers(date(y, 6, 1)) for y in uncovered)
        assert date.fromisoformat(day).year not in uncovered and statutory_covers(date.fromisoformat(day))
        assert "note: the demo was loaded earlier" in instance["runs"]["demo"][1].stdout


def test_the_demo_records_exist_dated_from_the_day_it_is_set_at(instance):
    day = demo_day(instance)
    with sqlite3.connect(instance["folder"] / "credflow.sqlite3") as db:
        users = {name for (name,) in db.execute("SELECT username FROM user_account")}
        # the PLANS' records; besides them, the failed township commitment's (workflows/commitments/demo.py)
        plans = "field IS NULL OR field != 'township_commitment'"
        decided = sorted(date.fromisoformat(d) for (d,) in db.execute(
            f"SELECT decision_date FROM record WHERE decision_date IS NOT NULL AND ({plans})"))
        records = db.execute(f"SELECT count(*) FROM record WHERE {plans}").fetchone()[0]
        commitment_records = db.execute("SELECT count(*) FROM commitment WHERE record_id IS NOT NULL").fetchone()[0]
        statuses = {s for (s,) in db.execute("SELECT status FROM record")}
    assert {"clerk", "reviewer", "leader", "manager", "personnel", "admin", "subject", "subject2"} <= users
    assert records == len(PLANS)     # loaded once, though `credflow demo` ran twice
    captured = sorted(day - timedelta(days=days) for _s, days, _v, stage in PLANS if stage != "capture")
    assert decided == captured
    assert "published" in statuses
    assert commitment_records == 1


def test_the_app_serves_the_login_page_and_the_clerks_inbox(instance):
    port = free_port()
    log = instance["folder"] / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(cli_command("serve", "--port", str(port)), cwd=ROOT, env=instance["env"],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        clerk = WebUser("clerk", DEMO_PASSWORD, port)
        page = None
        for _ in range(300):   # until the development server listens (or gives up)
            page = clerk.call("login_page", "GET", "/login")
            if page is not None or server.poll() is not None:
                break
            time.sleep(0.1)
        assert page is not None and page[0] == 200, log.read_text(errors="replace")[-2000:]
        assert 'name="password"' in page[1]
        clerk.login()
        inbox = clerk.call("inbox", "GET", "/inbox")
        assert inbox is not None and inbox[0] == 200, log.read_text(errors="replace")[-2000:]
        rows = ROW.findall(inbox[1])
        assert rows, "the clerk's inbox shows no task"
        assert "榆林市某区住房和城乡建设局" in inbox[1]    # the record waiting at capture
        for row in rows:                                   # each task's page, with its deadline
            task = clerk.call("task", "GET", f"/tasks/{row}")
            assert task is not None and task[0] == 200, (row, log.read_text(errors="replace")[-2000:])
        reviewer = WebUser("reviewer", DEMO_PASSWORD, port)
        reviewer.login()
        inbox = reviewer.call("inbox", "GET", "/inbox?tab=group")
        assert inbox is not None and inbox[0] == 200 and ROW.findall(inbox[1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")
