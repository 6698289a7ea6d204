"""Records and cases: the record list, capturing a record, the case page."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from workflows.access import CASE_STAFF, may_open_attachment, may_open_case, may_open_document
from workflows.approvals.copies import mark_copy_read
from workflows.case_view import completed_steps, diagram_xml, element_states, timeline
from workflows.cases import CaseError, display_names
from workflows.definitions import latest_definition, specs_for
from workflows.drafts import add_comment, comments_of
from workflows.forms import FormInvalid, validate_form
from workflows.identifiers import InvalidIdentifier, check_subject_code
from workflows.inbox import task_holders
from workflows.documents import correct_document
from workflows.models import Attachment, Case, Document, HumanTask, Record, Subject
from workflows.messages import message_of
from workflows.numbers import record_no, record_search
from workflows.records import LIFECYCLE, open_record, register_subject

from ..approvals.panel import case_panel, timeline_people, unread_copy
from ..context import actor, clock, db, db_int, page_arg, unit_of_work
from ..exports import wants_xlsx
from ..labels import label
from .sheet import records_sheet
from ..formkit import fields_of, parse_post
from ..uploads import attachments_by_id, check_attachment_ids, send_attachment, store_form_uploads
from ..security_headers import stored_file
from ..translate import translated


bp = Blueprint("cases", __name__)
STAFF = CASE_STAFF
# personnel read the accountability cases of the people in their charge: these pages, each
# checking the case (workflows/access.py); the record list and capture stay the case staff's
PERSONNEL_READS = ("cases.case", "cases.diagram", "cases.attachment", "cases.document")


@bp.before_request
@login_required
def _staff_only():
    if not current_user.has_role(*STAFF) and not (current_user.has_role("personnel")
                                                  and request.endpoint in PERSONNEL_READS):
        abort(403)


def _readable_case(case_id: int) -> Case:
    case = db().get(Case, case_id)
    if case is None:
        abort(404)
    if not may_open_case(db(), actor(), case):
        abort(403)
    return case


@bp.get("/records")
def records():
    status = request.args.get("status") or None
    search = (request.args.get("q") or "").strip()
    page = page_arg()
    query = select(Record).join(Subject)
    if status:
        query = query.where(Record.status == status)
    if search:
        query = query.where(record_search(search))
    if wants_xlsx():
        return records_sheet(query.order_by(Record.id.desc()), [(_("搜索"), search),
                                                                (_("状态"), label("status", status) if status else None)])
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    rows = db().scalars(query.order_by(Record.id.desc()).offset((page - 1) * 25).limit(25)).all()
    cases = dict(db().execute(select(Case.record_id, func.max(Case.id)).where(
        Case.record_id.in_([r.id for r in rows]), Case.process_key == LIFECYCLE).group_by(Case.record_id)).all())
    return render_template("cases/records.html", rows=rows, cases=cases, total=total, page=page,
                           pages=max(1, -(-total // 25)), status=status, search=search)


def _capture_schema() -> dict:
    definition = latest_definition(db(), LIFECYCLE)
    if definition is None:
        abort(503)
    return specs_for(db(), definition.id).forms["capture.json"]


@bp.route("/records/new", methods=["GET", "POST"])
def new_record():
    if not current_user.has_role("clerk"):
        abort(403)
    schema = _capture_schema()
    subjects = db().scalars(select(Subject).order_by(Subject.kind, Subject.name)).all()
    fields = fields_of(schema)
    values, errors, form, attachments = {}, {}, request.form, {}
    if request.method == "POST":
        with unit_of_work() as uow:
            uploaded, errors = store_form_uploads(uow, fields, request.files, None, current_user.id)
            values = parse_post(schema, form, uploaded)
            if not check_attachment_ids(uow.session, fields, values, None, current_user.id):
                abort(403)
            subject_mode = form.get("subject_mode", "existing")
            try:
                validate_form(schema, values)
            except FormInvalid as exc:
                errors.update(exc.errors)
            if subject_mode == "existing" and not form.get("subject_id", type=db_int):
                errors["subject_id"] = _("请选择信用主体")
            if subject_mode == "new":
                try:  # the code is checked with the rest of the form, not only once the rest is valid
                    check_subject_code(form.get("kind", ""), form.get("code", ""))
                except InvalidIdentifier as exc:
                    errors["subject"] = translated(exc)
            if not errors:
                try:
                    subject_id = (register_subject(uow, form.get("kind", ""), form.get("name", ""), form.get("code", "")).id
                                  if subject_mode == "new" else form.get("subject_id", type=db_int))
                except CaseError as exc:
                    errors["subject"] = translated(exc)
                else:
                    record, case = open_record(uow, subject_id, values)
                    claim_uploads(uow, values, fields, case)
                    uow.commit()
                    flash(_("记录 %(number)s 已录入，已提交合法性审核。", number=record_no(record)), "success")
                    return redirect(url_for("cases.case", case_id=case.id))
            uow.commit()  # keep the uploaded files, so a corrected form need not upload them again
        attachments = attachments_by_id(db(), [i for f in fields if f.widget == "file" for i in values.get(f.name, [])])
    return render_template("cases/new_record.html", fields=fields, values=values, errors=errors,
                           subjects=subjects, form=form, attachments=attachments), (422 if errors else 200)



def claim_uploads(uow, values, fields, case) -> None:
    """Files uploaded with a new record belong to its case from now on."""
    ids = [i for f in fields if f.widget == "file" for i in values.get(f.name, [])]
    for att in uow.session.scalars(select(Attachment).where(Attachment.id.in_(ids))) if ids else []:
        att.case_id = case.id


@bp.get("/cases/<int:case_id>")
def case(case_id):
    case = _readable_case(case_id)
    if unread_copy(db(), case.id, current_user.id):   # a case copied to the viewer: now read
        with unit_of_work() as uow:
            mark_copy_read(uow, case.id)
            uow.commit()
    record = db().get(Record, case.record_id) if case.record_id else None
    tasks = db().scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
    attachments = db().scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id)).all()
    related = db().scalars(select(Case).where(or_(Case.parent_case_id == case.id,
                                                  (Case.record_id == case.record_id) & (Case.id != case.id))
                                              if case.record_id else Case.parent_case_id == case.id)).all()
    documents = db().scalars(select(Document).where(Document.case_id == case.id).order_by(Document.id)).all()
    events = timeline(db(), case)
    names = display_names(db(), {e.actor for e in events} | {e.data["assignee"] for e in events
                                                              if e.data.get("assignee")} | timeline_people(events))
    return render_template("cases/case.html", case=case, record=record, tasks=tasks, events=events, names=names,
                           approval=case_panel(db(), actor(), case, tasks, clock().today()),
                           holders=task_holders(db(), tasks),
                           steps=completed_steps(db(), events),
                           states=element_states(db(), case), comments=comments_of(db(), case.id),
                           attachments=attachments, related=related, documents=documents)


@bp.get("/cases/<int:case_id>/diagram.bpmn")
def diagram(case_id):
    case = _readable_case(case_id)
    # a stored diagram (a manager's XML, which may carry script): a download, never a page of ours
    return stored_file(diagram_xml(db(), case), f"case-{case_id}.bpmn", "application/xml")


@bp.post("/cases/<int:case_id>/comments")
def comment(case_id):
    if not current_user.has_role("clerk", "reviewer", "leader"):
        abort(403)   # managers read cases to run the processes; the opinions are the case workers'
    with unit_of_work() as uow:
        add_comment(uow, case_id, request.form.get("body", ""))
        uow.commit()
    flash(_("意见已添加。"), "success")
    return redirect(url_for("cases.case", case_id=case_id) + "#comments")


@bp.get("/attachments/<int:attachment_id>")
def attachment(attachment_id):
    att = db().get(Attachment, attachment_id) or abort(404)
    if att.case_id is None and att.uploaded_by_id != current_user.id:
        abort(404)   # not filed with a case yet (a form that did not go through): its uploader's only
    if not may_open_attachment(db(), actor(), att):
        abort(403)
    return send_attachment(att, inline=request.args.get("inline") == "1")   # inline: the dossier's preview


def _case_document(document_id: int) -> Document:
    """A document of the case staff's: not a credit-check extract, which is a civil servant's
    integrity file (personnel and the person only; anyone else is told it does not exist)."""
    doc = db().get(Document, document_id)
    if doc is None or doc.kind == "credit_check":
        abort(404)
    if not may_open_document(db(), actor(), doc):
        abort(403)
    return doc


@bp.get("/documents/<int:document_id>")
def document(document_id):
    doc = _case_document(document_id)
    return send_file(io.BytesIO(doc.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{doc.number}.pdf")


@bp.post("/documents/<int:document_id>/correct")
def correct(document_id):
    if not current_user.has_role("leader"):
        abort(403)
    _case_document(document_id)
    with unit_of_work() as uow:
        try:
            new = correct_document(uow, document_id, request.form.get("reason", ""))
        except (LookupError, ValueError) as exc:
            raise CaseError(message_of(exc)) from exc

        uow.commit()
    flash(_("已出具更正文书 %(number)s。", number=new.number), "success")
    return redirect(url_for("cases.case", case_id=new.case_id) + "#documents")
