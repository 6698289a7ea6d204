"""`credflow user ...` and `credflow api-token ...`: accounts and tokens from the command line.
Thin: each command is one service call as the administrator "cli"; an error prints, exits 1 and
saves nothing."""
from __future__ import annotations

import sys
from contextlib import contextmanager

import click
from sqlalchemy import select

from workflows.accounts import AccountError, create_api_token, revoke_token, token_state, tokens_of
from workflows.messages import N_
from workflows.models import ApiToken, User
from workflows.runtime import Actor, UnitOfWork

CLI_ADMIN = Actor("cli", roles=frozenset({"admin"}))


@contextmanager
def _uow():
    from workflows.settings import load_settings
    from .cli import _factory
    with UnitOfWork(_factory(), CLI_ADMIN, settings=load_settings()) as uow:
        try:
            yield uow
        except (AccountError, PermissionError) as exc:
            uow.rollback()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        uow.commit()


def _user(uow, username: str) -> User:
    user = uow.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise AccountError(N_("没有用户 %(username)s"), username=username)
    return user


def _code_message(user: User, code: str, uow) -> str:
    return (f"one-time activation code for {user.username}: {code}\n"
            f"valid {uow.settings.activation_code_days} days, once; the user sets a password at /account/activate")


@click.group(help="Accounts: add, edit, roles, deactivate, reset-password, list.")
def user() -> None:
    pass


@user.command("add", help="Add an account (without --password: prints a one-time activation code).")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="the person's name")
@click.option("--role", "roles", multiple=True, help="a role code; repeat for several (a --subject account: subject)")
@click.option("--email")
@click.option("--phone")
@click.option("--subject", "subject_code", help="USCC or citizen ID of the subject a subject account belongs to")
@click.option("--subject-name", help="the department's name, when its code is not registered yet")
@click.option("--password", help="an initial password, to be changed at the first login")
def add(username, display_name, roles, email, phone, subject_code, subject_name, password) -> None:
    import re
    from workflows.users import add_staff, invite_subject
    with _uow() as uow:
        if subject_code:
            # 17 digits and a check character: a citizen ID; anything else is read as a USCC
            kind = "civil_servant" if re.fullmatch(r"\d{17}[\dXx]", subject_code.strip()) else "department"
            if set(roles) - {"subject"}:
                raise AccountError(N_("--subject 账户只有 subject 角色"))
            account, code = invite_subject(uow, username, display_name, kind=kind, code=subject_code, subject_name=subject_name, email=email,
                                           phone=phone, password=password)
        else:
            if not roles:
                raise AccountError(N_("请用 --role 指定至少一个角色"))
            account, code = add_staff(uow, username, display_name, roles, email, phone, password=password)
        message = _code_message(account, code, uow) if code else f"{account.username}: must change the password at the first login"
    click.echo(f"added {account.username} ({', '.join(sorted(account.role_codes))})")
    click.echo(message)


@user.command("edit", help="Change a user's name, e-mail or phone ('' clears e-mail or phone).")
@click.argument("username")
@click.option("--name", "display_name")
@click.option("--email")
@click.option("--phone")
def edit(username, display_name, email, phone) -> None:
    from workflows.users import edit_user
    with _uow() as uow:
        edit_user(uow, _user(uow, username).id, display_name, email, phone)
    click.echo(f"saved {username}")


@user.command("roles", help="Set a user's roles (ends their sessions and revokes their tokens).")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
def roles_(username, roles) -> None:
    from workflows.users import set_roles
    with _uow() as uow:
        set_roles(uow, _user(uow, username).id, roles)
    click.echo(f"{username}: {', '.join(sorted(roles))}")


@user.command("deactivate", help="Deactivate an account (never deleted); its sessions and tokens end at once.")
@click.argument("username")
def deactivate_(username) -> None:
    from workflows.users import deactivate
    with _uow() as uow:
        deactivate(uow, _user(uow, username).id)
    click.echo(f"deactivated {username}")


@user.command("reactivate", help="Let a deactivated account log in again.")
@click.argument("username")
def reactivate_(username) -> None:
    from workflows.users import reactivate
    with _uow() as uow:
        reactivate(uow, _user(uow, username).id)
    click.echo(f"reactivated {username}")


@user.command("reset-password", help="Print a one-time code for a new password (the old one stops working).")
@click.argument("username")
def reset_password_(username) -> None:
    from workflows.users import reset_password
    with _uow() as uow:
        account = _user(uow, username)
        code = reset_password(uow, account.id)
        message = _code_message(account, code, uow)
    click.echo(message)


@user.command("list", help="List the accounts.")
def list_() -> None:
    from workflows.users import list_users
    with _uow() as uow:
        users = list_users(uow.session, limit=100_000)
        for u in users:
            state = "active" if u.active else "deactivated"
            seen = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "-"
            click.echo(f"{u.username:20} {u.display_name:12} {','.join(sorted(u.role_codes)):24} {state:12} {seen}")


@click.group("api-token", help="JSON API tokens: create, list, revoke.")
def api_token() -> None:
    pass


@api_token.command("create", help="Create a token for USERNAME (printed once; valid api_token_days).")
@click.argument("username")
@click.option("--name", default="integration", show_default=True)
def token_create(username, name) -> None:
    with _uow() as uow:
        token = create_api_token(uow, _user(uow, username).id, name)
    click.echo(token)


@api_token.command("list", help="List tokens (of USERNAME, or of everyone).")
@click.argument("username", required=False)
def token_list(username) -> None:
    with _uow() as uow:
        if username:
            tokens = tokens_of(uow.session, _user(uow, username).id)
        else:
            tokens = uow.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        names = dict(uow.session.execute(select(User.id, User.username)).all())
        now = uow.clock.now()
        for t in tokens:
            expires = t.expires_at.date().isoformat() if t.expires_at else "never"
            click.echo(f"{t.id:6} {names.get(t.user_id, '?'):20} {t.name:24} expires {expires:10} {token_state(t, now)}")


@api_token.command("revoke", help="Revoke the token with this ID (see `api-token list`).")
@click.argument("token_id", type=int)
def token_revoke(token_id) -> None:
    with _uow() as uow:
        revoke_token(uow, token_id, "revoked_by_admin")
    click.echo(f"revoked token {token_id}")
