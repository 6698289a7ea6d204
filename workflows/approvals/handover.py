"""转办 transfer and 委派 delegate (and the delegate handing the task back).

A transfer hands the task over for good to a colleague who holds the lane's role (or to their
deputy while they are on leave). A delegation lends it: the delegate (any active staff member)
prepares it and hands it back with an opinion and the form as filled; the delegator completes it.
While delegated, `owner_id` is the delegator and the open `delegate` ApprovalAction says who has it."""
from __future__ import annotations

from sqlalchemy import select

from ..case_errors import CaseError, Forbidden
from ..cases import task_form
from ..messages import Message, N_
from ..models import HumanTask, TaskDraft, User, UserRole
from ..numbers import case_no
from .countersign import refuse_if_instance
from .common import (clean_reason, colleague, deputy_for, give_task, held_task, locked_row, notify_task,
                     record_action, running_case, task_words, touch_case)
from .model import ApprovalAction
from .policy import STAFF

DELEGATED = N_("委派的任务请办理后交回委派人")


def open_delegation(session, row: HumanTask) -> ApprovalAction | None:
    """The delegation still open on the row's workflow task (who lent it, to whom), or None."""
    return session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == row.case_id, ApprovalAction.task_id == row.task_id,
        ApprovalAction.kind == "delegate", ApprovalAction.status == "open")
        .order_by(ApprovalAction.id.desc()).limit(1)).first()


def check_completion(uow, row) -> None:
    """Refuse completing a task while it is delegated to the actor (they hand it back instead; nor
    do they pass it on or lend it again)."""
    delegation = open_delegation(uow.session, row)
    if delegation is not None and delegation.target_user_id == uow.actor.user_id:
        raise CaseError(DELEGATED)


def transfer_candidates(session, actor, row) -> list:
    """Active colleagues (User) whose roles cover the task's lane, the actor left out."""
    if row.lane == "subject":
        return []
    roles = [row.lane] if row.lane else list(STAFF)
    query = (select(User).where(User.active, User.id != actor.user_id,
                                User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(roles))))
             .order_by(User.display_name, User.id))
    return list(session.scalars(query))


def _notice(uow, kind: str, reason: str) -> dict:
    return {"kind": kind, "by": uow.actor.name, "by_name": uow.actor.shown_name, "reason": reason}


def transfer(uow, task_row_id: int, user_id: int, reason: str, expected_version: int | None = None):
    """转办: hand one's task to a colleague who holds the lane's role. Returns the row."""
    row, case = held_task(uow, task_row_id, "transfer", expected_version)
    refuse_if_instance(uow.session, row)
    check_completion(uow, row)
    reason = clean_reason(reason)
    target = colleague(uow, user_id, row)
    holder = give_task(uow, row, target.id)     # their deputy while they are on leave (owner_id: them)
    row.notice = _notice(uow, "transferred", reason)
    touch_case(uow, case)
    deputy = uow.session.get(User, holder) if holder != target.id else None
    record_action(uow, case, row, "transfer", target=target, reason=reason,
                  data={"deputy": deputy.username} if deputy else None)
    words = dict(who=uow.actor.shown_name, task=task_words(row), case=case_no(row.case_id, row.process_key),
                 reason=reason)
    if deputy is None:
        message = Message(N_("%(who)s 将任务「%(task)s」（案件 %(case)s）转办给您：%(reason)s"), **words)
    else:
        message = Message(N_("%(who)s 将任务「%(task)s」（案件 %(case)s）转办给 %(owner)s，其休假期间由您代为办理："
                             "%(reason)s"), owner=target.display_name, **words)
    notify_task(uow, [holder], "transferred", message, row)
    return row


def delegate(uow, task_row_id: int, user_id: int, reason: str, expected_version: int | None = None):
    """委派: ask a colleague to handle the task and hand it back. Returns the row."""
    row, case = held_task(uow, task_row_id, "delegate", expected_version)
    check_completion(uow, row)
    reason = clean_reason(reason)
    target = colleague(uow, user_id)            # any active staff member: they only prepare it
    if deputy_for(uow.session, target.id, uow.clock.today()) is not None:
        raise CaseError(N_("%(who)s 正在休假，请另选他人"), who=target.display_name)
    on_behalf_of = row.owner_id                 # a deputy lending a task of a person on leave
    row.owner_id, row.assignee_id, row.claimed_at = uow.actor.user_id, target.id, uow.clock.now()
    row.notice = _notice(uow, "delegated", reason)
    touch_case(uow, case)
    record_action(uow, case, row, "delegate", target=target, reason=reason, status="open",
                  data={"on_behalf_of": on_behalf_of} if on_behalf_of else None)
    notify_task(uow, [target.id], "delegated", Message(
        N_("%(who)s 委派您办理任务「%(task)s」（案件 %(case)s），办理后请交回：%(reason)s"),
        who=uow.actor.shown_name, task=task_words(row), case=case_no(row.case_id, row.process_key), reason=reason),
        row)
    return row


def resolve(uow, task_row_id: int, opinion: str, data: dict | None = None, expected_version: int | None = None):
    """The delegate hands the task back to its owner with an opinion (and the form as filled,
    prefilled for the owner). Returns the row."""
    row = locked_row(uow, task_row_id)
    case = running_case(uow, row.case_id, expected_version)
    delegation = open_delegation(uow.session, row)
    if delegation is None or delegation.target_user_id != uow.actor.user_id or row.assignee_id != uow.actor.user_id:
        raise Forbidden(N_("只有被委派人可以交回任务"))
    opinion = clean_reason(opinion, required=False)
    if not opinion:
        raise CaseError(N_("意见不能为空"))
    now = uow.clock.now()
    owner = uow.session.get(User, delegation.actor_id)
    row.assignee_id, row.claimed_at = owner.id, now
    row.owner_id = (delegation.data or {}).get("on_behalf_of")
    delegation.status, delegation.closed_at = "done", now
    row.notice = _notice(uow, "resolved", opinion)
    touch_case(uow, case)
    record_action(uow, case, row, "resolve", target=owner, data={"approved": None, "opinion": opinion})
    if data:
        _prefill_for(uow, row, owner.id, data)
    notify_task(uow, [owner.id], "resolved", Message(
        N_("%(who)s 已办理您委派的任务「%(task)s」（案件 %(case)s）并交回：%(opinion)s"),
        who=uow.actor.shown_name, task=task_words(row), case=case_no(row.case_id, row.process_key), opinion=opinion),
        row)
    return row


def _prefill_for(uow, row: HumanTask, user_id: int, data: dict) -> None:
    """The delegate's form, as the owner's draft of the task (only the form's own fields)."""
    fields = set(task_form(uow.session, row).get("properties", {}))
    values = {k: v for k, v in data.items() if k in fields}
    if not values:
        return
    draft = uow.session.get(TaskDraft, (row.id, user_id))
    if draft is None:
        uow.session.add(TaskDraft(task_row_id=row.id, user_id=user_id, data=values, saved_at=uow.clock.now()))
    else:
        draft.data, draft.saved_at = values, uow.clock.now()


def end_delegation(uow, row: HumanTask, by_delegate_refused: bool = True) -> None:
    """The task leaves its holder another way (put back to the group, reassigned by a leader): a
    delegation still open on it ends, and nobody holds it on anyone's behalf any more. The delegate
    themselves may not put it back: they hand it back (resolve)."""
    if by_delegate_refused:
        check_completion(uow, row)
    action = open_delegation(uow.session, row)
    if action is not None:
        action.status, action.closed_at = "cancelled", uow.clock.now()
    row.owner_id = None
