"""The timer worker: fires due timers in batches until stopped."""
from __future__ import annotations

import logging
import signal
import threading
import time

from .audit_checkpoints import make_daily_checkpoint
from .calendar_admin import notify_uncovered_year
from .cases import fire_due_timers
from .import_jobs import run_import_jobs
from .outbox.sender import send_outbox
from .reminders import send_deadline_reminders
from .settings import Settings
from .clock import SYSTEM_CLOCK
from .runtime import Actor, UnitOfWork

log = logging.getLogger("credflow.worker")


def run_once(session_factory, clock=SYSTEM_CLOCK, settings=None, batch: int = 100) -> dict:
    """Fire due timers until none is due, remind of deadlines, send the due e-mail; return the totals."""
    totals = {"fired": 0, "failed": 0}
    while True:
        with UnitOfWork(session_factory, Actor.system("timer-worker"), clock, settings) as uow:
            result = fire_due_timers(uow, limit=batch)
            uow.commit()
        totals["fired"] += len(result["fired"])
        totals["failed"] += len(result["failed"])
        for case_id in result["failed"]:
            log.warning("case %s failed while firing its timers; marked as error", case_id)
        if len(result["fired"]) + len(result["failed"]) < batch:
            break
    with UnitOfWork(session_factory, Actor.system("timer-worker"), clock, settings) as uow:
        reminders = send_deadline_reminders(uow)
        notify_uncovered_year(uow)
        uow.commit()
    if reminders["soon"] or reminders["overdue"]:
        log.info("deadline reminders: %(soon)d due soon, %(overdue)d overdue", reminders)
    settings = settings or Settings()
    # each of these on its own: one that fails (a missing signing key, an SMTP outage) does not
    # hold back the others; the next pass tries it again
    for name, step in (("audit checkpoint", _daily_checkpoint), ("warning digest", _warning_digest),
                       ("e-mail", _send_email), ("import jobs", _import_jobs)):
        try:
            step(session_factory, clock, settings)
        except Exception:  # noqa: BLE001
            log.exception("%s failed; the next pass tries again", name)
    return totals


def _daily_checkpoint(session_factory, clock, settings) -> None:
    make_daily_checkpoint(session_factory, clock, settings)   # the audit chain signed, once a day


def _warning_digest(session_factory, clock, settings) -> None:
    from .early_warning.digest import run_daily_warnings
    digest = run_daily_warnings(session_factory, clock, settings)   # the rules evaluated, leaders told, once a day
    if digest is not None:
        log.info("warning digest: %d new, %d open, %d told", digest.new_count, digest.open_count, digest.recipients)


def _send_email(session_factory, clock, settings) -> None:
    emails = send_outbox(session_factory, settings, clock)
    if emails["claimed"]:
        log.info("e-mail: %(sent)d sent, %(retrying)d to retry, %(failed)d failed", emails)


def _import_jobs(session_factory, clock, settings) -> None:
    if run_import_jobs(session_factory, clock, settings):   # uploaded sheets, read in the background
        log.info("import jobs run")


def run_forever(session_factory, interval: float = 5.0, batch: int = 100, settings=None,
                stop: threading.Event | None = None) -> None:
    """Passes until SIGTERM (in the main thread) or `stop` is set (a thread of `credflow serve`)."""
    stopping = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.is_set():
        try:
            totals = run_once(session_factory, batch=batch, settings=settings)
            if totals["fired"] or totals["failed"]:
                log.info("fired %(fired)d, failed %(failed)d", totals)
        except Exception:  # noqa: BLE001 -- a database hiccup must not kill the worker
            log.exception("timer pass failed; retrying in %.0f s", interval)
        pause(stopping, interval)


def pause(stop: threading.Event, seconds: float) -> None:
    """Sleep `seconds`, waking early once `stop` is set. Short sleeps, not `stop.wait(seconds)`: a
    timed wait on a lock never returns under libfaketime (CI runs the workers with a moved clock)."""
    end = time.monotonic() + seconds
    while not stop.is_set() and (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.1))
