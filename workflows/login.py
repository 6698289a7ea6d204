"""Logging in: what a login attempt costs and how many may run.

- The same password work for every username: an unknown, deactivated or not yet activated account
  is checked against a dummy hash of the same scheme and cost, so the answer's timing does not
  tell which usernames exist.
- Throttling counted atomically: before a password is checked, the attempt is reserved on a
  counter row per account and per address (`login_throttle`) by one upsert that refuses once the
  window's limit is reached. However many attempts arrive together, at most the limit's password
  checks run in a window. A success clears the account's counter and gives the address its
  attempt back. A window starts with its first attempt and lasts `LoginLimits.window`.

The web route (webapp/auth/routes.py) passes the request's facts in and sets up the browser
session from the result."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import String, case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .accounts import check_password, hash_cost, hash_password
from .models import Base, User
from .sessions import start_session


class LoginThrottle(Base):
    """Login attempts in the current window, per account (`user:<name>`) or address (`ip:<addr>`)."""
    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int]


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt came to: `user` on success (roles loaded), else `throttled` or not."""
    user: User | None = None
    session_id: str | None = None
    throttled: bool = False


def log_in(reader: Session, session_factory: sessionmaker, username: str, password: str, ip: str,
           user_agent: str, now: datetime, limits: LoginLimits) -> LoginAttempt:
    """One attempt: reserve it (or be throttled), check the password (outside any write
    transaction: `reader` reads the account), open a session row on success."""
    if not reserve_attempt(session_factory, username, ip, now, limits):
        return LoginAttempt(throttled=True)
    user = reader.scalars(select(User).where(User.username == username)).first() if _storable(username) else None
    if not password_matches(user, password):
        return LoginAttempt()
    with session_factory() as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == _account_key(username)))
        session.execute(update(LoginThrottle).where(LoginThrottle.key == _address_key(ip), LoginThrottle.attempts > 0)
                        .values(attempts=LoginThrottle.attempts - 1))
        session.execute(delete(LoginThrottle).where(LoginThrottle.window_start <= now - limits.window))
        session.execute(update(User).where(User.id == user.id).values(last_login_at=now))
        sid = start_session(session, user.id, now, ip, user_agent)
        session.commit()
    return LoginAttempt(user=user, session_id=sid)


def reserve_attempt(session_factory: sessionmaker, username: str, ip: str, now: datetime,
                    limits: LoginLimits) -> bool:
    """Count this attempt for the account and the address, in one committed transaction, unless
    either has reached its limit in the window (then nothing is counted): whether it may go on."""
    with session_factory() as session:
        table = LoginThrottle.__table__
        if count_in_window(session, table, _account_key(username), now, limits.per_account, limits.window) \
                and count_in_window(session, table, _address_key(ip), now, limits.per_address, limits.window):
            session.commit()
            return True
        session.rollback()
        return False


def _storable(text: str) -> bool:
    """Text a database column can hold (no NUL, no lone surrogate): no account's name is anything else."""
    return "\x00" not in text and text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") == text


def _key(kind: str, text: str, length: int) -> str:
    """The counter row's key; what a column cannot hold is escaped, so it still counts."""
    text = text[:length]
    if not _storable(text):
        text = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace").replace("\x00", "\\x00")
    return f"{kind}:{text}"[:160]


def _account_key(username: str) -> str:
    return _key("user", username, 80)


def _address_key(ip: str) -> str:
    return _key("ip", ip, 64)


def count_in_window(session: Session, table, key: str, now: datetime, limit: int, window: timedelta) -> bool:
    """One statement on a throttle `table` (key, window_start, attempts: the logins', the complaint
    form's): a new row, or the row's count plus one (a fresh window once the old one has passed),
    unless the count has reached `limit` in the window. Concurrent callers queue on the row
    (PostgreSQL's ON CONFLICT locks it; SQLite's writers take the lock at BEGIN IMMEDIATE)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    expired = table.c.window_start <= now - window
    fresh_start = literal(now, table.c.window_start.type)     # stored as the column stores times
    statement = dialect.insert(table).values(key=key, window_start=now, attempts=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"attempts": case((expired, 1), else_=table.c.attempts + 1),
              "window_start": case((expired, fresh_start), else_=table.c.window_start)},
        where=(table.c.attempts < limit) | expired,
    ).returning(table.c.attempts)
    return session.execute(statement).first() is not None


def password_matches(user: User | None, password: str) -> bool:
    """The same scrypt work whoever the username names: a user who may not log in (unknown,
    deactivated, invited without a password yet) is checked against a dummy hash of today's
    scheme and cost, and refused whatever the result."""
    usable = user is not None and user.active and user.password_hash.startswith("scrypt$")
    matches = check_password(user.password_hash if usable else dummy_hash(), password)
    return usable and matches


def dummy_hash() -> str:
    return _dummy_hash(*hash_cost())


@lru_cache(maxsize=4)
def _dummy_hash(n: int, r: int, p: int) -> str:
    """A hash of a random password at today's cost (made once per cost, at the first need)."""
    return hash_password(secrets.token_urlsafe(24))
