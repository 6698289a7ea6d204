"""Accounts: staff and subject accounts, roles, invitations, resets, deactivation, sheet import.
Thin: parse, call workflows.users / user_sheet with the admin as actor, render."""
from __future__ import annotations

import base64
import csv
import io
from functools import wraps

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from workflows.accounts import AccountError, revoke_token, token_state, tokens_of
from workflows.models import ROLES, Subject, User
from workflows.sessions import live_sessions
from workflows.import_jobs import reveal_created_accounts
from workflows.sheet_reader import SheetError
from workflows.user_sheet import MAX_BYTES, TEMPLATE_HEADERS, template_xlsx
from workflows.users import (STAFF_ROLES, add_staff, deactivate, edit_user, invite_subject, list_users, reactivate,
                             reset_password, set_roles)

from ..context import clock, db, db_int, unit_of_work
from ..exports import wants_xlsx
from .user_sheet import users_sheet
from ..translate import translated
from ..import_views import job_status, start_import, visible_job
from . import bp


def admin_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.has_role("admin"):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _list_page(errors=None, form=None, status=200, tab="add"):
    q, state, role = (request.args.get("q") or "").strip()[:100], request.args.get("status", ""), request.args.get("role", "")
    if wants_xlsx() and request.method == "GET":
        return users_sheet(q, state, role)
    return render_template("system/users.html", users=list_users(db(), q, state, role), q=q, status=state, role=role,
                           roles=ROLES, staff_roles=STAFF_ROLES, errors=errors or [], form=form or {}, tab=tab,
                           headers=TEMPLATE_HEADERS, max_kb=MAX_BYTES // 1024), status


def _code_page(user: User, code: str, purpose: str):
    return render_template("system/user_code.html", user=user, code=code, purpose=purpose)


@bp.get("/users")
@admin_only
def users():
    return _list_page()


@bp.post("/users/add")
@admin_only
def user_add():
    form = request.form
    try:
        with unit_of_work() as uow:
            user, code = add_staff(uow, form.get("username", ""), form.get("display_name", ""),
                                   form.getlist("roles"), form.get("email"), form.get("phone"))
            uow.commit()
    except AccountError as exc:
        return _list_page([translated(exc)], form, 422, "add")
    return _code_page(user, code, "invitation")


@bp.post("/users/invite")
@admin_only
def user_invite():
    form = request.form
    try:
        with unit_of_work() as uow:
            user, code = invite_subject(uow, form.get("username", ""), form.get("display_name", ""),
                                        kind=form.get("kind"), code=form.get("code"),
                                        subject_name=form.get("subject_name"),
                                        subject_id=form.get("subject_id", type=db_int), email=form.get("email"),
                                        phone=form.get("phone"))
            uow.commit()
    except AccountError as exc:
        return _list_page([translated(exc)], form, 422, "invite")
    return _code_page(user, code, "invitation")


@bp.post("/users/import")
@admin_only
def user_import():
    """The sheet is stored with a job that a worker runs; its page answers at once."""
    storage = request.files.get("sheet")
    if storage is None or not storage.filename:
        return _list_page([_("请选择要导入的 .xlsx 文件。")], {}, 422, "import")
    try:
        job_id = start_import("users", storage)
    except SheetError as exc:
        return _list_page([translated(exc)], {}, 422, "import")
    return redirect(url_for("system.user_import_job", job_id=job_id), 303)


@bp.get("/users/imports/<int:job_id>")
@admin_only
def user_import_job(job_id):
    """The job's progress; once done, the new accounts with their one-time codes (shown this once)."""
    job = visible_job("users", job_id)
    created, csv_uri = [], None
    if job.status == "done":
        with unit_of_work() as uow:
            created = reveal_created_accounts(uow, job.id)
            uow.commit()
        if any(code for _, _, code in created):
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["用户名", "姓名", "激活码"])
            writer.writerows(created)
            csv_uri = ("data:text/csv;charset=utf-8;base64," +
                       base64.b64encode(("\ufeff" + out.getvalue()).encode()).decode())
    return render_template("system/user_import.html", job=job, created=created, csv_uri=csv_uri,
                           status_url=url_for("system.user_import_status", job_id=job.id))


@bp.get("/users/imports/<int:job_id>.json")
@admin_only
def user_import_status(job_id):
    return job_status("users", job_id)


@bp.get("/users/template.xlsx")
@admin_only
def user_template():
    english = str(get_locale() or "zh").startswith("en")     # headers and notes in the page's language
    return send_file(io.BytesIO(template_xlsx(_, english)), as_attachment=True, download_name="credflow-users.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _user_or_404(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users/<int:user_id>")
@admin_only
def user(user_id):
    user = _user_or_404(user_id)
    subject = db().get(Subject, user.subject_id) if user.subject_id else None
    return render_template("system/user.html", user=user, subject=subject, roles=ROLES, staff_roles=STAFF_ROLES,
                           tokens=tokens_of(db(), user.id), sessions=live_sessions(db(), user.id),
                           now=clock().now(), token_state=token_state)


def _act(user_id: int, fn, done: str, *args, **kwargs):
    """Run one admin operation on a user; its error is flashed; back to the user's page."""
    _user_or_404(user_id)
    try:
        with unit_of_work() as uow:
            result = fn(uow, user_id, *args, **kwargs)
            uow.commit()
    except AccountError as exc:
        flash(translated(exc), "error")
        return None
    flash(done, "success")
    return result


def _back(user_id: int, anchor: str = ""):
    return redirect(url_for("system.user", user_id=user_id) + anchor)


@bp.post("/users/<int:user_id>/edit")
@admin_only
def user_edit(user_id):
    form = request.form
    _act(user_id, edit_user, _("已保存。"), form.get("display_name"), form.get("email"), form.get("phone"))
    return _back(user_id)


@bp.post("/users/<int:user_id>/roles")
@admin_only
def user_roles(user_id):
    _act(user_id, set_roles, _("角色已更新；该用户的登录已全部退出，API 令牌已撤销。"), request.form.getlist("roles"))
    return _back(user_id, "#roles")


@bp.post("/users/<int:user_id>/deactivate")
@admin_only
def user_deactivate(user_id):
    _act(user_id, deactivate, _("账户已停用；该用户已被立即退出登录，API 令牌已撤销。"))
    return _back(user_id)


@bp.post("/users/<int:user_id>/reactivate")
@admin_only
def user_reactivate(user_id):
    _act(user_id, reactivate, _("账户已启用。"))
    return _back(user_id)


@bp.post("/users/<int:user_id>/reset")
@admin_only
def user_reset(user_id):
    user = _user_or_404(user_id)
    code = _act(user_id, reset_password, _("已重置密码。"))
    if code is None:
        return _back(user_id)
    return _code_page(user, code, "reset")


@bp.post("/users/<int:user_id>/tokens/revoke")
@admin_only
def user_revoke_token(user_id):
    _user_or_404(user_id)
    try:
        with unit_of_work() as uow:
            revoke_token(uow, request.form.get("token_id", type=db_int) or 0, "revoked_by_admin", owner_id=user_id)
            uow.commit()
    except AccountError as exc:
        flash(translated(exc), "error")
    else:
        flash(_("令牌已撤销。"), "success")
    return _back(user_id, "#tokens")


@bp.errorhandler(PermissionError)
def _forbidden(_exc):
    abort(403)
