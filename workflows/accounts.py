"""User accounts: password hashing (scrypt from the standard library), creating accounts, API tokens.

The admin's operations on accounts are in users.py, the password policy in passwords.py,
browser sessions in sessions.py, the sheet import in user_sheet.py."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .messages import N_, UserError
from .models import ROLES, ApiToken, User, UserRole

_N, _R, _P = 2 ** 14, 8, 1
UNUSABLE_PASSWORD = "!"      # an invited account has no password until it is activated


class AccountError(UserError, ValueError):
    """A refused account operation; its Message says what is wrong (a catalog id and parameters)."""


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def hash_cost() -> tuple[int, int, int]:
    """The scrypt cost (n, r, p) a new hash gets."""
    return _N, _R, _P


def check_password(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_user(uow, username: str, password: str | None, display_name: str, roles: list[str],
                subject_id: int | None = None, email: str | None = None, phone: str | None = None,
                must_change_password: bool = False) -> User:
    """A new account. `password=None`: no usable password until activated with a one-time code."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(N_("未知角色：%(roles)s"), roles=", ".join(sorted(unknown)))
    if not roles:
        raise AccountError(N_("至少选择一个角色"))
    if "subject" in roles and subject_id is None:
        raise AccountError(N_("信用主体账户必须关联信用主体"))
    if uow.session.scalars(select(User).where(User.username == username)).first():
        raise AccountError(N_("用户名 %(username)s 已存在"), username=username)
    user = User(username=username, display_name=display_name,
                password_hash=hash_password(password) if password is not None else UNUSABLE_PASSWORD,
                subject_id=subject_id, active=True, created_at=uow.clock.now(), email=email or None,
                phone=phone or None, must_change_password=must_change_password,
                roles=[UserRole(role=r) for r in roles])
    uow.session.add(user)
    uow.session.flush()
    uow.audit("user.created", username=username, roles=sorted(roles), subject_id=subject_id)
    return user


# -- API tokens -----------------------------------------------------------------------------------

def create_api_token(uow, user_id: int, name: str, days: int | None = None) -> str:
    """A new bearer token for the JSON API, valid for `api_token_days` (setting); the plain token
    is shown once, only its hash is kept."""
    token = "cf_" + secrets.token_urlsafe(32)
    now = uow.clock.now()
    days = uow.settings.api_token_days if days is None else days
    row = ApiToken(user_id=user_id, name=name[:100], created_at=now, expires_at=now + timedelta(days=days),
                   token_sha256=sha256(token))
    uow.session.add(row)
    uow.session.flush()
    uow.audit("api_token.created", user_id=user_id, token_id=row.id, name=name[:100],
              expires_at=row.expires_at.isoformat())
    return token


def tokens_of(session, user_id: int) -> list[ApiToken]:
    return session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                           .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())).all()


def revoke_token(uow, token_id: int, reason: str = "revoked", owner_id: int | None = None) -> ApiToken:
    """Revoke one token: its owner may (owner_id = the actor's id), and an admin may revoke any."""
    token = uow.session.get(ApiToken, token_id) if token_id else None
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise AccountError(N_("没有这个令牌"))
    if token.user_id != uow.actor.user_id and "admin" not in uow.actor.roles:
        raise AccountError(N_("没有这个令牌"))

    if token.revoked_at is None:
        token.revoked_at, token.revoked_reason = uow.clock.now(), reason[:40]
        uow.audit("api_token.revoked", user_id=token.user_id, token_id=token.id, reason=reason[:40])
    return token


def revoke_tokens_of(uow, user_id: int, reason: str) -> int:
    """Revoke every live token of a user (a password change, deactivation, role change)."""
    result = uow.session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                                 .values(revoked_at=uow.clock.now(), revoked_reason=reason[:40]))
    if result.rowcount:
        uow.audit("api_token.revoked_all", user_id=user_id, reason=reason, count=result.rowcount)
    return result.rowcount


def token_state(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


# -- who is signed in -----------------------------------------------------------------------------

def active_user(session, user_id: int) -> User | None:
    """An active account with its roles, in one query."""
    return session.scalars(select(User).options(joinedload(User.roles))
                           .where(User.id == user_id, User.active)).unique().first()


def user_for_token(session, token: str, now: datetime | None = None):
    """The active user a live bearer token belongs to, or None (one query): a revoked token, an
    expired one (at `now`) or one of a deactivated user is refused."""
    if not token or len(token) > 200:
        return None
    if now is None:
        from .clock import SYSTEM_CLOCK
        now = SYSTEM_CLOCK.now()
    query = (select(User).options(joinedload(User.roles)).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_sha256 == sha256(token), ApiToken.revoked_at.is_(None), User.active,
                    (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now)))
    return session.scalars(query).unique().first()
