"""退回 send back: the decider returns the case to an earlier user step it has passed; the step
goes back to the person who completed it, with their previous input and the reason.

The earlier steps are the completed user tasks on the way from the decider's READY task up to the
start: its ancestors in the task tree, and out of a subprocess through the task that runs it
(compaction keeps the latest completed task of every element and the ancestry among kept tasks).
A step in a parallel sibling branch is no ancestor, so it is never offered. Returning resets the
tree from that step (SpiffWorkflow's `reset_from_task_id`: everything after it goes, a subprocess
left is deleted, the other branches of a parallel section before it go too); the record's status
goes back to what it was then. Refused when a decision document was issued or the record was
published since: document numbers are never reused, and a signed decision changes only by
correction or revocation. `return_to` is shared with 撤回 withdraw (withdraw.py)."""
from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select

from ..case_errors import CaseError, Conflict
from ..case_store import open_workflow, run_action, save_case
from ..definitions import specs_for
from ..engine.serializer import load_state
from ..messages import Message, N_
from ..models import AuditEvent, Case, HumanTask, Record, TaskDraft, User
from ..notifications import notify_users
from ..numbers import case_no
from ..operations import OperationContext, set_record_status
from .common import clean_reason, give_task, held_task, notify_task, record_action, task_words
from .policy import ACTION_TITLES

NOT_READY = N_("任务状态已变化，请刷新")


@dataclass(frozen=True)
class Target:
    """An earlier step the case can be sent back to, and who completed it."""
    bpmn_id: str
    name: str
    user_id: int | None
    user_name: str


@dataclass(frozen=True)
class Step:
    """An earlier step: the completed workflow task and its completion event (None if unknown)."""
    target: Target
    task: object
    event: AuditEvent | None


def workflow_of(session, case: Case):
    """The case's workflow as stored, to read (no script engine: nothing runs)."""
    parsed = specs_for(session, case.definition_id)
    return load_state(case.state, parsed.spec, parsed.subprocess_specs)


def find_task(workflow, task_id: str):
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (WorkflowException, KeyError, ValueError):
        return None


def is_user_step(task) -> bool:
    """A completed user task of the diagram, not an instance of a loop or multi-instance activity."""
    spec = task.task_spec
    if task.state != TaskState.COMPLETED or not spec.manual or not spec.bpmn_id:
        return False
    loops = task.workflow.spec.task_specs.values()
    return not any(isinstance(s, LoopTask) and s.task_spec == spec.name for s in loops)


def ancestors(workflow, task):
    """The task's ancestors, nearest first, out of subprocesses through the tasks that run them."""
    while task is not None:
        parent = task.parent
        if parent is None:
            outer = getattr(task.workflow, "parent_task_id", None)
            parent = find_task(workflow, str(outer)) if outer is not None else None
        if parent is not None:
            yield parent
        task = parent


def completion_events(session, case_id: int) -> tuple[dict, dict]:
    """The case's latest task.completed event by workflow task id, and by BPMN id (older events
    carry no task id)."""
    by_id, by_bpmn = {}, {}
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                          AuditEvent.action == "task.completed")
                                 .order_by(AuditEvent.id)):
        if event.data.get("task_id"):
            by_id[event.data["task_id"]] = event
        by_bpmn[event.data.get("task")] = event
    return by_id, by_bpmn


def earlier_steps(session, case: Case, workflow, task) -> list[Step]:
    """The user steps the case passed on its way to `task`, the nearest of each, nearest first."""
    by_id, by_bpmn = completion_events(session, case.id)
    seen, found = {task.task_spec.bpmn_id}, []
    for earlier in ancestors(workflow, task):
        bpmn_id = earlier.task_spec.bpmn_id
        if bpmn_id in seen or not is_user_step(earlier):
            continue
        seen.add(bpmn_id)
        event = by_id.get(str(earlier.id)) or by_bpmn.get(bpmn_id)
        found.append((bpmn_id, earlier.task_spec.bpmn_name or bpmn_id, earlier, event))
    users = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_({e.actor for *_, e in found if e is not None})))} if found else {}
    steps = []
    for bpmn_id, name, earlier, event in found:
        user = users.get(event.actor) if event is not None else None
        steps.append(Step(Target(bpmn_id, name, user.id if user else None,
                                 (user.display_name if user else event.actor) if event is not None else ""),
                          earlier, event))
    return steps


def send_back_targets(session, row) -> list[Target]:
    """The earlier user steps `row`'s case passed on the way to it, nearest first."""
    case = session.get(Case, row.case_id)
    if case is None or case.status != "running" or row.kind != "task":
        return []
    workflow = workflow_of(session, case)
    task = find_task(workflow, row.task_id)
    if task is None or task.state != TaskState.READY:
        return []
    return [step.target for step in earlier_steps(session, case, workflow, task)]


# -- going back --------------------------------------------------------------------------------

def since_event(session, case: Case, event: AuditEvent | None) -> int:
    """The audit event id after which the step's completion and its consequences were recorded:
    the last completion or approval action of the case before it (the engine's own events of a
    completion, a record's status changed by a service task, come before its task.completed)."""
    if event is None:
        return 0
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.case_id == case.id, AuditEvent.id < event.id,
        or_(AuditEvent.action == "task.completed", AuditEvent.action.like("approval.%")))
        .order_by(AuditEvent.id.desc()).limit(1)) or 0


def refuse_if_issued(session, case: Case, step: Step, action: str) -> None:
    """Refuse going back past an issued decision or a publication."""
    since = since_event(session, case, step.event)
    issued = session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "document.issued", AuditEvent.id > since)
        .order_by(AuditEvent.id).limit(1)).first()
    words = dict(task=Message(step.target.name), action=Message(ACTION_TITLES[action]))
    if issued is not None:
        raise CaseError(N_("「%(task)s」之后已出具文书 %(number)s，文书编号不能重复使用，已签发的决定只能更正或撤销，"
                           "不能%(action)s"), number=issued.data.get("number", ""), **words)
    if case.record_id is None:
        return
    changes = session.scalars(select(AuditEvent).where(
        AuditEvent.record_id == case.record_id, AuditEvent.action == "record.status", AuditEvent.id > since))
    if any(event.data.get("new") == "published" for event in changes):
        raise CaseError(N_("「%(task)s」之后记录已公示，不能%(action)s"), **words)


def restore_record_status(uow, case: Case, step: Step, reason: str, action: str) -> None:
    """The record's status back to what it was when the step was completed."""
    if case.record_id is None:
        return
    since = since_event(uow.session, case, step.event)
    first = uow.session.scalars(select(AuditEvent).where(
        AuditEvent.record_id == case.record_id, AuditEvent.action == "record.status", AuditEvent.id > since)
        .order_by(AuditEvent.id).limit(1)).first()
    record = uow.session.get(Record, case.record_id)
    old = first.data.get("old") if first is not None else None
    if old and record is not None and record.status != old:
        set_record_status(OperationContext(uow, case, step.task), record, old, reason=reason, by=action)


def return_to(uow, case: Case, workflow, before, step: Step, notice: dict, reason: str, action: str,
              user_id: int | None) -> tuple[HumanTask, dict[int, tuple]]:
    """Reset the case to the step, save it (version checked), give the step's new row to
    `user_id` with the notice and their previous answers as a draft. Returns the new row and the
    rows that went away: id -> (holder id, BPMN id)."""
    holders = {r.id: (r.assignee_id, r.bpmn_id)
               for r in uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id))}
    run_action(uow, case, workflow, lambda: workflow.reset_from_task_id(step.task.id))
    restore_record_status(uow, case, step, reason, action)
    save_case(uow, case, workflow, before)
    row = uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                      HumanTask.task_id == str(step.task.id))).first()
    if row is None:
        raise CaseError(N_("无法退回到「%(task)s」"), task=Message(step.target.name))
    if user_id is not None:
        give_task(uow, row, user_id)
    row.notice = notice
    answers = (step.event.data.get("data") if step.event is not None else None) or {}
    if answers and row.assignee_id is not None:
        uow.session.merge(TaskDraft(task_row_id=row.id, user_id=row.assignee_id, data=dict(answers),
                                    saved_at=uow.clock.now()))
    remaining = set(uow.session.scalars(select(HumanTask.id).where(HumanTask.case_id == case.id)))
    gone = {i: holders[i] for i in holders if i not in remaining}
    return row, gone


def send_back(uow, task_row_id: int, target: str, reason: str, expected_version: int | None = None):
    """Return the case from the held task `task_row_id` to the earlier step `target` (a BPMN id).
    Returns the new task row of that step."""
    row, case = held_task(uow, task_row_id, "send_back", expected_version)
    reason = clean_reason(reason)
    if row.kind != "task":
        raise CaseError(N_("加签任务不能退回"))
    workflow, before = open_workflow(uow, case)
    task = find_task(workflow, row.task_id)
    if task is None or task.state != TaskState.READY:
        raise Conflict(NOT_READY)
    step = next((s for s in earlier_steps(uow.session, case, workflow, task) if s.target.bpmn_id == target), None)
    if step is None:
        raise CaseError(N_("不能退回到该步骤"))
    refuse_if_issued(uow.session, case, step, "send_back")
    person = uow.session.get(User, step.target.user_id) if step.target.user_id else None
    actor, row_id, row_name = uow.actor, row.id, row.name
    record_action(uow, case, row, "send_back", target=person, reason=reason,
                  data={"to": step.target.bpmn_id, "to_name": step.target.name})
    notice = {"kind": "returned", "by": actor.name, "by_name": actor.shown_name, "reason": reason,
              "from": row_name}
    new, gone = return_to(uow, case, workflow, before, step, notice, reason, "send_back",
                          person.id if person is not None and person.active else None)
    number = case_no(case)
    if new.assignee_id is not None:
        notify_task(uow, [new.assignee_id, new.owner_id], "returned", Message(
            N_("%(who)s 将案件 %(case)s 退回到「%(task)s」：%(reason)s"), who=actor.shown_name, case=number,
            task=task_words(new), reason=reason), new)
    others = {holder for i, (holder, _) in gone.items() if i != row_id and holder not in (None, actor.user_id)}
    if others:
        notify_users(uow, others, "returned", Message(
            N_("%(who)s 将案件 %(case)s 退回到「%(task)s」，您在办的任务已取消：%(reason)s"), who=actor.shown_name,
            case=number, task=task_words(new), reason=reason), f"/cases/{case.id}", case.id)
    return new


def returned_error(session, task_row_id: int) -> CaseError | None:
    """A task row gone because the case was sent back from it: who did it and when (a Conflict)."""
    from ..clock import CST
    from .model import ApprovalAction
    action = session.scalars(select(ApprovalAction).where(
        ApprovalAction.task_row_id == task_row_id, ApprovalAction.kind == "send_back")
        .order_by(ApprovalAction.id.desc()).limit(1)).first()
    if action is None:
        return None
    who = session.get(User, action.actor_id) if action.actor_id else None
    return Conflict(N_("该任务已由 %(who)s 于 %(at)s 退回"), who=who.display_name if who else "",
                    at=action.created_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"))
