"""The JSON API: records, cases and tasks for integrations, authenticated by a bearer token.

A token acts as its user (an `Actor`), through the same services as the web pages, so the same
rules hold: staff see every record, a subject account only its own; tasks are claimed and
completed under the lane rules of `workflows.cases`. Every error is JSON -- `{"error": message}`
plus `"fields": {name: message}` for invalid input -- never an HTML page or a stack trace.
"""
from __future__ import annotations

import json
import logging
import math
import re
from types import SimpleNamespace

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import func, or_, select
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from workflows.accounts import user_for_token
from workflows.applications import APPLICATION_PROCESSES
from workflows.cases import (CaseError, can_work, claim_task, complete_task, task_form, task_gone_error,
                             unclaim_task)
from workflows.clock import SYSTEM_CLOCK
from workflows.definitions import latest_definition, specs_for
from workflows.forms import FormInvalid, validate_form
from workflows.identifiers import InvalidIdentifier, check_subject_code
from workflows.inbox import SORTS, TABS, InboxQuery, list_tasks, staff_lanes, tabs_for, task_filters, visible_to
from workflows.models import RECORD_STATUSES, SEVERITIES, SUBJECT_KINDS, Case, HumanTask, Record, Subject, User
from workflows.records import LIFECYCLE, lifecycle_case, open_record, register_subject
from workflows.runtime import Actor, UnitOfWork

from ..context import MAX_PAGE, db
from ..errors import RETRY_AFTER_S, database_unavailable, forget_failed_read_session
from ..formkit import fields_of
from ..uploads import check_attachment_ids
from . import openapi

log = logging.getLogger("credflow.api")

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STAFF = ("clerk", "reviewer", "leader", "manager", "personnel")
MAX_ID = 2 ** 31 - 1          # ids are database integers: anything larger is simply not found
MAX_DEPTH = 16                # how deeply a request body may nest
TEXT_LIMITS = {"q": 200, "subject": 200, "process": 100, "task": 100, "field": 40}


class ApiError(Exception):
    def __init__(self, status: int, message: str, fields: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.headers = status, message, fields, headers or {}


def _error(status: int, message: str, fields: dict | None = None, headers: dict | None = None):
    body = {"error": message}
    if fields:
        body["fields"] = {str(k): str(v) for k, v in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


# -- errors: JSON for everything under /api/v1/ -------------------------------------------------

MESSAGES = {400: "请求无效 / bad request", 401: "需要 API 令牌 / authentication required",
            403: "无权访问 / forbidden", 404: "不存在 / not found", 405: "不支持此方法 / method not allowed",
            409: "操作冲突 / conflict", 413: "请求过大 / request too large",
            415: "需要 JSON / expected application/json", 500: "服务器内部错误 / internal error",
            503: "数据库暂时不可用，操作未保存，请稍后重试 / database unavailable, nothing was saved: retry later"}


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return _error(exc.status, exc.message, exc.fields, exc.headers)


@bp.errorhandler(FormInvalid)
def _form_invalid(exc: FormInvalid):
    return _error(422, "表单有误 / the form has errors", exc.errors)


@bp.errorhandler(CaseError)
def _case_error(exc: CaseError):
    return _error(exc.status, str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return _error(code, MESSAGES.get(code, exc.name), headers=headers)


@bp.errorhandler(Exception)
def _server_error(exc: Exception):
    extra = {"request_id": g.get("request_id"), "method": request.method, "path": request.path}
    forget_failed_read_session()
    if database_unavailable(exc):
        log.warning("database unavailable on %s %s", request.method, request.path, extra=extra)
        return _error(503, MESSAGES[503], headers={"Retry-After": str(RETRY_AFTER_S)})
    log.exception("unhandled API error on %s %s", request.method, request.path, extra=extra)
    return _error(500, MESSAGES[500])


class _UnroutedApiRequest(Exception):
    """A URL under /api/v1/ that matched no route (an unknown path, an id beyond the database's
    integer range, a method the path does not take). Such a request belongs to no blueprint, so
    the app's HTML error pages would answer it: this wrapper routes it to the JSON answer."""

    def __init__(self, original: HTTPException):
        super().__init__(original.description)
        self.original = original


@bp.before_app_request
def _unrouted_api_requests():
    exc = request.routing_exception
    if isinstance(exc, (NotFound, MethodNotAllowed)) and (request.path + "/").startswith(bp.url_prefix + "/"):
        request.routing_exception = _UnroutedApiRequest(exc)


@bp.app_errorhandler(_UnroutedApiRequest)
def _unrouted(exc: _UnroutedApiRequest):
    return _http_error(exc.original)


# -- authentication -----------------------------------------------------------------------------

@bp.before_request
def _authenticate():
    from .. import login_manager
    from ..auth.routes import SessionUser
    g._login_user = login_manager.anonymous_user()   # a session cookie means nothing here
    if request.endpoint == "api.openapi_document":
        return
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "需要 API 令牌（Authorization: Bearer …） / a bearer token is required",
                       headers={"WWW-Authenticate": 'Bearer realm="credflow"'})
    user = user_for_token(db(), token)
    if user is None:
        raise ApiError(401, "令牌无效、已撤销或其用户已停用 / the token is invalid or revoked, or its user is deactivated",
                       headers={"WWW-Authenticate": 'Bearer realm="credflow", error="invalid_token"'})
    g.api_actor = Actor.of(user)
    g._login_user = SessionUser(user)      # for the access log: who made the request


def _actor() -> Actor:
    return g.api_actor


def _clock():
    return current_app.config["CLOCK"] or SYSTEM_CLOCK


def _uow() -> UnitOfWork:
    uow = UnitOfWork(current_app.extensions["credflow.session_factory"], _actor(), _clock(),
                     current_app.config["SETTINGS"])
    uow.after_commit(_refresh_reads)
    return uow


def _refresh_reads() -> None:
    """After a write, end the request's read transaction so the response shows the write."""
    if "db" in g:
        g.db.rollback()


def _is_staff(actor: Actor) -> bool:
    return bool(actor.roles.intersection(STAFF))


def _is_subject(actor: Actor) -> bool:
    return "subject" in actor.roles and actor.subject_id is not None


def _subject_only(actor: Actor) -> bool:
    return _is_subject(actor) and not _is_staff(actor)


def _forbidden() -> ApiError:
    return ApiError(403, "您的角色无权访问 / your roles do not allow this")


# -- input ----------------------------------------------------------------------------------------

def _text_problem(value: str) -> str | None:
    """Why text cannot be stored, if it cannot (PostgreSQL refuses NUL; lone surrogates are not UTF-8)."""
    if "\x00" in value:
        return "文本不能含 NUL 字符 / text must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "文本不是有效的 Unicode / text is not valid Unicode"
    return None


def _check_arg_text(name: str, value: str) -> None:
    problem = _text_problem(value)
    if problem:
        raise ApiError(400, f"参数 {name} 无效 / invalid {name}", {name: problem})


def _check_json(body: dict) -> None:
    """Walk a parsed body (without recursion): nesting is bounded (else 400); text is storable and
    numbers are finite (else 422, reported under the innermost field's name)."""
    errors = {}
    stack = [(body, 0, "body")]
    while stack:
        item, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, "JSON 嵌套过深 / the JSON nests too deeply")
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                errors.setdefault(where, problem)
        elif isinstance(item, float) and not math.isfinite(item):
            errors.setdefault(where, "数值超出范围 / not a finite number")
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = _text_problem(key)
                if problem:
                    errors.setdefault(where, problem)
                    continue
                stack.append((child, depth + 1, key))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, where) for child in item)
    if errors:
        raise ApiError(422, "表单有误 / the form has errors", errors)


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _json_object() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "需要 JSON 对象 / expected a JSON object in the request body")
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise ApiError(400, "请求体不是有效的 JSON / the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "需要 JSON 对象 / expected a JSON object in the request body")
    _check_json(body)
    return body


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _text_arg(name: str, choices=None) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    _check_arg_text(name, value)
    if choices is not None:
        if value not in choices:
            raise ApiError(400, f"参数 {name} 无效 / invalid {name}", {name: "one of " + ", ".join(choices)})
    elif len(value) > TEXT_LIMITS[name]:
        raise ApiError(400, f"参数 {name} 过长 / {name} is too long", {name: f"at most {TEXT_LIMITS[name]} characters"})
    return value


def _int_arg(name: str, default: int, maximum: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value) or not 1 <= int(value) <= maximum:
        raise ApiError(400, f"参数 {name} 无效 / invalid {name}", {name: f"an integer from 1 to {maximum}"})
    return int(value)


def _bool_arg(name: str) -> bool:
    value = request.args.get(name)
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ApiError(400, f"参数 {name} 无效 / invalid {name}", {name: "true or false"})


def _page_args() -> tuple[int, int]:
    return _int_arg("page", 1, MAX_PAGE), _int_arg("per_page", 25, 100)


def _check_form(session, schema: dict, data: dict, case_id: int | None) -> dict:
    """Form data as the API takes it: only the form's own, writable fields (a misspelt field is an
    error, not silently dropped), valid against its JSON Schema, attachments of this case only."""
    props = schema.get("properties") or {}
    errors = {}
    for name in data:
        if name not in props:
            errors[name] = "表单不含此字段 / not a field of this form"
        elif props[name].get("readOnly"):
            errors[name] = "只读字段 / read-only"
    try:
        clean = validate_form(schema, {k: v for k, v in data.items() if k not in errors})
    except FormInvalid as exc:
        errors.update(exc.errors)
        clean = {}
    for f in fields_of(schema):
        ids = data.get(f.name)
        if f.widget != "file" or f.name in errors or not ids:
            continue
        if not isinstance(ids, list) or not all(_is_id(i) for i in ids) \
                or not check_attachment_ids(session, [f], {f.name: ids}, case_id, _actor().user_id):
            errors[f.name] = "附件不存在或不属于此案件 / unknown attachment"
    if errors:
        raise FormInvalid(errors)
    return clean


# -- output ---------------------------------------------------------------------------------------

def _iso(value):
    return value.isoformat() if value is not None else None


def _record_json(record: Record, case_id: int | None) -> dict:
    subject = record.subject
    return {
        "id": record.id, "status": record.status,
        "subject": {"id": subject.id, "kind": subject.kind, "name": subject.name, "code": subject.display_code},
        "source": record.source, "field": record.field, "severity": record.severity, "facts": record.facts,
        "legal_basis": record.legal_basis, "decision_date": _iso(record.decision_date),
        "conduct_date": _iso(record.conduct_date), "project": record.project, "project_phase": record.project_phase,
        "publication_rule": record.publication_rule, "sanctions": record.sanctions,
        "publication_start": _iso(record.publication_start), "publication_min_end": _iso(record.publication_min_end),
        "publication_max_end": _iso(record.publication_max_end), "publication_end": _iso(record.publication_end),
        "repair_eligible": bool(record.repair_eligible), "under_objection": bool(record.under_objection),
        "created_at": _iso(record.created_at), "updated_at": _iso(record.updated_at), "case_id": case_id,
    }


def _assignee_names(rows) -> dict[int, str]:
    ids = {r.assignee_id for r in rows if r.assignee_id}
    if not ids:
        return {}
    return dict(db().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _task_json(row: HumanTask, names: dict[int, str], show_assignee: bool = True) -> dict:
    assignee = None
    if show_assignee and row.assignee_id:
        assignee = {"id": row.assignee_id, "name": names.get(row.assignee_id, "")}
    return {
        "id": row.id, "case_id": row.case_id, "record_id": row.record_id, "process": row.process_key,
        "bpmn_id": row.bpmn_id, "name": row.name, "lane": row.lane,
        "subject": {"id": row.subject_id, "name": row.subject_name} if row.subject_id else None,
        "field": row.field, "severity": row.severity, "due_at": _iso(row.due_at),
        "overdue": bool(row.due_at and row.due_at < _clock().now()), "created_at": _iso(row.created_at),
        "assignee": assignee, "claimed_at": _iso(row.claimed_at) if show_assignee else None,
    }


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


# -- records --------------------------------------------------------------------------------------

@bp.get("/records")
def list_records():
    actor = _actor()
    if not _is_staff(actor) and not _is_subject(actor):
        raise _forbidden()
    status = _text_arg("status", RECORD_STATUSES)
    search = (_text_arg("q") or "").strip()
    page, per_page = _page_args()
    query = select(Record).join(Subject, Subject.id == Record.subject_id)
    if not _is_staff(actor):
        query = query.where(Record.subject_id == actor.subject_id)
    if status:
        query = query.where(Record.status == status)
    if search:
        query = query.where(or_(Subject.name.contains(search, autoescape=True), Subject.code == search.upper()))
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    rows = db().scalars(query.order_by(Record.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    cases = {}
    if _is_staff(actor) and rows:
        cases = dict(db().execute(select(Case.record_id, func.max(Case.id)).where(
            Case.record_id.in_([r.id for r in rows]), Case.process_key == LIFECYCLE).group_by(Case.record_id)).all())
    return jsonify(records=[_record_json(r, cases.get(r.id)) for r in rows], total=total, page=page,
                   per_page=per_page, pages=_pages(total, per_page))


@bp.get("/records/<int:record_id>")
def get_record(record_id: int):
    actor = _actor()
    if not _is_staff(actor) and not _is_subject(actor):
        raise _forbidden()
    record = db().get(Record, record_id)
    # another subject's record is "not found", not "forbidden": no probing which ids exist
    if record is None or (not _is_staff(actor) and record.subject_id != actor.subject_id):
        raise ApiError(404, "记录不存在 / no such record")
    case = lifecycle_case(db(), record.id) if _is_staff(actor) else None
    return jsonify(_record_json(record, case.id if case else None))


def _capture_schema() -> dict:
    definition = latest_definition(db(), LIFECYCLE)
    if definition is None:
        raise ApiError(503, "记录流程未部署 / the record process is not deployed")
    return specs_for(db(), definition.id).forms["capture.json"]


def _new_subject_errors(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"kind", "name", "code"}:
        return {"subject": "an object {kind, name, code}"}
    kind, name, code = value.get("kind"), value.get("name"), value.get("code")
    if kind not in SUBJECT_KINDS:
        return {"subject": "kind: one of " + ", ".join(SUBJECT_KINDS)}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        return {"subject": "name: 1 to 200 characters"}
    if not isinstance(code, str):
        return {"subject": "code: a string"}
    try:
        check_subject_code(kind, code)
    except InvalidIdentifier as exc:
        return {"subject": str(exc)}
    return {}


@bp.post("/records")
def create_record():
    actor = _actor()
    if "clerk" not in actor.roles:
        raise ApiError(403, "只有承办人可以录入记录 / only clerks capture records")
    body = _json_object()
    schema = _capture_schema()
    errors = {name: "未知字段 / unknown field" for name in set(body) - {"subject_id", "subject", "capture"}}
    if ("subject_id" in body) == ("subject" in body):
        errors["subject_id"] = "需要 subject_id 或 subject 之一 / give either subject_id or subject"
    elif "subject_id" in body:
        if not _is_id(body["subject_id"]) or db().get(Subject, body["subject_id"]) is None:
            errors["subject_id"] = "信用主体不存在 / no such subject"
    else:
        errors.update(_new_subject_errors(body["subject"]))
    capture = body.get("capture")
    clean = None
    if not isinstance(capture, dict):
        errors["capture"] = "需要录入表单的字段 / an object with the capture form's fields"
    else:
        try:
            clean = _check_form(db(), schema, capture, None)
        except FormInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise ApiError(422, "表单有误 / the form has errors", errors)
    from ..cases.routes import claim_uploads
    with _uow() as uow:
        if "subject" in body:
            try:
                new = body["subject"]
                subject_id = register_subject(uow, new["kind"], new["name"], new["code"]).id
            except CaseError as exc:
                raise ApiError(422, str(exc), {"subject": str(exc)}) from None
        else:
            subject_id = body["subject_id"]
        record, case = open_record(uow, subject_id, clean)
        claim_uploads(uow, clean, fields_of(schema), case)
        uow.commit()
        record_id, case_id = record.id, case.id
    response = jsonify(record=_record_json(db().get(Record, record_id), case_id), case_id=case_id)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_record", record_id=record_id)
    return response


# -- cases ----------------------------------------------------------------------------------------

def _subjects_case(actor: Actor, case: Case | None) -> bool:
    """A subject's own application, or an accountability case about it (as in the portal)."""
    if case is None:
        return False
    if case.process_key == "accountability":
        return case.party_id == actor.subject_id
    if case.process_key in APPLICATION_PROCESSES and case.record_id:
        return db().scalar(select(Record.subject_id).where(Record.id == case.record_id)) == actor.subject_id
    return False


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    actor = _actor()
    case = db().get(Case, case_id)
    if _is_staff(actor):
        if case is None:
            raise ApiError(404, "案件不存在 / no such case")
    elif _is_subject(actor):
        if not _subjects_case(actor, case):
            raise ApiError(404, "案件不存在 / no such case")
    else:
        raise _forbidden()
    staff = _is_staff(actor)
    rows = db().scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    names = _assignee_names(rows) if staff else {}
    return jsonify({
        "id": case.id, "process": case.process_key, "version": case.definition.version, "status": case.status,
        "outcome": case.outcome, "error": case.error if staff else None, "record_id": case.record_id,
        "parent_case_id": case.parent_case_id, "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at), "completed_at": _iso(case.completed_at),
        "tasks": [_task_json(r, names, show_assignee=staff) for r in rows],
    })


# -- tasks ----------------------------------------------------------------------------------------

@bp.get("/tasks")
def list_open_tasks():
    actor = _actor()
    # a subject's tasks (statements, supplements) are addressed to it: they are its "mine"
    tab = _text_arg("tab", TABS) or ("mine" if _subject_only(actor) else "group")
    q = InboxQuery(tab=tab, process=_text_arg("process"), task=_text_arg("task"), field=_text_arg("field"),
                   severity=_text_arg("severity", SEVERITIES), subject=_text_arg("subject"),
                   overdue=_bool_arg("overdue"), sort=_text_arg("sort", tuple(SORTS)) or "due",
                   descending=_bool_arg("desc"))
    q.page, q.per_page = _page_args()
    now = _clock().now()
    if staff_lanes(actor):
        if tab not in tabs_for(actor):
            raise ApiError(403, "只有领导可以查看全部待办 / only leaders see all open tasks", {"tab": "leaders only"})
        result = list_tasks(db(), actor, q, now)
        rows, total, counts = result.rows, result.total, result.counts
    elif _subject_only(actor):
        if tab == "all":
            raise ApiError(403, "只有领导可以查看全部待办 / only leaders see all open tasks", {"tab": "leaders only"})
        rows, total, counts = _subject_tasks(actor, q, now)
    else:
        raise _forbidden()
    return jsonify(tasks=[_task_json(r, _assignee_names(rows)) for r in rows], tab=tab, counts=counts,
                   total=total, page=q.page, per_page=q.per_page, pages=_pages(total, q.per_page))


def _subject_tasks(actor: Actor, q: InboxQuery, now):
    where = [HumanTask.lane == "subject", HumanTask.subject_id == actor.subject_id, *task_filters(q, now)]
    mine = db().scalar(select(func.count()).select_from(HumanTask).where(*where))
    counts = {"mine": mine, "group": 0}
    if q.tab != "mine":
        return [], 0, counts
    column = SORTS[q.sort]
    rows = db().scalars(select(HumanTask).where(*where)
                        .order_by(column.desc() if q.descending else column.asc(), HumanTask.id)
                        .offset((q.page - 1) * q.per_page).limit(q.per_page)).all()
    return rows, mine, counts


def _open_row(row_id: int) -> HumanTask:
    """A task the caller may see. A task that is gone was completed: staff are told by whom
    (409); a subject only learns that it is not there, as in the portal."""
    actor = _actor()
    row = db().get(HumanTask, row_id)
    if _subject_only(actor):
        if row is None or row.lane != "subject" or row.subject_id != actor.subject_id:
            raise ApiError(404, "任务不存在 / no such task")
        return row
    if not _is_staff(actor):
        raise _forbidden()
    if row is None:
        raise task_gone_error(SimpleNamespace(session=db()), row_id)
    if not visible_to(actor, row):
        raise ApiError(403, "您的角色不能查看此任务 / your roles do not cover this task")
    return row


@bp.get("/tasks/<int:task_id>")
def get_task(task_id: int):
    row = _open_row(task_id)
    data = _task_json(row, _assignee_names([row]))
    data["form"] = task_form(db(), row)
    return jsonify(data)


def _act(fn, task_id: int):
    _open_row(task_id)
    with _uow() as uow:
        fn(uow, task_id)
        uow.commit()
    row = _open_row(task_id)
    return jsonify(_task_json(row, _assignee_names([row])))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    return _act(claim_task, task_id)


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    return _act(unclaim_task, task_id)


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    actor = _actor()
    _open_row(task_id)
    with _uow() as uow:
        row = uow.session.get(HumanTask, task_id)
        if row is None:   # completed meanwhile
            raise ApiError(404, "任务不存在 / no such task") if _subject_only(actor) else task_gone_error(uow, task_id)
        # who may act first (as complete_task checks), then what was sent
        if row.assignee_id is None and not can_work(actor, row):
            raise ApiError(403, "您的角色不能办理此任务 / your roles do not cover this task's lane")
        if row.assignee_id not in (None, actor.user_id):
            raise ApiError(403, "此任务已由他人认领 / this task is claimed by someone else")
        body = _json_object()
        errors = {name: "未知字段 / unknown field" for name in set(body) - {"data"}}
        if not isinstance(body.get("data"), dict):
            errors["data"] = "需要表单数据对象 / an object with the form's fields"
        if errors:
            raise ApiError(422, "表单有误 / the form has errors", errors)
        clean = _check_form(uow.session, task_form(uow.session, row), body["data"], row.case_id)
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
