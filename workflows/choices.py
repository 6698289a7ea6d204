"""What each choice of a decision task will do, and whether the rules forbid it now.

A decision field is a single-choice field of the task's form (an enum: `oneOf` of `const`/`title`)
whose choices lead to different things. For each choice the deployed diagram is walked from the
user task, on a copy of the case's data with that choice set: at an exclusive gateway the flow
whose condition holds (evaluated by the case's sandboxed script engine) or the default; through
script tasks (run on the copy), rule tables (evaluated on the copy) and service tasks, until the
next user task, a waiting event, a subprocess or an end event. The walk is bounded and never
passes an element twice.

The service tasks met say what will happen, through what their operations declare next to their
registration (workflows/operations.py): `describe` (in words), `precheck` (a blocking reason,
the same sentence the operation refuses with) and `preview` (the result of an operation that only
reads, for the gateways after it). An operation without `describe` is said by its task's name; an
end event by its name. Nothing is rendered, signed or written.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins import (BoundaryEventMixin, EndEventMixin, EventBasedGatewayMixin,
                                             ExclusiveGatewayMixin, InclusiveGatewayMixin,
                                             IntermediateCatchEventMixin, ManualTaskMixin, ReceiveTaskMixin,
                                             ScriptTaskMixin, SubWorkflowTaskMixin, UserTaskMixin)
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.deep_merge import DeepMerge
from sqlalchemy import select

from .definitions import specs_for
from .engine.bundle import FORM_PROPERTY
from .engine.script_engine import CredflowScriptEngine, sandbox_helpers
from .engine.serializer import load_state
from .messages import Message, N_, joined

from .models import AuditEvent, Case, Record
from .operations import OPERATIONS, Blocked, OperationError
from .workdays import WorkdayCalendar

log = logging.getLogger("credflow.choices")

MAX_STEPS = 60          # elements one walk may pass
ROLE_TEXT = {"clerk": N_("承办人"), "reviewer": N_("审核人"), "leader": N_("分管领导"), "subject": N_("信用主体")}   # lanes


@dataclass
class Choice:
    value: str
    label: str
    effect: Message | str            # what choosing it will do, in words ('' when nothing can be said)
    blocked: list[Blocked] = field(default_factory=list)   # why the rules forbid it now (empty: allowed)


@dataclass
class Decision:
    field: str
    title: str
    choices: list[Choice]

    @property
    def blocks(self) -> list[Blocked]:
        """Each reason once, in the order met."""
        found: list[Blocked] = []
        for b in (b for c in self.choices for b in c.blocked):
            if b not in found:
                found.append(b)
        return found


    @property
    def all_blocked(self) -> bool:
        return all(c.blocked for c in self.choices)

    def choice(self, value) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


class Preview:
    """What a describe, precheck or preview reads while a choice is walked: the same names an
    OperationContext gives (session, case, record, data, today, settings, calendar), plus `expect`
    for what earlier steps of the walk will have settled (the case's outcome, the record's status,
    the publication period), which later steps' words depend on."""

    def __init__(self, session, case, data: dict, clock, settings, calendar=None):
        """`calendar`: the WorkdayCalendar, or a callable giving it (read only when a step asks)."""
        self.session, self.case, self.data, self.clock, self.settings = session, case, data, clock, settings
        self._calendar, self._record = calendar, None
        self.expected: dict = {}

    @property
    def record(self) -> Record | None:
        if self._record is None and self.case.record_id is not None:
            self._record = self.session.get(Record, self.case.record_id)
        return self._record

    @property
    def today(self):
        return self.clock.today()

    @property
    def calendar(self):
        if self._calendar is None:
            self._calendar = WorkdayCalendar.from_session(self.session)
        elif callable(self._calendar):
            self._calendar = self._calendar()
        return self._calendar

    def expect(self, **facts) -> None:
        self.expected.update({k: v for k, v in facts.items() if v is not None})


# -- the walk -------------------------------------------------------------------------------------

class _Probe:
    """Stands in for a SpiffWorkflow task where the engine evaluates an expression or a table."""

    def __init__(self, spec, data: dict, engine):
        self.task_spec, self.data = spec, data
        self.workflow = _ProbeWorkflow(engine)


class _ProbeWorkflow:
    def __init__(self, engine):
        self.script_engine = engine


@dataclass
class Walk:
    parts: list = field(default_factory=list)       # Messages, and names from the diagram as they stand
    blocked: list[Blocked] = field(default_factory=list)

    def say(self, text: "Message | str | None") -> None:
        if text and (not self.parts or self.parts[-1] != text):
            self.parts.append(text)

    @property
    def text(self) -> Message | str:
        """The steps in order, joined by "；" (a step's own words may hold commas)."""
        out = joined(self.parts)
        return out if isinstance(out, Message) or not out else Message("%(text)s", text=out)


def script_engine(calendar, clock, time_limit: float = 1.0) -> CredflowScriptEngine:
    """The sandboxed engine cases run with; service tasks are not dispatched (the walk reads them)."""
    def no_dispatch(task, name, params):
        raise RuntimeError("a choice's walk runs no operation")
    return CredflowScriptEngine(sandbox_helpers(calendar, clock), no_dispatch, time_limit)


def _name(spec) -> Message | str:
    """An element's name as drawn; a Message, so a name the shipped processes give (a catalog id)
    reads in the page's language, and any other as written."""
    name = spec.bpmn_name or spec.bpmn_id or ""
    return Message(name) if name else ""



def _run_script(engine, spec, data: dict, script: str | None) -> None:
    if not script:
        return
    try:
        engine.execute(_Probe(spec, data, engine), script)
    except Exception as exc:  # noqa: BLE001 -- a script that cannot run on the copy says nothing
        log.debug("choice walk: script of %s: %s", spec.bpmn_id, exc)


def _holds(engine, spec, data: dict, expression: str) -> bool:
    try:
        return bool(engine.evaluate(_Probe(spec, data, engine), expression))
    except Exception:  # noqa: BLE001 -- a condition on data the case does not have yet does not hold
        return False


def _gateway_targets(engine, spec, data: dict) -> list:
    by_name = {o.name: o for o in spec.outputs}
    matching = [by_name[target] for condition, target in spec.cond_task_specs
                if condition is not None and target in by_name and _holds(engine, spec, data, condition.args[0])]
    default = by_name.get(getattr(spec, "default_task_spec", None) or "")
    if isinstance(spec, ExclusiveGatewayMixin):
        return matching[:1] or ([default] if default else [])
    return matching or ([default] if default else [])


def _service_task(walk: Walk, engine, spec, data: dict, ctx: Preview) -> None:
    _run_script(engine, spec, data, getattr(spec, "prescript", None))
    params = {}
    for name, param in (spec.operation_params or {}).items():
        try:
            params[name] = engine.evaluate(_Probe(spec, data, engine), param["value"])
        except Exception:  # noqa: BLE001 -- not typed yet (an opinion): left out, the words do without it
            pass
    op = OPERATIONS.get(spec.operation_name)
    said = None
    if op is not None:
        try:
            if op.precheck is not None:
                blocked = op.precheck(ctx, **params)
                if blocked is not None and blocked not in walk.blocked:
                    walk.blocked.append(blocked)
            if op.preview is not None:
                data[spec.result_variable] = op.preview(ctx, **params)
            said = op.describe(ctx, **params) if op.describe is not None else None
        except Exception as exc:  # noqa: BLE001 -- cannot tell in advance: say the step's name
            log.debug("choice walk: %s at %s: %s", spec.operation_name, spec.bpmn_id, exc)
    walk.say(_name(spec) if said is None else said)
    _run_script(engine, spec, data, getattr(spec, "postscript", None))


def walk_from(spec, data: dict, ctx: Preview, engine, max_steps: int = MAX_STEPS) -> Walk:
    """What completing the user task `spec` with `data` leads to (data is the walk's own copy)."""
    walk = Walk()
    _run_script(engine, spec, data, getattr(spec, "postscript", None))
    seen: set[str] = set()
    todo = list(reversed(spec.outputs))
    steps = 0
    while todo and steps < max_steps:
        current = todo.pop()
        if current.name in seen:
            continue   # a loop back: it does not say anything new
        seen.add(current.name)
        steps += 1
        if isinstance(current, BoundaryEventMixin):
            continue   # reached by its own event, not by this task's flows
        if isinstance(current, (UserTaskMixin, ManualTaskMixin)):
            role = ROLE_TEXT.get(current.lane)
            walk.say(Message(N_("转%(role)s「%(name)s」"), role=Message(role), name=_name(current)) if role
                     else Message(N_("转「%(name)s」"), name=_name(current)))
            continue
        if isinstance(current, EndEventMixin):
            walk.say(Message(N_("办结（%(name)s）"), name=_name(current)) if current.bpmn_name
                     else Message(N_("办结")))
            continue
        if isinstance(current, (IntermediateCatchEventMixin, ReceiveTaskMixin, EventBasedGatewayMixin)):
            walk.say(Message(N_("等待「%(name)s」"), name=_name(current)))
            continue
        if isinstance(current, SubWorkflowTaskMixin):
            walk.say(Message(N_("进入「%(name)s」"), name=_name(current)))
            continue
        if isinstance(current, ScriptTaskMixin):
            _run_script(engine, current, data, current.script)
        elif isinstance(current, BusinessRuleTaskMixin):
            try:
                data.update(DeepMerge.merge(data, current.dmnEngine.result(_Probe(current, data, engine))))
            except Exception as exc:  # noqa: BLE001
                log.debug("choice walk: rule table %s: %s", current.bpmn_id, exc)
        elif isinstance(current, ServiceTask):
            _service_task(walk, engine, current, data, ctx)
        if isinstance(current, (ExclusiveGatewayMixin, InclusiveGatewayMixin)):
            nexts = _gateway_targets(engine, current, data)
        else:
            nexts = list(current.outputs)
        todo.extend(reversed(nexts))
    return walk


# -- decisions of a task --------------------------------------------------------------------------

def enum_fields(schema: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(name, title, [(value, label)]) of the form's single-choice fields, in the form's order."""
    props = schema.get("properties") or {}
    order = [n for n in schema.get("x-order") or [] if n in props]
    order += [n for n in props if n not in order]
    found = []
    for name in order:
        prop = props[name]
        if not isinstance(prop, dict) or prop.get("type") == "array" or prop.get("readOnly"):
            continue
        options = [(o["const"], o.get("title", o["const"])) for o in prop.get("oneOf", []) if "const" in o] \
            or [(v, v) for v in prop.get("enum", [])]
        if options:
            found.append((name, prop.get("title", name), options))
    return found


def decisions_at(spec, schema: dict, data: dict, make_context, engine) -> dict[str, Decision]:
    """The decision fields of the user task `spec` (whose form is `schema`), given the case's
    `data`: those whose choices lead to different things, or of which some choice is forbidden.
    `make_context(data)` gives the Preview for one walk."""
    found = {}
    for name, title, options in enum_fields(schema):
        choices = []
        for value, label in options:
            trial = copy.deepcopy(data)
            trial[name] = value
            walk = walk_from(spec, trial, make_context(trial), engine)
            choices.append(Choice(value, label, walk.text, walk.blocked))
        if len({repr(c.effect) for c in choices}) > 1 or any(c.blocked for c in choices):

            found[name] = Decision(name, title, choices)
    return found


def decisions_for(session, row, clock, settings, typed: dict | None = None) -> dict[str, Decision]:
    """The decisions of the task row `row` (a HumanTask) as its page shows them: on the case's
    data plus what was typed (`typed`, when the page is shown again after a refusal)."""
    case = session.get(Case, row.case_id)
    if case is None or not case.state or not row.form_key:
        return {}
    parsed = specs_for(session, case.definition_id)
    schema = (parsed.forms or {}).get(row.form_key)
    if not isinstance(schema, dict) or not enum_fields(schema):
        return {}
    workflow = load_state(case.state, parsed.spec, parsed.subprocess_specs)
    try:
        task = workflow.get_task_from_id(UUID(row.task_id))
    except Exception:  # noqa: BLE001 -- the task is no longer in the case: nothing to decide here
        return {}
    data = copy.deepcopy(task.data)
    data.update({k: v for k, v in (typed or {}).items() if k in (schema.get("properties") or {})})
    loaded: list = []

    def calendar() -> WorkdayCalendar:   # read once, and only if a step counts working days
        if not loaded:
            loaded.append(WorkdayCalendar.from_session(session))
        return loaded[0]
    engine = script_engine(calendar, clock, settings.script_time_limit)
    return decisions_at(task.task_spec, schema, data,
                        lambda trial: Preview(session, case, trial, clock, settings, calendar), engine)


# -- a refusal after submit, and a task gone meanwhile ---------------------------------------------

def operation_refusal(exc: BaseException | None) -> OperationError | None:
    """The operation's own refusal behind a CaseError from completing a task (the engine wraps it
    twice), if a domain rule refused: its sentence is the one the precheck gave the page."""
    for _ in range(8):
        if exc is None or isinstance(exc, OperationError):
            return exc
        exc = getattr(exc, "exception", None) or exc.__cause__
    return None


def completed_task_form(session, task_row_id: int) -> tuple[dict, int] | None:
    """(form, case id) of a task row completed meanwhile, found through its completion's audit
    event: what a page needs to show back what its user had typed. None if nothing completed it."""
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")
                            .where(AuditEvent.data["task_row_id"].as_integer() == task_row_id)
                            .order_by(AuditEvent.id.desc()).limit(1)).first()
    case = session.get(Case, event.case_id) if event is not None and event.case_id else None
    if case is None:
        return None
    parsed = specs_for(session, case.definition_id)
    for process_spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for spec in process_spec.task_specs.values():
            if spec.bpmn_id == event.data.get("task") and isinstance(spec, UserTaskMixin):
                form = (getattr(spec, "extensions", {}) or {}).get("properties", {}).get(FORM_PROPERTY)
                schema = (parsed.forms or {}).get(form or "")
                return (schema, case.id) if isinstance(schema, dict) else None
    return None
