"""Crashes under load, for real: bench/faults.py run small on a PostgreSQL cluster of its own
(gunicorn, two `credflow worker` processes, reviewers over HTTP; a gunicorn worker and a timer
worker killed with SIGKILL and PostgreSQL restarted while they work)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
                                reason="PostgreSQL's server binaries are not installed")


RECORDS = 200   # enough that the reviews are still going when the last fault strikes


@pytest.fixture(scope="module")
def outcome():
    from bench import faults
    return faults.run(records=RECORDS, timer_cases=400, users=6)


def test_each_fault_struck_while_work_was_under_way(outcome):
    killed_web, killed_timer, restarted = outcome["faults"]
    assert killed_web["fault"] == "SIGKILL gunicorn worker" and 0 < killed_web["reviews_left"] < RECORDS
    assert killed_timer["fault"] == "SIGKILL timer worker" and 0 < killed_timer["timers_fired"] < 400
    assert restarted["fault"] == "PostgreSQL restarted" and restarted["restarted"]
    assert restarted["reviews_left"] > 0 and restarted["timers_fired"] < 400
    assert outcome["gunicorn_workers_after"] == 2      # the master replaced the killed worker


def test_every_review_was_completed_exactly_once_and_no_answer_was_wrong(outcome):
    reviews = outcome["reviews"]
    assert outcome["all_reviews_done"], outcome["reviewer_errors"]
    assert reviews["completed_once"] == reviews["records"] == RECORDS
    assert reviews["completed_twice"] == reviews["not_completed"] == reviews["review_tasks_left"] == 0
    assert reviews["cases_not_at_one_next_task"] == 0
    assert reviews["answered_302_twice"] == reviews["answered_302_not_saved"] == 0


def test_every_due_timer_fired_once(outcome):
    timers = outcome["timers"]
    assert outcome["all_timers_fired"]
    assert timers["statuses"] == {"completed": 400}
    assert timers["fired_twice"] == timers["missed"] == 0
    assert timers["script_runs_histogram"] == {"1": 400}


def test_the_audit_chain_verifies(outcome):
    assert outcome["audit"]["exit_code"] == 0, outcome["audit"]["output"]
    assert "intact" in outcome["audit"]["output"]


def test_clients_got_clear_errors_not_server_errors(outcome):
    clients = outcome["clients"]
    assert clients["server_errors"] == [], "\n".join(outcome["server_error_log"])
    assert clients["unclear_503"] == 0
    # the restart was seen: requests in that window were told the database was unavailable
    assert clients["answered_503"] + sum(clients["connections_lost"].values()) > 0
    assert outcome["ok"]
