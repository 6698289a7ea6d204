"""E-mail leaves through the outbox (workflows/outbox/): written in the action's transaction, sent
by workers against a real local SMTP server (aiosmtpd, bench/mailsink.py), each message once --
with two workers at once, with a worker killed mid-batch, with a server that answers 4xx or
hangs up -- and never from inside a web request. Deadline reminders are sent once however many
workers run. Every clock here is explicit, the worker processes' too; every kill strikes on an
event the SMTP server or the worker reports."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from bench.mailsink import MailSink
from workflows.accounts import create_user
from workflows.cases import assign_task, complete_task
from workflows.models import Notification, User
from workflows.notifications import holders_of_role
from workflows.outbox.admin import outbox_overview
from workflows.outbox.model import OutboxMessage
from workflows.outbox.sender import send_outbox
from workflows.outbox.writer import queue_email
from workflows.records import open_record
from workflows.reminders import send_deadline_reminders
from workflows.runtime import Actor, UnitOfWork
from workflows.settings import Settings, SmtpSettings

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 600.0
BASE_S = 60.0


def settings_for(port: int, helo: str = "tester", **outbox) -> Settings:
    values = {"outbox_batch": 5, "outbox_lease_seconds": LEASE_S, "outbox_retry_base_seconds": BASE_S,
              "outbox_retry_max_seconds": 3600.0, "outbox_max_attempts": 5, **outbox}
    return Settings(smtp=SmtpSettings(host="127.0.0.1", port=port, sender="credflow@office.example", helo_name=helo,
                                      timeout=10.0), **values)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailed(world):
    """The world's accounts with e-mail addresses."""
    with world.factory() as session:
        session.execute(update(User).values(email=User.username + "@office.example"))
        session.commit()
    return world


def queue(world, settings, n: int) -> list[str]:
    with UnitOfWork(world.factory, Actor.system("test"), world.clock, settings) as uow:
        messages = [queue_email(uow, f"person{i}@office.example", f"[credflow] 第 {i} 封", f"正文 {i}") for i in range(n)]
        uow.commit()
    return [m.message_id for m in messages]


def rows(world) -> list[OutboxMessage]:
    with world.factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def review_task(world):
    _, case = world.run("clerk", open_record, world.subjects[0], {**CAPTURE, "conduct_date": "2026-02-10"})
    return world.task(case.id, "legality_review")


CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "逾期未支付中小企业账款。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}


# -- written with the action ---------------------------------------------------------------------

def test_an_action_queues_its_email_in_its_own_transaction_and_a_rollback_leaves_none(mailed):
    world, settings = mailed, settings_for(closed_port())
    task = review_task(world)
    reviewer = world.actors["reviewer"]
    with UnitOfWork(world.factory, world.actors["leader"], world.clock, settings) as uow:
        assign_task(uow, task.id, reviewer.user_id)
        uow.session.flush()
        assert uow.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1   # written, not committed
        # leaving without commit: the action is rolled back
    assert rows(world) == []
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 0

    with UnitOfWork(world.factory, world.actors["leader"], world.clock, settings) as uow:
        assign_task(uow, task.id, reviewer.user_id)
        uow.commit()
    [row] = rows(world)
    with world.factory() as session:
        note = session.scalars(select(Notification).where(Notification.kind == "assigned")).one()
    assert (row.kind, row.status, row.attempts, row.recipient) == ("email", "pending", 0, "reviewer@office.example")
    assert row.notification_id == note.id and row.subject.startswith("[credflow] ") and note.text in row.body
    assert row.message_id.startswith("<") and row.message_id.endswith("@office.example>")
    assert row.next_attempt_at == row.created_at == world.clock.now() and row.sent_at is None


def test_without_an_smtp_server_configured_no_email_is_queued(mailed):
    world = mailed
    task = review_task(world)
    with UnitOfWork(world.factory, world.actors["leader"], world.clock, Settings(smtp=SmtpSettings())) as uow:
        assign_task(uow, task.id, world.actors["reviewer"].user_id)
        uow.commit()
    assert rows(world) == []


# -- sent by workers, each once ------------------------------------------------------------------

def test_two_workers_at_once_deliver_each_message_exactly_once(world):
    """Each worker's first message is held at the server until the other's has arrived too, so
    both are mid-batch at the same time: their claims did not overlap."""
    both_in = threading.Barrier(2, timeout=30)
    held = set()

    def on_message(sink, helo, message_id):
        if helo not in held:
            held.add(helo)
            both_in.wait()
        return None

    with MailSink(on_message) as sink:
        ids = queue(world, settings_for(sink.port), 40)
        results = {}
        workers = [threading.Thread(target=lambda name=name: results.update(
            {name: send_outbox(world.factory, settings_for(sink.port, name), world.clock)})) for name in ("w1", "w2")]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        counts = sink.counts()
        senders = {helo for _, helo in sink.accepted}
    assert senders == {"w1", "w2"}
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    assert results["w1"]["sent"] + results["w2"]["sent"] == 40
    assert {r.status for r in rows(world)} == {"sent"} and {r.attempts for r in rows(world)} == {1}


WORKER = """
import sys, time
from datetime import datetime
from workflows.clock import FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.outbox import sender
from workflows.settings import Settings, SmtpSettings
url, at, port, helo, hold_at = sys.argv[1:]
settings = Settings(smtp=SmtpSettings(host="127.0.0.1", port=int(port), sender="credflow@office.example",
                                      helo_name=helo, timeout=10.0), outbox_batch=5, outbox_lease_seconds=600.0)
marked = []
record = sender.mark_sent
def mark_sent(session_factory, row, worker, clock):
    marked.append(row.id)
    if len(marked) == int(hold_at):   # the server answered 250 to this one: stop before recording it
        print("accepted", row.message_id, flush=True)
        time.sleep(600)
    record(session_factory, row, worker, clock)
sender.mark_sent = mark_sent
print(sender.send_outbox(make_session_factory(make_engine(url)), settings, FixedClock(datetime.fromisoformat(at))))
"""


def start_worker(database_url, clock, port: int, helo: str, hold_at: int = 0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, database_url, clock.now().isoformat(), str(port), helo,
                             str(hold_at)], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_a_worker_killed_before_the_servers_answer_loses_nothing_and_repeats_nothing(world, database_url):
    """Killed by the server while it holds the 3rd message's data, before answering: that message
    was never accepted. The two before it were recorded as sent before the 3rd was sent."""
    victim, started = [], threading.Event()

    def on_message(sink, helo, message_id):
        if helo == "victim" and sum(1 for _, h in sink.accepted if h == "victim") == 2:
            started.wait(30)
            victim[0].kill()
            victim[0].wait()
            return "451 4.3.0 the sender is gone"
        return None

    with MailSink(on_message) as sink:
        ids = queue(world, settings_for(sink.port), 12)
        victim.append(start_worker(database_url, world.clock, sink.port, "victim"))
        started.set()
        assert victim[0].wait(timeout=120) == -9
        assert [mid for mid, _ in sink.accepted] == ids[:2]
        assert [r.message_id for r in rows(world) if r.status == "sent"] == ids[:2]
        held = [r for r in rows(world) if r.claimed_until is not None]
        assert [r.message_id for r in held] == ids[2:5]      # the rest of its batch, leased to it

        rescuer = settings_for(sink.port, "rescuer")
        send_outbox(world.factory, rescuer, world.clock)     # the lease holds: only the unclaimed are sent
        assert sorted(mid for mid, h in sink.accepted if h == "rescuer") == sorted(ids[5:])
        world.clock.advance(seconds=LEASE_S + 1)
        send_outbox(world.factory, rescuer, world.clock)     # the killed worker's batch, after its lease
        counts = sink.counts()
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    assert {r.status for r in rows(world)} == {"sent"}
    assert [r.attempts for r in rows(world)][:6] == [1, 1, 2, 2, 2, 1]


def test_a_worker_killed_between_the_servers_answer_and_its_commit_sends_that_one_message_twice(
        world, database_url):
    """The window that remains, measured: the server has answered 250 to the 3rd message, the worker
    is killed before recording it. After the lease that message is sent again, with the same
    Message-ID; nothing else is."""
    with MailSink() as sink:
        ids = queue(world, settings_for(sink.port), 8)
        victim = start_worker(database_url, world.clock, sink.port, "victim", hold_at=3)
        line = victim.stdout.readline().split()
        assert line == ["accepted", ids[2]]
        victim.kill()
        victim.wait()
        world.clock.advance(seconds=LEASE_S + 1)
        send_outbox(world.factory, settings_for(sink.port, "rescuer"), world.clock)
        counts = sink.counts()
    assert sorted(counts) == sorted(ids)
    assert {mid: n for mid, n in counts.items() if n > 1} == {ids[2]: 2}
    assert {r.status for r in rows(world)} == {"sent"}


# -- retries -------------------------------------------------------------------------------------

def test_a_4xx_answer_is_retried_with_growing_delays_on_the_given_clock(world):
    answers = ["451 4.7.1 greylisted, try later", "452 4.3.1 insufficient storage"]

    def on_message(sink, helo, message_id):
        return answers.pop(0) if answers else None

    with MailSink(on_message) as sink:
        settings = settings_for(sink.port)
        [mid] = queue(world, settings, 1)
        start = world.clock.now()
        assert send_outbox(world.factory, settings, world.clock)["retrying"] == 1
        [row] = rows(world)
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, start + timedelta(seconds=BASE_S))
        assert row.last_error.startswith("451 4.7.1") and row.claimed_until is None

        world.clock.advance(seconds=BASE_S - 1)
        assert send_outbox(world.factory, settings, world.clock)["claimed"] == 0      # not due yet
        world.clock.advance(seconds=1)
        send_outbox(world.factory, settings, world.clock)
        [row] = rows(world)
        assert (row.attempts, row.next_attempt_at) == (2, world.clock.now() + timedelta(seconds=2 * BASE_S))
        assert row.last_error.startswith("452")

        world.clock.advance(seconds=2 * BASE_S - 1)
        assert send_outbox(world.factory, settings, world.clock)["claimed"] == 0
        world.clock.advance(seconds=1)
        assert send_outbox(world.factory, settings, world.clock)["sent"] == 1
        counts = sink.counts()
    [row] = rows(world)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, world.clock.now())
    assert counts == {mid: 1} and len(sink.refused) == 2


def test_a_server_that_hangs_up_puts_the_messages_back_with_backoff(world):
    # a server that closes every connection at once, before its greeting
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    connections = []

    def hang_up():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            connections.append(1)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    settings = settings_for(server.getsockname()[1])
    queue(world, settings, 3)
    try:
        report = send_outbox(world.factory, settings, world.clock)
    finally:
        server.close()
    assert connections == [1] and report["retrying"] == 3
    assert {(r.status, r.attempts, r.next_attempt_at) for r in rows(world)} == {
        ("pending", 1, world.clock.now() + timedelta(seconds=BASE_S))}
    assert all("connect" in r.last_error for r in rows(world))

    # a server that answers 421 (closing) to the 2nd message: the 1st is sent, the rest wait
    def on_message(sink, helo, message_id):
        return "421 4.3.2 shutting down" if len(sink.accepted) == 1 else None

    world.clock.advance(seconds=BASE_S)
    with MailSink(on_message) as sink:
        report = send_outbox(world.factory, replace(settings, smtp=replace(settings.smtp, port=sink.port)), world.clock)
    assert (report["sent"], report["retrying"]) == (1, 2)
    sent, second, third = rows(world)
    assert sent.status == "sent" and second.last_error.startswith("421") and third.last_error.startswith("not tried")
    assert second.next_attempt_at == third.next_attempt_at == world.clock.now() + timedelta(seconds=2 * BASE_S)


def test_failed_messages_are_shown_to_admins_and_can_be_sent_again(world, web_client):
    refuse = {"on": True}

    def on_message(sink, helo, message_id):
        if not refuse["on"]:
            return None
        return "550 5.1.1 no such mailbox" if "permanent" in sink_subjects.get(message_id, "") else "451 4.3.0 later"

    with MailSink(on_message) as sink:
        settings = settings_for(sink.port, outbox_max_attempts=2)
        with UnitOfWork(world.factory, Actor.system("test"), world.clock, settings) as uow:
            transient = queue_email(uow, "a@office.example", "transient", "正文")
            permanent = queue_email(uow, "b@office.example", "permanent", "正文")
            create_user(uow, "admin", "pw-admin", "管理员", ["admin"])
            uow.commit()
        sink_subjects = {transient.message_id: "transient", permanent.message_id: "permanent"}
        send_outbox(world.factory, settings, world.clock)
        world.clock.advance(seconds=BASE_S)
        send_outbox(world.factory, settings, world.clock)      # the transient one's 2nd and last attempt
        by_id = {r.message_id: r for r in rows(world)}
        assert (by_id[permanent.message_id].status, by_id[permanent.message_id].attempts) == ("failed", 1)
        assert (by_id[transient.message_id].status, by_id[transient.message_id].attempts) == ("failed", 2)
        with world.factory() as session:
            view = outbox_overview(session, world.clock.now())
        assert (view.waiting, view.in_flight, view.sent, view.failed) == (0, 0, 0, 2)

        client = web_client(settings, "admin", "pw-admin")
        page = client.get("/system/outbox").get_data(as_text=True)
        assert 'data-count="failed">2<' in page and "550 5.1.1 no such mailbox" in page and "451 4.3.0 later" in page
        english = client.get("/system/outbox?lang=en").get_data(as_text=True)
        assert "Outbox" in english and "Send again" in english
        refuse["on"] = False
        answer = client.post("/system/outbox/retry", data={"message_id": by_id[permanent.message_id].id})
        assert answer.status_code == 302
        assert client.post("/system/outbox/retry", data={"message_id": by_id[permanent.message_id].id}).status_code == 302
        assert send_outbox(world.factory, settings, world.clock)["sent"] == 1
        assert sink.counts() == {permanent.message_id: 1}
    with world.factory() as session:
        events = session.scalar(select(func.count()).select_from(text("audit_event")).where(
            text("action = 'outbox.retried'")))
    assert events == 1    # the second retry found the message no longer failed


# -- never inside a web request ------------------------------------------------------------------

@pytest.fixture
def web_client(database_url, world, tmp_path, monkeypatch):
    """A factory: a Flask test client of an app on this test's database, clock and `settings`,
    logged in as `username` (CSRF off: these tests are about the outbox, not forms)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from webapp import create_app
    catalog = tmp_path / "translations" / "en" / "LC_MESSAGES"
    catalog.mkdir(parents=True)
    with (ROOT / "webapp/translations/en/LC_MESSAGES/messages.po").open("rb") as po, \
            (catalog / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po))
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(tmp_path / "instance"))
    apps = []

    def make(settings, username: str, password: str):
        app = create_app({"DATABASE_URL": database_url, "TESTING": True, "CLOCK": world.clock, "SECRET_KEY": "test",
                          "WTF_CSRF_ENABLED": False, "SETTINGS": settings,
                          "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "translations")})
        apps.append(app)
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": password}).status_code == 302
        return client

    yield make
    for app in apps:
        app.extensions["credflow.session_factory"].kw["bind"].dispose()


def test_completing_a_task_that_notifies_queues_the_email_and_makes_no_network_call(mailed, web_client, monkeypatch):
    """The SMTP host is a port that accepts connections but never answers: the old code connected
    to it after the commit, inside the request, and waited for its greeting."""
    world = mailed
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    silent.setblocking(False)
    monkeypatch.setenv("CREDFLOW_SMTP_HOST", "127.0.0.1")    # as the server is configured in production
    monkeypatch.setenv("CREDFLOW_SMTP_PORT", str(silent.getsockname()[1]))
    try:
        task = review_task(world)
        world.run("reviewer", complete_task, task.id,
                  {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"})
        approval = world.task(task.case_id, "leader_approval")
        client = web_client(settings_for(silent.getsockname()[1]), "leader", "pw-leader")
        answer = client.post(f"/tasks/{approval.id}", data={"leader_decision": "approve", "leader_opinion": "同意。",
                                                          "action": "complete", "task_id": approval.task_id})
        assert answer.status_code == 302
        with pytest.raises(BlockingIOError):
            silent.accept()          # nobody connected to the mail server
    finally:
        silent.close()
    queued = rows(world)
    assert queued and {r.status for r in queued} == {"pending"} and {r.attempts for r in queued} == {0}
    assert "subject_a@office.example" in {r.recipient for r in queued}   # the record's subject is told


# -- deadline reminders, once however many workers run -------------------------------------------

def lock_waiters(world) -> int:
    with world.factory() as session:
        return session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()"))


def test_two_workers_remind_of_each_task_once(mailed):
    """Worker A has reminded of the task and not committed yet when worker B looks. On PostgreSQL
    the old code let B read the same row and send the same reminder again after A committed."""
    world = mailed
    settings = settings_for(closed_port())
    task = review_task(world)
    world.clock.at = task.due_at - timedelta(hours=1)
    outcome = {}
    with UnitOfWork(world.factory, Actor.system("worker-a"), world.clock, settings) as first:
        assert send_deadline_reminders(first) == {"soon": 1, "overdue": 0}

        def second_worker():
            with UnitOfWork(world.factory, Actor.system("worker-b"), world.clock, settings) as uow:
                outcome["b"] = send_deadline_reminders(uow)
                uow.commit()

        other = threading.Thread(target=second_worker)
        other.start()
        if world.factory.kw["bind"].dialect.name == "postgresql":
            for _ in range(6000):     # B has finished, or is seen waiting for A's lock
                if not other.is_alive() or lock_waiters(world):
                    break
                time.sleep(0.01)
        first.commit()
    other.join(timeout=60)
    with world.factory() as session:
        recipients = session.scalars(select(Notification.user_id).where(Notification.kind == "deadline")).all()
        reviewers = holders_of_role(session, "reviewer")
    assert sorted(recipients) == sorted(reviewers)       # each reviewer reminded once
    assert len([r for r in rows(world) if "到期" in r.body]) == len(reviewers)
    assert outcome["b"] == {"soon": 0, "overdue": 0}
