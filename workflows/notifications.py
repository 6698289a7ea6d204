"""In-app notifications, and e-mail through SMTP when it is configured (CREDFLOW_SMTP_HOST)."""
from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage

from sqlalchemy import select, update

from .models import Notification, User, UserRole

log = logging.getLogger("credflow.notifications")


def notify_users(uow, user_ids, kind: str, text: str, link: str | None = None, case_id: int | None = None) -> int:
    user_ids = sorted(set(i for i in user_ids if i is not None))
    for user_id in user_ids:
        uow.session.add(Notification(user_id=user_id, kind=kind, text=text, link=link, case_id=case_id,
                                     created_at=uow.clock.now()))
    if user_ids and smtp_configured():
        uow.after_commit(lambda: send_pending_email(uow.session_factory))
    return len(user_ids)


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


def smtp_configured() -> bool:
    return bool(os.environ.get("CREDFLOW_SMTP_HOST"))


def send_pending_email(session_factory, limit: int = 100) -> int:
    """Send not-yet-mailed notifications to users with an address; best effort, logged."""
    host = os.environ.get("CREDFLOW_SMTP_HOST")
    if not host:
        return 0
    port = int(os.environ.get("CREDFLOW_SMTP_PORT", "25"))
    sender = os.environ.get("CREDFLOW_SMTP_FROM", "credflow@localhost")
    sent = 0
    with session_factory() as session:
        rows = session.execute(select(Notification, User.email).join(User, User.id == Notification.user_id)
                               .where(Notification.emailed_at.is_(None), User.email.is_not(None))
                               .limit(limit)).all()
        if not rows:
            return 0
        try:
            with smtplib.SMTP(host, port, timeout=10) as smtp:
                if os.environ.get("CREDFLOW_SMTP_USER"):
                    smtp.starttls()
                    smtp.login(os.environ["CREDFLOW_SMTP_USER"], os.environ.get("CREDFLOW_SMTP_PASSWORD", ""))
                for note, address in rows:
                    message = EmailMessage()
                    message["From"], message["To"] = sender, address
                    message["Subject"] = "[credflow] " + note.text[:60]
                    message.set_content(note.text + (f"\n\n{note.link}" if note.link else ""))
                    smtp.send_message(message)
                    from datetime import datetime, timezone
                    note.emailed_at = datetime.now(timezone.utc)
                    sent += 1
        except (OSError, smtplib.SMTPException):
            log.exception("sending notification e-mail through %s:%s failed; will retry", host, port)
        session.commit()
    return sent
