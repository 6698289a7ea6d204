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
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins import UserTaskMixin as UserTask
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin as BusinessRuleTask
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from ..messages import Message, N_
from .prescan import not_deployable, prescan, processes_of
from .problems import InvalidBundle, Problem, named
from .safexml import BPMN_NS, decode_utf8, parse_xml
from .spec_checks import (DOSSIER_PROPERTY, DUE_AT_PROPERTY, DUE_PROPERTY, FORM_PROPERTY, STAFF_LANES,  # noqa: F401
                          check_decision_tables, check_task_spec, decision_tables)
from .loop_shapes import loop_problems
from .structure import check_structure
from .timers import CredflowBpmnParser


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


def _parser_for(bpmn_files: dict[str, str], dmn_files: dict[str, str], validate: bool = True) -> CredflowBpmnParser:
    """`validate=False` when the prescan has already held the files against the BPMN schema."""
    parser = CredflowBpmnParser(validator=VALIDATOR if validate else None)   # timers on the engine's clock
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
        reason = Message(N_("流程图无法解析（第 %(line)s 行）：%(detail)s"), line=exc.line_number,
                         detail=str(exc).strip()) if exc.line_number else \
            Message(N_("流程图无法解析：%(detail)s"), detail=str(exc).strip())
        return Problem(exc.file_name or default_file, element, reason, exc.name if exc.id else "",
                       exc.line_number or 0)
    spec = getattr(getattr(exc, "task_spec", None), "bpmn_id", None) or ""
    return Problem(default_file, spec, Message(N_("流程图无法解析：%(detail)s"), detail=str(exc).strip()))


def read_folder(bpmn_dir: Path, forms_dir: Path) -> list[Bundle]:
    """One bundle per executable process found in the folder's .bpmn files; InvalidBundle names
    every file that cannot be read or holds no executable process."""
    bundles, problems = read_folder_report(bpmn_dir, forms_dir)
    if problems:
        raise InvalidBundle(named(problems, {}))
    return bundles


def read_folder_report(bpmn_dir: Path, forms_dir: Path) -> tuple[list[Bundle], list[Problem]]:
    """The bundles of a folder, and the problems of the files that give none (all files are read)."""
    problems, dmn_files, bundles = [], {}, []
    for path in sorted(bpmn_dir.glob("*.dmn")):
        try:
            dmn_files[path.name] = decode_utf8(path.name, path.read_bytes())
        except InvalidBundle as exc:
            problems.extend(exc.problems)
    paths = sorted(bpmn_dir.glob("*.bpmn"))
    if not paths:
        problems.append(Problem(bpmn_dir.name, "", Message(N_("文件夹 %(folder)s 中没有 .bpmn 文件"),
                                                           folder=str(bpmn_dir))))
    for path in paths:
        try:
            text = decode_utf8(path.name, path.read_bytes())
            processes = processes_of(path.name, text)
            problems.extend(not_deployable(path.name, processes))
            for key, _name, executable in processes:
                if executable:
                    bundles.append(bundle_for(key, {path.name: text}, dmn_files, forms_dir / key))
        except InvalidBundle as exc:
            problems.extend(exc.problems)
    return bundles, problems


def bundle_for(key: str, bpmn_files: dict[str, str], dmn_files: dict[str, str], forms_dir: Path) -> Bundle:
    forms = {}
    if forms_dir.is_dir():
        for p in sorted(forms_dir.glob("*.json")):
            try:
                forms[p.name] = json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise InvalidBundle([Problem(f"forms/{key}/{p.name}", "", Message(
                    N_("表单文件不是有效的 JSON：%(detail)s"), detail=str(exc)), line=exc.lineno)]) from None
    name = next((n for file, text in bpmn_files.items() for pid, n, _ in processes_of(file, text) if pid == key), "")
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
    if not check:
        try:
            parser = _parser_for(bundle.bpmn_files, bundle.dmn_files)
            return ParsedBundle(parser.get_spec(bundle.key), parser.get_subprocess_specs(bundle.key))
        except (ValidationException, SpiffWorkflowException, KeyError, ValueError) as exc:
            raise InvalidBundle([_problem_from(exc, main_file)]) from None
    # Everything is looked at before anything is refused: the prescan (constructs the parser would
    # stop at, and what credflow refuses), the structure, then the parsed specs.
    problems, names, texts, executable, structural = [], {}, {}, set(), []
    for name, text in bundle.bpmn_files.items():
        try:
            report = prescan(name, text)
        except InvalidBundle as exc:   # not readable XML: nothing more to say about this file
            problems.extend(exc.problems)
            continue
        names[name], texts[name] = report.names, report.parser_text
        executable.update(report.executable)
        problems.extend(report.problems)
        found = check_structure(name, text)
        structural.extend(found)
        problems.extend(found)
    if len(texts) < len(bundle.bpmn_files):
        raise InvalidBundle(named(problems, names))
    if bundle.key not in executable:
        problems.append(Problem(main_file, bundle.key, N_("没有此 id 的可执行流程")))
        raise InvalidBundle(named(problems, names))
    try:
        parser = _parser_for(texts, bundle.dmn_files, validate=False)
        spec = parser.get_spec(bundle.key)
        subprocess_specs = parser.get_subprocess_specs(bundle.key)
    except InvalidBundle as exc:
        raise InvalidBundle(named(problems + exc.problems, names)) from None
    except (ValidationException, SpiffWorkflowException, KeyError, ValueError) as exc:
        parse_problem = _problem_from(exc, main_file)
        if not structural and parse_problem.element not in {p.element for p in problems if p.element}:
            problems.append(parse_problem)   # (a broken structure explains the parser's error itself)
        raise InvalidBundle(named(problems, names)) from None
    for form_name, schema in bundle.forms.items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            problems.append(Problem(f"forms/{bundle.key}/{form_name}", "", Message(
                N_("表单不是有效的 JSON Schema：%(detail)s"), detail=exc.message)))
    tables_checked: set[str] = set()
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            problems.extend(check_task_spec(task_spec, bundle, operations, main_file))
            if isinstance(task_spec, BusinessRuleTask):
                problems.extend(check_decision_tables(task_spec, bundle, tables_checked))
    problems.extend(_check_dossiers([spec, *subprocess_specs.values()], bundle, main_file))
    if messages is not None:
        problems.extend(_check_messages([spec, *subprocess_specs.values()], messages, main_file))
    problems.extend(loop_problems(spec, subprocess_specs, main_file))   # loops whose history cannot be compacted
    if problems:
        raise InvalidBundle(named(problems, names))
    return ParsedBundle(spec, subprocess_specs)


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
        return {o.name for t in decision_tables(ts) for o in t.outputs}
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
                    problems.append(Problem(file, ts.bpmn_id or "", Message(
                        N_("审批单字段 '%(field)s' 不是此前任何表单的字段（%(property)s；此前的字段：%(known)s）"),
                        field=name, property=DOSSIER_PROPERTY, known=", ".join(sorted(known)) or Message(N_("无")))))
    return problems


def _check_messages(process_specs, delivered: set[str], file: str) -> list[Problem]:
    """Every message a catch event waits for must be one the system delivers or the bundle throws."""
    def message_events(kind):
        return [ts for p in process_specs for ts in p.task_specs.values()
                if isinstance(ts, kind) and isinstance(ts.event_definition, MessageEventDefinition)]
    known = delivered | {ts.event_definition.name for ts in message_events(ThrowingEvent)}
    return [Problem(file, ts.bpmn_id or "", Message(
                N_("没有任何环节发送消息 '%(message)s'，此事件将永远等待（credflow 投递的消息：%(delivered)s）"),
                message=ts.event_definition.name, delivered=", ".join(sorted(delivered)) or Message(N_("无"))))
            for ts in message_events(CatchingEvent) if ts.event_definition.name not in known]


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
