"""A deployable bundle (one process: its BPMN, the DMN it calls, its forms), parsed and checked.

Everything a manager can get wrong is found here, before anything is written: malformed XML,
references to missing elements, scripts and expressions the sandbox refuses, user tasks without
a form or outside a role's lane, service tasks calling unknown operations.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins import (ExclusiveGatewayMixin as ExclusiveGateway,
                                             InclusiveGatewayMixin as InclusiveGateway,
                                             ScriptTaskMixin as ScriptTask, UserTaskMixin as UserTask)
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin as BusinessRuleTask
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR

from ..models import ROLES
from ..sandbox import SandboxError, check_expression, check_script

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueInWorkdays"
DUE_AT_PROPERTY = "dueAt"
STAFF_LANES = set(ROLES) - {"manager"}


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    reason: str

    def __str__(self):
        where = f"{self.file}" + (f", element '{self.element}'" if self.element else "")
        return f"{where}: {self.reason}"


class InvalidBundle(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class Bundle:
    key: str
    name: str
    bpmn_files: dict[str, str]
    dmn_files: dict[str, str] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        canonical = json.dumps([self.key, self.bpmn_files, self.dmn_files, self.forms],
                               sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _parser_for(bpmn_files: dict[str, str], dmn_files: dict[str, str]) -> SpiffBpmnParser:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in sorted(bpmn_files.items()):
        parser.add_bpmn_xml(_parse_xml(name, text), filename=name)
    for name, text in sorted(dmn_files.items()):
        parser.add_dmn_xml(_parse_xml(name, text), filename=name)
    return parser


def _parse_xml(name: str, text: str):
    try:
        return etree.fromstring(text.encode())
    except etree.XMLSyntaxError as exc:
        raise InvalidBundle([Problem(name, "", f"malformed XML: {exc}")]) from None


def _problem_from(exc: Exception, default_file: str) -> Problem:
    if isinstance(exc, ValidationException):
        element = exc.id or exc.name or exc.tag
        line = f" (line {exc.line_number})" if exc.line_number else ""
        return Problem(exc.file_name or default_file, element, f"{exc}{line}")
    spec = getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or ""
    return Problem(default_file, spec, str(exc))


def read_folder(bpmn_dir: Path, forms_dir: Path) -> list[Bundle]:
    """One bundle per executable process found in the folder's .bpmn files."""
    dmn_files = {p.name: p.read_text(encoding="utf-8") for p in sorted(bpmn_dir.glob("*.dmn"))}
    bundles = []
    for path in sorted(bpmn_dir.glob("*.bpmn")):
        text = path.read_text(encoding="utf-8")
        parser = _parser_for({path.name: text}, {})
        for key in parser.get_process_ids():
            bundles.append(bundle_for(key, {path.name: text}, dmn_files, forms_dir / key))
    return bundles


def bundle_for(key: str, bpmn_files: dict[str, str], dmn_files: dict[str, str], forms_dir: Path) -> Bundle:
    forms = {}
    if forms_dir.is_dir():
        for p in sorted(forms_dir.glob("*.json")):
            try:
                forms[p.name] = json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise InvalidBundle([Problem(f"forms/{key}/{p.name}", "", f"invalid JSON: {exc}")]) from None
    parser = _parser_for(bpmn_files, {})
    name = parser.get_process_parser(key).get_name() if key in parser.process_parsers else key
    return Bundle(key, name or key, dict(bpmn_files), used_dmn(bpmn_files, dmn_files), forms)


def used_dmn(bpmn_files: dict[str, str], dmn_files: dict[str, str]) -> dict[str, str]:
    """Only the DMN files whose decision ids the BPMN names, so unrelated edits don't version it."""
    text = "".join(bpmn_files.values())
    used = {}
    for name, dmn in dmn_files.items():
        ids = etree.fromstring(dmn.encode()).xpath("//*[local-name()='decision']/@id")
        if any(f">{i}<" in text or f'"{i}"' in text for i in ids):
            used[name] = dmn
    return used


@dataclass
class ParsedBundle:
    spec: object
    subprocess_specs: dict
    forms: dict = field(default_factory=dict)


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _check_ids(name: str, text: str) -> list[Problem]:
    """Duplicate ids and flows to nowhere, which SpiffWorkflow reports confusingly or not at all."""
    root = _parse_xml(name, text)
    problems, seen = [], set()
    extension_ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str)
                     and not el.tag.startswith("{" + BPMN_NS) and el.get("id")
                     and "spiffworkflow" in el.tag}
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = el.get("id")
        if not element_id:
            continue
        if element_id in seen:
            problems.append(Problem(name, element_id, "this id is used by two elements"))
        elif element_id in extension_ids:
            problems.append(Problem(name, element_id, "this id is also a service operation's or parameter's id "
                                                      "inside the diagram; give the element another id"))
        seen.add(element_id)
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref and ref not in seen:
                problems.append(Problem(name, flow.get("id", ""), f"the sequence flow's {end} '{ref}' does not exist"))
    return problems


def parse_bundle(bundle: Bundle, operations: set[str]) -> ParsedBundle:
    """Parse and check a bundle; raise InvalidBundle listing every problem found."""
    main_file = next(iter(bundle.bpmn_files), "")
    id_problems = [p for name, text in bundle.bpmn_files.items() for p in _check_ids(name, text)]
    if id_problems:
        raise InvalidBundle(id_problems)
    try:
        parser = _parser_for(bundle.bpmn_files, bundle.dmn_files)
        if bundle.key not in parser.get_process_ids():
            raise InvalidBundle([Problem(main_file, bundle.key, "no executable process with this id")])
        spec = parser.get_spec(bundle.key)
        subprocess_specs = parser.get_subprocess_specs(bundle.key)
    except InvalidBundle:
        raise
    except (ValidationException, SpiffWorkflowException, KeyError, ValueError) as exc:
        raise InvalidBundle([_problem_from(exc, main_file)]) from None
    problems = []
    for form_name, schema in bundle.forms.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(Problem(f"forms/{bundle.key}/{form_name}", "", f"invalid JSON Schema: {exc.message}"))
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            problems.extend(_check_task_spec(task_spec, bundle, operations, main_file))
    if problems:
        raise InvalidBundle(problems)
    return ParsedBundle(spec, subprocess_specs)


def _check_task_spec(ts, bundle: Bundle, operations: set[str], file: str) -> list[Problem]:
    problems = []
    element = ts.bpmn_id or ""
    if not element:
        return problems

    def check(source, what, checker=check_expression):
        try:
            checker(str(source))
        except SandboxError as exc:
            problems.append(Problem(file, element, f"{what}: {exc}"))

    lane = getattr(ts, "lane", None)
    if lane is not None and lane not in STAFF_LANES:
        problems.append(Problem(file, element, f"lane '{lane}' is not a role ({', '.join(sorted(STAFF_LANES))})"))
    extensions = getattr(ts, "extensions", {}) or {}
    if isinstance(ts, UserTask):
        if lane is None:
            problems.append(Problem(file, element, "user task is in no lane, so no role can work it"))
        form = extensions.get("properties", {}).get(FORM_PROPERTY)
        if not form:
            problems.append(Problem(file, element, f"user task has no form (property {FORM_PROPERTY})"))
        elif form not in bundle.forms:
            problems.append(Problem(file, element, f"form forms/{bundle.key}/{form} does not exist"))
        due = extensions.get("properties", {}).get(DUE_PROPERTY)
        if due is not None and not str(due).isdigit():
            problems.append(Problem(file, element, f"{DUE_PROPERTY} must be a whole number of working days"))
        if extensions.get("properties", {}).get(DUE_AT_PROPERTY):
            check(extensions["properties"][DUE_AT_PROPERTY], DUE_AT_PROPERTY)
    for key in ("preScript", "postScript"):
        if extensions.get(key):
            check(extensions[key], key, check_script)
    if isinstance(ts, ScriptTask):
        check(ts.script, "script", check_script)
    if isinstance(ts, ServiceTask):
        if ts.operation_name not in operations:
            problems.append(Problem(file, element, f"unknown service operation '{ts.operation_name}'"))
        for name, param in (ts.operation_params or {}).items():
            check(param.get("value", ""), f"parameter '{name}'")
    if isinstance(ts, (ExclusiveGateway, InclusiveGateway)):
        for condition, target in ts.cond_task_specs:
            if condition is not None:
                check(condition.args[0], f"condition towards '{target}'")
    if isinstance(ts, CatchingEvent):
        event = ts.event_definition
        if isinstance(event, TimerEventDefinition):
            check(event.expression, "timer expression")
    if isinstance(ts, BusinessRuleTask):
        for table in _decision_tables(ts):
            for rule in table.rules:
                for entry in rule.outputEntries:
                    if entry.text:
                        check(entry.text, f"DMN output cell of rule '{rule.id}'")
    return problems


def _decision_tables(ts):
    engine = getattr(ts, "dmnEngine", None)
    table = getattr(engine, "decision_table", None)
    return [table] if table is not None else []


_PARSED: dict[tuple[str, int], ParsedBundle] = {}


def clear_spec_cache() -> None:
    """For tests that recreate a database whose definition ids start again from 1."""
    _PARSED.clear()


def specs_for_definition(session, definition_id: int, operations: set[str]) -> ParsedBundle:
    """Parsed specs of a stored definition version (immutable), parsed once per process."""
    key = (str(session.bind.url), definition_id)
    parsed = _PARSED.get(key)
    if parsed is None:
        from ..models import ProcessDefinition
        d = session.get(ProcessDefinition, definition_id)
        parsed = parse_bundle(Bundle(d.key, d.name, d.bpmn_files, d.dmn_files, d.forms), operations)
        parsed.forms = d.forms
        _PARSED[key] = parsed
    return parsed
