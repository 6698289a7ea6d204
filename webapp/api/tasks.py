"""Tasks: listed, claimed and completed under the lane rules of `workflows.cases`; and the OpenAPI document."""
from __future__ import annotations

from types import SimpleNamespace

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import func, select

from workflows.access import works_tasks
from workflows.cases import can_work, claim_task, complete_task, task_form, task_gone_error, unclaim_task
from workflows.definitions import latest_definition, specs_for
from workflows.inbox import SORTS, TABS, InboxQuery, claim_next_task, list_tasks, staff_lanes, tabs_for, task_filters, visible_to
from workflows.models import SEVERITIES, HumanTask, Record
from workflows.record_notice import task_on_noticed_record, visible_tasks
from workflows.records import LIFECYCLE
from workflows.runtime import Actor

from ..context import db
from . import bp, openapi
from .access import api_actor, api_clock, forbidden, subject_only, unit_of_work
from .errors import ApiError
from .params import bool_arg, check_form, json_object, page_args, text_arg
from .payloads import assignee_names, page_count, task_json

# -- tasks ----------------------------------------------------------------------------------------

@bp.get("/tasks")
def list_open_tasks():
    actor = api_actor()
    # a subject's tasks (statements, supplements) are addressed to it: they are its "mine"
    tab = text_arg("tab", TABS) or ("mine" if subject_only(actor) else "group")
    q = _query(tab)
    q.page, q.per_page = page_args()
    now = api_clock().now()
    if staff_lanes(actor):
        if tab not in tabs_for(actor):
            raise ApiError(403, _("只有领导可以查看全部待办"), {"tab": _("仅限领导")})
        result = list_tasks(db(), actor, q, now)
        rows, total, counts = result.rows, result.total, result.counts
    elif subject_only(actor):
        if tab == "all":
            raise ApiError(403, _("只有领导可以查看全部待办"), {"tab": _("仅限领导")})
        rows, total, counts = _subject_tasks(actor, q, now)
    else:
        raise forbidden()
    return jsonify(tasks=[task_json(r, assignee_names(rows)) for r in rows], tab=tab, counts=counts,
                   total=total, page=q.page, per_page=q.per_page, pages=page_count(total, q.per_page))


def _query(tab: str) -> InboxQuery:
    """The inbox's filters and order from the query string."""
    return InboxQuery(tab=tab, process=text_arg("process"), task=text_arg("task"), field=text_arg("field"),
                      severity=text_arg("severity", SEVERITIES), subject=text_arg("subject"),
                      overdue=bool_arg("overdue"), sort=text_arg("sort", tuple(SORTS)) or "due",
                      descending=bool_arg("desc"))


@bp.post("/tasks/next")
def claim_next():
    """Claim the first task of my group tab, with the same filters and order as GET /tasks."""
    actor = api_actor()
    if not staff_lanes(actor):
        raise forbidden()
    q = _query("group")
    with unit_of_work() as uow:
        row = claim_next_task(uow, q)
        uow.commit()
        row_id = row.id if row is not None else None
    if row_id is None:
        return "", 204   # the group queue is empty
    row = db().get(HumanTask, row_id)
    return jsonify(task_json(row, assignee_names([row])))


def _subject_tasks(actor: Actor, q: InboxQuery, now):
    query = visible_tasks(actor.subject_id).where(*task_filters(q, now))   # on notified records only
    mine = db().scalar(select(func.count()).select_from(query.subquery()))
    counts = {"mine": mine, "group": 0}
    if q.tab != "mine":
        return [], 0, counts
    column = SORTS[q.sort]
    rows = db().scalars(query
                        .order_by(column.desc() if q.descending else column.asc(), HumanTask.id)
                        .offset((q.page - 1) * q.per_page).limit(q.per_page)).all()
    return rows, mine, counts


def _open_row(row_id: int) -> HumanTask:
    """A task the caller may see. A task that is gone was completed: staff are told by whom
    (409); a subject only learns that it is not there, as in the portal."""
    actor = api_actor()
    row = db().get(HumanTask, row_id)
    if subject_only(actor):
        if row is None or row.lane != "subject" or row.subject_id != actor.subject_id \
                or not task_on_noticed_record(db(), row):
            raise ApiError(404, _("任务不存在"))
        return row
    if not works_tasks(actor):      # as the inbox: the task workers only (workflows/access.py)
        raise forbidden()
    if row is None:
        raise task_gone_error(SimpleNamespace(session=db()), row_id)
    if not visible_to(actor, row):
        raise ApiError(403, _("您的角色不能查看此任务"))
    return row


@bp.get("/tasks/<int:task_id>")
def get_task(task_id: int):
    row = _open_row(task_id)
    data = task_json(row, assignee_names([row]))
    data["form"] = task_form(db(), row)
    return jsonify(data)


def _act(fn, task_id: int):
    _open_row(task_id)
    with unit_of_work() as uow:
        fn(uow, task_id)
        uow.commit()
    row = _open_row(task_id)
    return jsonify(task_json(row, assignee_names([row])))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    return _act(claim_task, task_id)


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    return _act(unclaim_task, task_id)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    actor = api_actor()
    _open_row(task_id)
    with unit_of_work() as uow:
        row = uow.session.get(HumanTask, task_id)
        if row is None:   # completed meanwhile
            raise ApiError(404, _("任务不存在")) if subject_only(actor) else task_gone_error(uow, task_id)
        # who may act first (as complete_task checks), then what was sent
        if row.assignee_id is None and not can_work(actor, row):
            raise ApiError(403, _("您的角色不能办理此任务"))
        if row.assignee_id not in (None, actor.user_id):
            raise ApiError(403, _("此任务已由他人认领"))
        body = json_object()
        errors = {name: _("未知字段") for name in set(body) - {"data"}}
        if not isinstance(body.get("data"), dict):
            errors["data"] = _("须为表单数据对象")
        if errors:
            raise ApiError(422, _("表单有误"), errors)
        clean = check_form(uow.session, task_form(uow.session, row), body["data"], row.case_id)
        case = complete_task(uow, task_id, clean)
        uow.commit()
        case_id, case_status, record_id = case.id, case.status, case.record_id
    record = db().get(Record, record_id) if record_id else None
    return jsonify(task_id=task_id, case_id=case_id, case_status=case_status, record_id=record_id,
                   record_status=record.status if record else None)


# -- the description ------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    definition = latest_definition(db(), LIFECYCLE)
    capture = specs_for(db(), definition.id).forms.get("capture.json") if definition else None
    return jsonify(openapi.document(capture))
