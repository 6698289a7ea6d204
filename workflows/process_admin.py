"""What process managers do: see versions, edit a draft in the browser, validate, deploy, upload
a diagram drawn elsewhere. Every change is audited; an invalid bundle deploys nothing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .definitions import deploy_bundle, latest_definition
from .engine.bundle import Bundle, parse_bundle, used_dmn
from .engine.problems import InvalidBundle, Problem
from .engine.safexml import BPMN_NS, decode_utf8, parse_xml
from .models import Case, ProcessDefinition, ProcessDraft
from .operations import MESSAGES, OPERATIONS

MAX_XML_BYTES = 2 * 1024 * 1024
# BPMN elements SpiffWorkflow parses but credflow does not run (no engine support, or no way for a
# person or an operation to act on them here)
UNSUPPORTED = {
    "complexGateway": "复杂网关 / complex gateways are not supported",
    "transaction": "事务子流程 / transaction subprocesses are not supported",
    "compensateEventDefinition": "补偿事件 / compensation is not supported",
    "conditionalEventDefinition": "条件事件 / conditional events are not supported",
    "signalEventDefinition": "信号事件 / signals are not supported; use messages",
    "callActivity": "调用活动 / call activities are not supported; use a sub-case",
    "sendTask": "发送任务 / send tasks are not supported; use a service task",
    "receiveTask": "接收任务 / receive tasks are not supported; use a message catch event",
    "dataStoreReference": "数据存储 / data stores are not supported",
}


@dataclass
class VersionRow:
    definition: ProcessDefinition
    running_cases: int
    all_cases: int


def process_versions(session) -> dict[str, list[VersionRow]]:
    per_version = select(Case.definition_id, func.count()).group_by(Case.definition_id)
    totals = dict(session.execute(per_version).all())
    running = dict(session.execute(per_version.where(Case.status == "running")).all())
    result: dict[str, list[VersionRow]] = {}
    for d in session.scalars(select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version.desc())):
        result.setdefault(d.key, []).append(VersionRow(d, running.get(d.id, 0), totals.get(d.id, 0)))
    return result


def main_file(definition: ProcessDefinition) -> tuple[str, str]:
    return next(iter(definition.bpmn_files.items()))


def load_draft(session, key: str) -> dict:
    """The draft being edited, or the latest version as a starting point."""
    draft = session.get(ProcessDraft, key)
    latest = latest_definition(session, key)
    if draft is not None:
        return {"bpmn_xml": draft.bpmn_xml, "forms": draft.forms, "base_version": draft.base_version,
                "saved_at": draft.saved_at.isoformat(), "saved_by": draft.saved_by, "is_draft": True}
    if latest is None:
        raise LookupError(f"no process '{key}'")
    return {"bpmn_xml": main_file(latest)[1], "forms": latest.forms, "base_version": latest.version,
            "saved_at": None, "saved_by": None, "is_draft": False}


def _check_size(bpmn_xml: str, file_name: str = "diagram") -> None:
    if not isinstance(bpmn_xml, str) or not bpmn_xml.strip():
        raise InvalidBundle([Problem(file_name, "", "流程图为空 / the diagram is empty")])
    try:
        size = len(bpmn_xml.encode("utf-8"))
    except UnicodeEncodeError as exc:   # a lone surrogate ("\ud800") sent in the JSON
        raise InvalidBundle([Problem(file_name, "", f"文本不是有效的 UTF-8 / the diagram is not valid UTF-8 text "
                                                    f"({exc.reason} at character {exc.start})")]) from None
    if "\x00" in bpmn_xml:
        raise InvalidBundle([Problem(file_name, "", "流程图含 NUL 字符 / the diagram contains a NUL character")])
    if size > MAX_XML_BYTES:
        raise InvalidBundle([Problem(file_name, "", "流程图超过 2 MB / the diagram is larger than 2 MB")])


def save_draft(uow, key: str, bpmn_xml: str, forms: dict) -> ProcessDraft:
    latest = latest_definition(uow.session, key)
    _check_size(bpmn_xml, main_file(latest)[0] if latest else f"{key}.bpmn")
    if not isinstance(forms, dict):
        raise InvalidBundle([Problem("forms", "", "表单须为“文件名 -> JSON Schema”对象 / "
                                                   "forms must be an object of file name -> JSON Schema")])
    draft = uow.session.get(ProcessDraft, key)
    if draft is None:
        draft = ProcessDraft(key=key, bpmn_xml=bpmn_xml, forms=forms, base_version=latest.version if latest else None,
                             saved_by=uow.actor.name, saved_at=uow.clock.now())
        uow.session.add(draft)
    else:
        draft.bpmn_xml, draft.forms, draft.saved_by, draft.saved_at = bpmn_xml, forms, uow.actor.name, uow.clock.now()
    uow.audit("definition.draft_saved", key=key, bytes=len(bpmn_xml))
    return draft


def discard_draft(uow, key: str) -> None:
    draft = uow.session.get(ProcessDraft, key)
    if draft is not None:
        uow.session.delete(draft)
        uow.audit("definition.draft_discarded", key=key)


def unsupported_elements(file_name: str, bpmn_xml: str) -> list[Problem]:
    try:
        root = parse_xml(file_name, bpmn_xml, BPMN_NS)
    except InvalidBundle as exc:
        return exc.problems
    problems = []
    for tag, reason in UNSUPPORTED.items():
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            owner = el if el.get("id") else el.getparent()
            problems.append(Problem(file_name, owner.get("id", ""), reason))
    return problems


def _bundle(session, key: str, file_name: str, bpmn_xml: str, forms: dict | None) -> Bundle:
    latest = latest_definition(session, key)
    dmn = dict(latest.dmn_files) if latest else {}
    if not dmn:  # a new process may call the shipped decision tables
        from .paths import bundled_dir
        dmn = {p.name: p.read_text(encoding="utf-8") for p in bundled_dir("bpmn").glob("*.dmn")}
    name = key
    try:
        for proc in parse_xml(file_name, bpmn_xml).iter(f"{{{BPMN_NS}}}process"):
            if proc.get("id") == key:
                name = proc.get("name") or key
    except InvalidBundle:
        pass
    return Bundle(key, name, {file_name: bpmn_xml}, used_dmn({file_name: bpmn_xml}, dmn),
                  dict(forms if forms is not None else (latest.forms if latest else {})))


def check_edited(session, key: str, bpmn_xml: str, forms: dict) -> list[Problem]:
    """Every problem of an edited process (empty: it would deploy)."""
    latest = latest_definition(session, key)
    file_name = main_file(latest)[0] if latest else f"{key}.bpmn"
    _check_size(bpmn_xml, file_name)
    try:
        parse_xml(file_name, bpmn_xml, BPMN_NS)
    except InvalidBundle as exc:   # unreadable: that is the one problem to tell
        return exc.problems
    problems = unsupported_elements(file_name, bpmn_xml)
    try:
        parse_bundle(_bundle(session, key, file_name, bpmn_xml, forms), set(OPERATIONS), messages=set(MESSAGES))
    except InvalidBundle as exc:
        problems.extend(p for p in exc.problems if p not in problems)
    return problems


def deploy_edited(uow, key: str, bpmn_xml: str, forms: dict):
    problems = check_edited(uow.session, key, bpmn_xml, forms)
    if problems:
        raise InvalidBundle(problems)
    latest = latest_definition(uow.session, key)
    file_name = main_file(latest)[0] if latest else f"{key}.bpmn"
    result = deploy_bundle(uow, _bundle(uow.session, key, file_name, bpmn_xml, forms))
    discard_draft(uow, key)
    return result


def deploy_upload(uow, file_name: str, data: bytes) -> list:
    """A .bpmn drawn elsewhere: every executable process in it deploys, or nothing does."""
    if len(data) > MAX_XML_BYTES:
        raise InvalidBundle([Problem(file_name, "", "文件超过 2 MB / the file is larger than 2 MB")])
    if not data.strip():
        raise InvalidBundle([Problem(file_name, "", "文件为空 / the file is empty")])
    text = decode_utf8(file_name, data)
    root = parse_xml(file_name, data, BPMN_NS)
    processes = list(root.iter(f"{{{BPMN_NS}}}process"))
    keys = [p.get("id") for p in processes if p.get("isExecutable") == "true"]
    if not keys:
        if processes:
            raise InvalidBundle([Problem(file_name, p.get("id", ""), "流程不可执行 / the process is not executable "
                                                                   "(set isExecutable=\"true\" to deploy it)")
                                 for p in processes])
        raise InvalidBundle([Problem(file_name, "", "文件中没有可执行流程 / "
                                                    "no executable process (isExecutable=\"true\") in the file")])
    problems = unsupported_elements(file_name, text)
    bundles = []
    for key in keys:
        bundle = _bundle(uow.session, key, file_name, text, None)
        try:
            parse_bundle(bundle, set(OPERATIONS), messages=set(MESSAGES))
        except InvalidBundle as exc:
            problems.extend(exc.problems)
        bundles.append(bundle)
    if problems:
        raise InvalidBundle(problems)
    results = [deploy_bundle(uow, b) for b in bundles]
    uow.audit("definition.uploaded", file=file_name, keys=keys)
    return results
