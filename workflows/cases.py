"""The case service: start cases, claim and complete tasks, deliver messages, fire timers.

Every public function works inside a UnitOfWork (one transaction) that the caller commits.
The case row's `version` guards every write: a case changed meanwhile raises Conflict.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, inspect as sa_inspect, select, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from .dates import end_of_day_cst
from .definitions import latest_definition, specs_for
from .engine.bundle import DUE_AT_PROPERTY, DUE_PROPERTY, FORM_PROPERTY
from .engine.liveness import false_completion
from .engine.compaction import compact
from .engine.script_engine import CredflowScriptEngine, sandbox_helpers
from .engine.serializer import dump_state, load_state
from .forms import validate_form
from .models import AuditEvent, Case, HumanTask, Record, Subject, User
from .notifications import holders_of_role, notify_users
from .numbers import case_no
from .operations import OperationContext, run_operation
from .runtime import WORKFLOWS, Actor, UnitOfWork
from .workdays import CalendarNotCovered


class CaseError(Exception):
    """An action could not be done; the message is meant for the user. Nothing was saved."""
    status = 400


class NotFound(CaseError):
    status = 404


class CalendarGap(CaseError):
    """A deadline falls in a year the working-day calendar does not cover: the action is refused
    (nothing is saved) until the system administrator enters that year."""
    status = 409

    def __init__(self, uncovered: CalendarNotCovered):
        super().__init__(str(uncovered))
        self.uncovered = uncovered


def _calendar_gap(exc: BaseException | None) -> CalendarNotCovered | None:
    """The CalendarNotCovered behind an engine error (a script or an operation counting days)."""
    for _ in range(6):
        if exc is None or isinstance(exc, CalendarNotCovered):
            return exc
        exc = getattr(exc, "exception", None) or exc.__cause__
    return None


class Forbidden(CaseError):
    status = 403


class Conflict(CaseError):
    status = 409


# -- loading and saving ---------------------------------------------------------------------

def _script_engine(uow: UnitOfWork, case: Case) -> CredflowScriptEngine:
    def dispatch(task, name, params):
        return run_operation(name, OperationContext(uow, case, task), params)
    return CredflowScriptEngine(sandbox_helpers(lambda: uow.calendar, uow.clock), dispatch,
                                uow.settings.script_time_limit, clock=uow.clock)


def _load(uow: UnitOfWork, case: Case) -> BpmnWorkflow:
    return _open(uow, case)[0]


def _open(uow: UnitOfWork, case: Case) -> tuple[BpmnWorkflow, frozenset[str]]:
    """The case's workflow and the ids of its READY human tasks: from this worker's cache while
    the case row's version still matches (the ids as they were saved), else from the row."""
    cached = WORKFLOWS.take(case.id, case.version)
    if cached is None:
        parsed = specs_for(uow.session, case.definition_id)
        workflow = load_state(case.state, parsed.spec, parsed.subprocess_specs)
        ready = frozenset(ready_human_tasks(workflow))
    else:
        workflow, ready = cached
    workflow.script_engine = _script_engine(uow, case)
    return workflow, ready


# a case for a step, by id (as Session.get: no autoflush, the loaded object if there is one)
CASE_BY_ID = select(Case).where(Case.id == bindparam("case_id")).execution_options(autoflush=False)
CASE_BY_ID_WITHOUT_STATE = CASE_BY_ID.options(defer(Case.state))


def _get_case(uow: UnitOfWork, case_id: int) -> Case | None:
    """The case row, for a step. While this worker holds a workflow of the case (the usual
    case), the stored state is not read: it is read only if that workflow turns out stale."""
    query = CASE_BY_ID_WITHOUT_STATE if WORKFLOWS.holds(case_id) else CASE_BY_ID
    return uow.session.scalars(query, {"case_id": case_id}).first()


def _run(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow, action) -> None:
    """Apply an action and run the engine; any engine or domain error aborts the transaction."""
    try:
        action()
        workflow.do_engine_steps()
        compact(workflow)   # drop the finished history nothing reads again: flat cost per step
    except CaseError:
        raise
    except (SpiffWorkflowException, ValueError, LookupError) as exc:
        gap = _calendar_gap(exc)
        if gap is not None:
            raise CalendarGap(gap) from exc
        raise CaseError(_describe_error(exc)) from exc


def _describe_error(exc: Exception) -> str:
    task_spec = getattr(getattr(exc, "task", None), "task_spec", None) or getattr(exc, "task_spec", None)
    where = f"「{task_spec.bpmn_name or task_spec.bpmn_id}」" if getattr(task_spec, "bpmn_id", None) else ""
    message = getattr(exc, "error_msg", None) or str(exc)
    return f"{where}{message}".strip()


CALENDAR_RETRY = timedelta(hours=1)   # a timer step needing an uncovered year is tried again after this
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


def _next_due(workflow: BpmnWorkflow) -> datetime | None:
    dues = []
    for event in workflow.waiting_events():
        if event.event_type not in TIMER_EVENT_TYPES or not event.value:
            continue
        value = event.value["next"] if isinstance(event.value, dict) else event.value
        due = datetime.fromisoformat(value)
        dues.append(due if due.tzinfo else due.astimezone())
    return min(dues) if dues else None


CASE_ROW = Case.__table__
CASE_COLUMNS = frozenset(attr.key for attr in sa_inspect(Case).column_attrs)
# the columns to set come from the parameters given (state, updated_at, ... and version)
WRITE_CASE = update(CASE_ROW).where(CASE_ROW.c.id == bindparam("where_id"),
                                    CASE_ROW.c.version == bindparam("where_version"))
CONFLICT = ("此案件刚被他人处理，请刷新后重试 / this case was changed by someone else meanwhile; "
            "reload and try again")


def _save(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow, before: frozenset[str]) -> None:
    now = uow.clock.now()
    row = {"state": dump_state(workflow), "updated_at": now, "next_due_at": _next_due(workflow)}
    if workflow.is_completed():
        unfinished = false_completion(workflow)   # the engine's verdict, checked against every task it holds
        if unfinished:
            _fail_case(uow, case, row, unfinished)
        else:
            row.update(status="completed", completed_at=now, next_due_at=None)
            uow.audit("case.completed", case_id=case.id, record_id=case.record_id)
    _write_case(uow, case, row)
    ready = _refresh_task_rows(uow, case, workflow, before)
    version = case.version
    uow.after_commit(lambda: WORKFLOWS.put(case.id, version, (workflow, ready)))


def _write_case(uow: UnitOfWork, case: Case, row: dict) -> None:
    """UPDATE case SET <row and what else changed>, version = old + 1 WHERE id = ... AND
    version = old: one statement, without the unit of work's flush; no row is a Conflict (someone
    changed the case meanwhile). The loaded case then holds what was written, as after a flush."""
    pending = CASE_COLUMNS.difference(sa_inspect(case).unmodified)   # set through the ORM (an operation)
    values = {key: getattr(case, key) for key in pending}
    values.update(row, version=case.version + 1)
    # on the session's connection: the ORM does not autoflush the same changes first
    result = uow.session.connection().execute(WRITE_CASE, {**values, "where_id": case.id,
                                                           "where_version": case.version})
    if result.rowcount != 1:
        raise Conflict(CONFLICT)
    for key, value in values.items():
        set_committed_value(case, key, value)
    uow.written(case)


def _fail_case(uow: UnitOfWork, case: Case, row: dict, error: str) -> None:
    """The case cannot go on as it is: status `error` with the reason, audited, leaders told."""
    row.update(status="error", error=error, next_due_at=None)
    uow.audit("case.error", case_id=case.id, record_id=case.record_id, error=error)
    logging.getLogger("credflow.cases").error("case %s: %s", case.id, error)
    notify_users(uow, holders_of_role(uow.session, "leader"), "case_error",
                 f"案件 {case_no(case)} 出错，需要处理：{error}", f"/cases/{case.id}", case.id)


def ready_human_tasks(workflow: BpmnWorkflow) -> dict:
    return {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def _refresh_task_rows(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow,
                       before: frozenset[str]) -> frozenset[str]:
    """Mirror the READY human tasks into human_task: drop finished ones, add new ones; returns
    their ids. `before` holds the READY task ids when the case was loaded, so an unchanged set
    costs no query."""
    ready = ready_human_tasks(workflow)
    gone = before - set(ready)
    if gone:
        uow.session.execute(delete(HumanTask).where(HumanTask.case_id == case.id, HumanTask.task_id.in_(gone))
                            .execution_options(synchronize_session="fetch"))
    new = [(task_id, task) for task_id, task in ready.items() if task_id not in before]
    record = uow.session.get(Record, case.record_id) if new and case.record_id else None
    party = uow.session.get(Subject, case.party_id) if new and case.party_id else None
    for task_id, task in new:
        spec = task.task_spec
        props = (spec.extensions or {}).get("properties", {})
        due = _task_due(uow, workflow, task, props)
        uow.session.add(HumanTask(
            case_id=case.id, task_id=task_id, bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
            process_key=case.process_key, lane=spec.lane, form_key=props.get(FORM_PROPERTY), due_at=due,
            record_id=case.record_id,
            subject_id=party.id if party else (record.subject_id if record else None),
            subject_name=party.name if party else (record.subject.name if record else None),
            field=record.field if record else None, severity=record.severity if record else None,
            created_at=uow.clock.now()))
    return frozenset(ready)


def _task_due(uow: UnitOfWork, workflow: BpmnWorkflow, task, props: dict) -> datetime:
    """`dueAt` (an expression giving the ISO datetime a timer also uses) or `dueInWorkdays`."""
    if props.get(DUE_AT_PROPERTY):
        try:
            value = workflow.script_engine.evaluate(task, props[DUE_AT_PROPERTY])
            due = datetime.fromisoformat(str(value))
        except (SpiffWorkflowException, ValueError) as exc:
            raise CaseError(f"「{task.task_spec.bpmn_name}」dueAt: {exc}") from exc
        return due if due.tzinfo else due.replace(tzinfo=uow.clock.now().tzinfo)
    workdays = int(props.get(DUE_PROPERTY, uow.settings.task_due_workdays))
    try:
        return end_of_day_cst(uow.calendar.add_workdays(uow.clock.today(), workdays))
    except CalendarNotCovered as exc:
        raise CalendarGap(exc) from None


# -- starting ---------------------------------------------------------------------------------

def start_case(uow: UnitOfWork, process_key: str, data: dict | None = None, record_id: int | None = None,
               parent_case_id: int | None = None, party_id: int | None = None) -> Case:
    definition = latest_definition(uow.session, process_key)
    if definition is None:
        raise NotFound(f"流程未部署 / no process '{process_key}' is deployed")
    parsed = specs_for(uow.session, definition.id)
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
    now = uow.clock.now()
    case = Case(definition_id=definition.id, process_key=process_key, record_id=record_id,
                parent_case_id=parent_case_id, party_id=party_id, status="running", state="",
                started_by=uow.actor.name,
                created_at=now, updated_at=now)
    uow.session.add(case)
    uow.session.flush()  # the case id is needed by operations and task rows
    workflow.script_engine = _script_engine(uow, case)
    start = workflow.get_tasks(state=TaskState.READY)
    for task in start:
        task.data.update(data or {})
    _run(uow, case, workflow, lambda: None)
    uow.audit("case.started", case_id=case.id, record_id=record_id, process=process_key,
              version=definition.version)
    _save(uow, case, workflow, frozenset())
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
        return NotFound("任务不存在 / no such task")
    at = event.at.astimezone(_cst()).strftime("%Y-%m-%d %H:%M")
    who = display_names(uow.session, [event.actor]).get(event.actor, event.actor)
    return Conflict(f"该任务已由 {who} 于 {at} 完成 / this task was completed by {who} at {at} (CST)")


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
        raise Forbidden("您的角色不能办理此任务 / your roles do not cover this task's lane")
    if row.assignee_id not in (None, actor.user_id):
        holder = uow.session.get(User, row.assignee_id)
        raise Conflict(f"该任务已被 {holder.display_name} 认领 / already claimed by {holder.display_name}")
    row.assignee_id, row.claimed_at = actor.user_id, uow.clock.now()
    uow.audit("task.claimed", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id, task_row_id=row.id)
    return row


def unclaim_task(uow: UnitOfWork, task_row_id: int) -> HumanTask:
    actor = uow.actor
    row = _task_row(uow, task_row_id)
    if row.assignee_id != actor.user_id and "leader" not in actor.roles:
        raise Forbidden("只能退回自己认领的任务 / you can only release a task you claimed")
    row.assignee_id, row.claimed_at = None, None
    uow.audit("task.unclaimed", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id, task_row_id=row.id)
    return row


def assign_task(uow: UnitOfWork, task_row_id: int, user_id: int) -> HumanTask:
    """Leaders hand a task to someone whose roles cover its lane."""
    if "leader" not in uow.actor.roles:
        raise Forbidden("只有领导可以改派任务 / only leaders reassign tasks")
    row = _task_row(uow, task_row_id)
    user = uow.session.get(User, user_id)
    if user is None or not user.active or not can_work(Actor.of(user), row):
        raise CaseError("该用户不能办理此任务 / that user's roles do not cover this task")
    row.assignee_id, row.claimed_at = user.id, uow.clock.now()
    uow.audit("task.assigned", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id,
              task_row_id=row.id, assignee=user.username)
    number = case_no(row.case_id, row.process_key)
    notify_users(uow, [user.id], "assigned", f"{uow.actor.shown_name} 将任务「{row.name}」（案件 {number}）交给您办理。",
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
            raise Forbidden("您的角色不能办理此任务 / your roles do not cover this task's lane")
    elif row.assignee_id != actor.user_id:
        raise Forbidden("此任务已由他人认领 / this task is claimed by someone else")
    case = _get_case(uow, row.case_id)
    schema = _form(uow.session, case.definition_id, row.form_key)
    clean = validate_form(schema, data)
    form_fields = set(schema.get("properties", {}))
    workflow, before = _open(uow, case)
    try:
        task = workflow.get_task_from_id(UUID(row.task_id))
    except (WorkflowException, KeyError):
        task = None
    if task is None or task.state != TaskState.READY:
        raise Conflict("任务状态已变化，请刷新 / the task is no longer waiting; reload the page")

    def act():
        # a field of this form left empty this time must not keep an answer from an earlier round
        for name in form_fields:
            if name not in clean:
                task.data.pop(name, None)
        task.data.update(clean)
        task.run()
    _run(uow, case, workflow, act)
    uow.audit("task.completed", case_id=case.id, record_id=case.record_id, task=row.bpmn_id,
              task_name=row.name, task_row_id=row.id, data=clean)
    _save(uow, case, workflow, before)
    return case


# -- messages and timers ----------------------------------------------------------------------

def send_message(uow: UnitOfWork, case_id: int, name: str, payload: dict | None = None) -> Case:
    case = _get_case(uow, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在 / no case {case_id}")
    if case.status != "running":
        raise CaseError(f"案件 {case_no(case)} 已结束 / case {case_no(case)} is {case.status}")
    workflow, before = _open(uow, case)

    def act():
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload or {}))
        except WorkflowException as exc:
            raise CaseError(f"案件 {case_no(case)} 当前不接收消息 {name} / case {case_no(case)} is not waiting for "
                            f"'{name}'") from exc
    _run(uow, case, workflow, act)
    uow.audit("case.message", case_id=case.id, record_id=case.record_id, message=name, payload=payload or {})
    _save(uow, case, workflow, before)
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
                workflow, before = _open(uow, case)
                _run(uow, case, workflow, workflow.refresh_timers)
                uow.audit("case.timers_fired", case_id=case.id, record_id=case.record_id)
                _save(uow, case, workflow, before)
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
