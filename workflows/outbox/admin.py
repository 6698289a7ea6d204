"""What an administrator sees of the outbox and may do with it: how many messages are waiting,
in flight, sent and failed, the failed ones with the server's last answer, and a retry."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from ..messages import N_, UserError
from .model import OutboxMessage as M


class OutboxError(UserError):
    pass


@dataclass(frozen=True)
class OutboxOverview:
    waiting: int        # pending, not claimed by a worker
    in_flight: int      # pending, leased to a worker now
    retrying: int       # pending after a failed attempt (counted in waiting or in flight too)
    sent: int
    failed: int
    failed_messages: list[M]
    retrying_messages: list[M]


def outbox_overview(session, now, limit: int = 50) -> OutboxOverview:
    counts = dict(session.execute(select(M.status, func.count()).group_by(M.status)).all())
    in_flight = session.scalar(select(func.count()).select_from(M).where(
        M.status == "pending", M.claimed_until > now)) or 0
    retrying = and_(M.status == "pending", M.last_error.is_not(None))
    return OutboxOverview(
        waiting=counts.get("pending", 0) - in_flight, in_flight=in_flight,
        retrying=session.scalar(select(func.count()).select_from(M).where(retrying)) or 0,
        sent=counts.get("sent", 0), failed=counts.get("failed", 0),
        failed_messages=list(session.scalars(select(M).where(M.status == "failed").order_by(M.id.desc()).limit(limit))),
        retrying_messages=list(session.scalars(select(M).where(retrying).order_by(M.next_attempt_at).limit(limit))))


def retry_message(uow, message_id: int) -> M:
    """A failed message back in the queue, due now, with a fresh count of attempts (audited)."""
    message = uow.session.get(M, message_id)
    if message is None or message.status != "failed":
        raise OutboxError(N_("该邮件不存在或不是发送失败状态"))

    message.status, message.attempts, message.next_attempt_at = "pending", 0, uow.clock.now()
    message.claimed_by = message.claimed_until = None
    uow.audit("outbox.retried", message=message.id, recipient=message.recipient, last_error=message.last_error)
    return message
