"""A deployable bundle (one process: its BPMN, the DMN it calls, its forms), parsed and checked.

Everything a manager can get wrong is found here, before anything is written: malformed XML,
references to missing elements, scripts and expressions the sandbox refuses, user tasks without
a form or outside a role's lane, service tasks calling unknown operations.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins import (ExclusiveGatewayMixin as ExclusiveGateway,
                                             InclusiveGatewayMixin as InclusiveGateway,
                                             ScriptTaskMixin as ScriptTask, UserTaskMixin as UserTask)
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin as BusinessRuleTask
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, VALIDATOR

from ..models import ROLES
from .problems import InvalidBundle, Problem
from .safexml import BPMN_NS, decode_utf8, parse_xml
from .structure import check_structure
from ..sandbox import SandboxError, check_expression, check_script

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueInWorkdays"
DUE_AT_PROPERTY = "dueAt"
DOSSIER_PROPERTY = "dossierFields"   # the earlier fields a task's dossier shows, comma-separated, in order
STAFF_LANES = set(ROLES) - {"manager"}


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
        parser.add_bpmn_xml(parse_xml(name, text, BPMN_NS), filename=name)
    for name, text in sorted(dmn_files.items()):
        parser.add_dmn_xml(parse_xml(name, text, "dmn"), filename=name)
    return parser


# Every BPMN and DMN text credflow reads goes through this parser. lxml 5+ already declines to
# load external entities and DTDs by default; being explicit keeps it so whatever the version,
# and a DOCTYPE is refused outright: no BPMN or DMN tool writes one, and one is how entity
# bombs (billion laughs) and XXE reach a parser. huge_tree stays off (depth and size limits).
def _problem_from(exc: Exception, default_file: str) -> Problem:
    if isinstance(exc, ValidationException):
        element = exc.id or exc.name or exc.tag
        line = f" (line {exc.line_number})" if exc.line_number else ""
        return Problem(exc.file_name or default_file, element, f"{exc}{line}")
    spec = getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or ""
    return Problem(default_file, spec, str(exc))


def read_folder(bpmn_dir: Path, forms_dir: Path) -> list[Bundle]:
    """One bundle per executable process found in the folder's .bpmn files."""
    dmn_files = {p.name: decode_utf8(p.name, p.read_bytes()) for p in sorted(bpmn_dir.glob("*.dmn"))}
    bundles = []
    for path in sorted(bpmn_dir.glob("*.bpmn")):
        text = decode_utf8(path.name, path.read_bytes())
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
                raise InvalidBundle([Problem(f"forms/{key}/{p.name}", "",
                                             f"表单文件不是有效的 JSON / invalid JSON: {exc}")]) from None
    parser = _parser_for(bpmn_files, {})
    name = parser.get_process_parser(key).get_name() if key in parser.process_parsers else key
    return Bundle(key, name or key, dict(bpmn_files), used_dmn(bpmn_files, dmn_files), forms)


def used_dmn(bpmn_files: dict[str, str], dmn_files: dict[str, str]) -> dict[str, str]:
    """Only the DMN files whose decision ids the BPMN names, so unrelated edits don't version it."""
    text = "".join(bpmn_files.values())
    used = {}
    for name, dmn in dmn_files.items():
        ids = parse_xml(name, dmn, "dmn").xpath("//*[local-name()='decision']/@id")
        if any(f">{i}<" in text or f'"{i}"' in text for i in ids):
            used[name] = dmn
    return used


@dataclass
class ParsedBundle:
    spec: object
    subprocess_specs: dict
    forms: dict = field(default_factory=dict)


def parse_bundle(bundle: Bundle, operations: set[str], check: bool = True,
                 messages: set[str] | None = None) -> ParsedBundle:
    """Parse and check a bundle; raise InvalidBundle listing every problem found. `check=False`
    only parses: for stored versions, checked when deployed, whose running cases must not be
    stopped by a check added since. `messages`: the names the system delivers to cases; a message
    event waiting for another name (that the bundle does not throw itself) is refused."""
    main_file = next(iter(bundle.bpmn_files), "")
    id_problems = [p for name, text in bundle.bpmn_files.items() for p in check_structure(name, text)] if check else []
    if id_problems:
        raise InvalidBundle(id_problems)
    try:
        parser = _parser_for(bundle.bpmn_files, bundle.dmn_files)
        if bundle.key not in parser.get_process_ids():
            raise InvalidBundle([Problem(main_file, bundle.key, "没有此 id 的可执行流程 / no executable process with this id")])
        spec = parser.get_spec(bundle.key)
        subprocess_specs = parser.get_subprocess_specs(bundle.key)
    except InvalidBundle:
        raise
    except (ValidationException, SpiffWorkflowException, KeyError, ValueError) as exc:
        raise InvalidBundle([_problem_from(exc, main_file)]) from None
    if not check:
        return ParsedBundle(spec, subprocess_specs)
    problems = []
    for form_name, schema in bundle.forms.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(Problem(f"forms/{bundle.key}/{form_name}", "",
                                    f"表单不是有效的 JSON Schema / invalid JSON Schema: {exc.message}"))
    tables_checked: set[str] = set()
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            problems.extend(_check_task_spec(task_spec, bundle, operations, main_file))
            if isinstance(task_spec, BusinessRuleTask):
                problems.extend(_check_decision_tables(task_spec, bundle, tables_checked))
    problems.extend(_check_dossiers([spec, *subprocess_specs.values()], bundle, main_file))
    if messages is not None:
        problems.extend(_check_messages([spec, *subprocess_specs.values()], messages, main_file))
    if problems:
        raise InvalidBundle(list(dict.fromkeys(problems)))
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
        problems.append(Problem(file, element, f"泳道 '{lane}' 不是角色 / lane '{lane}' is not a role "
                                              f"({', '.join(sorted(STAFF_LANES))})"))
    extensions = getattr(ts, "extensions", {}) or {}
    if isinstance(ts, UserTask):
        if lane is None:
            problems.append(Problem(file, element, "用户任务不在任何泳道中，没有角色能办理 / "
                                                  "user task is in no lane, so no role can work it"))
        form = extensions.get("properties", {}).get(FORM_PROPERTY)
        if not form:
            problems.append(Problem(file, element, f"用户任务没有表单 / user task has no form (property {FORM_PROPERTY})"))
        elif form not in bundle.forms:
            problems.append(Problem(file, element, f"表单文件不存在 / form forms/{bundle.key}/{form} does not exist"))
        due = extensions.get("properties", {}).get(DUE_PROPERTY)
        if due is not None and not str(due).isdigit():
            problems.append(Problem(file, element, f"办理期限须为整数个工作日 / "
                                                  f"{DUE_PROPERTY} must be a whole number of working days"))
        if extensions.get("properties", {}).get(DUE_AT_PROPERTY):
            check(extensions["properties"][DUE_AT_PROPERTY], DUE_AT_PROPERTY)
    for key in ("preScript", "postScript"):
        if extensions.get(key):
            check(extensions[key], key, check_script)
    if isinstance(ts, ScriptTask):
        check(ts.script, "script", check_script)
    if isinstance(ts, ServiceTask):
        if ts.operation_name not in operations:
            problems.append(Problem(file, element, f"未知的服务操作 / unknown service operation '{ts.operation_name}'"))
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
    if isinstance(ts, ThrowingEvent) and isinstance(getattr(ts.event_definition, "expression", None), str):
        check(ts.event_definition.expression, "event payload expression")
    if isinstance(ts, StandardLoopTask) and ts.condition:
        check(ts.condition, "loop condition")
    if isinstance(ts, MultiInstanceTask):
        if isinstance(ts.cardinality, str) and ts.cardinality:
            check(ts.cardinality, "loop cardinality")
        if ts.condition:
            check(ts.condition, "completion condition")
    return problems


def declared_dossier_fields(value) -> list[str] | None:
    """`dossierFields` as a list of names; None when absent (the default: every earlier field)."""
    if value is None or not str(value).strip():
        return None
    return list(dict.fromkeys(n.strip() for n in str(value).replace("，", ",").split(",") if n.strip()))


def start_forms(forms: dict, used) -> list[str]:
    """Forms no user task uses: what an applicant files to start the case (start.json)."""
    used = set(used)
    return [name for name in sorted(forms) if name not in used]


def _form_fields(schema) -> set[str]:
    """A form's field names (none for a form that is not even an object: refused on its own)."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    return set(props) if isinstance(props, dict) else set()


def _fields_of_spec(ts, bundle: Bundle) -> set[str]:
    if isinstance(ts, UserTask):
        form = (getattr(ts, "extensions", {}) or {}).get("properties", {}).get(FORM_PROPERTY)
        return _form_fields(bundle.forms.get(form or ""))
    if isinstance(ts, BusinessRuleTask):
        return {o.name for t in _decision_tables(ts) for o in t.outputs}
    return set()


def _earlier_fields(ts, process_specs, owner: dict, bundle: Bundle) -> set[str]:
    """Fields of every form (and rule table output) on a path leading to `ts`; a task inside a
    subprocess also sees what precedes the subprocess."""
    seen, todo, fields = set(), list(ts.inputs), set()
    while todo:
        spec = todo.pop()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        fields |= _fields_of_spec(spec, bundle)
        todo.extend(spec.inputs)
        if not spec.inputs:   # a start: what calls this (sub)process comes before it
            todo.extend(t for p in process_specs for t in p.task_specs.values()
                        if getattr(t, "spec", None) == owner.get(id(spec)))
    return fields


def _check_dossiers(process_specs, bundle: Bundle, file: str) -> list[Problem]:
    """Every field a task's dossier names is a field of an earlier form, a start form or an
    earlier rule table's output."""
    owner = {id(t): p.name for p in process_specs for t in p.task_specs.values()}
    used = [(getattr(t, "extensions", {}) or {}).get("properties", {}).get(FORM_PROPERTY)
            for p in process_specs for t in p.task_specs.values() if isinstance(t, UserTask)]
    filed = {n for name in start_forms(bundle.forms, used) for n in _form_fields(bundle.forms[name])}
    problems = []
    for process_spec in process_specs:
        for ts in process_spec.task_specs.values():
            declared = declared_dossier_fields((getattr(ts, "extensions", {}) or {}).get("properties", {})
                                               .get(DOSSIER_PROPERTY)) if isinstance(ts, UserTask) else None
            if not declared:
                continue
            known = filed | _earlier_fields(ts, process_specs, owner, bundle)
            for name in declared:
                if name not in known:
                    problems.append(Problem(file, ts.bpmn_id or "", (
                        f"审批单字段 '{name}' 不是此前任何表单的字段 / {DOSSIER_PROPERTY} names '{name}', which no "
                        f"earlier form of this process has (earlier fields: {', '.join(sorted(known)) or 'none'})")))
    return problems


def _check_messages(process_specs, delivered: set[str], file: str) -> list[Problem]:
    """Every message a catch event waits for must be one the system delivers or the bundle throws."""
    def message_events(kind):
        return [ts for p in process_specs for ts in p.task_specs.values()
                if isinstance(ts, kind) and isinstance(ts.event_definition, MessageEventDefinition)]
    known = delivered | {ts.event_definition.name for ts in message_events(ThrowingEvent)}
    return [Problem(file, ts.bpmn_id or "", f"没有任何环节发送消息 '{ts.event_definition.name}'，此事件将永远等待 / "
                                            f"nothing sends the message '{ts.event_definition.name}', so this event "
                                            f"would wait forever (messages credflow delivers: "
                                            f"{', '.join(sorted(delivered)) or 'none'})")
            for ts in message_events(CatchingEvent) if ts.event_definition.name not in known]


def _decision_tables(ts):
    engine = getattr(ts, "dmnEngine", None)
    table = getattr(engine, "decision_table", None)
    return [table] if table is not None else []


def _dmn_file_of(table, bundle: Bundle) -> str:
    for name, text in bundle.dmn_files.items():
        if f'id="{table.id}"' in text:
            return name
    return next(iter(bundle.dmn_files), "")


# How SpiffWorkflow's DMNEngine turns an input cell into an expression: `?` (outside quotes) is the
# input's value; otherwise `input == cell` when the cell parses alone, else `input cell` ("< 100").
_DMN_QUESTION_MARK = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')


def _check_input_cell(text: str) -> None:
    cell = _DMN_QUESTION_MARK.sub("dmninputexpr", text)
    if "dmninputexpr" in cell:
        check_expression(cell)
        return
    try:
        check_expression(f"(dmninputexpr) == ({cell})")
    except SandboxError as first:
        try:
            check_expression(f"dmninputexpr {cell}")
        except SandboxError:
            raise first from None


def _check_decision_tables(ts, bundle: Bundle, checked: set[str]) -> list[Problem]:
    """Every cell and input expression of the tables a business rule task calls, named by the DMN
    file and the cell's id (each table once, however many tasks call it)."""
    problems = []
    for table in _decision_tables(ts):
        if table.id in checked:
            continue
        checked.add(table.id)
        file = _dmn_file_of(table, bundle)

        def check(element, source, what, checker=check_expression):
            try:
                checker(str(source))
            except SandboxError as exc:
                problems.append(Problem(file, element, f"{what}: {exc}"))

        for column in table.inputs:
            if column.expression:
                check(column.id, column.expression, "DMN input expression")
        for rule in table.rules:
            for entry in rule.inputEntries:
                for text in entry.lhs:
                    if text and text.strip() not in ("", "-"):
                        check(entry.id or rule.id, text, f"DMN input cell of rule '{rule.id}'", _check_input_cell)
            for entry in rule.outputEntries:
                if entry.text:
                    check(entry.id or rule.id, entry.text, f"DMN output cell of rule '{rule.id}'")
    return problems


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
        parsed = parse_bundle(Bundle(d.key, d.name, d.bpmn_files, d.dmn_files, d.forms), operations, check=False)
        parsed.forms = d.forms
        _PARSED[key] = parsed
    return parsed
