"""In-app notifications; with SMTP configured, each also queues an e-mail in the outbox
(workflows/outbox/), sent later by the worker, never inside the action."""
from __future__ import annotations

from sqlalchemy import select, update

from .messages import Message, as_data, from_data
from .models import Notification, User, UserRole
from .outbox.writer import queue_notification_emails


def notify_users(uow, user_ids, kind: str, text: "str | Message", link: str | None = None,
                 case_id: int | None = None) -> int:
    """In-app notifications, and their e-mails queued in the outbox, in the caller's transaction.
    A Message is kept as data (shown in the reader's language) and as its Chinese text (the e-mail,
    in the office's language)."""
    user_ids = sorted(set(i for i in user_ids if i is not None))
    message = as_data(text) if isinstance(text, Message) else None
    notes = [Notification(user_id=user_id, kind=kind, text=str(text), message=message, link=link, case_id=case_id,
                          created_at=uow.clock.now()) for user_id in user_ids]
    uow.session.add_all(notes)
    queue_notification_emails(uow, notes)
    return len(user_ids)


def message_of_notification(note: Notification) -> "Message | str":
    """What to show of a notification: its Message, translated where it is shown; a row written
    before notifications kept one, its text as written."""
    return from_data(note.message) if note.message else note.text


def accounts_of_subject(session, subject_id: int | None) -> list[int]:
    if subject_id is None:
        return []
    return list(session.scalars(select(User.id).where(User.subject_id == subject_id, User.active)))


def holders_of_role(session, role: str) -> list[int]:
    return list(session.scalars(select(User.id).join(UserRole).where(UserRole.role == role, User.active)))


def unread_count(session, user_id: int) -> int:
    from sqlalchemy import func
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def notifications_of(session, user_id: int, limit: int = 50) -> list[Notification]:
    return session.scalars(select(Notification).where(Notification.user_id == user_id)
                           .order_by(Notification.id.desc()).limit(limit)).all()


def mark_read(uow, user_id: int) -> None:
    uow.session.execute(update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
                        .values(read_at=uow.clock.now()))
