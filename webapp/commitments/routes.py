"""The township commitments routes: the public list (no login), the staff list and a clerk's
registration, and the township's own pages in the portal (register, follow, report). The rules
are workflows/commitments's; the review and the leader's confirmation are inbox tasks."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.cases import CaseError, NotFound, complete_task, task_form
from workflows.commitments.model import Commitment
from workflows.commitments.service import (PROCESS, STATUS_TEXT, CommitmentInvalid, Draft, commitment_of_case,
                                           is_township_account, may_list, may_register_any, own_commitment,
                                           own_commitments, public_commitments, register_commitment, report_task,
                                           staff_commitments, township_owns)
from workflows.forms import FormInvalid
from workflows.models import Attachment, HumanTask, Subject

from ..context import actor, clock, db, db_int, unit_of_work
from ..exports import wants_xlsx
from .sheet import commitments_sheet
from ..formkit import fields_of, parse_post
from ..translate import translated
from ..uploads import attachments_by_id, check_attachment_ids, store_form_uploads

bp = Blueprint("commitments", __name__)


@bp.app_template_global()
def may_open_commitments(kind: str) -> bool:
    """For the navigation: 'staff' (the list), 'portal' (a township's own pages), 'register' (a clerk)."""
    if not current_user.is_authenticated:
        return False
    if kind == "staff":
        return may_list(actor())
    if kind == "register":
        return may_register_any(actor())
    return is_township_account(db(), actor())


@bp.app_template_filter("commitment_status")
def commitment_status(code: str) -> str:
    return _(STATUS_TEXT[code]) if code in STATUS_TEXT else code


@bp.before_app_request
def _report_in_commitment_page():
    """The portal's list of what is asked of a subject links every subject task to /portal/tasks/<id>,
    whose page returns to an application's page afterwards: a commitment's report is done on the
    commitment's own page instead (the same form), so the township lands where it can see it."""
    if request.endpoint != "portal.task" or not current_user.is_authenticated:
        return None
    row = db().get(HumanTask, (request.view_args or {}).get("row_id"))
    if row is None or row.process_key != PROCESS:
        return None
    commitment = commitment_of_case(db(), row.case_id)
    if commitment is None or not township_owns(actor(), commitment):
        return None      # the portal answers as it does for anything not the caller's
    return redirect(url_for("commitments.portal_detail", commitment_id=commitment.id), 303)


# -- the public ---------------------------------------------------------------------------------

@bp.get("/public/commitments")
def public_list():
    return render_template("commitments/public.html", rows=public_commitments(db()))


# -- staff --------------------------------------------------------------------------------------

@bp.get("/commitments")
@login_required
def staff_list():
    if not may_list(actor()):
        abort(403)
    status = request.args.get("status") or None
    if wants_xlsx():
        return commitments_sheet(staff_commitments(db(), actor(), status), status, clock().today())
    return render_template("commitments/list.html", rows=staff_commitments(db(), actor(), status), status=status,
                           statuses=STATUS_TEXT, today=clock().today())


def _draft(form, subject_id) -> Draft:
    return Draft(subject_id, form.get("content", "")[:5000], form.get("deadline", "")[:20],
                 form.get("responsible_name", "")[:200], form.get("responsible_post", "")[:200])


def _register(template: str, done_endpoint: str, **context):
    """The registration form (GET) and its post: the errors beside each field, nothing lost."""
    form, errors = request.form, {}
    if request.method == "POST":
        subject_id = form.get("subject_id", type=db_int) if "subject_id" in form else None
        try:
            with unit_of_work() as uow:
                commitment = register_commitment(uow, _draft(form, subject_id))
                uow.commit()
        except CommitmentInvalid as exc:
            errors = {name: translated(message) for name, message in exc.errors.items()}
        except CaseError as exc:
            errors = {"_form": translated(exc)}
        else:
            flash(_("公开承诺已登记并在信用网站公示。"), "success")
            return redirect(url_for(done_endpoint, **({"commitment_id": commitment.id}
                                                      if done_endpoint == "commitments.portal_detail" else {})))
    return render_template(template, form=form, errors=errors, today=clock().today(), **context), \
        (422 if errors else 200)


@bp.route("/commitments/new", methods=["GET", "POST"])
@login_required
def new():
    if not may_register_any(actor()):
        abort(403)
    townships = db().scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.name)).all()
    return _register("commitments/new.html", "commitments.staff_list", townships=townships, portal=False)


# -- the township's own pages (portal) ----------------------------------------------------------

def _township_only():
    """The portal's pages are subject accounts' (staff: 403); of those, a township's (else 404)."""
    if not current_user.has_role("subject") or current_user.subject_id is None:
        abort(403)
    if not is_township_account(db(), actor()):
        abort(404)


@bp.get("/portal/commitments")
@login_required
def portal_list():
    _township_only()
    return render_template("commitments/portal.html", rows=own_commitments(db(), actor()))


@bp.route("/portal/commitments/new", methods=["GET", "POST"])
@login_required
def portal_new():
    _township_only()
    return _register("commitments/new.html", "commitments.portal_detail", townships=[], portal=True,
                     township=db().get(Subject, current_user.subject_id))


def _mine(commitment_id: int) -> Commitment:
    try:
        return own_commitment(db(), actor(), commitment_id)
    except NotFound:
        abort(404)


@bp.route("/portal/commitments/<int:commitment_id>", methods=["GET", "POST"])
@login_required
def portal_detail(commitment_id):
    _township_only()
    commitment = _mine(commitment_id)
    row = report_task(db(), actor(), commitment)
    schema = task_form(db(), row) if row else {"type": "object", "properties": {}}
    fields = fields_of(schema)
    values, errors = {}, {}
    if request.method == "POST":
        if row is None:
            flash(_("此任务已结束（已提交，或已过办理期限），您填写的内容没有提交。"), "warning")
            return redirect(url_for("commitments.portal_detail", commitment_id=commitment.id)), 303
        with unit_of_work() as uow:
            uploaded, errors = store_form_uploads(uow, fields, request.files, row.case_id, current_user.id)
            values = parse_post(schema, request.form, uploaded)
            if not check_attachment_ids(uow.session, fields, values, row.case_id, current_user.id):
                abort(403)
            if not errors:
                try:
                    with uow.savepoint():
                        complete_task(uow, row.id, values)
                    uow.commit()
                    flash(_("已提交。"), "success")
                    return redirect(url_for("commitments.portal_detail", commitment_id=commitment.id))
                except FormInvalid as exc:
                    errors = exc.errors
                except CaseError as exc:
                    errors = {"_form": translated(exc)}
            uow.commit()   # keep the uploaded files for the corrected form
    files = db().scalars(select(Attachment).where(Attachment.case_id == commitment.case_id)
                         .order_by(Attachment.id)).all() if commitment.case_id else []
    attachments = attachments_by_id(db(), [i for f in fields if f.widget == "file" for i in values.get(f.name, [])])
    return render_template("commitments/portal_detail.html", commitment=commitment, row=row, fields=fields,
                           values=values, errors=errors, attachments=attachments, files=files), \
        (422 if errors else 200)
