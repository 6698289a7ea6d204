"""The inbox (my tasks, group tasks, all open tasks for leaders) and the task page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.cases import (CaseError, assign_task, claim_task, complete_task, task_form, task_gone_error,
                             unclaim_task)
from workflows.choices import completed_task_form, decisions_for
from workflows.dossier import dossier_for
from workflows.drafts import draft_for, save_draft
from workflows.forms import FormInvalid
from workflows.inbox import InboxQuery, claim_next_task, list_tasks, staff_lanes, tabs_for, visible_to
from workflows.models import Attachment, Case, HumanTask, Record, User, UserRole

from ..approvals.panel import countersign_rows, task_panel
from ..context import actor, clock, db, db_int, page_arg, safe_local_url, unit_of_work
from ..exports import wants_xlsx
from .sheet import inbox_sheet
from ..translate import translated
from ..errors import TITLES as ERROR_TITLES
from ..formkit import fields_of, parse_post, refusal_notice, typed_values
from ..uploads import attachments_by_id, check_attachment_ids, store_form_uploads

bp = Blueprint("inbox", __name__)


def _staff_required():
    if not current_user.has_role("clerk", "reviewer", "leader"):
        abort(403)


@bp.before_request
@login_required
def _require_login():
    _staff_required()


def _query_from(args, tab: str) -> InboxQuery:
    """The inbox's filters and order from a query string (the page) or a form (the next-task button)."""
    return InboxQuery(
        tab=tab, process=args.get("process") or None, task=args.get("task") or None,
        field=args.get("field") or None, severity=args.get("severity") or None,
        subject=args.get("subject") or None, overdue=args.get("overdue") == "1",
        sort=args.get("sort", "due"), descending=args.get("desc") == "1",
        page=page_arg(), per_page=args.get("per_page", 25, type=db_int))


@bp.get("/inbox")
def index():
    query = _query_from(request.args, request.args.get("tab") or ("mine" if _has_mine() else "group"))
    if wants_xlsx():
        return inbox_sheet(query)
    page = list_tasks(db(), actor(), query, clock().now())
    assignees = {}
    ids = {i for r in page.rows for i in (r.assignee_id, r.owner_id) if i}   # the holder, and on whose behalf
    if ids:
        assignees = dict(db().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    return render_template("inbox/index.html", page=page, query=query, tabs=tabs_for(actor()),
                           assignees=assignees, lanes=staff_lanes(actor()),
                           countersigns=countersign_rows(db(), page.rows))


def _has_mine() -> bool:
    return db().scalar(select(HumanTask.id).where(HumanTask.assignee_id == current_user.id).limit(1)) is not None


def _row_or_404(row_id: int) -> HumanTask:
    row = db().get(HumanTask, row_id)
    if row is None:
        # gone: completed meanwhile (say by whom) or never existed
        with unit_of_work() as uow:
            raise task_gone_error(uow, row_id)
    if not visible_to(actor(), row):
        abort(403)
    return row


def _act(fn, row_id, *args, message=None):
    with unit_of_work() as uow:
        fn(uow, row_id, *args)
        uow.commit()
    if message:
        flash(message, "success")


@bp.post("/tasks/<int:row_id>/claim")
def claim(row_id):
    _act(claim_task, row_id, message=_("已认领任务。"))
    return redirect(url_for("inbox.task", row_id=row_id))


@bp.post("/tasks/next")
def claim_next():
    """Claim the first task of the group tab, with the filters and order the inbox showed."""
    with unit_of_work() as uow:
        row = claim_next_task(uow, _query_from(request.form, "group"))
        uow.commit()
    if row is None:
        flash(_("组任务中没有可认领的任务。"), "info")
        return redirect(url_for("inbox.index", tab="group"))
    flash(_("已认领下一个任务。"), "success")
    return redirect(url_for("inbox.task", row_id=row.id))


@bp.post("/tasks/<int:row_id>/unclaim")
def unclaim(row_id):
    _act(unclaim_task, row_id, message=_("已退回到组任务。"))
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<int:row_id>/assign")
def assign(row_id):
    user_id = request.form.get("user_id", type=db_int)
    if user_id is None:
        abort(400)
    _act(assign_task, row_id, user_id, message=_("已改派任务。"))
    return redirect(safe_local_url(request.form.get("back"), url_for("inbox.index", tab="all")))



def _prefill(row: HumanTask, schema: dict, record: Record | None) -> dict:
    """A draft by this user, else what the record already holds for fields of the same name."""
    draft = draft_for(db(), row.id, current_user.id)
    if draft is not None:
        return dict(draft.data)
    values = {}
    if record is not None:
        for name in schema.get("properties", {}):
            value = getattr(record, name, None)
            if value is not None and not callable(value):
                values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def _render_task(row, schema, values, errors=None, status=200, refused: CaseError | None = None):
    """The task page; after a refused submit (`refused`), with what was typed and the refusal on top."""
    refusal = refusal_notice(refused, "cases.case") if refused is not None else None
    record = db().get(Record, row.record_id) if row.record_id else None
    case = db().get(Case, row.case_id)
    fields = fields_of(schema)
    file_ids = [i for f in fields if f.widget == "file" for i in values.get(f.name, []) if isinstance(i, int)]
    assignee = db().get(User, row.assignee_id) if row.assignee_id else None
    candidates = []
    if current_user.has_role("leader") and row.lane:
        candidates = db().scalars(select(User).join(UserRole).where(UserRole.role == row.lane, User.active)
                                  .order_by(User.username)).all()
    return render_template("inbox/task.html", row=row, case=case, record=record, fields=fields,
                           values=values, errors=errors or {}, attachments=attachments_by_id(db(), file_ids),
                           assignee=assignee, candidates=candidates, dossier=dossier_for(db(), row),
                           decisions=decisions_for(db(), row, clock(), current_app.config["SETTINGS"], values), refusal=refusal,
                           case_endpoint="cases.case", case_kind="case", attachment_endpoint="cases.attachment",
                           has_draft=draft_for(db(), row.id, current_user.id) is not None,
                           approval=task_panel(db(), actor(), row, clock().today())), \
        (refused.status if refused is not None else status)


def _task_gone(uow, row_id: int, schema: dict | None = None, data: dict | None = None):
    """The task was completed meanwhile: who and when, and what this user typed, to copy."""
    gone = task_gone_error(uow, row_id)
    found = completed_task_form(uow.session, row_id)     # (form, case id) of the completed task
    schema = schema if schema is not None else (found[0] if found else None)
    if schema is not None and data is None:
        data = parse_post(schema, request.form)
    typed = typed_values(schema, data, request.form)
    attachments = attachments_by_id(db(), [i for _label, v, kind in typed if kind == "files" for i in v])
    return render_template("inbox/task_gone.html", message=translated(gone), status=gone.status,
                           title=str(ERROR_TITLES.get(gone.status, "")), typed=typed, attachments=attachments,
                           case_link=url_for("cases.case", case_id=found[1]) if found else None,
                           back=url_for("inbox.index"), back_text=_("返回待办")), gone.status


@bp.get("/tasks/<int:row_id>")
def task(row_id):
    row = _row_or_404(row_id)
    schema = task_form(db(), row)
    record = db().get(Record, row.record_id) if row.record_id else None
    return _render_task(row, schema, _prefill(row, schema, record))


@bp.post("/tasks/<int:row_id>")
def submit(row_id):
    with unit_of_work() as uow:
        row = uow.session.get(HumanTask, row_id)
        if row is not None and not visible_to(actor(), row):
            abort(403)
        if row is None or request.form.get("task_id") not in (None, row.task_id):
            return _task_gone(uow, row_id)
        schema = task_form(uow.session, row)
        fields = fields_of(schema)
        uploaded, errors = store_form_uploads(uow, fields, request.files, row.case_id, current_user.id, row.record_id)
        data = parse_post(schema, request.form, uploaded)
        if not check_attachment_ids(uow.session, fields, data, row.case_id, current_user.id):
            abort(403)
        refused = None
        if request.form.get("action") == "draft":
            try:
                save_draft(uow, row_id, data)
                uow.commit()
                flash(_("草稿已保存。"), "success")
                return redirect(url_for("inbox.task", row_id=row_id))
            except CaseError as exc:
                refused = exc
        elif not errors:
            try:
                with uow.savepoint():   # a refusal undoes the completion, not the uploads
                    complete_task(uow, row_id, data)
                uow.commit()
            except FormInvalid as exc:
                errors = exc.errors
            except CaseError as exc:   # a rule, the case moved on, a calendar gap ...: nothing typed is lost
                refused = exc
        if errors or refused is not None:
            uow.commit()  # keep the uploaded files so the user need not upload them again
            if refused is not None:
                if uow.session.scalar(select(HumanTask.id).where(HumanTask.id == row_id)) is None:
                    return _task_gone(uow, row_id, schema, data)
                return _render_task(row, schema, data, refused=refused)
            flash(_("表单有误，请按提示修改。"), "error")
            return _render_task(row, schema, data, errors, 422)
    flash(_("任务「%(name)s」已完成。", name=row.name), "success")
    return redirect(url_for("inbox.index"))
