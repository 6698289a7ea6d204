"""User accounts and password hashing (scrypt from the standard library)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .models import ROLES, User, UserRole

_N, _R, _P = 2 ** 14, 8, 1


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_password(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def create_user(uow, username: str, password: str, display_name: str, roles: list[str],
                subject_id: int | None = None) -> User:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    if "subject" in roles and subject_id is None:
        raise ValueError("a subject account must be tied to a subject")
    if uow.session.scalars(select(User).where(User.username == username)).first():
        raise ValueError(f"user '{username}' exists")
    user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                subject_id=subject_id, active=True, created_at=uow.clock.now(),
                roles=[UserRole(role=r) for r in roles])
    uow.session.add(user)
    uow.session.flush()
    uow.audit("user.created", username=username, roles=sorted(roles))
    return user


def create_api_token(uow, user_id: int, name: str) -> str:
    """A new bearer token for the JSON API; the plain token is shown once, only its hash is kept."""
    import secrets
    from .models import ApiToken
    token = "cf_" + secrets.token_urlsafe(32)
    uow.session.add(ApiToken(user_id=user_id, name=name[:100], created_at=uow.clock.now(),
                             token_sha256=hashlib.sha256(token.encode()).hexdigest()))
    uow.audit("api_token.created", user_id=user_id, name=name[:100])
    return token


def active_user(session, user_id: int) -> User | None:
    """An active account with its roles, in one query (every signed-in request asks)."""
    return session.scalars(select(User).options(joinedload(User.roles))
                           .where(User.id == user_id, User.active)).unique().first()


def user_for_token(session, token: str):
    """The active user a bearer token belongs to, or None (one query)."""
    from .models import ApiToken
    if not token or len(token) > 200:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return session.scalars(select(User).options(joinedload(User.roles)).join(ApiToken, ApiToken.user_id == User.id)
                           .where(ApiToken.token_sha256 == digest, ApiToken.revoked_at.is_(None), User.active)
                           ).unique().first()
