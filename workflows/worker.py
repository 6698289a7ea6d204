"""The timer worker: fires due timers in batches until stopped."""
from __future__ import annotations

import logging
import signal
import time

from .calendar_admin import notify_uncovered_year
from .cases import fire_due_timers
from .reminders import send_deadline_reminders
from .clock import SYSTEM_CLOCK
from .runtime import Actor, UnitOfWork

log = logging.getLogger("credflow.worker")


def run_once(session_factory, clock=SYSTEM_CLOCK, settings=None, batch: int = 100) -> dict:
    """Fire due timers until none is due; return the totals."""
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
    return totals


def run_forever(session_factory, interval: float = 5.0, batch: int = 100, settings=None) -> None:
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        try:
            totals = run_once(session_factory, batch=batch, settings=settings)
            if totals["fired"] or totals["failed"]:
                log.info("fired %(fired)d, failed %(failed)d", totals)
        except Exception:  # noqa: BLE001 -- a database hiccup must not kill the worker
            log.exception("timer pass failed; retrying in %.0f s", interval)
        time.sleep(interval)
