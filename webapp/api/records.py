"""Records and cases: case staff see every record, a subject account only its own, personnel
the accountability cases they read on the web (workflows/access.py decides, as for the web)."""
from __future__ import annotations


from flask import jsonify, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from workflows.access import may_open_case, subject_may_open_case
from workflows.cases import CaseError
from workflows.definitions import latest_definition, specs_for
from workflows.forms import FormInvalid
from workflows.identifiers import InvalidIdentifier, check_subject_code
from workflows.models import RECORD_STATUSES, SUBJECT_KINDS, Case, HumanTask, Record, Subject
from workflows.numbers import case_no, record_search
from workflows.record_notice import NOTIFIED, subject_sees_record
from workflows.records import LIFECYCLE, lifecycle_case, open_record, register_subject
from workflows.runtime import Actor

from ..context import db
from ..formkit import fields_of
from . import bp
from .access import api_actor, forbidden, is_subject, reads_records, reads_staff_cases, unit_of_work
from ..translate import translated
from .errors import ApiError
from .params import check_form, is_id, json_object, page_args, text_arg
from .payloads import assignee_names, iso, page_count, record_json, task_json

# -- records --------------------------------------------------------------------------------------

@bp.get("/records")
def list_records():
    actor = api_actor()
    staff = reads_records(actor)
    if not staff and not is_subject(actor):
        raise forbidden()
    status = text_arg("status", RECORD_STATUSES)
    search = (text_arg("q") or "").strip()
    page, per_page = page_args()
    query = select(Record).join(Subject, Subject.id == Record.subject_id)
    if not staff:
        query = query.where(Record.subject_id == actor.subject_id, NOTIFIED)   # notified records only
    if status:
        query = query.where(Record.status == status)
    if search:
        query = query.where(record_search(search))
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    rows = db().scalars(query.order_by(Record.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    cases = {}
    if staff and rows:
        cases = dict(db().execute(select(Case.record_id, func.max(Case.id)).where(
            Case.record_id.in_([r.id for r in rows]), Case.process_key == LIFECYCLE).group_by(Case.record_id)).all())
    return jsonify(records=[record_json(r, cases.get(r.id)) for r in rows], total=total, page=page,
                   per_page=per_page, pages=page_count(total, per_page))


@bp.get("/records/<int:record_id>")
def get_record(record_id: int):
    actor = api_actor()
    staff = reads_records(actor)
    if not staff and not is_subject(actor):
        raise forbidden()
    record = db().get(Record, record_id)
    # another subject's record is "not found", not "forbidden": no probing which ids exist
    if record is None or (not staff and not subject_sees_record(record, actor.subject_id)):
        raise ApiError(404, _("记录不存在"))
    case = lifecycle_case(db(), record.id) if staff else None
    return jsonify(record_json(record, case.id if case else None))


def _capture_schema() -> dict:
    definition = latest_definition(db(), LIFECYCLE)
    if definition is None:
        raise ApiError(503, _("记录流程未部署"))
    return specs_for(db(), definition.id).forms["capture.json"]


def _new_subject_errors(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"kind", "name", "code"}:
        return {"subject": _("须为对象 {kind, name, code}")}
    kind, name, code = value.get("kind"), value.get("name"), value.get("code")
    if kind not in SUBJECT_KINDS:
        return {"subject": _("kind 须为 %(choices)s 之一", choices=", ".join(SUBJECT_KINDS))}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        return {"subject": _("name 须为 1 到 200 个字符")}
    if not isinstance(code, str):
        return {"subject": _("code 须为字符串")}
    try:
        check_subject_code(kind, code)
    except InvalidIdentifier as exc:
        return {"subject": translated(exc)}
    return {}


@bp.post("/records")
def create_record():
    actor = api_actor()
    if "clerk" not in actor.roles:
        raise ApiError(403, _("只有承办人可以录入记录"))
    body = json_object()
    schema = _capture_schema()
    errors = {name: _("未知字段") for name in set(body) - {"subject_id", "subject", "capture"}}
    if ("subject_id" in body) == ("subject" in body):
        errors["subject_id"] = _("须给出 subject_id 或 subject 之一")
    elif "subject_id" in body:
        if not is_id(body["subject_id"]) or db().get(Subject, body["subject_id"]) is None:
            errors["subject_id"] = _("信用主体不存在")
    else:
        errors.update(_new_subject_errors(body["subject"]))
    capture = body.get("capture")
    clean = None
    if not isinstance(capture, dict):
        errors["capture"] = _("须为含录入表单字段的对象")
    else:
        try:
            clean = check_form(db(), schema, capture, None)
        except FormInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise ApiError(422, _("表单有误"), errors)
    from ..cases.routes import claim_uploads
    with unit_of_work() as uow:
        if "subject" in body:
            try:
                new = body["subject"]
                subject_id = register_subject(uow, new["kind"], new["name"], new["code"]).id
            except CaseError as exc:
                raise ApiError(422, translated(exc), {"subject": translated(exc)}) from None
        else:
            subject_id = body["subject_id"]
        record, case = open_record(uow, subject_id, clean)
        claim_uploads(uow, clean, fields_of(schema), case)
        uow.commit()
        record_id, case_id = record.id, case.id
    response = jsonify(record=record_json(db().get(Record, record_id), case_id), case_id=case_id)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_record", record_id=record_id)
    return response


# -- cases ----------------------------------------------------------------------------------------

def subjects_case(actor: Actor, case: Case | None) -> bool:
    """A subject's own application, or an accountability case about it (as in the portal)."""
    return subject_may_open_case(db(), actor, case)


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):
    actor = api_actor()
    case = db().get(Case, case_id)
    # as the staff case page (personnel: the accountability cases only), else as the portal's
    staff = reads_staff_cases(actor) and may_open_case(db(), actor, case)
    if not staff and not (is_subject(actor) and subjects_case(actor, case)):
        if reads_staff_cases(actor):
            raise ApiError(404, _("案件不存在")) if case is None else forbidden()
        if is_subject(actor):
            raise ApiError(404, _("案件不存在"))
        raise forbidden()
    rows = db().scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    names = assignee_names(rows) if staff else {}
    return jsonify({
        "id": case.id, "number": case_no(case), "process": case.process_key, "version": case.definition.version,
        "status": case.status,
        "outcome": case.outcome, "error": case.error if staff else None, "record_id": case.record_id,
        "parent_case_id": case.parent_case_id, "created_at": iso(case.created_at),
        "updated_at": iso(case.updated_at), "completed_at": iso(case.completed_at),
        "tasks": [task_json(r, names, show_assignee=staff) for r in rows],
    })
