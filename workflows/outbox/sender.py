"""The outbox worker: claims a batch of due messages, sends them, records each one.

Claiming: `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL; on SQLite the writer lock taken at
BEGIN serialises claims) picks pending rows that are due and not leased, and one UPDATE leases
them (`claimed_by`, `claimed_until`) and counts the attempt; that commits before any is sent.
So any number of workers take disjoint batches, and a worker killed while holding a batch leaves
it to be taken again once the lease has passed.

Sending: one SMTP connection per batch. Each message the server accepted (250) is recorded as
sent in its own commit at once, guarded by the lease (`claimed_by` still ours), before the next
one is sent; a failure to record (the database restarting) is retried until the lease runs out.
A 4xx answer or a lost connection puts the message back with exponential backoff; a 5xx answer,
or the attempt cap reached, marks it `failed` for an administrator to see and retry.

What remains: a worker killed (or a database lost for longer than the lease) after the server's
250 and before the commit that records it. The message is then sent again after the lease, with
the same Message-ID, so the duplicate is recognisable. No protocol without the receiving server's
cooperation can close that window; this keeps it to one message per killed worker.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError

from ..clock import SYSTEM_CLOCK
from .model import OutboxMessage
from .smtp import GiveUp, RetryLater, SmtpTransport

log = logging.getLogger("credflow.outbox")

M = OutboxMessage


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0   # claimed but not tried (lease nearly over): back to the queue, no attempt counted

    def add(self, other: "BatchReport") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_delay(settings, attempts: int) -> timedelta:
    """After the `attempts`-th failed attempt: base * 2**(attempts-1), at most the cap."""
    seconds = settings.outbox_retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.outbox_retry_max_seconds))


def claim(session_factory, clock, settings, worker: str, limit: int) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to `worker` (committed before anything is sent)."""
    with session_factory() as session:
        now = clock.now()
        ids = session.scalars(
            select(M.id).where(M.status == "pending", M.next_attempt_at <= now,
                               or_(M.claimed_until.is_(None), M.claimed_until <= now))
            .order_by(M.next_attempt_at, M.id).limit(limit).with_for_update(skip_locked=True)).all()
        if not ids:
            session.rollback()
            return []
        session.execute(update(M).where(M.id.in_(ids)).values(
            claimed_by=worker, claimed_until=now + timedelta(seconds=settings.outbox_lease_seconds),
            attempts=M.attempts + 1))
        rows = session.scalars(select(M).where(M.id.in_(ids)).order_by(M.next_attempt_at, M.id)).all()
        session.commit()
        return list(rows)


def _write(session_factory, row_ids: list[int], worker: str, values: dict, patience_s: float = 0.0) -> int:
    """UPDATE our own leased, pending rows; retried while the database is unreachable."""
    delay, deadline = 0.1, time.monotonic() + patience_s
    while True:
        try:
            with session_factory() as session:
                result = session.execute(update(M).where(M.id.in_(row_ids), M.claimed_by == worker,
                                                         M.status == "pending").values(**values))
                session.commit()
                return result.rowcount
        except DBAPIError as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("recording outbox rows %s failed (%s); retrying", row_ids, type(exc).__name__)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def mark_sent(session_factory, row: OutboxMessage, worker: str, clock) -> None:
    """The server accepted the message: record it now, before anything else is sent."""
    patience = max(1.0, (row.claimed_until - clock.now()).total_seconds())
    done = _write(session_factory, [row.id], worker, {"status": "sent", "sent_at": clock.now(), "claimed_by": None,
                                                       "claimed_until": None, "last_error": None}, min(patience, 120.0))
    if not done:
        log.error("outbox message %s (%s) was sent after its lease had passed; another worker may send it again",
                  row.id, row.message_id)


def _failed_attempt(session_factory, row: OutboxMessage, worker: str, clock, settings, reason: str,
                    give_up: bool) -> str:
    now = clock.now()
    if give_up or row.attempts >= settings.outbox_max_attempts:
        values, outcome = {"status": "failed"}, "failed"
    else:
        values, outcome = {"next_attempt_at": now + retry_delay(settings, row.attempts)}, "retrying"
    _write(session_factory, [row.id], worker, {**values, "claimed_by": None, "claimed_until": None,
                                               "last_error": reason[:2000]})
    log.warning("outbox message %s to %s: %s (attempt %d) -> %s", row.id, row.recipient, reason, row.attempts, outcome)
    return outcome


def _release(session_factory, rows: list[OutboxMessage], worker: str) -> int:
    if not rows:
        return 0
    return _write(session_factory, [r.id for r in rows], worker,
                  {"claimed_by": None, "claimed_until": None, "attempts": M.attempts - 1})


def send_batch(session_factory, settings, clock=SYSTEM_CLOCK, transport=None, worker: str | None = None,
               limit: int | None = None) -> BatchReport:
    """Claim one batch and send it; returns what became of it."""
    worker = worker or worker_name()
    transport = transport or SmtpTransport(settings.smtp)
    rows = claim(session_factory, clock, settings, worker, limit or settings.outbox_batch)
    report = BatchReport(claimed=len(rows))
    if not rows:
        return report
    # stop sending while the lease still covers an exchange with the server
    margin = timedelta(seconds=min(2 * settings.smtp.timeout, settings.outbox_lease_seconds / 2))
    try:
        connection = transport.open()
    except RetryLater as exc:
        for row in rows:
            report.retrying += _failed_attempt(session_factory, row, worker, clock, settings, str(exc), False) == "retrying"
        report.failed = report.claimed - report.retrying
        return report
    with connection:
        for index, row in enumerate(rows):
            if clock.now() + margin >= row.claimed_until:
                report.released += _release(session_factory, rows[index:], worker)
                break
            try:
                connection.send(row)
            except (RetryLater, GiveUp) as exc:
                outcome = _failed_attempt(session_factory, row, worker, clock, settings, str(exc),
                                          isinstance(exc, GiveUp))
                setattr(report, outcome, getattr(report, outcome) + 1)
                if getattr(exc, "broken", False):   # the rest of the batch waits with this one
                    for rest in rows[index + 1:]:
                        outcome = _failed_attempt(session_factory, rest, worker, clock, settings,
                                                  f"not tried: {exc}", False)
                        setattr(report, outcome, getattr(report, outcome) + 1)
                    break
                continue
            mark_sent(session_factory, row, worker, clock)
            report.sent += 1
    return report


def send_outbox(session_factory, settings, clock=SYSTEM_CLOCK, transport=None) -> dict:
    """Send batches until no full batch is due; a no-op without an SMTP server configured."""
    total = BatchReport()
    if not settings.smtp.configured and transport is None:
        return total.__dict__
    worker = worker_name()
    while True:
        report = send_batch(session_factory, settings, clock, transport, worker)
        total.add(report)
        if report.claimed < settings.outbox_batch or report.sent == 0:
            return total.__dict__


def run_forever(session_factory, settings, interval: float = 5.0) -> None:
    """`credflow outbox`: send what is due, then wait `interval` seconds; SIGTERM stops it."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        try:
            totals = send_outbox(session_factory, settings)
            if totals["claimed"]:
                log.info("outbox: %(sent)d sent, %(retrying)d to retry, %(failed)d failed", totals)
        except Exception:  # noqa: BLE001 -- a database hiccup must not kill the worker
            log.exception("outbox pass failed; retrying in %.1f s", interval)
        time.sleep(interval)
