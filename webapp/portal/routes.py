"""The record subjects' portal: their own records only, their applications, what is asked of them."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from workflows.applications import (APPLICATION_PROCESSES, availability, file_credit_repair, file_objection,
                                    file_self_correction, repair_eligibility, subject_record)
from workflows.cases import CalendarGap, CaseError, NotFound, complete_task, task_form
from workflows.definitions import latest_definition, specs_for
from workflows.dossier import dossier_for
from workflows.forms import FormInvalid, validate_form
from workflows.models import Attachment, Case, Document, HumanTask, Record, Subject

from ..context import actor, clock, db, unit_of_work
from ..formkit import fields_of, parse_post
from ..uploads import attachment_path, attachments_by_id, check_attachment_ids, store_form_uploads

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
@login_required
def _subjects_only():
    if not current_user.has_role("subject") or current_user.subject_id is None:
        abort(403)


def _my_record(record_id: int) -> Record:
    try:
        return subject_record(db(), actor(), record_id)
    except NotFound:
        abort(404)


def _my_case(case_id: int) -> Case:
    """An application of mine, or an accountability case about me."""
    case = db().get(Case, case_id)
    record = db().get(Record, case.record_id) if case and case.record_id else None
    mine = case is not None and (
        (case.process_key == "accountability" and case.party_id == current_user.subject_id)
        or (case.process_key in APPLICATION_PROCESSES and record is not None
            and record.subject_id == current_user.subject_id))
    if not mine:
        abort(404)
    return case


@bp.get("/")
def index():
    records = db().scalars(select(Record).where(Record.subject_id == current_user.subject_id)
                           .order_by(Record.id.desc())).all()
    ids = [r.id for r in records]
    applications = db().scalars(select(Case).where(or_(
        Case.record_id.in_(ids) & Case.process_key.in_(APPLICATION_PROCESSES),
        (Case.process_key == "accountability") & (Case.party_id == current_user.subject_id)))
        .order_by(Case.id.desc())).all()
    tasks = db().scalars(select(HumanTask).where(HumanTask.lane == "subject",
                                                 HumanTask.subject_id == current_user.subject_id)).all()
    return render_template("portal/index.html", records=records, applications=applications, tasks=tasks)


@bp.get("/records/<int:record_id>")
def record(record_id):
    rec = _my_record(record_id)
    eligibility = repair_eligibility(db(), rec, _settings(), clock().today())
    options = {p: availability(db(), rec, p, _settings(), clock().today()) for p in APPLICATION_PROCESSES}
    documents = db().scalars(select(Document).where(Document.record_id == rec.id,
                                                    Document.subject_id == current_user.subject_id)
                             .order_by(Document.id)).all()
    return render_template("portal/record.html", record=rec, eligibility=eligibility, options=options,
                           documents=documents)


def _settings():
    from flask import current_app
    return current_app.config["SETTINGS"]


def _start_schema(process: str) -> dict:
    definition = latest_definition(db(), process)
    if definition is None:
        abort(404)
    return specs_for(db(), definition.id).forms.get("start.json") or abort(404)


@bp.route("/records/<int:record_id>/<any(objection, self_correction, credit_repair):process>", methods=["GET", "POST"])
def apply(record_id, process):
    rec = _my_record(record_id)
    schema = _start_schema(process)
    fields = fields_of(schema)
    values, errors, attachments = {}, {}, {}
    if request.method == "POST":
        with unit_of_work() as uow:
            uploaded, errors = store_form_uploads(uow, fields, request.files, None, current_user.id, rec.id)
            values = parse_post(schema, request.form, uploaded)
            if not check_attachment_ids(uow.session, fields, values, None, current_user.id):
                abort(403)
            try:
                clean = validate_form(schema, values)
            except FormInvalid as exc:
                errors.update(exc.errors)
            if not errors:
                try:
                    case = _file(uow, process, rec.id, clean)
                except CalendarGap:
                    raise   # the calendar page's link, and nothing of this case kept (webapp/errors.py)
                except CaseError as exc:
                    errors["_form"] = str(exc)
                else:
                    ids = [i for f in fields if f.widget == "file" for i in clean.get(f.name, [])]
                    for att in uow.session.scalars(select(Attachment).where(Attachment.id.in_(ids))) if ids else []:
                        att.case_id = case.id
                    uow.commit()
                    flash(_("申请已提交（案件 #%(id)s）。", id=case.id), "success")
                    return redirect(url_for("portal.application", case_id=case.id))
            uow.commit()  # keep uploaded files for the corrected form
        attachments = attachments_by_id(db(), [i for f in fields if f.widget == "file" for i in values.get(f.name, [])])
    option = availability(db(), rec, process, _settings(), clock().today())
    return render_template("portal/apply.html", record=rec, process=process, schema=schema, fields=fields,
                           values=values, errors=errors, attachments=attachments, option=option), \
        (422 if errors else 200)


def _file(uow, process, record_id, data):
    if process == "objection":
        return file_objection(uow, record_id, data["grounds"], data["statement"], data.get("evidence", []))
    if process == "self_correction":
        return file_self_correction(uow, record_id, data["measures"], data["statement"], data.get("evidence", []))
    return file_credit_repair(uow, record_id, data["statement"], data["obligations_fulfilled"],
                              data.get("commitment", []), data.get("evidence", []))


@bp.get("/applications/<int:case_id>")
def application(case_id):
    case = _my_case(case_id)
    tasks = db().scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
    attachments = db().scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    documents = db().scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id)).all()
    return render_template("portal/application.html", case=case, record=db().get(Record, case.record_id),
                           tasks=tasks, attachments=attachments, documents=documents)


def _my_task(row_id: int) -> HumanTask:
    row = db().get(HumanTask, row_id)
    if row is None or row.lane != "subject" or row.subject_id != current_user.subject_id:
        abort(404)  # a completed task is not found either: who did it is not the subject's business
    return row


@bp.route("/tasks/<int:row_id>", methods=["GET", "POST"])
def task(row_id):
    row = _my_task(row_id)
    case_id = row.case_id   # the row is gone once the task is completed
    schema = task_form(db(), row)
    fields = fields_of(schema)
    values, errors = {}, {}
    if request.method == "POST":
        with unit_of_work() as uow:
            uploaded, errors = store_form_uploads(uow, fields, request.files, row.case_id, current_user.id,
                                                  row.record_id)
            values = parse_post(schema, request.form, uploaded)
            if not check_attachment_ids(uow.session, fields, values, row.case_id, current_user.id):
                abort(403)
            if not errors:
                try:
                    complete_task(uow, row_id, values)
                    uow.commit()
                    flash(_("已提交。"), "success")
                    return redirect(url_for("portal.application", case_id=case_id))
                except FormInvalid as exc:
                    errors = exc.errors
            uow.commit()
    attachments = attachments_by_id(db(), [i for f in fields if f.widget == "file" for i in values.get(f.name, [])])
    case = db().get(Case, row.case_id)
    return render_template("portal/task.html", row=row, case=case, fields=fields, values=values, errors=errors,
                           attachments=attachments, dossier=dossier_for(db(), row, for_subject=True),
                           attachment_endpoint="portal.attachment"), (422 if errors else 200)


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id):
    att = db().get(Attachment, attachment_id)
    if att is None or att.case_id is None:
        abort(404)
    _my_case(att.case_id)
    return send_file(attachment_path(att), mimetype=att.content_type, as_attachment=True, download_name=att.filename)


@bp.get("/documents/<int:document_id>")
def document(document_id):
    doc = db().get(Document, document_id)
    if doc is None or doc.subject_id != current_user.subject_id:
        abort(404)
    return send_file(io.BytesIO(doc.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{doc.number}.pdf")


@bp.post("/applications/<int:case_id>/review")
def request_review(case_id):
    """复核: the person asks for an accountability decision to be reconsidered."""
    _my_case(case_id)
    from workflows.accountability import request_review as file_review
    with unit_of_work() as uow:
        case = file_review(uow, case_id)
        uow.commit()
    flash(_("复核申请已提交（案件 #%(id)s）。", id=case.id), "success")
    return redirect(url_for("portal.application", case_id=case.id))


@bp.get("/integrity")
def integrity():
    """My own integrity file (civil servants)."""
    from workflows.accountability import ENTRY_KINDS, integrity_file
    me = db().get(Subject, current_user.subject_id)
    if me is None or me.kind != "civil_servant":
        abort(404)
    entries = integrity_file(db(), me.id, _settings(), clock().today())
    return render_template("portal/integrity.html", person=me, entries=entries, kinds=ENTRY_KINDS)
