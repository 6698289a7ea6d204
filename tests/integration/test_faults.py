"""Crashes under load, for real: bench/faults.py run small on a PostgreSQL cluster of its own
(gunicorn, two `credflow worker` processes, reviewers over HTTP, a `credflow outbox` process sending
to a local SMTP server; a gunicorn worker, a timer worker and the outbox worker killed with SIGKILL
and PostgreSQL restarted while they work).

Each fault strikes on an event the bench observes, with work guaranteed to remain by
construction (a budget of review completions, timer cases created in waves after the faults),
not by how fast the machine is. The processes run on the real clock (hence `date_sensitive`);
the bench labels a year the statutory calendar lacks in its own throwaway database."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = [pytest.mark.date_sensitive,
              pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
                                 reason="PostgreSQL's server binaries are not installed")]


RECORDS = 200
TIMERS = 400
EMAILS = 60


@pytest.fixture(scope="module")
def outcome():
    from bench import faults
    return faults.run(records=RECORDS, timer_cases=TIMERS, users=6, emails=EMAILS)


def test_each_fault_struck_on_its_event_while_work_remained(outcome):
    killed_web, killed_timer, restarted = outcome["faults"]
    assert [f["event_seen"] for f in outcome["faults"]] == [True, True, True], outcome["faults"]
    assert killed_web["fault"] == "SIGKILL gunicorn worker"
    # at least 5 reviews were seen done; the budget let at most a quarter through
    assert RECORDS * 3 // 4 <= killed_web["reviews_left"] <= RECORDS - 5
    assert killed_timer["fault"] == "SIGKILL timer worker"
    # the timers had started to fire; only the first wave existed
    assert 0 < killed_timer["timers_fired"] <= killed_timer["created"] < TIMERS
    assert restarted["fault"] == "PostgreSQL restarted" and restarted["restarted"]
    assert restarted["reviews_left"] >= RECORDS // 4
    assert killed_timer["timers_fired"] < restarted["timers_fired"] <= restarted["created"] < TIMERS
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
    assert sum(outcome["timer_waves"]) == TIMERS
    assert timers["statuses"] == {"completed": TIMERS}
    assert timers["fired_twice"] == timers["missed"] == 0
    assert timers["script_runs_histogram"] == {"1": TIMERS}


def test_every_email_was_delivered_exactly_once_though_its_worker_was_killed_mid_batch(outcome):
    outbox = outcome["outbox"]
    fault = outbox["fault"]
    assert fault["event_seen"] and fault["fault"] == "SIGKILL outbox worker"
    # killed at the server while it held the 15th message: 14 accepted before, the rest still to send
    assert fault["accepted_before"] == EMAILS // 4 - 1
    assert outbox["all_sent"] and outbox["statuses"] == {"sent": EMAILS}
    assert outbox["delivered_once"] == EMAILS and outbox["duplicates"] == outbox["lost"] == 0
    # the victim sent the first ones, the new workers (one may find nothing left) the rest
    assert outbox["by_worker"]["victim"] == EMAILS // 4 - 1 and set(outbox["by_worker"]) - {"victim"}


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
