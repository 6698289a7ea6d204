"""One's own account pages: parse, call workflows.users / accounts / sessions, render."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from workflows.accounts import AccountError, revoke_token, token_state, tokens_of
from workflows.models import Subject, User
from workflows.runtime import Actor, UnitOfWork
from workflows.sessions import live_sessions
from workflows.users import activate as activate_account
from workflows.users import change_password, end_my_sessions

from ..context import clock, db, db_int, unit_of_work
from ..translate import translated
from . import bp


@bp.get("/")
@login_required
def index():
    user = db().get(User, current_user.id)
    subject = db().get(Subject, user.subject_id) if user.subject_id else None
    return render_template("account/index.html", user=user, subject=subject, tokens=tokens_of(db(), user.id),
                           sessions=live_sessions(db(), user.id), now=clock().now(), token_state=token_state)


@bp.post("/password")
@login_required
def password():
    form = request.form
    try:
        with unit_of_work() as uow:
            sid = change_password(uow, form.get("current_password", ""), form.get("new_password", ""),
                                  form.get("new_password2", ""), renew_session=_this_browser())
            uow.commit()
        session["sid"] = sid
    except AccountError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("account.index") + "#password")
    flash(_("密码已修改。其他设备上的登录已退出，API 令牌已全部撤销。"), "success")
    return redirect(url_for("account.index"))


@bp.route("/password/new", methods=["GET", "POST"])
@login_required
def set_password():
    """The first password (an account created with an initial one): before anything else."""
    if not current_user.must_change_password:
        return redirect(url_for("account.index"))
    error = None
    if request.method == "POST":
        try:
            with unit_of_work() as uow:
                sid = change_password(uow, None, request.form.get("new_password", ""),
                                      request.form.get("new_password2", ""), renew_session=_this_browser())
                uow.commit()
            session["sid"] = sid
        except AccountError as exc:
            error = translated(exc)
        else:
            flash(_("密码已设置。"), "success")
            return redirect(url_for("auth.home"))
    return render_template("account/set_password.html", error=error), (422 if error else 200)


def _this_browser() -> tuple[str, str]:
    return request.remote_addr or "?", request.headers.get("User-Agent", "")


@bp.post("/tokens/revoke")
@login_required
def revoke():
    try:
        with unit_of_work() as uow:
            revoke_token(uow, request.form.get("token_id", type=db_int) or 0, "revoked", owner_id=current_user.id)
            uow.commit()
    except AccountError as exc:
        flash(translated(exc), "error")
    else:
        flash(_("令牌已撤销。"), "success")
    return redirect(url_for("account.index") + "#tokens")


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of mine, this one included."""
    with unit_of_work() as uow:
        end_my_sessions(uow)
        uow.commit()
    logout_user()
    session.clear()
    flash(_("已在所有设备上退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/activate", methods=["GET", "POST"])
def activate():
    """Anonymous: user name, the one-time code and a new password twice."""
    error = None
    if request.method == "POST":
        form = request.form
        uow = UnitOfWork(current_app.extensions["credflow.session_factory"],
                         Actor.system("activation"), clock(), current_app.config["SETTINGS"])
        try:
            with uow:
                activate_account(uow, form.get("username", "").strip()[:80], form.get("code", "")[:60],
                                 form.get("new_password", ""), form.get("new_password2", ""))
                uow.commit()
        except AccountError as exc:
            error = translated(exc)
        else:
            if current_user.is_authenticated:
                logout_user()
                session.clear()
            flash(_("账户已激活，请用新密码登录。"), "success")
            return redirect(url_for("auth.login"))
    return render_template("account/activate.html", error=error), (422 if error else 200)


@bp.errorhandler(PermissionError)
def _forbidden(_exc):
    abort(403)
