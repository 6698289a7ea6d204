"""The daily digest: once a day (China Standard Time) the worker evaluates the rules and tells the
leaders which warnings are new since the last digest and which are still open (unacknowledged),
and each department's own accounts those about the department itself (DEPARTMENT_RULES).
The day's row in `early_warning_digest` is written in the same transaction, so a second worker,
a second pass or a restart finds the day done (on PostgreSQL a concurrent second insert waits for
the first and then fails: that worker rolls back and sends nothing)."""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..messages import Message, N_, Joined
from ..notifications import accounts_of_subject, holders_of_role, notify_users
from ..runtime import Actor, UnitOfWork
from .evaluate import evaluate_warnings
from .model import EarlyWarning, WarningDigest
from .service import warning_text

log = logging.getLogger("credflow.early_warning")
DIGEST_ITEMS = 20          # warnings listed in one digest; the rest are counted, and on /warnings
DIGEST_ROLES = ("leader",)
DEPARTMENT_RULES = ("department_records", "commitment_due")   # about the department itself


def send_daily_digest(uow) -> WarningDigest | None:
    """Evaluate, then notify the leaders of the new and still-open warnings; None when today's is done."""
    session, today = uow.session, uow.clock.today()
    if session.get(WarningDigest, today) is not None:
        return None
    digest = WarningDigest(day=today, sent_at=uow.clock.now(), new_count=0, open_count=0, recipients=0)
    session.add(digest)
    session.flush()          # claims the day before anything is sent
    evaluate_warnings(uow)
    last = session.scalar(select(func.max(WarningDigest.sent_at)).where(WarningDigest.day < today))
    open_rows = session.scalars(select(EarlyWarning).where(EarlyWarning.resolved_at.is_(None),
                                                           EarlyWarning.acknowledged_at.is_(None))
                                .order_by(EarlyWarning.id)).all()
    new = [w for w in open_rows if last is None or w.raised_at > last]
    digest.new_count, digest.open_count = len(new), len(open_rows)
    if not open_rows:
        return digest
    users = sorted({u for role in DIGEST_ROLES for u in holders_of_role(session, role)})
    digest.recipients = notify_users(uow, users, "warning_digest", _digest_text(
        N_("预警日报（%(day)s）：新增 %(new)s 条，未处理 %(open)s 条。%(items)s%(more)s"), today, open_rows, new),
        "/warnings")
    told = digest.recipients + _tell_departments(uow, today, open_rows, new)
    uow.audit("warnings.digest", day=today.isoformat(), new=len(new), open=len(open_rows), recipients=told)
    return digest


def _digest_text(msgid: str, today, rows: list, new: list) -> Message:
    listed = sorted(rows, key=lambda w: (w not in new, w.id))[:DIGEST_ITEMS]
    items = Joined([Message(N_("%(mark)s%(text)s"), mark=Message(N_("【新】")) if w in new else "",
                            text=warning_text(w)) for w in listed], N_("；"))
    more = len(rows) - len(listed)
    return Message(msgid, day=today.isoformat(), new=len([w for w in rows if w in new]), open=len(rows), items=items,
                   more=Message(N_("……另有 %(count)s 条。"), count=more) if more else "")


def _tell_departments(uow, today, open_rows: list, new: list) -> int:
    """A department's own accounts are told of the warnings about the department itself (its
    records, its commitments: DEPARTMENT_RULES), with a link to its own dashboard."""
    told = 0
    by_department: dict[int, list] = {}
    for w in open_rows:
        if w.rule in DEPARTMENT_RULES and w.department_id:
            by_department.setdefault(w.department_id, []).append(w)
    for department_id, rows in sorted(by_department.items()):
        accounts = accounts_of_subject(uow.session, department_id)
        if accounts:
            told += notify_users(uow, accounts, "warning_digest", _digest_text(
                N_("本单位预警日报（%(day)s）：新增 %(new)s 条，未处理 %(open)s 条。%(items)s%(more)s"), today, rows, new),
                "/dashboard/")
    return told


def run_daily_warnings(session_factory, clock, settings) -> WarningDigest | None:
    """The worker's step: today's evaluation and digest, once."""
    with UnitOfWork(session_factory, Actor.system("warning-worker"), clock, settings) as uow:
        try:
            digest = send_daily_digest(uow)
            uow.commit()
        except IntegrityError:      # another worker sent today's at the same moment
            uow.rollback()
            log.info("today's warning digest was sent by another worker")
            return None
    return digest
