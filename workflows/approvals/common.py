"""What every approval action shares: the held task and its case (locked, version-checked, the
policy applied), the case row written with its version check, the action recorded and audited,
a task given to a person (or their deputy while they are on leave), reasons and colleagues checked."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..case_errors import CaseError, Conflict, Forbidden
from ..case_store import CONFLICT, get_case, write_case
from ..cases import can_work, task_gone_error
from ..messages import Message, N_
from ..models import Case, HumanTask, User
from ..notifications import notify_users
from .model import ApprovalAction, StandingDelegation
from .policy import ACTION_TITLES, may

REASON_LIMIT = 1000


def locked_row(uow, task_row_id: int) -> HumanTask:
    """The task row, locked for this transaction; gone: who completed it and when (a Conflict)."""
    row = uow.session.scalars(select(HumanTask).where(HumanTask.id == task_row_id).with_for_update()).first()
    if row is None:
        raise task_gone_error(uow, task_row_id)
    return row


def running_case(uow, case_id: int, expected_version: int | None = None) -> Case:
    """The case to act on: running, and, when the page said which version it showed, that version."""
    case = get_case(uow, case_id)
    if case is None or case.status != "running":
        raise Conflict(N_("案件已结束或不存在"))
    if expected_version is not None and case.version != expected_version:
        raise Conflict(CONFLICT)
    return case


def holds(actor, row: HumanTask) -> bool:
    """The actor holds the task: it is theirs, or it is unclaimed in a lane of theirs."""
    if row.assignee_id is not None:
        return row.assignee_id == actor.user_id
    return row.kind == "task" and can_work(actor, row)


def held_task(uow, task_row_id: int, action: str, expected_version: int | None = None) -> tuple[HumanTask, Case]:
    """The task the actor holds and may take `action` on, and its running case. An unclaimed task
    of the actor's lane is claimed by acting on it."""
    row = locked_row(uow, task_row_id)
    case = running_case(uow, row.case_id, expected_version)
    actor = uow.actor
    title = Message(ACTION_TITLES[action])
    if row.kind != "task":
        raise CaseError(N_("加签任务请填写加签意见"))   # an added signer answers; they pass nothing on
    if not holds(actor, row):
        raise Forbidden(N_("只有任务的办理人可以%(action)s"), action=title)
    if not may(uow.session, actor, row.process_key, row.bpmn_id, action):
        raise Forbidden(N_("您不能对此任务%(action)s"), action=title)
    if row.assignee_id is None:
        row.assignee_id, row.claimed_at = actor.user_id, uow.clock.now()
    return row, case


def touch_case(uow, case: Case) -> None:
    """Write the case row (its version goes up): of two actions at once, the second is a Conflict."""
    write_case(uow, case, {"updated_at": uow.clock.now()})


def clean_reason(reason: str | None, required: bool = True) -> str:
    text = (reason or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise CaseError(N_("请填写理由"))
    if len(text) > REASON_LIMIT:
        raise CaseError(N_("理由不能超过 %(limit)s 字"), limit=REASON_LIMIT)
    return text


def colleague(uow, user_id, row: HumanTask | None = None) -> User:
    """An active staff member (for a task: one whose roles cover its lane), not the actor."""
    from ..runtime import Actor
    user = uow.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not (user.role_codes & {"clerk", "reviewer", "leader"}):
        raise CaseError(N_("请选择一位在职的工作人员"))
    if user.id == uow.actor.user_id:
        raise CaseError(N_("不能选择自己"))
    if row is not None and row.lane and not can_work(Actor.of(user), row):
        raise CaseError(N_("%(who)s 没有办理此任务的角色"), who=user.display_name)
    return user


def deputy_for(session, user_id: int, day: date) -> int | None:
    """Who stands in for the person on `day` (a standing delegation in force), or None."""
    return session.scalar(select(StandingDelegation.deputy_id).where(
        StandingDelegation.user_id == user_id, StandingDelegation.cancelled_at.is_(None),
        StandingDelegation.starts_on <= day, StandingDelegation.ends_on >= day)
        .order_by(StandingDelegation.id.desc()).limit(1))


def give_task(uow, row: HumanTask, user_id: int) -> int:
    """Give the task to a person; while they are on leave, to their deputy on their behalf (both
    names show). Returns who holds it now."""
    deputy = deputy_for(uow.session, user_id, uow.clock.today())
    row.assignee_id, row.owner_id = (deputy, user_id) if deputy else (user_id, None)
    row.claimed_at = uow.clock.now()
    return row.assignee_id


def record_action(uow, case: Case, row: HumanTask | None, kind: str, *, target: User | None = None,
                  reason: str = "", status: str = "done", data: dict | None = None) -> ApprovalAction:
    """The action's row and its audit event (`approval.<kind>`, with the reason and the person it
    went to), in the action's transaction."""
    action = ApprovalAction(case_id=case.id, task_id=row.task_id if row else None, task_row_id=row.id if row else None,
                            bpmn_id=row.bpmn_id if row else None, task_name=row.name if row else None, kind=kind,
                            actor_id=uow.actor.user_id, target_user_id=target.id if target else None, reason=reason,
                            status=status, data=data or {}, created_at=uow.clock.now())
    uow.session.add(action)
    uow.session.flush()
    extra = {"task": row.bpmn_id, "task_name": row.name, "task_row_id": row.id} if row else {}
    if target is not None:
        extra["target"] = target.username
    uow.audit(f"approval.{kind}", case_id=case.id, record_id=case.record_id, reason=reason, action_id=action.id,
              **extra, **(data or {}))
    return action


def notify_task(uow, user_ids, kind: str, message: Message, row: HumanTask) -> None:
    notify_users(uow, user_ids, kind, message, f"/tasks/{row.id}", row.case_id)


def task_words(row: HumanTask) -> Message | str:
    """A task's name for a notification (a shipped task's name translates)."""
    return Message(row.name) if row.name else ""
