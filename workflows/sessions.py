"""Browser sessions on the server. The cookie carries a random id; the `user_session` row keeps its
sha256. A request is signed in only while its row is not ended, so ending the row (logout, logging
out everywhere, a password change, a deactivation, a role change) ends every copy of the cookie."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .accounts import sha256
from .models import User, UserSession

TOUCH_INTERVAL = timedelta(minutes=1)    # last_seen_at is written at most this often


def start_session(session, user_id: int, now: datetime, ip: str = "", user_agent: str = "") -> str:
    """A new session row (in the caller's transaction); returns the random id for the cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user_id, token_sha256=sha256(sid), created_at=now, last_seen_at=now,
                            ip=(ip or "")[:64], user_agent=(user_agent or "")[:200]))
    return sid


def signed_in(session, user_id: int, sid: str | None):
    """(user with roles, session row id, last seen) for a live session of an active user, or None.
    One query: the user, its roles and the session row together."""
    if not sid or len(sid) > 100:
        return None
    row = session.execute(
        select(User, UserSession.id, UserSession.last_seen_at).options(joinedload(User.roles))
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == user_id, User.active, UserSession.token_sha256 == sha256(sid),
               UserSession.ended_at.is_(None))).unique().first()
    return tuple(row) if row is not None else None


def needs_touch(last_seen: datetime | None, now: datetime) -> bool:
    return last_seen is None or now - last_seen >= TOUCH_INTERVAL


def touch(session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                    .values(last_seen_at=now))


def end_session(session, session_id: int, now: datetime, reason: str = "logout") -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason[:40]))


def end_sessions_of(uow, user_id: int, reason: str, keep: int | None = None) -> int:
    """End every live session of a user (but `keep`, the one the user acts from); audited."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result = uow.session.execute(query.values(ended_at=uow.clock.now(), end_reason=reason[:40]))
    if result.rowcount:
        uow.audit("user.sessions_ended", user_id=user_id, reason=reason, count=result.rowcount)
    return result.rowcount


def live_sessions(session, user_id: int) -> list[UserSession]:
    return session.scalars(select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                           .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()).limit(50)).all()
