"""The `outbox_message` table: one row per message to deliver outside credflow."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Notification

KINDS = ("email",)          # 'share' (a result shared upward) is meant to join here
STATUSES = ("pending", "sent", "failed")


class OutboxMessage(Base):
    """A message to deliver. `pending` until a worker has it accepted by the server (`sent`) or
    gives up (`failed`, shown to admins, who may retry it). A worker claims rows by setting
    `claimed_by` and `claimed_until` (a lease): a worker killed while holding them leaves them to be
    taken again once the lease has passed. `message_id` never changes, across retries too, so a
    message delivered twice (see sender.py for when) is recognisable as the same message."""
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"),
                                                        index=True)
    notification: Mapped[Notification | None] = relationship()
