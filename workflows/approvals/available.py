"""What a person may do on a task now, for the pages and the API to offer (the services check again
when it is done): the holder's actions by the policy, handing back a task delegated to them,
answering as an added signer, taking back (减签) a signer, urging; and the staff to choose from."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..models import HumanTask, User, UserRole
from .common import holds
from .countersign import is_instance
from .handover import open_delegation
from .model import ApprovalAction
from .policy import STAFF, may
from .signers import open_adds
from .urge import may_urge

TASK_ACTIONS = ("send_back", "transfer", "delegate", "resolve", "add_signer", "remove_signer", "sign", "copy", "urge")
STEP_ACTIONS = ("send_back", "transfer", "delegate", "add_signer", "copy")   # the holder's, by the policy


def delegated_to(session, actor, row: HumanTask) -> bool:
    """The task was delegated (委派) to the actor, who hands it back rather than acting on it."""
    if row.kind != "task" or row.owner_id is None or row.assignee_id != actor.user_id:
        return False
    delegation = open_delegation(session, row)
    return delegation is not None and delegation.target_user_id == actor.user_id


def removable_signers(session, actor, row: HumanTask) -> list[ApprovalAction]:
    """The open 加签 the actor may take back (减签), as the step's holder or as who added them: on a
    step, its signers; on an added signer's own row, that one."""
    if row.kind == "added_signer":
        step = session.scalars(select(HumanTask).where(HumanTask.case_id == row.case_id, HumanTask.kind == "task",
                                                       HumanTask.task_id == row.parent_task_id)).first()
        found = [a for a in open_adds(session, row.case_id, row.parent_task_id)
                 if (a.data or {}).get("signer_row_id") == row.id]
        holder = step is not None and holds(actor, step)
    else:
        found = open_adds(session, row.case_id, row.task_id)
        holder = holds(actor, row)
    return [a for a in found if holder or a.actor_id == actor.user_id]


def may_take(session, actor, row: HumanTask, action: str, today: date) -> bool:
    """Whether the actor may take `action` (one of TASK_ACTIONS) on the task now."""
    if action in STEP_ACTIONS:
        return (row.kind == "task" and holds(actor, row) and not delegated_to(session, actor, row)
                and may(session, actor, row.process_key, row.bpmn_id, action)
                and not (action == "transfer" and is_instance(session, row)))
    if action == "resolve":
        return delegated_to(session, actor, row)
    if action == "remove_signer":
        return bool(removable_signers(session, actor, row))
    if action == "sign":
        return row.kind == "added_signer" and row.assignee_id == actor.user_id
    if action == "urge":
        return may_urge(session, actor, row, today)
    raise ValueError(f"unknown approval action {action!r}")


def staff_members(session, actor) -> list[User]:
    """Active staff members other than the actor (to delegate to, add as a signer, copy to)."""
    return session.scalars(select(User).where(User.active, User.id != actor.user_id, User.id.in_(
        select(UserRole.user_id).where(UserRole.role.in_(STAFF)))).order_by(User.display_name, User.id)).all()
