"""The simulated staff of bench/load.py (and bench/faults.py): each a thread with its own cookie
jar and connection, looping inbox -> claim -> task -> complete through the pages or the JSON API,
and counting what it sees."""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, defaultdict

from bench.webclient import WebUser

PASSWORD = "bench-load"
KINDS = ("inbox", "claim", "task", "complete")
ROW = re.compile(r'data-task-row="(\d+)"')
TASK_URL = re.compile(r"/tasks/(\d+)$")
TASK_ID = re.compile(r'name="task_id" value="([^"]+)"')
OPINION = "事实清楚，证据确实充分，依据正确，程序合法。"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)          # kind -> seconds
        self.status = defaultdict(Counter)        # kind -> status -> count
        self.completed_at: list[float] = []
        self.empty_inbox = 0
        self.cycles_lost = 0                      # cycles that ended in a 409
        self.deadline = 0.0


class Staff(WebUser, threading.Thread):
    def __init__(self, username: str, port: int, stats: Stats, start_gate: threading.Barrier, pick: str,
                 api_token: str | None = None):
        WebUser.__init__(self, username, PASSWORD, port)
        self.api_token = api_token    # set: work through the JSON API instead of the pages
        threading.Thread.__init__(self, daemon=True, name=username)
        self.stats, self.gate, self.pick = stats, start_gate, pick
        self.deadline = 0.0
        self.login_s = None
        self.rng = random.Random(username)
        self.failed: str | None = None

    def on_response(self, kind: str, status: int, elapsed: float) -> None:
        if kind in KINDS:
            with self.stats.lock:
                self.stats.latency[kind].append(elapsed)
                self.stats.status[kind][status] += 1

    def on_failure(self, kind: str, exc: Exception) -> None:
        if kind in KINDS:
            with self.stats.lock:
                self.stats.status[kind][f"exception:{type(exc).__name__}"] += 1

    def run(self) -> None:
        try:
            t0 = time.perf_counter()
            self.login()
            self.login_s = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 -- reported, the others go on
            self.failed = f"login: {exc}"
        try:
            self.gate.wait(timeout=300)
        except threading.BrokenBarrierError:
            return
        if self.failed:
            return
        self.deadline = self.stats.deadline
        while time.perf_counter() < self.deadline:
            self.cycle()

    def api_cycle(self) -> None:
        """The same four steps through /api/v1: the task list, claim next, the task, complete."""
        token = self.api_token
        inbox = self.call("inbox", "GET", "/api/v1/tasks?tab=group", bearer=token)
        if inbox is None or inbox[0] != 200 or time.perf_counter() >= self.deadline:
            return
        if '"tasks":[]' in inbox[1].replace(" ", ""):
            with self.stats.lock:
                self.stats.empty_inbox += 1
            return
        claim = self.call("claim", "POST", "/api/v1/tasks/next", bearer=token)
        if claim is None or claim[0] != 200 or time.perf_counter() >= self.deadline:
            return
        row = json.loads(claim[1])["id"]
        page = self.call("task", "GET", f"/api/v1/tasks/{row}", bearer=token)
        if page is None or page[0] != 200 or time.perf_counter() >= self.deadline:
            return
        done = self.call("complete", "POST", f"/api/v1/tasks/{row}/complete", bearer=token,
                         json_body={"data": {"review_decision": "approve", "review_opinion": OPINION}})
        if done is not None and done[0] == 200:
            with self.stats.lock:
                self.stats.completed_at.append(time.perf_counter())

    def cycle(self) -> None:
        if self.api_token:
            return self.api_cycle()
        stats = self.stats
        inbox = self.call("inbox", "GET", "/inbox?tab=group")
        if inbox is None or inbox[0] != 200:
            return
        rows = ROW.findall(inbox[1])
        if not rows:
            with stats.lock:
                stats.empty_inbox += 1
            time.sleep(0.05)
            return
        if time.perf_counter() >= self.deadline:
            return
        if self.pick == "next":
            claim = self.call("claim", "POST", "/tasks/next", {"csrf_token": self.token})
            found = claim is not None and claim[0] == 302 and TASK_URL.search(claim[2] or "")
            if not found:
                return
            row = found.group(1)
        else:
            row = rows[0] if self.pick == "first" else self.rng.choice(rows)
            claim = self.call("claim", "POST", f"/tasks/{row}/claim", {"csrf_token": self.token})
        if claim is None or claim[0] != 302:
            if claim is not None and claim[0] == 409:
                with stats.lock:
                    stats.cycles_lost += 1
            return
        if time.perf_counter() >= self.deadline:
            return
        page = self.call("task", "GET", f"/tasks/{row}")
        if page is None or page[0] != 200:
            return
        task_id = TASK_ID.search(page[1])
        if not task_id:
            with stats.lock:
                stats.status["task"]["no form on the page"] += 1
            return
        if time.perf_counter() >= self.deadline:
            return
        done = self.call("complete", "POST", f"/tasks/{row}",
                         {"csrf_token": self.token, "task_id": task_id.group(1), "review_decision": "approve",
                          "review_opinion": OPINION, "action": "complete"})
        if done is not None and done[0] == 302:
            with stats.lock:
                stats.completed_at.append(time.perf_counter())
        elif done is not None and done[0] == 409:
            with stats.lock:
                stats.cycles_lost += 1
