"""催办 urge: whoever waits on a step reminds its holder, at most once a day per task.

Any staff member who may read the case and whom the policy allows (default: clerks, reviewers,
leaders) may urge, except whoever holds the task. The reminder goes to the holder, or, while the
task is unclaimed, to every active holder of its lane's role. Urging changes nothing in the case
(no version bump); the task row's lock makes two urgers at once take turns, so one of them is told
it was done already today (a China calendar day)."""
from __future__ import annotations

from sqlalchemy import select

from ..access import may_open_case
from ..case_errors import CaseError, Conflict, Forbidden
from ..clock import CST
from ..messages import Message, N_
from ..models import Case, HumanTask, User
from ..notifications import holders_of_role
from ..numbers import case_no
from .common import clean_reason, holds, locked_row, notify_task, record_action, running_case, task_words
from .model import ApprovalAction
from .policy import ACTION_TITLES, may


def _urged_today(session, row: HumanTask, today) -> ApprovalAction | None:
    last = session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == row.case_id, ApprovalAction.task_id == row.task_id, ApprovalAction.kind == "urge")
        .order_by(ApprovalAction.id.desc()).limit(1)).first()
    return last if last is not None and last.created_at.astimezone(CST).date() == today else None


def _refusal(session, actor, row: HumanTask, today) -> CaseError | None:
    """Why the actor may not urge the task now (None: they may)."""
    if row.lane == "subject":
        return CaseError(N_("信用主体的任务不能催办"))
    if not may_open_case(session, actor, session.get(Case, row.case_id)) or \
            not may(session, actor, row.process_key, row.bpmn_id, "urge"):
        return Forbidden(N_("您不能对此任务%(action)s"), action=Message(ACTION_TITLES["urge"]))
    if holds(actor, row):
        return CaseError(N_("不能催办自己办理的任务"))
    last = _urged_today(session, row, today)
    if last is not None:
        return Conflict(N_("今天已于 %(at)s 催办过"), at=last.created_at.astimezone(CST).strftime("%H:%M"))
    return None


def _recipients(session, row: HumanTask) -> list[int]:
    if row.assignee_id is not None:
        return [row.assignee_id]
    return holders_of_role(session, row.lane) if row.lane else []


def urge(uow, task_row_id: int, reason: str = ""):
    """Send a reminder to the task's holder (or, unclaimed, to the holders of its lane)."""
    row = locked_row(uow, task_row_id)          # two urgers at once: the second waits, then sees the first
    case = running_case(uow, row.case_id)
    refusal = _refusal(uow.session, uow.actor, row, uow.clock.today())
    if refusal is not None:
        raise refusal
    reason = clean_reason(reason, required=False)
    recipients = [i for i in _recipients(uow.session, row) if i != uow.actor.user_id]
    if not recipients:
        raise CaseError(N_("此任务暂无可催办的办理人"))
    holder = uow.session.get(User, row.assignee_id) if row.assignee_id else None
    action = record_action(uow, case, row, "urge", target=holder, reason=reason,
                           data={"recipients": len(recipients)})
    words = dict(who=uow.actor.shown_name, task=task_words(row), case=case_no(row.case_id, row.process_key))
    if reason:
        message = Message(N_("%(who)s 催办任务「%(task)s」（案件 %(case)s）：%(reason)s"), reason=reason, **words)
    else:
        message = Message(N_("%(who)s 催办任务「%(task)s」（案件 %(case)s），请尽快办理。"), **words)
    notify_task(uow, recipients, "urged", message, row)
    return action


def may_urge(session, actor, row, today) -> bool:
    return _refusal(session, actor, row, today) is None
