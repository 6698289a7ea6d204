"""The password policy: long enough, not a common password, not the user name (settings:
`password_min_length`, `password_reject_common`). Messages name what is wrong."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .accounts import AccountError
from .messages import Message, N_, joined

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
MAX_LENGTH = 200


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, username: str, settings) -> list[Message]:
    """What is wrong with a new password (empty: acceptable)."""
    problems = []
    if len(password) < settings.password_min_length:
        problems.append(Message(N_("密码至少 %(limit)s 个字符"), limit=settings.password_min_length))
    if len(password) > MAX_LENGTH:
        problems.append(Message(N_("密码最多 %(limit)s 个字符"), limit=MAX_LENGTH))
    if settings.password_reject_common and password.strip().lower() in common_passwords():
        problems.append(Message(N_("这是常见密码，容易被猜中")))
    if username and username.lower() in password.lower():
        problems.append(Message(N_("密码不能包含用户名")))
    return problems


def check_new_password(password: str, repeated: str, username: str, settings) -> None:
    """Raise AccountError naming every problem of a new password typed twice."""
    if password != repeated:
        raise AccountError(N_("两次输入的新密码不一致"))
    problems = password_problems(password, username, settings)
    if problems:
        raise AccountError(joined(problems))

