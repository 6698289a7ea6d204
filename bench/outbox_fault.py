"""bench/faults.py's e-mail part: the outbox worker among the processes the bench kills.

It starts a local SMTP server (bench/mailsink.py), queues --emails messages in the outbox (through
workflows.outbox.writer, as an action would) and starts one `credflow outbox` process, the victim.
The server itself strikes: when the victim's k-th message (a quarter of them) arrives, it SIGKILLs
the victim before answering, so k-1 messages were accepted (and recorded as sent: each is
recorded before the next is sent) and the rest are not, however fast the machine is. The message
it held counts as refused. Then two fresh `credflow outbox` processes send the rest, the victim's
leased batch once its lease (10 s here) has passed; should the database restart come while they
send, a message accepted meanwhile is recorded once the database is back (sender.mark_sent retries
within the lease). At the end every message must have been accepted exactly once, by Message-ID.

The kill lands before the server's 250, outside the window sender.py describes (a kill between
the 250 and the commit that records it), so any duplicate is a defect, not that window.
"""
from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg

from bench.benchdb import pg_conninfo
from bench.mailsink import MailSink
from bench.timers import cli_command

ROOT = Path(__file__).resolve().parent.parent
LEASE_S = 10.0   # long enough for a message's record to outlast the database restart, short for the bench


class OutboxFault:
    def __init__(self, url: str, env: dict, tmp: Path, emails: int):
        self.url, self.tmp, self.emails = url, tmp, emails
        self.kill_at = max(2, emails // 4)
        settings = tmp / "outbox-settings.json"
        settings.write_text(json.dumps({"outbox_batch": 10, "outbox_lease_seconds": LEASE_S,
                                        "outbox_retry_base_seconds": 1.0, "outbox_retry_max_seconds": 5.0}))
        self.sink = MailSink(self._on_message)
        self.env = {**env, "CREDFLOW_SMTP_HOST": "127.0.0.1", "CREDFLOW_SETTINGS": str(settings),
                    "CREDFLOW_SMTP_FROM": "credflow@bench.example"}
        self.victim: subprocess.Popen | None = None
        self.rescuers: list[subprocess.Popen] = []
        self.victim_started = threading.Event()
        self.killed: dict = {}
        self.t0 = time.perf_counter()

    def _start(self, name: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "w") as log:
            return subprocess.Popen(cli_command("outbox", "--interval", "0.2"), cwd=ROOT,
                                    env={**self.env, "CREDFLOW_SMTP_PORT": str(self.sink.port),
                                         "CREDFLOW_SMTP_HELO": name},
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _on_message(self, sink: MailSink, helo: str, message_id: str):
        """Runs in the server: the victim's k-th message kills it before the answer."""
        if helo != "victim" or self.killed or sum(1 for _, h in sink.accepted if h == "victim") < self.kill_at - 1:
            return None
        self.victim_started.wait(30)
        self.victim.kill()
        self.victim.wait()
        self.killed = {"fault": "SIGKILL outbox worker", "at_s": round(time.perf_counter() - self.t0, 2),
                       "pid": self.victim.pid, "accepted_before": len(sink.accepted), "of": self.emails,
                       "held_message": message_id, "event_seen": True}
        print(f"  {self.killed['at_s']:6.2f} s  SIGKILL outbox worker  {self.killed}", flush=True)
        self.rescuers = [self._start(f"rescuer{i}") for i in (1, 2)]
        return "451 4.3.0 the sender is gone"

    def start(self, t0: float) -> "OutboxFault":
        from workflows.db import make_engine, make_session_factory
        from workflows.outbox.writer import queue_email
        from workflows.runtime import Actor, UnitOfWork
        from workflows.settings import Settings, SmtpSettings
        self.t0 = t0
        self.sink.start()
        engine = make_engine(self.url)
        with UnitOfWork(make_session_factory(engine), Actor.system("bench"), settings=Settings(smtp=SmtpSettings(sender="credflow@bench.example"))) as uow:
            for i in range(self.emails):
                queue_email(uow, f"reader{i}@bench.example", f"[credflow] 提醒 {i}", f"第 {i} 封提醒。")
            uow.commit()
        engine.dispose()
        self.victim = self._start("victim")
        self.victim_started.set()
        return self

    def sent(self) -> int:
        with psycopg.connect(pg_conninfo(self.url), autocommit=True, connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM outbox_message WHERE status = 'sent'").fetchone()[0]

    def finish(self, wait_until, timeout: float) -> dict:
        """Wait until every message is recorded as sent, stop the workers, and count."""
        done = wait_until(lambda: self.sent() >= self.emails, timeout, 0.2)
        self.stop()
        counts = self.sink.counts()
        with psycopg.connect(pg_conninfo(self.url), autocommit=True) as conn:
            statuses = dict(conn.execute("SELECT status, count(*) FROM outbox_message GROUP BY status").fetchall())
            attempts = dict(conn.execute("SELECT attempts, count(*) FROM outbox_message GROUP BY attempts").fetchall())
            queued = {m for (m,) in conn.execute("SELECT message_id FROM outbox_message").fetchall()}
        return {"emails": self.emails, "all_sent": done, "fault": self.killed or {"event_seen": False},
                "accepted": sum(counts.values()), "delivered_once": sum(1 for n in counts.values() if n == 1),
                "duplicates": sum(n - 1 for n in counts.values() if n > 1), "lost": len(queued - set(counts)),
                "refused_answers": len(self.sink.refused), "statuses": statuses,
                "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())},
                "by_worker": {h: sum(1 for _, w in self.sink.accepted if w == h)
                              for h in sorted({w for _, w in self.sink.accepted})}}

    def stop(self) -> None:
        for p in [self.victim, *self.rescuers]:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in [self.victim, *self.rescuers]:
            if p is None:
                continue
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            self.sink.stop()
        except Exception:  # noqa: BLE001 -- stopped already
            pass


def ok(outbox: dict) -> bool:
    return (outbox["all_sent"] and outbox["fault"]["event_seen"] and outbox["duplicates"] == 0
            and outbox["lost"] == 0 and outbox["delivered_once"] == outbox["emails"]
            and outbox["statuses"] == {"sent": outbox["emails"]})

