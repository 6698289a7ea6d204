"""Approval actions (退回, 转办, 委派, 加签, 抄送, 催办 ...) through the API: what the caller may do on a
task now with the choices each action needs, one POST per action calling its service (as the task
page does), withdrawing a step, and a case's opinions and copies."""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from types import SimpleNamespace

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.access import may_open_case, may_open_task, works_tasks
from workflows.approvals import copies, handover, send_back, signers, urge, withdraw
from workflows.approvals.available import STEP_ACTIONS, TASK_ACTIONS, may_take, removable_signers, staff_members
from workflows.approvals.common import holds
from workflows.approvals.opinions import opinions_of
from workflows.approvals.policy import ACTION_TITLES, STAFF
from workflows.cases import task_form, task_gone_error
from workflows.messages import Message, N_
from workflows.models import Case, HumanTask, User

from ..context import db
from ..labels import label
from ..translate import translated
from . import bp
from .access import api_actor, api_clock, forbidden, reads_staff_cases, subject_only, unit_of_work
from .errors import ApiError
from .params import check_form, is_id, json_object
from .payloads import assignee_names, iso, task_json

COPY_ROLES = (*STAFF, "manager")
POSITIONS = ("before", "after")
TITLES = {**ACTION_TITLES, "resolve": N_("交回委派"), "remove_signer": N_("减签"), "sign": N_("填写加签意见")}
# the body each action takes: field -> required
FIELDS = {
    "send_back": {"target": True, "reason": True},
    "transfer": {"user_id": True, "reason": True},
    "delegate": {"user_id": True, "reason": True},
    "resolve": {"opinion": True, "data": False},
    "add_signer": {"user_id": True, "position": True, "reason": True},
    "remove_signer": {"user_id": False, "reason": True},
    "sign": {"approved": True, "opinion": False},
    "copy": {"user_ids": False, "roles": False, "reason": False},
    "urge": {"reason": False},
    "withdraw": {"reason": False},
}


# -- who may do what on a task --------------------------------------------------------------------

def _task_row(task_id: int) -> HumanTask:
    """A staff task the caller may open (as GET /tasks/{id}); a subject account learns nothing."""
    actor = api_actor()
    if subject_only(actor):
        raise ApiError(404, _("任务不存在"))
    if not works_tasks(actor):
        raise forbidden()
    row = db().get(HumanTask, task_id)
    if row is None:
        raise task_gone_error(SimpleNamespace(session=db()), task_id)
    if not may_open_task(actor, row):
        raise ApiError(403, _("您的角色不能查看此任务"))
    return row


def _refusal(session, actor, row: HumanTask, action: str) -> ApiError:
    title = Message(TITLES[action])
    if action in STEP_ACTIONS and not holds(actor, row):
        return ApiError(403, Message(N_("只有任务的办理人可以%(action)s"), action=title))
    return ApiError(403, Message(N_("您不能对此任务%(action)s"), action=title))


def _people(users) -> list[dict]:
    return [{"id": u.id, "name": u.display_name} for u in users]


@bp.get("/tasks/<int:task_id>/actions")
def task_actions(task_id: int):
    row = _task_row(task_id)
    actor, session, today = api_actor(), db(), api_clock().today()
    may_do = {action: may_take(session, actor, row, action, today) for action in TASK_ACTIONS}
    removable = removable_signers(session, actor, row)
    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_([a.target_user_id for a in removable]))).all()) if removable else {}
    wants_staff = may_do["delegate"] or may_do["add_signer"] or may_do["copy"]
    return jsonify({
        "task": task_json(row, assignee_names([row])),
        "case_version": session.scalar(select(Case.version).where(Case.id == row.case_id)),
        "actions": may_do,
        "send_back_targets": [{"bpmn_id": t.bpmn_id, "name": t.name, "user_id": t.user_id, "who": t.user_name}
                              for t in send_back.send_back_targets(session, row)] if may_do["send_back"] else [],
        "transfer_candidates": _people(handover.transfer_candidates(session, actor, row)) if may_do["transfer"] else [],
        "staff": _people(staff_members(session, actor)) if wants_staff else [],
        "copy_roles": [{"code": r, "name": label("role", r)} for r in COPY_ROLES] if may_do["copy"] else [],
        "signers": [{"action_id": a.id, "user_id": a.target_user_id, "name": names.get(a.target_user_id, ""),
                     "position": (a.data or {}).get("position"), "row_id": (a.data or {}).get("signer_row_id")}
                    for a in removable],
    })


# -- what a POST may carry ------------------------------------------------------------------------

def _field_problem(name: str, value):
    if name in ("reason", "opinion", "target"):
        return None if isinstance(value, str) else _("须为文本")
    if name == "user_id":
        return None if is_id(value) else _("须为用户 id")
    if name == "user_ids":
        return None if isinstance(value, list) and len(value) <= 100 and all(is_id(v) for v in value) \
            else _("须为用户 id 的数组")
    if name == "roles":
        return None if isinstance(value, list) and all(v in COPY_ROLES for v in value) \
            else _("须为角色代码的数组（%(choices)s）", choices=", ".join(COPY_ROLES))
    if name == "position":
        return None if value in POSITIONS else _("取值须为 %(choices)s 之一", choices=", ".join(POSITIONS))
    if name == "approved":
        return None if isinstance(value, bool) else _("须为 true 或 false")
    if name == "data":
        return None if isinstance(value, dict) else _("须为表单数据对象")
    if name == "case_version":
        return None if is_id(value) else _("须为案件的版本号（正整数）")
    return _("未知字段")


def action_body(action: str, row: HumanTask | None = None) -> dict:
    """The JSON body of an action: its own fields only, each of the right type, the required ones
    given (else 422 naming each field); `data` checked against the task's form."""
    body = json_object()
    fields = {**FIELDS[action], "case_version": False}
    errors = {name: _("未知字段") for name in body if name not in fields}
    for name, required in fields.items():
        if name not in body:
            if required:
                errors[name] = _("必填")
        elif name not in errors and (problem := _field_problem(name, body[name])):
            errors[name] = problem
    if action == "copy" and not errors and not (body.get("user_ids") or body.get("roles")):
        errors["user_ids"] = _("请至少选择一个人或一个角色")
    if action == "remove_signer" and row is not None and row.kind == "task" and "user_id" not in body:
        errors["user_id"] = _("必填")
    if errors:
        raise ApiError(422, _("表单有误"), errors)
    if "data" in body:
        body["data"] = check_form(db(), task_form(db(), row), body["data"], row.case_id)
    return body


def _signer_to_remove(session, actor, row: HumanTask, user_id: int | None) -> dict:
    """remove_signer's arguments: the added signer's own row, or from the step the open 加签 of `user_id`."""
    if row.kind == "added_signer":
        return {"task_row_id": row.id}
    found = [a for a in removable_signers(session, actor, row) if a.target_user_id == user_id]
    if not found:
        raise ApiError(422, _("表单有误"), {"user_id": _("此人不是待答复的加签人")})
    return {"task_row_id": None, "action_id": found[0].id}


SERVICES = {
    "send_back": lambda uow, row, b, v: send_back.send_back(uow, row.id, b["target"], b["reason"], v),
    "transfer": lambda uow, row, b, v: handover.transfer(uow, row.id, b["user_id"], b["reason"], v),
    "delegate": lambda uow, row, b, v: handover.delegate(uow, row.id, b["user_id"], b["reason"], v),
    "resolve": lambda uow, row, b, v: handover.resolve(uow, row.id, b["opinion"], b.get("data"), v),
    "add_signer": lambda uow, row, b, v: signers.add_signer(uow, row.id, b["user_id"], b["position"], b["reason"], v),
    "remove_signer": lambda uow, row, b, v: signers.remove_signer(
        uow, reason=b["reason"], expected_version=v, **b["_signer"]),
    "sign": lambda uow, row, b, v: signers.sign(uow, row.id, b["approved"], b.get("opinion", ""), v),
    "copy": lambda uow, row, b, v: copies.copy_case(uow, row.id, b.get("user_ids", []), b.get("roles", []),
                                                    b.get("reason", ""), v),
    "urge": lambda uow, row, b, v: urge.urge(uow, row.id, b.get("reason", "")),   # the case does not change
}


def _result(action: str, case_id: int, row_id: int | None):
    row = db().get(HumanTask, row_id) if row_id else None
    return jsonify(action=action, case_id=case_id,
                   case_version=db().scalar(select(Case.version).where(Case.id == case_id)),
                   task=task_json(row, assignee_names([row])) if row is not None else None)


@bp.post(f"/tasks/<int:task_id>/actions/<any({', '.join(TASK_ACTIONS)}):action>")
def task_action(task_id: int, action: str):
    row = _task_row(task_id)
    actor, session = api_actor(), db()
    if not may_take(session, actor, row, action, api_clock().today()):
        raise _refusal(session, actor, row, action)
    body = action_body(action, row)
    if action == "remove_signer":
        body["_signer"] = _signer_to_remove(session, actor, row, body.get("user_id"))
    case_id = row.case_id
    with unit_of_work() as uow:
        result = SERVICES[action](uow, row, body, body.get("case_version"))
        uow.session.flush()
        row_id = result.id if isinstance(result, HumanTask) else None
        uow.commit()
    return _result(action, case_id, row_id)


# -- a case: withdraw a step; its opinions and copies ---------------------------------------------

def _case(case_id: int, working: bool = False) -> Case:
    """A case the caller may open as staff (and, `working`, act on: a task worker)."""
    actor = api_actor()
    if subject_only(actor):
        raise ApiError(404, _("案件不存在"))
    if not reads_staff_cases(actor) or (working and not works_tasks(actor)):
        raise forbidden()
    case = db().get(Case, case_id)
    if case is None:
        raise ApiError(404, _("案件不存在"))
    if not may_open_case(db(), actor, case):
        raise forbidden()
    return case


@bp.post("/cases/<int:case_id>/withdraw")
def withdraw_step(case_id: int):
    case = _case(case_id, working=True)
    body = action_body("withdraw")
    if withdraw.withdrawable(db(), api_actor(), case) is None:
        raise ApiError(409, _("此案件当前没有您可以撤回的步骤"))
    with unit_of_work() as uow:
        result = withdraw.withdraw(uow, case_id, body.get("reason", ""), body.get("case_version"))
        uow.session.flush()
        row_id = result.id if isinstance(result, HumanTask) else None
        uow.commit()
    return _result("withdraw", case_id, row_id)


def _plain(item) -> dict:
    """A service's row (a dataclass, named tuple or mapping) as JSON: times in ISO 8601, messages translated."""
    if is_dataclass(item):
        item = asdict(item)
    elif hasattr(item, "_asdict"):
        item = item._asdict()
    elif hasattr(item, "_mapping"):
        item = dict(item._mapping)
    out = {}
    for key, value in dict(item).items():
        if isinstance(value, (datetime, date)):
            value = iso(value)
        elif isinstance(value, Message):
            value = translated(value)
        elif not isinstance(value, (str, int, float, bool, list, dict, type(None))):
            continue
        out[key] = value
    return out


@bp.get("/cases/<int:case_id>/opinions")
def case_opinions(case_id: int):
    case = _case(case_id)
    return jsonify(case_id=case.id, opinions=[_plain(o) for o in opinions_of(db(), case.id)])


@bp.get("/cases/<int:case_id>/copies")
def case_copies(case_id: int):
    case = _case(case_id)
    return jsonify(case_id=case.id, copies=[_plain(c) for c in copies.copies_of(db(), case.id)])
