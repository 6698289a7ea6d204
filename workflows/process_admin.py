"""What process managers do: see versions, edit a draft in the browser, validate, deploy, upload
a diagram drawn elsewhere. Every change is audited; an invalid bundle deploys nothing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from .definitions import deploy_bundle, latest_definition
from .engine.bundle import Bundle, parse_bundle, used_dmn
from .engine.prescan import as_executable, not_deployable, processes_of
from .engine.problems import InvalidBundle, Problem, named
from .engine.safexml import BPMN_NS, decode_utf8, parse_xml
from .messages import Message, N_
from .models import Case, ProcessDefinition, ProcessDraft
from .operations import MESSAGES, OPERATIONS

MAX_XML_BYTES = 2 * 1024 * 1024
MAX_KEY_LENGTH = 100   # process_draft.key


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
        raise InvalidBundle([Problem(file_name, "", N_("流程图为空"))])
    try:
        size = len(bpmn_xml.encode("utf-8"))
    except UnicodeEncodeError as exc:   # a lone surrogate ("\ud800") sent in the JSON
        raise InvalidBundle([Problem(file_name, "", Message(N_("文本不是有效的 UTF-8（第 %(at)s 个字符）"),
                                                            at=exc.start))]) from None
    if "\x00" in bpmn_xml:
        raise InvalidBundle([Problem(file_name, "", N_("流程图含 NUL 字符"))])
    if size > MAX_XML_BYTES:
        raise InvalidBundle([Problem(file_name, "", N_("流程图超过 2 MB"))])


def save_draft(uow, key: str, bpmn_xml: str, forms: dict) -> ProcessDraft:
    latest = latest_definition(uow.session, key)
    _check_size(bpmn_xml, main_file(latest)[0] if latest else f"{key}.bpmn")
    if not isinstance(forms, dict):
        raise InvalidBundle([Problem("forms", "", N_("表单须为“文件名 -> JSON Schema”对象"))])
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
    try:
        parse_bundle(_bundle(session, key, file_name, bpmn_xml, forms), set(OPERATIONS), messages=set(MESSAGES))
    except InvalidBundle as exc:
        return exc.problems
    return []


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
        raise InvalidBundle([Problem(file_name, "", N_("文件超过 2 MB"))])
    if not data.strip():
        raise InvalidBundle([Problem(file_name, "", N_("文件为空"))])
    text = decode_utf8(file_name, data)
    processes = processes_of(file_name, text)
    problems = not_deployable(file_name, processes)
    keys = [pid for pid, _, executable in processes if executable]
    bundles = []
    for key in keys or [pid for pid, _, _ in processes]:
        # a diagram drawn as not executable is checked as if it were: the whole report at once
        checked = text if key in keys else as_executable(file_name, text, key)
        bundle = _bundle(uow.session, key, file_name, checked, None)
        try:
            parse_bundle(bundle, set(OPERATIONS), messages=set(MESSAGES))
        except InvalidBundle as exc:
            problems.extend(exc.problems)
        bundles.append(bundle)
    if problems:
        raise InvalidBundle(named(problems, {}))
    results = [deploy_bundle(uow, b) for b in bundles]
    uow.audit("definition.uploaded", file=file_name, keys=keys)
    return results


def draft_candidates(file_name: str, data: bytes) -> list[tuple[str, str]]:
    """(process id, name) of what a refused upload can be opened in the editor as: its executable
    processes, or every process when none is executable. Empty when the file is not readable BPMN."""
    try:
        processes = processes_of(file_name, decode_utf8(file_name, data))
    except InvalidBundle:
        return []
    executable = [(pid, name) for pid, name, is_executable in processes if is_executable]
    return [(pid, name) for pid, name in (executable or [(p, n) for p, n, _ in processes])
            if pid and len(pid) <= MAX_KEY_LENGTH]


def open_upload_as_draft(uow, file_name: str, bpmn_xml: str, key: str) -> ProcessDraft:
    """A diagram drawn elsewhere, stored as the server-side draft of process `key` (replacing any
    draft of it), so the manager fixes lanes, forms and expressions in the editor and deploys from
    there. The process is marked executable; the forms are the current version's, if there is one."""
    bpmn_xml = (bpmn_xml or "").replace("\r\n", "\n")
    _check_size(bpmn_xml, file_name)
    if key not in [pid for pid, _ in draft_candidates(file_name, bpmn_xml.encode("utf-8"))]:
        raise InvalidBundle([Problem(file_name, key, N_("文件中没有此流程"))])

    latest = latest_definition(uow.session, key)
    draft = save_draft(uow, key, as_executable(file_name, bpmn_xml, key), dict(latest.forms) if latest else {})
    uow.audit("definition.draft_imported", key=key, file=file_name, bytes=len(bpmn_xml))
    return draft
