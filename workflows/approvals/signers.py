"""加签 add a signer before or after one's own step, 减签 remove one who has not acted, and the
added signer's answer.

An added signer is an open ApprovalAction (kind add_signer, on the step's workflow task) and, once
asked, a HumanTask row of kind 'added_signer' (`parent_task_id`: the step's task id) given to them.
Before the step (前加签) the row is made at once and the holder cannot complete the step until it is
answered. After the step (后加签) the holder completes the step as usual: the completion is kept in
the open actions (data["pending"]) and the signers' rows are made; when the last one approves, the
step completes with the kept data, as its holder; a disagreement gives the step back to its holder
with the kept data as their draft, and the other signers still asked are let go."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlalchemy import delete, select

from ..case_errors import CaseError, Conflict, Forbidden, NotFound
from ..cases import finish_task, task_gone_error
from ..messages import Joined, Message, N_
from ..models import Case, HumanTask, TaskDraft, User
from ..notifications import notify_users
from ..numbers import case_no
from ..runtime import Actor
from .common import (clean_reason, colleague, give_task, held_task, holds, record_action, running_case,
                     task_words, touch_case)
from .model import ApprovalAction

POSITIONS = ("before", "after")


def open_adds(session, case_id: int, task_id: str) -> list[ApprovalAction]:
    return session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == case_id, ApprovalAction.task_id == task_id, ApprovalAction.kind == "add_signer",
        ApprovalAction.status == "open").order_by(ApprovalAction.id)).all()


def _asked(action: ApprovalAction) -> bool:
    """The signer has been asked: a 'before' signer at once, an 'after' signer once the holder completed."""
    return action.data.get("position") == "before" or "pending" in action.data


def _name_map(session, user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}


def _names(session, user_ids) -> list[str]:
    found = _name_map(session, user_ids)
    return [found.get(i, "") for i in user_ids]


def _lock_action(session, action_id: int) -> ApprovalAction | None:
    return session.scalars(select(ApprovalAction).where(ApprovalAction.id == action_id).with_for_update()
                           .execution_options(populate_existing=True)).first()


def _lock_signer_row(uow, task_row_id: int) -> HumanTask:
    """An added signer's row, locked; gone: answered or removed meanwhile (a Conflict)."""
    row = uow.session.scalars(select(HumanTask).where(HumanTask.id == task_row_id).with_for_update()).first()
    if row is not None:
        return row
    action = uow.session.scalars(select(ApprovalAction).where(
        ApprovalAction.kind == "add_signer", ApprovalAction.data["signer_row_id"].as_integer() == task_row_id)).first()
    if action is None:
        raise task_gone_error(uow, task_row_id)
    raise _closed(action)


def _closed(action: ApprovalAction) -> Conflict:
    if action.status == "done":
        return Conflict(N_("加签人已签署意见"))
    return Conflict(N_("此加签已撤销"))


def _action_of(uow, added: HumanTask) -> ApprovalAction:
    action_id = uow.session.scalar(select(ApprovalAction.id).where(
        ApprovalAction.case_id == added.case_id, ApprovalAction.task_id == added.parent_task_id,
        ApprovalAction.kind == "add_signer", ApprovalAction.data["signer_row_id"].as_integer() == added.id))
    action = _lock_action(uow.session, action_id) if action_id else None
    if action is None:
        raise NotFound(N_("加签记录不存在"))
    return action


def _step_row(session, case_id: int, task_id: str) -> HumanTask | None:
    return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.task_id == task_id,
                                                   HumanTask.kind == "task")).first()


def _ask(uow, case: Case, step: HumanTask, action: ApprovalAction, who: str) -> HumanTask:
    """The signer's own row for the step (their deputy's while they are on leave), and their notice."""
    added = HumanTask(case_id=step.case_id, task_id=str(uuid4()), kind="added_signer", parent_task_id=step.task_id,
                      bpmn_id=step.bpmn_id, name=step.name, process_key=step.process_key, lane=step.lane,
                      form_key=None, due_at=step.due_at, record_id=step.record_id, subject_id=step.subject_id,
                      subject_name=step.subject_name, field=step.field, severity=step.severity,
                      notice={"kind": "added_signer", "by": who, "reason": action.reason},
                      created_at=uow.clock.now())
    uow.session.add(added)
    give_task(uow, added, action.target_user_id)
    uow.session.flush()
    notify_users(uow, [added.assignee_id], "signer_added",
                 Message(N_("%(who)s 请您对案件 %(case)s 的「%(task)s」签署意见"), who=uow.actor.shown_name,
                         case=case_no(case), task=task_words(step)), f"/tasks/{added.id}", case.id)
    return added


def defer_completion(uow, row, case, data: dict) -> bool:
    """True when signers were added after this step: the completion waits for their answers.
    A signer already asked and not yet answered: the step cannot be completed (CaseError)."""
    adds = open_adds(uow.session, case.id, row.task_id)
    if not adds:
        return False
    asked = [a for a in adds if _asked(a)]
    if asked:
        raise CaseError(N_("等待加签人 %(who)s 的意见"),
                        who=Joined(_names(uow.session, [a.target_user_id for a in asked])))
    actor = uow.actor
    for action in adds:
        added = _ask(uow, case, row, action, actor.name)
        action.data = {**action.data, "pending": data, "signer_row_id": added.id, "completed_by": actor.user_id}
    names = _names(uow.session, [a.target_user_id for a in adds])
    row.notice = {"kind": "waiting_signers", "by": actor.name, "signers": names}
    touch_case(uow, case)
    uow.audit("approval.signers_asked", case_id=case.id, record_id=case.record_id, task=row.bpmn_id,
              task_name=row.name, task_row_id=row.id, signers=names, data=data)
    return True


def add_signer(uow, task_row_id: int, user_id: int, position: str, reason: str, expected_version: int | None = None):
    """加签 before ('before') or after ('after') one's own step. Returns the added signer's row
    ('before'), or None ('after': their row is made when the holder completes the step)."""
    row, case = held_task(uow, task_row_id, "add_signer", expected_version)
    if row.kind != "task":
        raise CaseError(N_("加签任务不能再加签"))
    if position not in POSITIONS:
        raise CaseError(N_("请选择在本步骤之前还是之后加签"))
    reason = clean_reason(reason)
    signer = colleague(uow, user_id)
    adds = open_adds(uow.session, case.id, row.task_id)
    if any("pending" in a.data for a in adds):
        raise CaseError(N_("此步骤正在等待加签人的意见"))
    if any(a.target_user_id == signer.id for a in adds):
        raise CaseError(N_("%(who)s 已是此步骤的加签人"), who=signer.display_name)
    action = record_action(uow, case, row, "add_signer", target=signer, reason=reason, status="open",
                           data={"position": position})
    added = None
    if position == "before":
        added = _ask(uow, case, row, action, uow.actor.name)
        action.data = {**action.data, "signer_row_id": added.id}
    touch_case(uow, case)
    return added


def sign(uow, task_row_id: int, approved: bool, opinion: str, expected_version: int | None = None):
    """The added signer's answer on their row. Returns the case."""
    added = _lock_signer_row(uow, task_row_id)
    if added.kind != "added_signer":
        raise CaseError(N_("这不是加签任务"))
    if added.assignee_id != uow.actor.user_id:
        raise Forbidden(N_("只有加签人可以签署意见"))
    case = running_case(uow, added.case_id, expected_version)
    action = _action_of(uow, added)
    if action.status != "open":
        raise _closed(action)
    opinion = clean_reason(opinion, required=False)
    approved = bool(approved)
    if not approved and not opinion:
        raise CaseError(N_("不同意时请填写意见"))
    step = _step_row(uow.session, case.id, added.parent_task_id)
    if step is None:
        raise Conflict(N_("任务状态已变化，请刷新"))
    action.status, action.closed_at = "done", uow.clock.now()
    uow.session.delete(added)
    record_action(uow, case, step, "sign", data={"approved": approved, "opinion": opinion,
                                                "position": action.data.get("position"), "add_action_id": action.id})
    uow.session.flush()
    waited = "pending" in action.data   # an 'after' signer: the holder's completion waits
    released = waited and approved and not open_adds(uow.session, case.id, step.task_id)
    if waited and not approved:
        _give_back(uow, case, step, action, opinion)
    notify_users(uow, [action.data.get("completed_by") or step.assignee_id or action.actor_id], "signer_answered",
                 Message(N_("%(who)s 对案件 %(case)s 的「%(task)s」签署了意见：%(answer)s"), who=uow.actor.shown_name,
                         case=case_no(case), task=task_words(step),
                         answer=Message(N_("同意")) if approved else Message(N_("不同意"))),
                 f"/cases/{case.id}" if released else f"/tasks/{step.id}", case.id)
    if released:
        _release(uow, case, step, action)
    else:
        touch_case(uow, case)
    return case


def _release(uow, case: Case, step: HumanTask, action: ApprovalAction) -> None:
    """Every signer asked after the step has agreed: the step completes with the holder's kept
    data, as the holder (who completed it); the event names who released it."""
    holder = uow.session.get(User, action.data["completed_by"])
    acting = uow.actor
    uow.actor = Actor.of(holder)
    try:
        finish_task(uow, step, case, action.data["pending"], released_by=acting.name)
    finally:
        uow.actor = acting


def _give_back(uow, case: Case, step: HumanTask, action: ApprovalAction, opinion: str) -> None:
    """A signer after the step disagrees: the kept completion is dropped, the other signers still
    asked are let go, and the step is its holder's again with their answers as a draft."""
    now = uow.clock.now()
    let_go = []
    for other in open_adds(uow.session, case.id, step.task_id):
        other.status, other.closed_at = "cancelled", now
        row_id = other.data.get("signer_row_id")
        if row_id:
            let_go += uow.session.scalars(select(HumanTask.assignee_id).where(HumanTask.id == row_id)).all()
            uow.session.execute(delete(HumanTask).where(HumanTask.id == row_id)
                                .execution_options(synchronize_session="fetch"))
    notify_users(uow, let_go, "signer_removed",
                 Message(N_("案件 %(case)s 的「%(task)s」已不需要您的加签意见"), case=case_no(case),
                         task=task_words(step)), f"/cases/{case.id}", case.id)
    holder_id = action.data.get("completed_by") or step.assignee_id
    step.notice = {"kind": "signer_disagreed", "by": uow.actor.name, "by_name": uow.actor.shown_name,
                   "reason": opinion}
    if holder_id:
        draft = uow.session.get(TaskDraft, (step.id, holder_id))
        if draft is None:
            uow.session.add(TaskDraft(task_row_id=step.id, user_id=holder_id, data=action.data["pending"],
                                      saved_at=now))
        else:
            draft.data, draft.saved_at = action.data["pending"], now


def remove_signer(uow, task_row_id: int | None, reason: str, expected_version: int | None = None, *,
                  action_id: int | None = None) -> None:
    """减签: remove an added signer who has not answered yet: their row `task_row_id`, or (from the
    step, also before an 'after' signer has been asked) the add_signer action `action_id`."""
    added = None
    if action_id is not None:
        action = uow.session.get(ApprovalAction, action_id)
        if action is None or action.kind != "add_signer":
            raise NotFound(N_("加签记录不存在"))
        if action.status == "open" and action.data.get("signer_row_id"):
            added = _lock_signer_row(uow, action.data["signer_row_id"])   # the same order as sign: row, action
        action = _lock_action(uow.session, action_id)
    else:
        added = _lock_signer_row(uow, task_row_id)
        if added.kind != "added_signer":
            raise CaseError(N_("请选择要减签的加签人"))
        action = _action_of(uow, added)
    if action.status != "open":
        raise _closed(action)
    case = running_case(uow, action.case_id, expected_version)
    step = _step_row(uow.session, case.id, action.task_id)
    actor = uow.actor
    if action.actor_id != actor.user_id and not (step is not None and holds(actor, step)):
        raise Forbidden(N_("只有办理人或加签发起人可以减签"))
    reason = clean_reason(reason)
    told = [added.assignee_id] if added is not None else [action.target_user_id]
    if added is not None:
        uow.session.delete(added)
    action.status, action.closed_at = "cancelled", uow.clock.now()
    signer = uow.session.get(User, action.target_user_id)
    record_action(uow, case, step, "remove_signer", target=signer, reason=reason,
                  data={"add_action_id": action.id, "position": action.data.get("position")})
    notify_users(uow, told, "signer_removed",
                 Message(N_("%(who)s 取消了对您的加签：案件 %(case)s 的「%(task)s」"), who=actor.shown_name,
                         case=case_no(case), task=task_words(step) if step else ""), f"/cases/{case.id}", case.id)
    uow.session.flush()
    if "pending" in action.data and step is not None and not open_adds(uow.session, case.id, step.task_id):
        _release(uow, case, step, action)   # the completion waited only for them
        return
    touch_case(uow, case)


@dataclass(frozen=True)
class AddedSigner:
    action_id: int
    user_id: int | None
    name: str               # the signer's display name
    position: str           # before, after
    status: str             # open (not answered), done (answered), cancelled (removed, or let go)
    asked: bool             # their row exists or existed (an 'after' signer: once the holder completed)
    signer_row_id: int | None
    added_by: str
    reason: str
    added_at: datetime
    approved: bool | None = None
    opinion: str = ""
    answered_at: datetime | None = None


def added_signers(session, row) -> list[AddedSigner]:
    """The signers added on `row`'s step (the step's row or an added signer's), open or answered,
    oldest first, with their answers."""
    task_id = row.parent_task_id if row.kind == "added_signer" else row.task_id
    actions = session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == row.case_id, ApprovalAction.task_id == task_id,
        ApprovalAction.kind.in_(("add_signer", "sign"))).order_by(ApprovalAction.id)).all()
    answers = {a.data.get("add_action_id"): a for a in actions if a.kind == "sign"}
    adds = [a for a in actions if a.kind == "add_signer"]
    names = _name_map(session, [i for a in adds for i in (a.target_user_id, a.actor_id)])
    result = []
    for a in adds:
        answer = answers.get(a.id)
        result.append(AddedSigner(
            a.id, a.target_user_id, names.get(a.target_user_id, ""), a.data.get("position", ""), a.status,
            _asked(a) or a.data.get("signer_row_id") is not None, a.data.get("signer_row_id"),
            names.get(a.actor_id, ""), a.reason, a.created_at,
            answer.data.get("approved") if answer else None, answer.data.get("opinion", "") if answer else "",
            answer.created_at if answer else None))
    return result
