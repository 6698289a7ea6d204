"""What keeps the public complaint form usable and hard to abuse, with no outside service:

- a rate limit per client address, counted in the database (`complaint_throttle`) by one upsert
  that refuses once the window's limit is reached, committed before the post is handled: however
  many web workers run and however many posts arrive together, at most the limit get through;
- a challenge: a small sum whose answer is bound, with an expiry and a random nonce, by an HMAC
  under the app's secret; a challenge answered once is kept (`complaint_challenge`), so a replayed
  form (or a double submit) is refused;
- the query code the complainant keeps: random, shown once, stored as its sha256.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..login import count_in_window
from .model import ComplaintChallenge, ComplaintThrottle

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, 1/I: read aloud and typed back
CODE_GROUPS, GROUP_LENGTH = 4, 4                       # 16 characters: 80 bits


# -- the rate limit ----------------------------------------------------------------------------

def take_turn(session_factory: sessionmaker, kind: str, address: str, now: datetime, limit: int,
              window: timedelta) -> bool:
    """Count one public request of `kind` ('post', 'status') from `address` in its own committed
    transaction, unless the address has reached `limit` in the window: whether it may go on."""
    key = f"{kind}:{(address or '-')[:64]}"
    with session_factory() as session:
        if count_in_window(session, ComplaintThrottle.__table__, key, now, limit, window):
            session.execute(delete(ComplaintThrottle).where(ComplaintThrottle.window_start <= now - window,
                                                            ComplaintThrottle.key != key))
            session.commit()
            return True
        session.rollback()
        return False


# -- the challenge -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Challenge:
    question: str     # "3 + 4 = ?"
    token: str        # expiry.nonce.signature: says nothing of the answer


def _sign(secret: str | bytes, expires: int, nonce: str, answer: str) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"complaint|{expires}|{nonce}|{answer}".encode(), hashlib.sha256).hexdigest()


def make_challenge(secret, now: datetime, minutes: int) -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    expires = int((now + timedelta(minutes=minutes)).timestamp())
    nonce = secrets.token_urlsafe(16)
    return Challenge(f"{a} + {b} = ?", f"{expires}.{nonce}.{_sign(secret, expires, nonce, str(a + b))}")


def check_answer(secret, token: str, answer: str, now: datetime) -> str | None:
    """Why the answer is not accepted ('expired', 'wrong'), or None when it is right. Nothing is
    used up here: `use_challenge` does that with the complaint."""
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return "wrong"
    expires, nonce, signature = int(parts[0]), parts[1], parts[2]
    typed = (answer or "").strip()
    if not (typed.isascii() and typed.isdigit() and len(typed) <= 3):
        return "wrong"
    if not hmac.compare_digest(_sign(secret, expires, nonce, str(int(typed))), signature):
        return "wrong"
    if now.timestamp() > expires:
        return "expired"
    return None


def use_challenge(session: Session, token: str, now: datetime) -> bool:
    """Mark the challenge answered, in the caller's transaction: False if it was already (a
    replayed form, a second click of the same form)."""
    expires = datetime.fromtimestamp(int(token.split(".")[0]), tz=now.tzinfo)
    digest = hashlib.sha256(token.encode()).hexdigest()
    session.execute(delete(ComplaintChallenge).where(ComplaintChallenge.expires_at < now - timedelta(days=1)))
    try:
        with session.begin_nested():
            session.add(ComplaintChallenge(nonce_sha256=digest, used_at=now, expires_at=expires))
            session.flush()
    except IntegrityError:
        return False
    return True


# -- the query code ----------------------------------------------------------------------------

def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * GROUP_LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH))


def code_digest(code: str) -> str | None:
    """The stored form of a typed code (spaces, dashes and case ignored); None for what cannot be one."""
    cleaned = "".join(c for c in (code or "").upper() if c not in " -\t")
    if len(cleaned) != CODE_GROUPS * GROUP_LENGTH or any(c not in CODE_ALPHABET for c in cleaned):
        return None
    return hashlib.sha256(cleaned.encode()).hexdigest()
