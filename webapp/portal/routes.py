"""The record subjects' portal: their own records only, their applications, what is asked of them."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.access import gone_portal_task_error, subject_may_open_task_page
from workflows.application_steps import application_steps
from workflows.applications import (APPLICATION_PROCESSES, availability, file_credit_repair, file_objection,
                                    file_self_correction, repair_eligibility, subject_record)
from workflows.cases import CaseError, NotFound, complete_task, task_form
from workflows.definitions import latest_definition, specs_for
from workflows.choices import completed_task_form, decisions_for
from workflows.dossier import dossier_for
from workflows.forms import FormInvalid, validate_form
from workflows.models import Attachment, Case, Document, HumanTask, Record, Subject
from workflows.numbers import case_no
from workflows.record_notice import (noticed, subject_sees_case, subject_sees_document, visible_cases,
                                     visible_records, visible_tasks)

from ..context import actor, clock, db, unit_of_work
from ..translate import translated
from ..errors import TITLES as ERROR_TITLES
from ..formkit import fields_of, parse_post, refusal_notice, typed_values
from ..uploads import attachments_by_id, check_attachment_ids, send_attachment, store_form_uploads

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
    """An application of mine, or an accountability case about me, on a record I was notified of."""
    case = db().get(Case, case_id)
    record = db().get(Record, case.record_id) if case and case.record_id else None
    if not subject_sees_case(case, record, current_user.subject_id):
        abort(404)
    return case


@bp.get("/")
def index():
    me = current_user.subject_id    # only what the office has notified me of (workflows/record_notice)
    records = db().scalars(visible_records(me).order_by(Record.id.desc())).all()
    applications = db().scalars(visible_cases(me).order_by(Case.id.desc())).all()
    tasks = db().scalars(visible_tasks(me).order_by(HumanTask.due_at, HumanTask.id)).all()
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
                    # refused (a rule, a deadline in an uncovered year): nothing of the case is kept; the
                    # form comes back with what was typed and the files uploaded
                    with uow.savepoint():
                        case = _file(uow, process, rec.id, clean)
                except CaseError as exc:
                    errors["_form"] = translated(exc)
                else:
                    ids = [i for f in fields if f.widget == "file" for i in clean.get(f.name, [])]
                    for att in uow.session.scalars(select(Attachment).where(Attachment.id.in_(ids))) if ids else []:
                        att.case_id = case.id
                    uow.commit()
                    flash(_("申请已提交（案件 %(number)s）。", number=case_no(case)), "success")
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
                           tasks=tasks, attachments=attachments, documents=documents,
                           steps=application_steps(db(), case, current_user.subject_id))


def _my_task(row_id: int) -> HumanTask:
    row = db().get(HumanTask, row_id)
    if row is None:   # done: who and when if it was asked of this subject, else "not found"
        raise gone_portal_task_error(db(), actor(), row_id)
    if not subject_may_open_task_page(db(), actor(), row):     # asked of me, on a record I was notified of
        abort(404)
    return row


@bp.route("/tasks/<int:row_id>", methods=["GET", "POST"])
def task(row_id):
    if request.method == "POST" and db().get(HumanTask, row_id) is None:
        return _task_gone(row_id)   # ended meanwhile (done, or its deadline passed): give back what was typed
    row = _my_task(row_id)
    case_id = row.case_id   # the row is gone once the task is completed
    schema = task_form(db(), row)
    fields = fields_of(schema)
    values, errors, refused = {}, {}, None
    if request.method == "POST":
        with unit_of_work() as uow:
            uploaded, errors = store_form_uploads(uow, fields, request.files, row.case_id, current_user.id,
                                                  row.record_id)
            values = parse_post(schema, request.form, uploaded)
            if not check_attachment_ids(uow.session, fields, values, row.case_id, current_user.id):
                abort(403)
            if not errors:
                try:
                    with uow.savepoint():   # a refusal undoes the completion, not the uploads
                        complete_task(uow, row_id, values)
                    uow.commit()
                    flash(_("已提交。"), "success")
                    return redirect(url_for("portal.application", case_id=case_id))
                except FormInvalid as exc:
                    errors = exc.errors
                except CaseError as exc:   # refused: the page again, with what was typed
                    refused = exc
            uow.commit()
            if refused is not None and uow.session.scalar(select(HumanTask.id).where(HumanTask.id == row_id)) is None:
                return _task_gone(row_id, schema, values)
    attachments = attachments_by_id(db(), [i for f in fields if f.widget == "file" for i in values.get(f.name, [])])
    case = db().get(Case, row.case_id)
    return render_template("portal/task.html", row=row, case=case, fields=fields, values=values, errors=errors,
                           attachments=attachments, dossier=dossier_for(db(), row, for_subject=True),
                           decisions=decisions_for(db(), row, clock(), _settings(), values),
                           refusal=refusal_notice(refused, "portal.application", "portal_case") if refused else None,
                           case_endpoint="portal.application", case_kind="portal_case",
                           attachment_endpoint="portal.attachment"), \
        (refused.status if refused is not None else 422 if errors else 200)


def _task_gone(row_id: int, schema: dict | None = None, values: dict | None = None):
    """A task that ended while its page was open: who and when if it was this subject's (else just
    that it ended), and what was typed, read-only, to copy."""
    gone = gone_portal_task_error(db(), actor(), row_id)
    theirs = not isinstance(gone, NotFound)
    found = completed_task_form(db(), row_id) if theirs and schema is None else None
    schema = schema if schema is not None else (found[0] if found else None)
    if schema is not None and values is None:
        values = parse_post(schema, request.form)
    typed = typed_values(schema, values, request.form)
    message = translated(gone) if theirs else _("此任务已结束（已提交，或已过办理期限），您填写的内容没有提交。")
    return render_template("inbox/task_gone.html", message=message, status=gone.status,
                           title=str(ERROR_TITLES.get(gone.status, "")), typed=typed,
                           attachments=attachments_by_id(db(), [i for _label, v, kind in typed if kind == "files" for i in v]),
                           case_link=None, back=url_for("portal.index"), back_text=_("返回我的信用记录")), \
        gone.status


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id):
    att = db().get(Attachment, attachment_id)
    if att is None or att.case_id is None:
        abort(404)
    _my_case(att.case_id)
    return send_attachment(att, inline=request.args.get("inline") == "1")   # inline: the dossier's preview


@bp.get("/documents/<int:document_id>")
def document(document_id):
    doc = db().get(Document, document_id)
    if not subject_sees_document(db(), doc, current_user.subject_id):
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
    flash(_("复核申请已提交（案件 %(number)s）。", number=case_no(case)), "success")
    return redirect(url_for("portal.application", case_id=case.id))


@bp.get("/integrity")
def integrity():
    """My own integrity file (civil servants)."""
    from workflows.access import has_own_integrity_file
    from workflows.accountability import ENTRY_KINDS, integrity_file, own_published_records
    if not has_own_integrity_file(db(), actor()):
        abort(404)      # a department has none
    me = db().get(Subject, current_user.subject_id)
    entries = [e for e in integrity_file(db(), me.id, _settings(), clock().today())
               if e.case_id is None or _case_on_noticed_record(e.case_id)]
    return render_template("portal/integrity.html", person=me, entries=entries, kinds=ENTRY_KINDS,
                           own_records=[r for r in own_published_records(db(), me.id) if noticed(r)])


def _case_on_noticed_record(case_id: int) -> bool:
    case = db().get(Case, case_id)
    return case is None or case.record_id is None or noticed(db().get(Record, case.record_id))
