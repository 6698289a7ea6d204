"""The case service: start cases, claim and complete tasks, deliver messages, fire timers.

Every public function works inside a UnitOfWork (one transaction) that the caller commits.
The case row's `version` guards every write: a case changed meanwhile raises Conflict.
"""
from __future__ import annotations

import logging
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .approvals.hooks import after_complete, before_complete
from .case_errors import CalendarGap, CaseError, Conflict, Forbidden, NotFound  # noqa: F401  (the service's errors)
from .case_store import (CALENDAR_RETRY, get_case, open_workflow, run_action, save_case,
                         script_engine_for)
from .definitions import latest_definition, specs_for
from .forms import validate_form
from .messages import Message, N_
from .models import AuditEvent, Case, HumanTask, User
from .notifications import notify_users
from .numbers import case_no
from .runtime import Actor, UnitOfWork


# -- starting ---------------------------------------------------------------------------------

def start_case(uow: UnitOfWork, process_key: str, data: dict | None = None, record_id: int | None = None,
               parent_case_id: int | None = None, party_id: int | None = None) -> Case:
    definition = latest_definition(uow.session, process_key)
    if definition is None:
        raise NotFound(N_("流程 %(process)s 未部署"), process=process_key)
    parsed = specs_for(uow.session, definition.id)
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
    now = uow.clock.now()
    case = Case(definition_id=definition.id, process_key=process_key, record_id=record_id,
                parent_case_id=parent_case_id, party_id=party_id, status="running", state="",
                started_by=uow.actor.name,
                created_at=now, updated_at=now)
    uow.session.add(case)
    uow.session.flush()  # the case id is needed by operations and task rows
    workflow.script_engine = script_engine_for(uow, case)
    start = workflow.get_tasks(state=TaskState.READY)
    for task in start:
        task.data.update(data or {})
    run_action(uow, case, workflow, lambda: None)
    uow.audit("case.started", case_id=case.id, record_id=record_id, process=process_key,
              version=definition.version)
    save_case(uow, case, workflow, frozenset())
    return case


# -- tasks ------------------------------------------------------------------------------------

def can_work(actor: Actor, row: HumanTask) -> bool:
    if row.lane == "subject":
        return "subject" in actor.roles and actor.subject_id is not None and actor.subject_id == row.subject_id
    return row.lane in actor.roles


def _task_row(uow: UnitOfWork, task_row_id: int, for_update: bool = True) -> HumanTask:
    query = select(HumanTask).where(HumanTask.id == task_row_id)
    row = uow.session.scalars(query.with_for_update() if for_update else query).first()
    if row is None:
        raise task_gone_error(uow, task_row_id)
    return row


def task_completions(session, task_row_ids) -> dict[int, AuditEvent]:
    """task row id -> the audit event of its completion (who, when, which case), for rows that
    are gone because they were completed; a row cancelled (a timer, a message) has none."""
    ids = sorted(set(task_row_ids))
    if not ids:
        return {}
    row_id = AuditEvent.data["task_row_id"].as_integer()
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed", row_id.in_(ids))
                             .order_by(AuditEvent.id)).all()
    return {event.data["task_row_id"]: event for event in events}   # the latest wins


def task_gone_error(uow: UnitOfWork, task_row_id: int) -> CaseError:
    """A task row that is gone was completed (or cancelled): say who did it and when."""
    event = task_completions(uow.session, [task_row_id]).get(task_row_id)
    if event is None:
        from .approvals.send_back import returned_error
        return returned_error(uow.session, task_row_id) or NotFound(N_("任务不存在"))
    at = event.at.astimezone(_cst()).strftime("%Y-%m-%d %H:%M")
    who = display_names(uow.session, [event.actor]).get(event.actor, event.actor)
    return Conflict(N_("该任务已由 %(who)s 于 %(at)s 完成"), who=who, at=at)


def display_names(session, usernames) -> dict[str, str]:
    """username -> display name, for audit actors shown to people."""
    names = set(usernames)
    if not names:
        return {}
    return dict(session.execute(select(User.username, User.display_name).where(User.username.in_(names))).all())


def _cst():
    from .clock import CST
    return CST


def claim_task(uow: UnitOfWork, task_row_id: int) -> HumanTask:
    actor = uow.actor
    row = _task_row(uow, task_row_id)
    if not can_work(actor, row):
        raise Forbidden(N_("您的角色不能办理此任务"))
    if row.assignee_id not in (None, actor.user_id):
        holder = uow.session.get(User, row.assignee_id)
        raise Conflict(N_("该任务已被 %(who)s 认领"), who=holder.display_name)
    row.assignee_id, row.claimed_at = actor.user_id, uow.clock.now()
    uow.audit("task.claimed", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id, task_row_id=row.id)
    return row


def unclaim_task(uow: UnitOfWork, task_row_id: int) -> HumanTask:
    actor = uow.actor
    row = _task_row(uow, task_row_id)
    if row.assignee_id != actor.user_id and "leader" not in actor.roles:
        raise Forbidden(N_("只能退回自己认领的任务"))
    if row.kind != "task":
        raise CaseError(N_("加签任务请填写加签意见"))   # an added signer's row has no group to go back to
    from .approvals.countersign import refuse_if_instance
    from .approvals.handover import end_delegation
    refuse_if_instance(uow.session, row)
    end_delegation(uow, row)
    row.assignee_id, row.claimed_at = None, None
    uow.audit("task.unclaimed", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id, task_row_id=row.id)
    return row


def assign_task(uow: UnitOfWork, task_row_id: int, user_id: int) -> HumanTask:
    """Leaders hand a task to someone whose roles cover its lane."""
    if "leader" not in uow.actor.roles:
        raise Forbidden(N_("只有领导可以改派任务"))
    row = _task_row(uow, task_row_id)
    if row.kind != "task":
        raise CaseError(N_("加签任务请填写加签意见"))
    user = uow.session.get(User, user_id)
    if user is None or not user.active or not can_work(Actor.of(user), row):
        raise CaseError(N_("该用户不能办理此任务"))
    from .approvals.common import give_task
    from .approvals.countersign import refuse_if_instance
    from .approvals.handover import end_delegation
    refuse_if_instance(uow.session, row)
    end_delegation(uow, row, by_delegate_refused=False)   # a leader's reassignment ends a delegation
    holder = give_task(uow, row, user.id)   # while they are on leave: their deputy, on their behalf
    uow.audit("task.assigned", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id,
              task_row_id=row.id, assignee=user.username)
    number = case_no(row.case_id, row.process_key)
    notify_users(uow, [holder], "assigned",
                 Message(N_("%(who)s 将任务「%(task)s」（案件 %(case)s）交给您办理。"), who=uow.actor.shown_name,
                         task=Message(row.name) if row.name else "", case=number),   # a shipped task's name translates
                 f"/tasks/{row.id}", row.case_id)
    return row


def task_form(session, row: HumanTask) -> dict:
    definition_id = session.scalar(select(Case.definition_id).where(Case.id == row.case_id))
    return _form(session, definition_id, row.form_key)


def _form(session, definition_id: int, form_key: str | None) -> dict:
    return specs_for(session, definition_id).forms.get(form_key or "", {"type": "object", "properties": {}})


def complete_task(uow: UnitOfWork, task_row_id: int, data: dict) -> Case:
    """Validate the form data, complete the task and run the engine to the next wait."""
    actor = uow.actor
    row = _task_row(uow, task_row_id)
    if row.assignee_id is None:
        if not can_work(actor, row):
            raise Forbidden(N_("您的角色不能办理此任务"))
    elif row.assignee_id != actor.user_id:
        raise Forbidden(N_("此任务已由他人认领"))
    case = get_case(uow, row.case_id)
    schema = _form(uow.session, case.definition_id, row.form_key)
    clean = validate_form(schema, data)
    if before_complete(uow, row, case, clean):
        return case   # signers added after this step answer first (workflows/approvals/signers.py)
    return finish_task(uow, row, case, clean, schema)


def finish_task(uow: UnitOfWork, row: HumanTask, case: Case, clean: dict, schema: dict | None = None,
                **audit_data) -> Case:
    """Complete `row`'s workflow task with validated data and run the engine to the next wait,
    without the holder's checks (the caller made them: complete_task, or the last added signer
    releasing a completion that waited for them). `audit_data` joins the task.completed event."""
    if schema is None:
        schema = _form(uow.session, case.definition_id, row.form_key)
    form_fields = set(schema.get("properties", {}))
    workflow, before = open_workflow(uow, case)
    try:
        task = workflow.get_task_from_id(UUID(row.task_id))
    except (WorkflowException, KeyError):
        task = None
    if task is None or task.state != TaskState.READY:
        raise Conflict(N_("任务状态已变化，请刷新"))

    def act():
        # a field of this form left empty this time must not keep an answer from an earlier round
        for name in form_fields:
            if name not in clean:
                task.data.pop(name, None)
        task.data.update(clean)
        task.run()
    run_action(uow, case, workflow, act)
    uow.audit("task.completed", case_id=case.id, record_id=case.record_id, task=row.bpmn_id,
              task_name=row.name, task_row_id=row.id, task_id=row.task_id, data=clean, **audit_data)
    after_complete(uow, row, case, clean)
    save_case(uow, case, workflow, before)
    return case


# -- messages and timers ----------------------------------------------------------------------

def send_message(uow: UnitOfWork, case_id: int, name: str, payload: dict | None = None) -> Case:
    case = get_case(uow, case_id)
    if case is None:
        raise NotFound(N_("案件 %(case)s 不存在"), case=case_id)
    if case.status != "running":
        raise CaseError(N_("案件 %(case)s 已结束"), case=case_no(case))
    workflow, before = open_workflow(uow, case)

    def act():
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload or {}))
        except WorkflowException as exc:
            raise CaseError(N_("案件 %(case)s 当前不接收消息 %(message)s"), case=case_no(case), message=name) from exc

    run_action(uow, case, workflow, act)
    uow.audit("case.message", case_id=case.id, record_id=case.record_id, message=name, payload=payload or {})
    save_case(uow, case, workflow, before)
    return case


def fire_due_timers(uow: UnitOfWork, limit: int = 100) -> dict:
    """Fire the timers of up to `limit` due cases in this transaction. On PostgreSQL the rows are
    taken with SKIP LOCKED, so several workers share the work without firing anything twice.
    A case whose step fails is marked `error` (with the reason) and the others go on."""
    session = uow.session
    query = (select(Case).where(Case.status == "running", Case.next_due_at <= uow.clock.now())
             .order_by(Case.next_due_at).limit(limit))
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Case)
    fired, failed = [], []
    for case in session.scalars(query).all():
        try:
            with uow.savepoint():
                workflow, before = open_workflow(uow, case)
                run_action(uow, case, workflow, workflow.refresh_timers)
                uow.audit("case.timers_fired", case_id=case.id, record_id=case.record_id)
                save_case(uow, case, workflow, before)
            fired.append(case.id)
        except Conflict:
            pass  # someone acted on the case meanwhile; its timers are still due and the next pass takes them
        except CalendarGap as exc:
            # not the case's fault: its timers fire once the administrator has entered the year
            session.get(Case, case.id).next_due_at = uow.clock.now() + CALENDAR_RETRY
            logging.getLogger("credflow.timers").warning("case %s waits for the calendar: %s", case.id, exc)
        except CaseError as exc:
            case = session.get(Case, case.id)
            case.status, case.error, case.next_due_at = "error", str(exc), None
            uow.audit("case.error", case_id=case.id, record_id=case.record_id, error=str(exc))
            failed.append(case.id)
    return {"fired": fired, "failed": failed}
