"""Queueing messages inside the action's unit of work: a row in `outbox_message`, committed or
rolled back with everything else the action wrote. Nothing here touches the network."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from ..models import Notification, User
from .model import OutboxMessage

SUBJECT_PREFIX = "[credflow] "


def new_message_id(sender: str) -> str:
    """A Message-ID unique to this message, fixed when it is queued (retries keep it)."""
    domain = sender.rpartition("@")[2] or "credflow.localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_email(uow, recipient: str, subject: str, body: str, notification: Notification | None = None) -> OutboxMessage:
    now = uow.clock.now()
    message = OutboxMessage(kind="email", recipient=recipient, subject=subject, body=body,
                            message_id=new_message_id(uow.settings.smtp.sender), status="pending", attempts=0,
                            next_attempt_at=now, created_at=now, notification=notification)
    uow.session.add(message)
    return message


def queue_notification_emails(uow, notifications: list[Notification]) -> int:
    """An e-mail for each notification whose reader has an address, when SMTP is configured."""
    if not notifications or not uow.settings.smtp.configured:
        return 0
    addresses = dict(uow.session.execute(select(User.id, User.email).where(
        User.id.in_({n.user_id for n in notifications}), User.email.is_not(None), User.email != "")).all())
    base = uow.settings.public_url.rstrip("/")
    queued = 0
    for note in notifications:
        address = addresses.get(note.user_id)
        if not address:
            continue
        body = note.text + (f"\n\n{base}{note.link}" if note.link else "")
        queue_email(uow, address, SUBJECT_PREFIX + note.text[:60], body, note)
        queued += 1
    return queued
