"""What the case page shows: where the case stands on its diagram, and its history."""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select

from .definitions import specs_for
from .engine.serializer import load_state
from .models import AuditEvent, Case, ProcessDefinition

PRIORITY = {"completed": 0, "waiting": 1, "current": 2}


def element_states(session, case: Case) -> dict[str, str]:
    """BPMN element id -> 'completed' | 'current' (a human task to do) | 'waiting' (timer, message)."""
    parsed = specs_for(session, case.definition_id)
    workflow = load_state(case.state, parsed.spec, parsed.subprocess_specs)
    states: dict[str, str] = {}
    for task in workflow.get_tasks():
        bpmn_id = task.task_spec.bpmn_id
        if not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            state = "completed"
        elif task.state in (TaskState.READY, TaskState.STARTED) and task.task_spec.manual:
            state = "current"
        elif task.state == TaskState.WAITING or (task.state == TaskState.STARTED and not task.task_spec.manual):
            state = "waiting"
        else:
            continue
        if PRIORITY[state] >= PRIORITY.get(states.get(bpmn_id), -1):
            states[bpmn_id] = state
    return states


def diagram_xml(session, case: Case) -> str:
    definition = session.get(ProcessDefinition, case.definition_id)
    return next(iter(definition.bpmn_files.values()))


def timeline(session, case: Case, limit: int = 500) -> list[AuditEvent]:
    """The case's audit events, and the record's own events, oldest first."""
    condition = AuditEvent.case_id == case.id
    if case.record_id is not None:
        condition = or_(condition, AuditEvent.record_id == case.record_id)
    return session.scalars(select(AuditEvent).where(condition).order_by(AuditEvent.id).limit(limit)).all()
