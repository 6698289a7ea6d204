"""Loading a case's workflow and saving it back: the cache, the guarded write of the case row
(a changed version is a Conflict), the engine's verdict checked before a case is completed, and
the human_task rows mirroring the READY human tasks. Used by the case service (cases.py)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, inspect as sa_inspect, select, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from .approvals.hooks import task_row_added, task_rows_gone
from .case_errors import CalendarGap, CaseError, Conflict, calendar_gap
from .dates import end_of_day_cst
from .definitions import specs_for
from .engine.bundle import DUE_AT_PROPERTY, DUE_PROPERTY, FORM_PROPERTY
from .engine.compaction import compact
from .engine.liveness import false_completion
from .engine.script_engine import CredflowScriptEngine, sandbox_helpers
from .engine.serializer import dump_state, load_state
from .messages import Message, N_, UserError


from .models import Case, HumanTask, Record, Subject
from .notifications import holders_of_role, notify_users
from .numbers import case_no
from .operations import OperationContext, run_operation
from .runtime import WORKFLOWS, UnitOfWork
from .workdays import CalendarNotCovered


def script_engine_for(uow: UnitOfWork, case: Case) -> CredflowScriptEngine:
    def dispatch(task, name, params):
        return run_operation(name, OperationContext(uow, case, task), params)
    from .approvals.countersign import script_helpers   # 会签: who signs, the rule's outcome
    helpers = {**sandbox_helpers(lambda: uow.calendar, uow.clock), **script_helpers(uow)}
    return CredflowScriptEngine(helpers, dispatch, uow.settings.script_time_limit, clock=uow.clock)


def load_workflow(uow: UnitOfWork, case: Case) -> BpmnWorkflow:
    return open_workflow(uow, case)[0]


def open_workflow(uow: UnitOfWork, case: Case) -> tuple[BpmnWorkflow, frozenset[str]]:
    """The case's workflow and the ids of its READY human tasks: from this worker's cache while
    the case row's version still matches (the ids as they were saved), else from the row."""
    cached = WORKFLOWS.take(case.id, case.version)
    if cached is None:
        parsed = specs_for(uow.session, case.definition_id)
        workflow = load_state(case.state, parsed.spec, parsed.subprocess_specs)
        ready = frozenset(ready_human_tasks(workflow))
    else:
        workflow, ready = cached
    workflow.script_engine = script_engine_for(uow, case)
    return workflow, ready


# a case for a step, by id (as Session.get: no autoflush, the loaded object if there is one)
CASE_BY_ID = select(Case).where(Case.id == bindparam("case_id")).execution_options(autoflush=False)
CASE_BY_ID_WITHOUT_STATE = CASE_BY_ID.options(defer(Case.state))


def get_case(uow: UnitOfWork, case_id: int) -> Case | None:
    """The case row, for a step. While this worker holds a workflow of the case (the usual
    case), the stored state is not read: it is read only if that workflow turns out stale."""
    query = CASE_BY_ID_WITHOUT_STATE if WORKFLOWS.holds(case_id) else CASE_BY_ID
    return uow.session.scalars(query, {"case_id": case_id}).first()


def run_action(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow, action) -> None:
    """Apply an action and run the engine; any engine or domain error aborts the transaction."""
    try:
        action()
        workflow.do_engine_steps()
        compact(workflow)   # drop the finished history nothing reads again: flat cost per step
    except CaseError:
        raise
    except (SpiffWorkflowException, ValueError, LookupError) as exc:
        gap = calendar_gap(exc)
        if gap is not None:
            raise CalendarGap(gap) from exc
        raise CaseError(describe_error(exc)) from exc


def describe_error(exc: Exception) -> "Message | str":
    """What went wrong, and at which step: a domain refusal behind the engine's error keeps its
    Message (shown in the reader's language); anything else is the engine's own text."""
    task_spec = getattr(getattr(exc, "task", None), "task_spec", None) or getattr(exc, "task_spec", None)
    step = (task_spec.bpmn_name or task_spec.bpmn_id) if getattr(task_spec, "bpmn_id", None) else ""
    inner = exc
    for _ in range(8):
        if inner is None or isinstance(inner, UserError):
            break
        inner = getattr(inner, "exception", None) or inner.__cause__
    if isinstance(inner, UserError):
        return Message(N_("「%(step)s」%(message)s"), step=step, message=inner.message) if step else inner.message
    message = getattr(exc, "error_msg", None) or str(exc)
    return f"「{step}」{message}" if step else message.strip()


CALENDAR_RETRY = timedelta(hours=1)   # a timer step needing an uncovered year is tried again after this
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


def next_due(workflow: BpmnWorkflow) -> datetime | None:
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
CONFLICT = N_("此案件刚被他人处理，请刷新后重试")



def save_case(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow, before: frozenset[str]) -> None:
    now = uow.clock.now()
    row = {"state": dump_state(workflow), "updated_at": now, "next_due_at": next_due(workflow)}
    if workflow.is_completed():
        unfinished = false_completion(workflow)   # the engine's verdict, checked against every task it holds
        if unfinished:
            fail_case(uow, case, row, unfinished)
        else:
            row.update(status="completed", completed_at=now, next_due_at=None)
            uow.audit("case.completed", case_id=case.id, record_id=case.record_id)
    write_case(uow, case, row)
    ready = refresh_task_rows(uow, case, workflow, before)
    version = case.version
    if uow.caches_workflows:
        uow.after_commit(lambda: WORKFLOWS.put(case.id, version, (workflow, ready)))


def write_case(uow: UnitOfWork, case: Case, row: dict) -> None:
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


def fail_case(uow: UnitOfWork, case: Case, row: dict, error: "Message | str") -> None:
    """The case cannot go on as it is: status `error` with the reason (stored as Chinese text),
    audited, leaders told (in their own language)."""
    reason, error = error, str(error)
    row.update(status="error", error=error, next_due_at=None)
    uow.audit("case.error", case_id=case.id, record_id=case.record_id, error=error)
    logging.getLogger("credflow.cases").error("case %s: %s", case.id, error)
    notify_users(uow, holders_of_role(uow.session, "leader"), "case_error",
                 Message(N_("案件 %(case)s 出错，需要处理：%(error)s"), case=case_no(case), error=reason),
                 f"/cases/{case.id}", case.id)


def ready_human_tasks(workflow: BpmnWorkflow) -> dict:
    return {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def refresh_task_rows(uow: UnitOfWork, case: Case, workflow: BpmnWorkflow,
                       before: frozenset[str]) -> frozenset[str]:
    """Mirror the READY human tasks into human_task: drop finished ones, add new ones; returns
    their ids. `before` holds the READY task ids when the case was loaded, so an unchanged set
    costs no query."""
    ready = ready_human_tasks(workflow)
    gone = before - set(ready)
    if gone:
        uow.session.execute(delete(HumanTask).where(HumanTask.case_id == case.id, HumanTask.task_id.in_(gone))
                            .execution_options(synchronize_session="fetch"))
        task_rows_gone(uow, case, gone)
    new = [(task_id, task) for task_id, task in ready.items() if task_id not in before]
    record = uow.session.get(Record, case.record_id) if new and case.record_id else None
    party = uow.session.get(Subject, case.party_id) if new and case.party_id else None
    for task_id, task in new:
        spec = task.task_spec
        props = (spec.extensions or {}).get("properties", {})
        due = task_due(uow, workflow, task, props)
        row = HumanTask(
            case_id=case.id, task_id=task_id, bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
            process_key=case.process_key, lane=spec.lane, form_key=props.get(FORM_PROPERTY), due_at=due,
            record_id=case.record_id,
            subject_id=party.id if party else (record.subject_id if record else None),
            subject_name=party.name if party else (record.subject.name if record else None),
            field=record.field if record else None, severity=record.severity if record else None,
            created_at=uow.clock.now())
        uow.session.add(row)
        task_row_added(uow, case, row, task)
    return frozenset(ready)


def task_due(uow: UnitOfWork, workflow: BpmnWorkflow, task, props: dict) -> datetime:
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
