"""The admin's operations on accounts (add, invite, edit, roles, deactivate, reactivate, reset) and
each user's own (activate with a one-time code, change the password). Only `admin` manages
accounts; every change is audited; ending access (deactivation, a role change, a new password)
ends the user's sessions and revokes their API tokens in the same transaction."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select

from .accounts import (UNUSABLE_PASSWORD, AccountError, check_password, create_user, hash_password,
                       revoke_tokens_of, sha256)
from .identifiers import InvalidIdentifier, check_subject_code
from .messages import Message, N_, UserError, joined
from .models import ROLES, ActivationCode, Subject, User, UserRole
from .passwords import check_new_password
from .sessions import end_sessions_of

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,38}$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"    # no 0/O, 1/I: read aloud or typed from paper
STAFF_ROLES = tuple(r for r in ROLES if r != "subject")
CODE_FIELD = {"department": Message(N_("统一社会信用代码")), "civil_servant": Message(N_("公民身份号码"))}


class NotAdmin(UserError, PermissionError):
    """Only a system administrator manages accounts (the web answers 403)."""


def require_admin(uow) -> None:
    if "admin" not in uow.actor.roles:
        raise NotAdmin(N_("只有系统管理员可以管理账户"))


def _user(uow, user_id: int) -> User:
    user = uow.session.get(User, user_id) if user_id else None
    if user is None:
        raise AccountError(N_("没有这个用户"))
    return user


def user_by_name(session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == (username or "").strip())).first()


# -- checks on the fields -------------------------------------------------------------------------

def clean_username(username: str) -> str:
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise AccountError(N_("用户名为 2-80 位字母、数字或 . _ @ -"))
    return username


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError(N_("姓名必填"))
    if len(name) > 120:
        raise AccountError(N_("姓名不能超过 %(limit)s 字"), limit=120)
    return name


def clean_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        raise AccountError(N_("邮箱格式不正确：%(value)s"), value=email[:60])
    return email or None


def clean_phone(phone: str | None) -> str | None:
    phone = (phone or "").strip()
    if phone and not PHONE_RE.match(phone):
        raise AccountError(N_("电话格式不正确：%(value)s"), value=phone[:60])
    return phone or None


def clean_roles(roles, allow_subject: bool = False) -> list[str]:
    roles = sorted({(r or "").strip() for r in roles if (r or "").strip()})
    allowed = ROLES if allow_subject else STAFF_ROLES
    unknown = [r for r in roles if r not in allowed]
    if unknown:
        raise AccountError(N_("未知角色：%(roles)s"), roles=", ".join(unknown))
    if not roles:
        raise AccountError(N_("至少选择一个角色"))
    return roles


# -- one-time activation codes --------------------------------------------------------------------

def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", (code or "").upper())[:40]


def issue_code(uow, user: User, purpose: str) -> str:
    """A one-time code for `user` (invitation or reset), valid `activation_code_days`; older unused
    codes of the user stop working. The plain code is returned once, only its hash is kept."""
    now = uow.clock.now()
    for old in uow.session.scalars(select(ActivationCode).where(ActivationCode.user_id == user.id,
                                                                ActivationCode.used_at.is_(None),
                                                                ActivationCode.expires_at > now)):
        old.expires_at = now
    code = new_code()
    uow.session.add(ActivationCode(user_id=user.id, code_sha256=sha256(_normalise_code(code)), purpose=purpose,
                                   created_by=uow.actor.name, created_at=now,
                                   expires_at=now + timedelta(days=uow.settings.activation_code_days)))
    uow.audit("user.code_issued", user_id=user.id, username=user.username, purpose=purpose)
    return code


def activate(uow, username: str, code: str, password: str, repeated: str) -> User:
    """Set one's password with a one-time code (anonymous). A code used before, expired, or
    issued to another user is refused and nothing changes."""
    refused = N_("激活码无效或不属于该用户")
    user = user_by_name(uow.session, username)
    row = uow.session.scalars(select(ActivationCode).where(
        ActivationCode.code_sha256 == sha256(_normalise_code(code)))).first()
    if user is None or row is None or row.user_id != user.id:
        raise AccountError(refused)
    if row.used_at is not None:
        raise AccountError(N_("激活码已使用过，请联系系统管理员重新发放"))
    if row.expires_at <= uow.clock.now():
        raise AccountError(N_("激活码已过期，请联系系统管理员重新发放"))
    if not user.active:
        raise AccountError(N_("账户已停用"))
    check_new_password(password, repeated, user.username, uow.settings)
    row.used_at = uow.clock.now()
    _set_password(uow, user, password, reason="activation")
    uow.audit("user.activated", user_id=user.id, username=user.username, purpose=row.purpose)
    return user


def _set_password(uow, user: User, password: str, reason: str) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = False
    end_sessions_of(uow, user.id, reason=reason)
    revoke_tokens_of(uow, user.id, reason="password")


# -- one's own password ---------------------------------------------------------------------------

def change_password(uow, current: str | None, password: str, repeated: str,
                    renew_session: tuple[str, str] | None = None) -> str | None:
    """The signed-in user's new password: the current one first (not when a first password must
    be chosen). Ends all the user's sessions and revokes their tokens; with `renew_session`
    (ip, user agent) the browser that made the change gets a fresh session: its id is returned
    (a copy of the old cookie is logged out, the user is not)."""
    user = _user(uow, uow.actor.user_id)
    if not (user.must_change_password and current is None) and not check_password(user.password_hash, current or ""):
        raise AccountError(N_("当前密码不正确"))
    if check_password(user.password_hash, password):
        raise AccountError(N_("新密码不能与当前密码相同"))
    check_new_password(password, repeated, user.username, uow.settings)
    _set_password(uow, user, password, reason="password")
    uow.audit("user.password_changed", user_id=user.id, username=user.username)
    if renew_session is None:
        return None
    from .sessions import start_session
    return start_session(uow.session, user.id, uow.clock.now(), *renew_session)


def end_my_sessions(uow, keep_session: int | None = None) -> int:
    return end_sessions_of(uow, uow.actor.user_id, reason="logout_everywhere", keep=keep_session)


# -- the admin's operations -----------------------------------------------------------------------

def add_staff(uow, username: str, display_name: str, roles, email: str | None = None, phone: str | None = None,
              password: str | None = None) -> tuple[User, str | None]:
    """A staff account. Without `password` it is invited: a one-time code (returned) lets the
    person set their own. With one (the command line) it must be changed at the first login."""
    require_admin(uow)
    username, display_name = clean_username(username), clean_name(display_name)
    roles = clean_roles(roles)
    _initial_password_ok(password, username, uow.settings)
    user = create_user(uow, username, password, display_name, roles, email=clean_email(email),
                       phone=clean_phone(phone), must_change_password=True)
    code = issue_code(uow, user, "invitation") if password is None else None
    return user, code


def _initial_password_ok(password: str | None, username: str, settings) -> None:
    if password is not None:
        from .passwords import password_problems
        problems = password_problems(password, username, settings)
        if problems:
            raise AccountError(joined(problems))



def find_or_register_subject(uow, kind: str, code: str, name: str | None) -> Subject:
    """The subject with this code, or a new one registered with `name`; a code failing its check
    is an error naming the field."""
    from .cases import CaseError
    from .records import register_subject
    if kind not in CODE_FIELD:
        raise AccountError(N_("请选择主体类型（部门或公务员）"))
    try:
        code = check_subject_code(kind, code)
    except InvalidIdentifier as exc:
        raise AccountError(N_("%(field)s：%(problem)s"), field=CODE_FIELD[kind], problem=exc.message) from None
    subject = uow.session.scalars(select(Subject).where(Subject.code == code)).first()
    if subject is not None:
        if subject.kind != kind:
            raise AccountError(N_("该代码已登记为另一类主体"))
        return subject
    if not (name or "").strip():
        raise AccountError(N_("该主体尚未登记，请填写主体名称"))
    try:
        return register_subject(uow, kind, name.strip(), code)
    except CaseError as exc:
        raise AccountError(exc.message) from None



def invite_subject(uow, username: str, display_name: str, kind: str | None = None, code: str | None = None,
                   subject_name: str | None = None, subject_id: int | None = None, email: str | None = None,
                   phone: str | None = None, password: str | None = None) -> tuple[User, str | None]:
    """A department liaison's or civil servant's account tied to its subject: an existing one
    (`subject_id`) or one found or registered by its code."""
    require_admin(uow)
    username, display_name = clean_username(username), clean_name(display_name)
    _initial_password_ok(password, username, uow.settings)
    if subject_id:
        subject = uow.session.get(Subject, subject_id)
        if subject is None:
            raise AccountError(N_("信用主体不存在"))
    else:
        # a civil servant is their own subject; a department's name must be given
        fallback = display_name if kind == "civil_servant" else None
        subject = find_or_register_subject(uow, kind or "", code or "", subject_name or fallback)
    user = create_user(uow, username, password, display_name, ["subject"], subject_id=subject.id,
                       email=clean_email(email), phone=clean_phone(phone), must_change_password=True)
    code = issue_code(uow, user, "invitation") if password is None else None
    return user, code


def edit_user(uow, user_id: int, display_name: str | None = None, email: str | None = None,
              phone: str | None = None) -> User:
    """Name and contact; None leaves a field as it is ("" clears e-mail or phone)."""
    require_admin(uow)
    user = _user(uow, user_id)
    changed = {}
    if display_name is not None and clean_name(display_name) != user.display_name:
        user.display_name = changed["display_name"] = clean_name(display_name)
    if email is not None and clean_email(email) != user.email:
        user.email = changed["email"] = clean_email(email)
    if phone is not None and clean_phone(phone) != user.phone:
        user.phone = changed["phone"] = clean_phone(phone)
    if changed:
        uow.audit("user.edited", user_id=user.id, username=user.username, **changed)
    return user


def set_roles(uow, user_id: int, roles) -> User:
    """New roles; a change ends all the user's sessions and revokes their tokens at once (what
    they may do changed). The admin cannot take away their own admin role."""
    require_admin(uow)
    user = _user(uow, user_id)
    roles = clean_roles(roles, allow_subject=user.subject_id is not None)
    if user.id == uow.actor.user_id and "admin" not in roles:
        raise AccountError(N_("不能取消自己的系统管理员角色"))
    before = sorted(user.role_codes)
    if before == roles:
        return user
    user.roles = [UserRole(role=r) for r in roles]
    end_sessions_of(uow, user.id, reason="roles_changed")
    revoke_tokens_of(uow, user.id, reason="roles_changed")
    uow.audit("user.roles_changed", user_id=user.id, username=user.username, before=before, after=roles)
    return user


def deactivate(uow, user_id: int) -> User:
    """The account can no longer log in; its sessions end and its tokens are revoked at once.
    Never deleted: the audit trail keeps its name."""
    require_admin(uow)
    user = _user(uow, user_id)
    if user.id == uow.actor.user_id:
        raise AccountError(N_("不能停用自己的账户"))
    if not user.active:
        return user
    user.active, user.deactivated_at = False, uow.clock.now()
    end_sessions_of(uow, user.id, reason="deactivated")
    revoke_tokens_of(uow, user.id, reason="deactivated")
    uow.audit("user.deactivated", user_id=user.id, username=user.username)
    return user


def reactivate(uow, user_id: int) -> User:
    require_admin(uow)
    user = _user(uow, user_id)
    if not user.active:
        user.active, user.deactivated_at = True, None
        uow.audit("user.reactivated", user_id=user.id, username=user.username)
    return user


def reset_password(uow, user_id: int) -> str:
    """A one-time code for a new password: the old password stops working, the user's sessions
    end and tokens are revoked."""
    require_admin(uow)
    user = _user(uow, user_id)
    if not user.active:
        raise AccountError(N_("账户已停用，请先启用"))
    user.password_hash, user.must_change_password = UNUSABLE_PASSWORD, True
    end_sessions_of(uow, user.id, reason="reset")
    revoke_tokens_of(uow, user.id, reason="reset")
    uow.audit("user.password_reset", user_id=user.id, username=user.username)
    return issue_code(uow, user, "reset")


def list_users(session, q: str = "", status: str = "", role: str = "", limit: int = 200) -> list[User]:
    query = select(User)
    q = (q or "").strip()[:100]
    if q:
        query = query.where(or_(User.username.contains(q, autoescape=True), User.display_name.contains(q, autoescape=True),
                                User.email.contains(q, autoescape=True), User.phone.contains(q, autoescape=True)))
    if status == "active":
        query = query.where(User.active)
    elif status == "deactivated":
        query = query.where(~User.active)
    if role in ROLES:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return session.scalars(query.order_by(func.lower(User.username)).limit(limit)).all()
