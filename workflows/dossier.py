"""The dossier (审批单) of a task: what the applicant filed and every earlier step's decision,
opinion and proposal, each with the step's name, who and when, values shown through the forms'
titles and option labels. It is built from what is stored: the case's workflow data (the filing,
the rule tables' proposals), the audit events of completed tasks, the case that opened this one
and the record.

Which earlier fields a task shows is declared with the task, next to its form: the user task
property `dossierFields` (comma-separated field names, in the order shown). Absent, a task shows
every field of every earlier completed step. Deploy validation (engine/bundle.py) refuses a name
that no earlier form or rule table of the process provides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn.specs.mixins import UserTaskMixin as UserTask
from SpiffWorkflow.dmn.specs import BusinessRuleTaskMixin as BusinessRuleTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .accountability import POSTS
from .definitions import specs_for
from .engine.bundle import DOSSIER_PROPERTY, FORM_PROPERTY, declared_dossier_fields, start_forms
from .engine.serializer import load_state
from .identifiers import mask_citizen_id
from .models import Attachment, AuditEvent, Case, ProcessDefinition, Record, Subject, User
from .numbers import case_no
from .record_history import RecordHistory, record_history

SYSTEM = None   # shown as 系统 (the system, a rule table)


@dataclass
class Item:
    name: str
    label: str
    text: str = ""                       # the value in words (option labels, not keys)
    files: list = field(default_factory=list)   # Attachment rows, for file fields
    kind: str = "text"                   # text | long | bool | files
    value: object = None


@dataclass
class Section:
    kind: str            # person | record | filing | step | proposal
    title: str           # the step's (or form's) name
    who: str | None      # display name; None: the system
    at: datetime | None
    items: list[Item]
    case_id: int
    origin: str | None = None   # the opening case's process name, for its steps
    history: RecordHistory | None = None   # kind "history": the record's decisions and cases


# -- values in words --------------------------------------------------------------------------

def _options(prop: dict) -> dict:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    return {o["const"]: o.get("title", o["const"]) for o in source.get("oneOf", []) if "const" in o}


def _is_file(prop: dict) -> bool:
    return prop.get("x-widget") == "file" or (prop.get("type") == "array"
                                              and (prop.get("items") or {}).get("type") == "integer")


def _item(name: str, prop: dict, value, files: dict[int, Attachment]) -> Item | None:
    if value is None or value == "" or value == []:
        return None
    label = prop.get("title", name)
    if _is_file(prop):
        ids = value if isinstance(value, list) else [value]
        return Item(name, label, kind="files", files=[files[i] for i in ids if i in files], value=value)
    if isinstance(value, bool):
        return Item(name, label, kind="bool", value=value)
    options = _options(prop)
    if isinstance(value, list):
        text = "、".join(str(options.get(v, v)) for v in value)
    else:
        text = str(options.get(value, value))
    long = prop.get("x-widget") == "textarea" or (isinstance(value, str) and len(value) > 40)
    return Item(name, label, text=text, kind="long" if long else "text", value=value)


def _items(schema: dict, data: dict, names, files) -> list[Item]:
    props = schema.get("properties", {})
    found = (_item(n, props.get(n, {}), data.get(n), files) for n in names)
    return [i for i in found if i is not None]


def _ordered(schema: dict) -> list[str]:
    props = schema.get("properties", {})
    order = [n for n in schema.get("x-order") or [] if n in props]
    return order + [n for n in props if n not in order]


def _file_ids(values) -> set[int]:
    ids = set()
    for value in values:
        if isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return ids


# -- what a case holds --------------------------------------------------------------------------

@dataclass
class _Source:
    """One place fields come from: the filing, a completed step, a rule table's proposal."""
    kind: str
    title: str
    actor: str | None
    at: datetime | None
    schema: dict
    data: dict
    order: list[str]
    seq: float = 0


def _task_specs(parsed):
    for process_spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        yield from process_spec.task_specs.values()


def task_properties(parsed, bpmn_id: str) -> dict:
    for ts in _task_specs(parsed):
        if ts.bpmn_id == bpmn_id and isinstance(ts, UserTask):
            return (getattr(ts, "extensions", {}) or {}).get("properties", {})
    return {}


def _rule_outputs(ts) -> list:
    table = getattr(getattr(ts, "dmnEngine", None), "decision_table", None)
    return list(table.outputs) if table is not None else []


def _sources(session, case: Case) -> tuple[list[_Source], dict]:
    """The case's filing, completed steps and rule proposals, oldest first; and its start data."""
    parsed = specs_for(session, case.definition_id)
    forms = {k: v for k, v in (parsed.forms or {}).items() if isinstance(v, dict)}   # `true` is a schema too
    form_of = {ts.bpmn_id: (getattr(ts, "extensions", {}) or {}).get("properties", {}).get(FORM_PROPERTY)
               for ts in _task_specs(parsed) if isinstance(ts, UserTask)}
    workflow = load_state(case.state, parsed.spec, parsed.subprocess_specs) if case.state else None
    sources: list[_Source] = []
    start = None
    if workflow is not None:
        start = next((t for t in workflow.get_tasks() if t.task_spec.name == "Start"), None)
        for name in start_forms(forms, form_of.values()):
            schema = forms[name]
            if start is not None and any(start.data.get(n) not in (None, "", []) for n in schema.get("properties", {})):
                sources.append(_Source("filing", schema.get("title", name), case.started_by, case.created_at,
                                       schema, dict(start.data), _ordered(schema), seq=-1))
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                      AuditEvent.action == "task.completed")
                             .order_by(AuditEvent.id)).all()
    last_of: dict[str, AuditEvent] = {}
    for event in events:
        task = event.data.get("task")
        schema = forms.get(form_of.get(task) or "", {"properties": {}})
        sources.append(_Source("step", event.data.get("task_name") or task, event.actor, event.at, schema,
                               event.data.get("data") or {}, _ordered(schema), seq=event.id))
        last_of[task] = event
    if workflow is not None:
        sources.extend(_proposals(workflow, last_of))
    return sorted(sources, key=lambda s: s.seq), (dict(start.data) if start is not None else {})


def _proposals(workflow, last_of: dict[str, AuditEvent]) -> list[_Source]:
    """What the rule tables decided (the proposed sanctions and periods), placed after the step
    whose completion ran them; the latest run of each table."""
    found: dict[str, _Source] = {}
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        ts = task.task_spec
        outputs = _rule_outputs(ts) if isinstance(ts, BusinessRuleTask) else []
        if not outputs:
            continue
        anchor, parent = None, task.parent
        while parent is not None and anchor is None:
            if isinstance(parent.task_spec, UserTask) and parent.task_spec.bpmn_id in last_of:
                anchor = last_of[parent.task_spec.bpmn_id]
            parent = parent.parent
        schema = {"properties": {o.name: {"title": o.label or o.name} for o in outputs}}
        found[ts.bpmn_id] = _Source("proposal", ts.bpmn_name or ts.bpmn_id, None, anchor.at if anchor else None,
                                    schema, {o.name: task.data.get(o.name) for o in outputs},
                                    [o.name for o in outputs], seq=(anchor.id if anchor else 0) + 0.5)
    return list(found.values())


# -- sections -------------------------------------------------------------------------------------

def _section(source: _Source, names, files, names_shown, case_id, origin=None) -> Section | None:
    items = _items(source.schema, source.data, names, files)
    if not items:
        return None
    who = names_shown.get(source.actor, SYSTEM) if source.actor else SYSTEM
    return Section(source.kind, source.title, who, source.at, items, case_id, origin)


def _person(session, case: Case, data_post: str | None, by_roster: bool = False) -> Section | None:
    """The person concerned; named by whoever opened the case, or by the system (the roster)."""
    person = session.get(Subject, case.party_id) if case.party_id else None
    if person is None:
        return None
    items = [Item("person_name", "姓名", person.name), Item("person_code", "公民身份号码", mask_citizen_id(person.code))]
    if data_post:
        items.append(Item("post", "职务", POSTS.get(data_post, data_post)))
    opener = SYSTEM if by_roster else session.scalar(select(User.display_name).where(User.username == case.started_by))
    return Section("person", "责任人", opener, case.created_at, items, case.id)


def _record(session, record: Record) -> Section | None:
    """The record's facts as the office captured them, labelled through the capture form."""
    lifecycle = session.scalars(select(Case).where(Case.record_id == record.id).order_by(Case.id).limit(1)).first()
    forms = specs_for(session, lifecycle.definition_id).forms if lifecycle else {}
    schema = next((s for s in forms.values() if isinstance(s, dict) and "facts" in (s.get("properties") or {})),
                  {"properties": {}})
    data = {n: getattr(record, n, None) for n in ("field", "severity", "facts", "legal_basis", "decision_date")}
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
    items = _items(schema, data, list(data), {})
    creator = session.get(User, record.created_by_id) if record.created_by_id else None
    return Section("record", "失信记录", creator.display_name if creator else SYSTEM, record.created_at, items,
                   lifecycle.id if lifecycle else 0) if items else None


def _case_sections(session, case: Case, declared: list[str] | None, origin: str | None,
                   sources: list[_Source] | None = None) -> tuple[list[Section], list[_Source]]:
    sources = _sources(session, case)[0] if sources is None else sources
    files = {a.id: a for a in session.scalars(select(Attachment).where(
        Attachment.id.in_(_file_ids(v for s in sources for v in s.data.values()))))} if sources else {}
    users = {s.actor for s in sources if s.actor}
    shown = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(users))).all()) \
        if users else {}
    sections = []
    if declared is None:
        for source in sources:
            names = [n for n in source.order if n in source.schema.get("properties", {})]
            section = _section(source, names, files, shown, case.id, origin)
            if section:
                sections.append(section)
        return sections, sources
    # declared: each field from the latest source holding it, in the declared order; fields of
    # one source next to each other share its section
    groups: list[tuple[_Source, list[str]]] = []
    for name in declared:
        source = next((s for s in reversed(sources) if name in s.schema.get("properties", {})
                       and s.data.get(name) not in (None, "", [])), None)
        if source is None:
            continue
        if groups and groups[-1][0] is source:
            groups[-1][1].append(name)
        else:
            groups.append((source, [name]))
    for source, names in groups:
        section = _section(source, names, files, shown, case.id, origin)
        if section:
            sections.append(section)
    return sections, sources


def _opening_cases(session, case: Case, depth: int = 3) -> list[Case]:
    """The cases that led to this one, oldest first: the case that opened it (an application's
    record case, a review's first accountability case), else the record's own case."""
    chain, seen = [], {case.id}
    while len(chain) < depth:
        opener = session.get(Case, case.parent_case_id) if case.parent_case_id else None
        if opener is None and case.record_id is not None:
            opener = session.scalars(select(Case).where(Case.record_id == case.record_id)
                                     .order_by(Case.id).limit(1)).first()
        if opener is None or opener.id in seen:
            break
        chain.append(opener)
        seen.add(opener.id)
        case = opener
    return chain[::-1]


def dossier_for(session, row, for_subject: bool = False) -> list[Section]:
    """The sections a task's page shows above its form, for the task row `row` (a HumanTask).
    Staff see the opening case's steps, then this case's (the declared fields, or all).
    A subject (the portal) sees the record, the person concerned and what they filed themselves,
    not the office's internal opinions."""
    case = session.get(Case, row.case_id)
    parsed = specs_for(session, case.definition_id)
    declared = declared_dossier_fields(task_properties(parsed, row.bpmn_id).get(DOSSIER_PROPERTY))
    sources, start = _sources(session, case)
    sections: list[Section] = []
    record = session.get(Record, case.record_id) if case.record_id else None
    if for_subject:
        if record is not None:
            sections.append(_record(session, record))
        sections.append(_person(session, case, start.get("post"), bool(start.get("by_roster"))))
        filed, _ = _case_sections(session, case, None, None, [s for s in sources if s.kind == "filing"])
        sections.extend(filed)
        sections.append(_history(session, record, case, True, row.subject_id))
        return [s for s in sections if s is not None]
    for opener in _opening_cases(session, case):
        name = session.scalar(select(ProcessDefinition.name).where(ProcessDefinition.id == opener.definition_id))
        opened, _ = _case_sections(session, opener, None, f"{name} {case_no(opener)}")
        sections.extend(opened)
    person = _person(session, case, start.get("post"), bool(start.get("by_roster")))
    if person is not None:
        sections.append(person)
    own, _ = _case_sections(session, case, declared, None, sources)
    sections.extend(own)
    history = _history(session, record, case)
    return sections + [history] if history else sections


def _history(session, record: Record | None, case: Case, for_subject: bool = False,
             subject_id: int | None = None) -> Section | None:
    """The record's earlier decisions and its other cases, when it has any (for the portal, the
    viewing subject's own only: a subject's task row names its subject)."""
    if record is None or (for_subject and subject_id is None):
        return None
    history = record_history(session, record, case.id, subject_id if for_subject else None)
    return Section("history", "记录的历次决定和申请", None, None, [], case.id, history=history) if history else None

