"""bench/faults.py -- staff working the review queue while the machinery crashes under them.

On a PostgreSQL cluster of its own (initdb into a temporary folder, a free port: restarting it
disturbs nobody), it prepares --records records waiting at `legality_review` (bench/load.py's
set-up) and deploys a timer-only process (bench/timers.py's set-up). Then it starts gunicorn (-w 2), two `credflow worker` processes and
--users reviewers, each looping over HTTP until no review is left:

    GET  /inbox?tab=mine   -> a task this reviewer claimed earlier and has not finished, if any;
    GET  /inbox?tab=group  -> otherwise a random unclaimed row;  POST /tasks/<id>/claim
    GET  /tasks/<id>       -> the form;                          POST /tasks/<id>  (complete)

and, in the middle of that, three faults:

1. SIGKILL one gunicorn worker (the master starts another; requests on it lose their connection);
2. SIGKILL one timer worker while the timers are being fired (its transaction dies with it);
3. restart PostgreSQL (`pg_ctl restart -m fast`: every connection is cut, new ones are refused
   for a moment);
4. SIGKILL the outbox worker sending --emails queued messages to a local SMTP server, which strikes
   itself when the k-th message arrives (bench/outbox_fault.py); two new workers send the rest.

Each fault strikes on an event observed in the database, never after a delay, and work is
GUARANTEED to remain when it strikes, however fast or slow the machine is:

- the reviewers may attempt only a budget of completions at a time (a completion held back waits
  at the budget, its task claimed). Fault 1 strikes once 5 reviews are seen completed, while the
  budget holds back all but a quarter of them; fault 3 once more reviews are seen completed after
  the budget was raised, while it still holds back a quarter. Then the budget is lifted.
- the --timers cases of the timer process come in three waves (2/5, 3/10, 3/10), each due half a
  second after it is created. The first is created after fault 1; both timer workers fire it, and
  fault 2 strikes once a few of its timers are seen fired. The second wave is created only
  after that kill (and once the reviews allow fault 3), the third only after the restart, which
  strikes as soon as the surviving worker is seen firing the second wave. So at the kill at most
  the first wave, and at the restart at most the first two waves can have fired.

The processes run on the real clock; the bench's database gets a labelled weekday-rule year for a
year the statutory calendar does not cover (bench/benchcalendar.py), so it runs on any date.

A client whose request failed (a lost connection, a 503) does not know whether it took effect:
it goes back to its inbox, where a task it claimed shows up under "mine" until it is completed,
so every task is completed in the end. Afterwards it checks, from the database:

- every record's review was completed exactly once (one `task.completed` event per case and no
  review task left), and no completion answered 302 twice or answered 302 without being saved;
- every timer fired exactly once and none was missed (bench/timers.py's counts);
- every e-mail was accepted by the SMTP server exactly once (by Message-ID) and none was lost;
- the audit chain verifies (`credflow verify-audit`);
- what the clients saw: responses by status, lost connections, and that no answer was a 500 and
  every 503 said the database was unavailable.

The last line is one JSON object with every figure. tests/integration/test_faults.py runs it small.

    python bench/faults.py [--records 300] [--timers 3000] [--users 20] [--emails 200]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench import load, timers  # noqa: E402
from bench.benchdb import pg_conninfo  # noqa: E402
from bench.outbox_fault import OutboxFault, ok as outbox_ok  # noqa: E402
from bench.pgcluster import PrivatePostgres  # noqa: E402
from bench.staff import OPINION, PASSWORD, ROW, TASK_ID  # noqa: E402
from bench.webclient import Server, WebUser  # noqa: E402

UNAVAILABLE = "数据库暂时不可用，请稍后重试；重试前可刷新页面，查看刚才的操作是否已生效。"
REVIEW = {"review_decision": "approve", "review_opinion": OPINION, "action": "complete"}
GIVE_UP_S = 240.0


# -- the reviewers -------------------------------------------------------------------------------

class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.status: Counter = Counter()          # "kind status" -> count
        self.lost: Counter = Counter()            # kind -> requests whose connection failed
        self.successes: Counter = Counter()       # task row id -> completions answered with 302
        self.unclear_503: list[str] = []          # 503 bodies without the message
        self.server_errors: list[str] = []        # "kind path status"


class Budget:
    """How many completions the reviewers may attempt (None: no limit). A completion attempted is
    counted whether or not its answer arrives, so the completions saved never exceed the budget."""

    def __init__(self, allowed: int | None):
        self.cond = threading.Condition()
        self.allowed, self.taken = allowed, 0

    def take(self, stop: threading.Event) -> bool:
        with self.cond:
            while self.allowed is not None and self.taken >= self.allowed:
                if stop.is_set():
                    return False
                self.cond.wait(0.2)
            self.taken += 1
            return True

    def allow(self, allowed: int | None) -> None:
        with self.cond:
            self.allowed = allowed
            self.cond.notify_all()


class Reviewer(WebUser, threading.Thread):
    def __init__(self, username: str, port: int, outcomes: Outcomes, stop: threading.Event, budget: Budget):
        WebUser.__init__(self, username, PASSWORD, port)
        threading.Thread.__init__(self, daemon=True, name=username)
        self.outcomes, self.stop, self.budget = outcomes, stop, budget
        self.rng = random.Random(username)
        self.signed_in = False
        self.error: str | None = None

    def on_failure(self, kind: str, exc: Exception) -> None:
        with self.outcomes.lock:
            self.outcomes.lost[kind] += 1

    def request(self, kind: str, method: str, path: str, form: dict | None = None):
        answer = self.call(kind, method, path, form)
        if answer is None:
            time.sleep(0.2)
            return None
        status, body, _ = answer
        with self.outcomes.lock:
            self.outcomes.status[f"{kind} {status}"] += 1
            if status == 503 and UNAVAILABLE not in body and "database unavailable" not in body:
                self.outcomes.unclear_503.append(body[:200])
            if status >= 500 and status != 503:
                self.outcomes.server_errors.append(f"{kind} {path} {status}")
        if status == 503:
            time.sleep(0.2)
        return answer

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if not self.signed_in:
                    self.login()   # a login lost to a fault is tried again
                else:
                    self.cycle()
        except Exception as exc:  # noqa: BLE001 -- reported; the check then finds the work undone
            self.error = f"{type(exc).__name__}: {exc}"

    def login(self) -> None:
        try:
            super().login()
            self.signed_in = True
        except RuntimeError:
            time.sleep(0.2)

    def cycle(self) -> None:
        mine = self.request("inbox", "GET", "/inbox?tab=mine")
        if mine is not None and mine[0] == 302:
            self.signed_in = False   # the session is gone: sign in again
        if mine is None or mine[0] != 200:
            return
        rows = ROW.findall(mine[1])
        if rows:
            row = rows[0]
        else:
            group = self.request("inbox", "GET", "/inbox?tab=group")
            if group is None or group[0] != 200:
                return
            rows = ROW.findall(group[1])
            if not rows:
                time.sleep(0.5)   # nothing left to do (or not yet): look again later
                return
            row = self.rng.choice(rows)
            claim = self.request("claim", "POST", f"/tasks/{row}/claim", {"csrf_token": self.token})
            if claim is None or claim[0] != 302:
                return
        page = self.request("task", "GET", f"/tasks/{row}")
        if page is None or page[0] != 200:
            return
        task_id = TASK_ID.search(page[1])
        if not task_id or not self.budget.take(self.stop):
            return
        done = self.request("complete", "POST", f"/tasks/{row}",
                            {**REVIEW, "csrf_token": self.token, "task_id": task_id.group(1)})
        if done is not None and done[0] == 302:
            with self.outcomes.lock:
                self.outcomes.successes[int(row)] += 1


# -- the faults ----------------------------------------------------------------------------------

def timers_fired(url: str) -> int:
    with psycopg.connect(pg_conninfo(url), autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM audit_event WHERE action = 'case.timers_fired'").fetchone()[0]


def review_tasks_left(url: str) -> int:
    with psycopg.connect(pg_conninfo(url), autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM human_task WHERE bpmn_id = 'legality_review'").fetchone()[0]


def wait_until(predicate, timeout: float, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except psycopg.Error:
            pass
        time.sleep(step)
    return False


def timer_waves(total: int) -> list[int]:
    """The timer cases in three waves: 2/5 before the timer worker's kill, 3/10 created after it,
    the rest after the database's restart."""
    first, second = total * 2 // 5, total * 3 // 10
    return [first, second, total - first - second]


EVENT_TIMEOUT_S = 120.0   # an event not seen by then is reported (the test then fails), not waited for


def inflict(server: Server, timer_workers: list[subprocess.Popen], pg: PrivatePostgres, url: str,
            budget: Budget, total_reviews: int, waves: list[int], t0: float) -> list[dict]:
    """The three faults, each on an observed event while work is guaranteed to remain (see the
    module's docstring); returns what was done and when."""
    done = []

    def note(what: str, **facts):
        done.append({"fault": what, "at_s": round(time.perf_counter() - t0, 2), **facts})
        print(f"  {done[-1]['at_s']:6.2f} s  {what}  {facts}", flush=True)

    def completed() -> int:
        return total_reviews - review_tasks_left(url)

    hold_back = max(1, total_reviews // 4)
    # 1. a web worker, once 5 reviews are seen completed; the budget lets at most a quarter through
    seen = wait_until(lambda: completed() >= 5, EVENT_TIMEOUT_S)
    victim = server.worker_pids()[0]
    left = review_tasks_left(url)
    os.kill(victim, signal.SIGKILL)
    note("SIGKILL gunicorn worker", pid=victim, reviews_left=left, of=total_reviews, event_seen=seen,
         budget=budget.allowed)
    before_restart = total_reviews - hold_back
    budget.allow(before_restart)
    # 2. a timer worker, once some of the first wave's timers, created now, are seen fired (only
    #    that wave exists; the workers commit them in batches of 50, so the kill most likely finds
    #    a batch in flight, but nothing depends on it)
    timers.add_wave(url, waves[0])
    seen = wait_until(lambda: timers_fired(url) >= min(20, max(1, waves[0] // 4)), EVENT_TIMEOUT_S, 0.01)
    timer_workers[0].kill()
    timer_workers[0].wait()
    fired = timers_fired(url)
    note("SIGKILL timer worker", pid=timer_workers[0].pid, timers_fired=fired, of=sum(waves),
         created=waves[0], event_seen=seen)
    # 3. the database, once more reviews are seen done after the budget was raised and the
    #    surviving worker is seen firing the second wave, created now (a timer beyond the first
    #    wave's count can only be the second's); neither the third wave nor the last quarter of
    #    the reviews can be done yet
    seen = wait_until(lambda: completed() >= total_reviews // 4 + 5, EVENT_TIMEOUT_S)
    timers.add_wave(url, waves[1])
    seen = wait_until(lambda: timers_fired(url) > waves[0], EVENT_TIMEOUT_S, 0.01) and seen
    before = pg.started_at()
    left, fired = review_tasks_left(url), timers_fired(url)
    pg.restart()
    note("PostgreSQL restarted", reviews_left=left, timers_fired=fired, of=sum(waves),
         created=waves[0] + waves[1], restarted=pg.started_at() > before, event_seen=seen,
         budget=before_restart)
    budget.allow(None)
    timers.add_wave(url, waves[2])   # `pg_ctl restart -w` returned: the server accepts connections
    return done


# -- the checks ----------------------------------------------------------------------------------

def check(url: str, outcomes: Outcomes, instance: str) -> dict:
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        q = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
        per_case = dict(conn.execute(
            """SELECT c.id, count(e.id) FROM "case" c LEFT JOIN audit_event e
               ON e.case_id = c.id AND e.action = 'task.completed' AND e.data ->> 'task' = 'legality_review'
               WHERE c.process_key = 'record_lifecycle' GROUP BY c.id""").fetchall())
        completed_rows = {int(r) for (r,) in conn.execute(
            """SELECT data ->> 'task_row_id' FROM audit_event
               WHERE action = 'task.completed' AND data ->> 'task' = 'legality_review'""").fetchall()}
        reviews = {
            "records": len(per_case),
            "completed_once": sum(1 for n in per_case.values() if n == 1),
            "completed_twice": sum(1 for n in per_case.values() if n > 1),
            "not_completed": sum(1 for n in per_case.values() if n == 0),
            "review_tasks_left": q("SELECT count(*) FROM human_task WHERE bpmn_id = 'legality_review'"),
            # after the review each case waits at exactly one next task
            "cases_not_at_one_next_task": q("""SELECT count(*) FROM "case" c WHERE c.process_key = 'record_lifecycle'
                AND (SELECT count(*) FROM human_task h WHERE h.case_id = c.id) <> 1"""),
        }
    with outcomes.lock:
        reviews["answered_302_twice"] = sum(1 for n in outcomes.successes.values() if n > 1)
        reviews["answered_302_not_saved"] = sum(1 for row in outcomes.successes if row not in completed_rows)
    reviews["wrong_answers"] = reviews["answered_302_twice"] + reviews["answered_302_not_saved"]
    env = {**os.environ, "DATABASE_URL": url, "CREDFLOW_INSTANCE": instance}
    verify = subprocess.run(timers.cli_command("verify-audit"), cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    return {"reviews": reviews, "timers": timers.count(url),
            "audit": {"exit_code": verify.returncode, "output": (verify.stdout + verify.stderr).strip()[-300:]}}


# -- the run -------------------------------------------------------------------------------------

def run(records: int = 300, timer_cases: int = 3000, users: int = 20, web_workers: int = 2, emails: int = 200) -> dict:
    if records < 20 or timer_cases < 10:
        raise ValueError("the faults need at least 20 records and 10 timer cases to guarantee work remains")
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="credflow-bench-faults-") as tmp:
        tmp = Path(tmp)
        pg = PrivatePostgres().start()
        url = pg.url()
        server, timer_procs, staff, stop, mail = None, [], [], threading.Event(), None
        try:
            prepared = load.prepare(url, records, fresh=True)
            waves = timer_waves(timer_cases)
            timers.set_up(url, 0, 500)   # the timer process; its cases come in waves (see inflict)
            users = min(users, load.REVIEWERS)
            server = Server(url, web_workers, 1, tmp)
            server.wait_ready()
            instance = str(tmp / "instance")
            env = {**os.environ, "DATABASE_URL": url, "CREDFLOW_INSTANCE": instance}
            env.pop("CREDFLOW_SETTINGS", None)
            for i in range(2):
                with open(tmp / f"worker{i}.log", "w") as log:
                    timer_procs.append(subprocess.Popen(
                        timers.cli_command("worker", "--interval", "0.5", "--batch", "50"), cwd=ROOT, env=env,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
            outcomes = Outcomes()
            budget = Budget(max(5, records // 4))
            staff = [Reviewer(load.reviewer_name(i + 1), server.port, outcomes, stop, budget) for i in range(users)]
            t0 = time.perf_counter()
            mail = OutboxFault(url, env, tmp, emails).start(t0)
            for s in staff:
                s.start()
            faults = inflict(server, timer_procs, pg, url, budget, records, waves, t0)
            finished = wait_until(lambda: review_tasks_left(url) == 0, GIVE_UP_S, 0.2)
            timers_done = wait_until(lambda: timers_fired(url) >= timer_cases, GIVE_UP_S, 0.2)
            outbox = mail.finish(wait_until, GIVE_UP_S)
            elapsed = time.perf_counter() - t0
            stop.set()
            for s in staff:
                s.join(timeout=40)
            for p in timer_procs:
                p.send_signal(signal.SIGTERM)
            for p in timer_procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
            workers_after = server.worker_pids()
            result = {"bench": "faults", "records": records, "timer_cases": timer_cases, "timer_waves": waves,
                      "users": users, "bench_calendar_years": prepared["bench_calendar_years"],
                      "gunicorn_workers": web_workers, "timer_workers": len(timer_procs),
                      "prepare_s": prepared["prepare_s"], "work_s": round(elapsed, 1),
                      "all_reviews_done": finished, "all_timers_fired": timers_done, "faults": faults,
                      "gunicorn_workers_after": len(workers_after),
                      "reviewer_errors": [s.error for s in staff if s.error], "outbox": outbox}
            result.update(check(url, outcomes, instance))
            result["clients"] = {"responses": dict(sorted(outcomes.status.items())),
                                 "connections_lost": dict(outcomes.lost),
                                 "server_errors": outcomes.server_errors[:10],
                                 "unclear_503": len(outcomes.unclear_503),
                                 "answered_503": sum(n for k, n in outcomes.status.items() if k.endswith(" 503"))}
            result["gunicorn_log_tail"] = [line for line in server.log_tail(400).splitlines()
                                           if "Traceback" in line or "ERROR" in line][-5:]
            logs = server.log.read_text(errors="replace") + server.app_log.read_text(errors="replace")
            result["server_error_log"] = [_tail_of_block(logs, m.start()) for m in
                                          re.finditer("Error handling request|unhandled error", logs)][:3]
        finally:
            stop.set()
            for p in timer_procs:
                if p.poll() is None:
                    p.kill()
            if mail is not None:
                mail.stop()
            if server is not None:
                server.stop()
            pg.stop()
    result["total_s"] = round(time.perf_counter() - t_start, 1)
    result["ok"] = ok(result)
    return result


def _tail_of_block(logs: str, start: int, keep: int = 3000) -> str:
    """A logged traceback from `start` to the next log line: its first line and its last `keep`
    characters (where the exception that escaped is)."""
    end = logs.find("\n[20", start + 1)   # the next gunicorn log line starts with its timestamp
    block = logs[start:end if end > 0 else len(logs)]
    first = block.split("\n", 1)[0]
    return block if len(block) <= keep else f"{first}\n...\n{block[-keep:]}"


def ok(result: dict) -> bool:
    r, t, c = result["reviews"], result["timers"], result["clients"]
    return (result["all_reviews_done"] and result["all_timers_fired"] and len(result["faults"]) == 3
            and all(f["event_seen"] for f in result["faults"])
            and r["completed_once"] == r["records"] == result["records"] and r["wrong_answers"] == 0
            and r["review_tasks_left"] == 0 and r["cases_not_at_one_next_task"] == 0
            and t["fired_twice"] == 0 and t["missed"] == 0 and result["audit"]["exit_code"] == 0
            and not c["server_errors"] and c["unclear_503"] == 0 and outbox_ok(result["outbox"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--timers", type=int, default=3000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--emails", type=int, default=200)
    args = parser.parse_args()
    import logging
    logging.getLogger("alembic").setLevel(logging.WARNING)
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    result = run(args.records, args.timers, args.users, args.web_workers, args.emails)
    r, t, c, m = result["reviews"], result["timers"], result["clients"], result["outbox"]
    print(f"reviews: {r['completed_once']}/{r['records']} completed exactly once, {r['completed_twice']} twice, "
          f"{r['wrong_answers']} wrong answers; timers: {t['fired_twice']} fired twice, {t['missed']} missed; "
          f"e-mail: {m['delivered_once']}/{m['emails']} delivered once, {m['duplicates']} duplicates, {m['lost']} lost; "
          f"audit chain exit code {result['audit']['exit_code']}; clients: {c['answered_503']} answers 503, "
          f"{sum(c['connections_lost'].values())} connections lost, {len(c['server_errors'])} server errors; "
          f"work {result['work_s']} s -> {'OK' if result['ok'] else 'NOT OK'}", flush=True)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
