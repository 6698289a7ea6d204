"""My leave (休假委托): a staff member records when they are away and who stands in for them
(workflows/approvals/leave.py); parse, call, render."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.approvals.leave import cancel_leave, deputy_choices, leaves_of, set_leave
from workflows.approvals.policy import STAFF
from workflows.case_errors import CaseError

from ..context import MAX_DB_INT, clock, db, db_int, unit_of_work
from ..translate import translated
from . import bp


def _staff_only() -> None:
    if not current_user.has_role(*STAFF):
        abort(403)


def _page(error: str | None = None, form: dict | None = None):
    return render_template("account/leave.html", leaves=leaves_of(db(), current_user.id),
                           deputies=deputy_choices(db(), current_user.id), today=clock().today(),
                           error=error, form=form or {}), (422 if error else 200)


@bp.get("/leave")
@login_required
def leave():
    _staff_only()
    return _page()


@bp.post("/leave")
@login_required
def leave_add():
    _staff_only()
    form = request.form
    values = {"deputy_id": form.get("deputy_id", type=db_int), "starts_on": form.get("starts_on", "")[:10],
              "ends_on": form.get("ends_on", "")[:10], "reason": form.get("reason", "")[:1000]}
    try:
        with unit_of_work() as uow:
            set_leave(uow, values["deputy_id"], values["starts_on"], values["ends_on"], values["reason"])
            uow.commit()
    except CaseError as exc:
        return _page(translated(exc), values)
    flash(_("休假已登记。"), "success")
    return redirect(url_for("account.leave"))


@bp.post("/leave/<int:leave_id>/cancel")
@login_required
def leave_cancel(leave_id):
    _staff_only()
    if leave_id > MAX_DB_INT:
        abort(404)
    try:
        with unit_of_work() as uow:
            cancel_leave(uow, leave_id)
            uow.commit()
    except CaseError as exc:
        flash(translated(exc), "error")
    else:
        flash(_("休假已取消。"), "success")
    return redirect(url_for("account.leave"))
