"""CPU accounting for the benches, from /proc: a process tree's CPU seconds, how a process's threads
split their time between running and waiting for a CPU, and the PostgreSQL backends serving a database."""
from __future__ import annotations

import os
import threading
import time
from collections import Counter

import psycopg

from bench.benchdb import pg_conninfo

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, utime + stime in seconds) from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of all a process's threads."""
    run = wait = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                a, b, _ = fh.read().split()
        except (OSError, ValueError):
            continue
        run, wait = run + int(a), wait + int(b)
    return run / 1e9, wait / 1e9


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of a process and its children (gunicorn's master and its workers)."""
    out = {}
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st:
                parents[int(entry)] = st
    for pid, (ppid, cpu) in parents.items():
        if pid == root or ppid == root:
            out[pid] = cpu
    return out


class BackendCpu:
    """Polls the CPU time of the PostgreSQL backends connected to this database (a backend's last
    reading is at most one poll old when it exits; a backend existing before `start` counts from then)."""

    def __init__(self, url: str, interval: float = 0.1):
        self.url, self.interval = url, interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.lock = threading.Lock()
        self.states: Counter = Counter()    # backend samples by state / wait event, in the window
        self.sampling = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        with psycopg.connect(pg_conninfo(self.url), autocommit=True) as conn:
            me = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            while not self.stop.is_set():
                for pid, state, wait_type, wait in conn.execute(
                        "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> %s", (me,)).fetchall():
                    if self.sampling:
                        label = state if state != "active" or not wait_type else f"active, waiting: {wait_type}/{wait}"
                        self.states[label] += 1
                    st = proc_stat(pid)
                    if st:
                        with self.lock:
                            self.first.setdefault(pid, st[1])
                            self.last[pid] = st[1]
                self.stop.wait(self.interval)

    def start(self):
        self.thread.start()
        time.sleep(self.interval * 2)

    def mark(self) -> None:
        """Count from now on for the backends already seen."""
        with self.lock:
            for pid in list(self.last):
                st = proc_stat(pid)
                if st:
                    self.first[pid] = self.last[pid] = st[1]
                else:
                    del self.first[pid], self.last[pid]
            self.sched_before = {pid: schedstat(pid) for pid in self.last}
            self.sampling = True

    def sched(self) -> tuple[float, float]:
        """On-CPU and runqueue-wait seconds of the backends since `mark` (those still connected)."""
        run = wait = 0.0
        for pid, (r0, w0) in self.sched_before.items():
            r1, w1 = schedstat(pid)
            if r1 or w1:
                run, wait = run + r1 - r0, wait + w1 - w0
        return run, wait

    def finish(self) -> float:
        self.sampling = False
        self.stop.set()
        self.thread.join()
        return sum(self.last[p] - self.first[p] for p in self.last)



def backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the database (but the one asking)."""
    with psycopg.connect(pg_conninfo(url), autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()").fetchall()]
    return {pid: st[1] for pid in pids if (st := proc_stat(pid))}
