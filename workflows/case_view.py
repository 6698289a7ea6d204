"""What the case page shows: where the case stands on its diagram, and its history."""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import or_, select

from .definitions import specs_for
from .engine.bundle import FORM_PROPERTY
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


@dataclass(frozen=True)
class Answer:
    """One answer of a completed step, as its form names it: the field's title and the value in
    words (an option's title, several joined; a bool stays a bool for the page to word)."""
    title: str
    value: object


def form_of(parsed, bpmn_id: str) -> dict:
    """The form a task of this definition version fills (empty when it has none)."""
    for spec in (parsed.spec, *parsed.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == bpmn_id:
                key = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY)
                if key:   # (a multi-instance activity has its instances' bpmn_id, and no form)
                    return parsed.forms.get(key, {})
    return {}


def _option_titles(prop: dict) -> dict:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    return {o["const"]: o.get("title", o["const"]) for o in source.get("oneOf", []) if "const" in o}


def step_answers(form: dict, data: dict) -> list[Answer]:
    """A step's answers in the form's order; files (listed with the case) and empty answers left out."""
    props = form.get("properties", {})
    order = list(form.get("x-order") or props) + [n for n in props if n not in (form.get("x-order") or [])]
    answers = []
    for name in dict.fromkeys(order):
        prop, value = props.get(name), data.get(name)
        if prop is None or prop.get("x-widget") == "file" or value is None or value == "" or value == []:
            continue
        options = _option_titles(prop)
        if isinstance(value, list):
            value = "、".join(str(options.get(v, v)) for v in value)
        elif not isinstance(value, bool) and options:
            value = options.get(value, value)
        answers.append(Answer(prop.get("title") or name, value))
    return answers


def completed_steps(session, events) -> dict[int, list[Answer]]:
    """event id -> the answers of the step a `task.completed` event records, worded by the form
    of the case's own definition version."""
    done = [e for e in events if e.action == "task.completed" and e.case_id and e.data.get("task")]
    if not done:
        return {}
    versions = dict(session.execute(select(Case.id, Case.definition_id)
                                    .where(Case.id.in_({e.case_id for e in done}))).all())
    result = {}
    for event in done:
        definition_id = versions.get(event.case_id)
        if definition_id is None:
            continue
        form = form_of(specs_for(session, definition_id), event.data["task"])
        result[event.id] = step_answers(form, event.data.get("data") or {})
    return result
