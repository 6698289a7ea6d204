"""The approval actions from the pages: one POST per action on a task
(/tasks/<row_id>/actions/<action>), withdrawing one's step from the case page, and 抄送我的 (the
cases copied to me). A route parses its form, calls the service in one unit of work and redirects;
a refusal (a CaseError: 403, 409 with a stale `case_version`, 400 for bad input) becomes the app's
error page (webapp/errors.py)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.approvals import copies, handover, send_back, signers, urge, withdraw
from workflows.approvals.policy import STAFF
from workflows.case_errors import CaseError
from workflows.cases import task_form
from workflows.messages import N_
from workflows.models import HumanTask

from ..context import actor, db, db_int, safe_local_url, unit_of_work
from ..exports import wants_xlsx
from .copies_sheet import copies_sheet
from ..formkit import fields_of, parse_post
from ..uploads import check_attachment_ids, store_form_uploads

bp = Blueprint("approvals", __name__)
NAMES = ("send_back", "transfer", "delegate", "resolve", "add_signer", "remove_signer", "sign", "copy", "urge")


@bp.before_request
@login_required
def _staff_only():
    if not current_user.has_role(*STAFF):
        abort(403)


def _reason() -> str:
    return request.form.get("reason", "")


def _approved() -> bool:
    value = request.form.get("approved")
    if value not in ("1", "0"):
        raise CaseError(N_("请选择同意或不同意"))
    return value == "1"


def _resolve(uow, row_id: int, version: int | None):
    """The delegate hands the task back with the form as filled (files stored with the case)."""
    row = uow.session.get(HumanTask, row_id)
    if row is None:
        return handover.resolve(uow, row_id, request.form.get("resolve_opinion", ""), None, expected_version=version)
    schema = task_form(uow.session, row)
    fields = fields_of(schema)
    uploaded, errors = store_form_uploads(uow, fields, request.files, row.case_id, current_user.id, row.record_id)
    if errors:
        raise CaseError(N_("附件未能上传：%(problem)s"), problem=next(iter(errors.values())))
    data = parse_post(schema, request.form, uploaded)
    if not check_attachment_ids(uow.session, fields, data, row.case_id, current_user.id):
        abort(403)
    return handover.resolve(uow, row_id, request.form.get("resolve_opinion", ""), data, expected_version=version)


def _remove_signer(uow, row_id: int, version: int | None):
    action_id = request.form.get("action_id", type=db_int)   # an 'after' signer who has no row yet
    if action_id is not None:
        return signers.remove_signer(uow, row_id, _reason(), expected_version=version, action_id=action_id)
    return signers.remove_signer(uow, row_id, _reason(), expected_version=version)


# name -> (the service call from the posted form, what the page then says)
ACTIONS = {
    "send_back": (lambda uow, row_id, v: send_back.send_back(uow, row_id, request.form.get("target", ""), _reason(),
                                                             expected_version=v), N_("已退回。")),
    "transfer": (lambda uow, row_id, v: handover.transfer(uow, row_id, request.form.get("user_id", type=db_int),
                                                          _reason(), expected_version=v), N_("已转办。")),
    "delegate": (lambda uow, row_id, v: handover.delegate(uow, row_id, request.form.get("user_id", type=db_int),
                                                          _reason(), expected_version=v), N_("已委派。")),
    "resolve": (_resolve, N_("已办理完毕，交回委派人。")),
    "add_signer": (lambda uow, row_id, v: signers.add_signer(uow, row_id, request.form.get("user_id", type=db_int),
                                                             request.form.get("position", ""), _reason(),
                                                             expected_version=v), N_("已加签。")),
    "remove_signer": (_remove_signer, N_("已减签。")),
    "sign": (lambda uow, row_id, v: signers.sign(uow, row_id, _approved(), request.form.get("opinion", ""),
                                                 expected_version=v), N_("已提交加签意见。")),
    "copy": (lambda uow, row_id, v: copies.copy_case(uow, row_id, request.form.getlist("user_ids", type=db_int),
                                                     request.form.getlist("roles"), _reason(), expected_version=v),
             N_("已抄送。")),
    "urge": (lambda uow, row_id, v: urge.urge(uow, row_id, _reason()), N_("已催办。")),
}
assert set(ACTIONS) == set(NAMES)


def _next_page(row_id: int, result) -> str:
    """Where the actor goes next: a page they asked for (`back`), else the task while it is still
    theirs (or the row the action gave them), else the inbox."""
    back = request.form.get("back")
    if back:
        return safe_local_url(back, url_for("inbox.index"))
    for row in (db().get(HumanTask, row_id), result):
        if isinstance(row, HumanTask) and row.assignee_id == current_user.id:
            return url_for("inbox.task", row_id=row.id)
    return url_for("inbox.index")


@bp.post("/tasks/<int:row_id>/actions/<any(" + ", ".join(NAMES) + "):action>")
def task_action(row_id, action):
    call, done = ACTIONS[action]
    with unit_of_work() as uow:
        result = call(uow, row_id, request.form.get("case_version", type=db_int))
        result_row = result.id if isinstance(result, HumanTask) else None
        uow.commit()
    flash(_(done), "success")
    return redirect(_next_page(row_id, db().get(HumanTask, result_row) if result_row else None))


@bp.post("/cases/<int:case_id>/withdraw")
def withdraw_step(case_id):
    with unit_of_work() as uow:
        row = withdraw.withdraw(uow, case_id, _reason(), expected_version=request.form.get("case_version", type=db_int))
        row_id = row.id if isinstance(row, HumanTask) else None
        uow.commit()
    flash(_("已撤回，请修改后重新提交。"), "success")
    return redirect(url_for("inbox.task", row_id=row_id) if row_id else url_for("cases.case", case_id=case_id))


@bp.get("/copies")
def copied_to_me():
    if wants_xlsx():
        return copies_sheet()
    return render_template("approvals/copies.html", items=copies.copied_to(db(), actor().user_id))
