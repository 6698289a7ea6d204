"""A BPMN file read before SpiffWorkflow sees it, so every problem is reported by element in one pass.

SpiffWorkflow's parser raises on the first construct it cannot take (a data store, a complex
gateway, a service task without an operator, a timer without a time, XML the schema refuses) and
runs none of credflow's own checks after it. The prescan finds those constructs, and what credflow
refuses on top (call activities, signals, JUEL, Camunda/Flowable settings, lanes that are no role),
each with its element, and hands the parser a neutralised copy in which each is replaced by
something harmless, so the checks on tasks, forms and expressions still run. The copy is only ever
analysed: a file with any problem deploys nothing.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from ..messages import Message, N_
from .foreign import JUEL, juel_reason, local, vendor_reason, vendor_settings
from .problems import Problem
from .safexml import BPMN_NS, parse_xml
from .spec_checks import STAFF_LANES

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROLE_WORDS = {"承办人": "clerk", "经办人": "clerk", "审核人": "reviewer", "审核员": "reviewer", "分管领导": "leader",
              "领导": "leader", "信用主体": "subject", "当事人": "subject", "申请人": "subject"}

# BPMN elements credflow does not run, and what to use instead (tag -> catalog id)
UNSUPPORTED = {
    "complexGateway": N_("复杂网关不受支持，请改用排他网关或包容网关"),
    "transaction": N_("事务子流程不受支持，请改用普通子流程"),
    "adHocSubProcess": N_("自由子流程不受支持，请改用普通子流程"),
    "callActivity": N_("调用活动不受支持，请改用子流程，或由服务操作启动的子案件"),
    "sendTask": N_("发送任务不受支持，请改用服务任务"),
    "receiveTask": N_("接收任务不受支持，请改用消息捕获事件"),
    "dataStoreReference": N_("数据存储不受支持，案件自己保存数据（数据对象可以使用）"),
    "signalEventDefinition": N_("信号事件不受支持，请改用消息"),
    "conditionalEventDefinition": N_("条件事件不受支持，请改用带条件的网关"),
    "compensateEventDefinition": N_("补偿事件不受支持"),
}
DATA_STORE = N_("数据存储不受支持（SpiffWorkflow 没有实现数据存储），请删除")
NO_OPERATOR = N_("服务任务没有指定 credflow 操作，请在编辑器中选择操作（spiffworkflow:serviceTaskOperator）")
NO_DECISION = N_("业务规则任务没有指定决策表（spiffworkflow:calledDecisionId）")
NO_TIME = N_("定时器没有设定时间：请填写 timeDate、timeDuration 或 timeCycle，如 PT5M、2027-01-05T09:00:00+08:00 或 "
             "R3/PT1H")
# formal expressions and what stands in for one, per kind, in the neutralised copy
EXPRESSIONS = {"conditionExpression": "True", "timeDuration": "PT1H", "timeDate": "2000-01-01T00:00:00+08:00",
               "timeCycle": "R1/PT1H", "loopCardinality": "1", "completionCondition": "False",
               "loopCondition": "False"}
_SCHEMA_LOCK = threading.Lock()   # an XMLSchema keeps the last error log on itself


@dataclass
class Prescan:
    file: str
    problems: list[Problem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)   # element id -> name as drawn
    processes: list[tuple[str, str, bool]] = field(default_factory=list)   # (id, name, executable)
    parser_text: str = ""   # what SpiffWorkflow parses: the file itself, or its neutralised copy

    @property
    def executable(self) -> list[str]:
        return [pid for pid, _, executable in self.processes if executable]


def q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def is_executable(process) -> bool:
    return process.get("isExecutable", "true") == "true"   # as SpiffWorkflow reads it


def prescan(file_name: str, text: str) -> Prescan:
    """Raises InvalidBundle only when the file is not even readable BPMN XML."""
    root = parse_xml(file_name, text, BPMN_NS)
    report = Prescan(file_name, parser_text=text)
    report.names = {el.get("id"): " ".join((el.get("name") or "").split()) for el in root.iter()
                    if isinstance(el.tag, str) and el.get("id")}
    report.processes = [(p.get("id", ""), p.get("name") or "", is_executable(p)) for p in root.iter(q("process"))]
    work = copy.deepcopy(root)
    problems = _schema_problems(file_name, root)
    executable = [p for p in work.iter(q("process")) if is_executable(p)]
    for process in executable:
        for el in list(process.iter()):   # a list: neutralising changes the tree
            if isinstance(el.tag, str):
                problems.extend(_check_element(file_name, el))
    problems.extend(_data_stores(file_name, work, executable))
    report.problems = [Problem(p.file, p.element, p.reason, p.name or report.names.get(p.element, ""), p.line)
                       for p in dict.fromkeys(problems)]
    if report.problems:
        report.parser_text = XML_DECLARATION + etree.tostring(work, encoding="unicode")
    return report


def _schema_problems(file_name: str, root) -> list[Problem]:
    """Every place the BPMN 2.0 schema refuses (SpiffWorkflow's validator tells only the last)."""
    checked = copy.deepcopy(root)
    VALIDATOR.preprocess(checked)
    with _SCHEMA_LOCK:
        if VALIDATOR.validator.validate(checked):
            return []
        errors = [(e.line, e.message) for e in VALIDATOR.validator.error_log]
    by_line: dict[int, str] = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.sourceline not in by_line:
            owner = next((a for a in [el, *el.iterancestors()] if a.get("id")), None)
            by_line[el.sourceline] = owner.get("id") if owner is not None else ""
    problems = []
    for line, message in errors[:50]:
        message = message.replace(f"{{{BPMN_NS}}}", "bpmn:")
        message = message if len(message) <= 300 else message[:297] + "…"
        problems.append(Problem(file_name, by_line.get(line, ""), Message(
            N_("不符合 BPMN 2.0 XML 规范（第 %(line)s 行）：%(detail)s"), line=line, detail=message), line=line))
    return problems


def _spiff(el, tag: str):
    return el.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}{tag}")


def _owner_id(el) -> str:
    """The id of the flow node, flow or process an expression belongs to."""
    def is_owner(a):
        kind = local(a)
        return a.get("id") and not (kind.endswith(("EventDefinition", "LoopCharacteristics")) or kind in EXPRESSIONS)
    owner = next((a for a in [el, *el.iterancestors()] if is_owner(a)), None)
    return owner.get("id", "") if owner is not None else ""


def _retag(el, tag: str, drop_children=()) -> None:
    el.tag = q(tag)
    for child in [c for c in el if local(c) in drop_children]:
        el.remove(child)


def _check_element(file_name: str, el) -> list[Problem]:
    """The problems of one element, each neutralised in place."""
    kind, problems = local(el), []
    element_id = el.get("id", "")
    settings = vendor_settings(el, BPMN_NS) if el.tag.startswith(f"{{{BPMN_NS}}}") else []

    def add(reason, where=element_id):
        problems.append(Problem(file_name, where, reason))

    if el.tag.startswith(f"{{{BPMN_NS}}}") and kind in UNSUPPORTED and kind != "dataStoreReference":
        if kind.endswith("EventDefinition"):
            owner = el.getparent()
            add(UNSUPPORTED[kind], owner.get("id", ""))
            owner.remove(el)
            if local(owner) in ("boundaryEvent", "intermediateCatchEvent") and not any(
                    local(c).endswith("EventDefinition") for c in owner):
                timer = etree.SubElement(owner, q("timerEventDefinition"))
                etree.SubElement(timer, q("timeDuration")).text = EXPRESSIONS["timeDuration"]
        else:
            add(UNSUPPORTED[kind])
            if kind == "complexGateway":
                _retag(el, "inclusiveGateway", ("activationCondition",))
            elif kind == "transaction":
                _retag(el, "subProcess")
            else:   # call activity, send/receive task, ad-hoc subprocess: an empty task
                _retag(el, "task", {c for c in map(local, el) if c not in ("incoming", "outgoing")})
                for attr in ("calledElement", "messageRef", "ordering", "cancelRemainingInstances"):
                    el.attrib.pop(attr, None)
    elif kind == "serviceTask" and el.tag == q(kind) and _spiff(el, "serviceTaskOperator") is None:
        add(NO_OPERATOR)
        _retag(el, "task")
    elif kind == "businessRuleTask" and el.tag == q(kind) and _spiff(el, "calledDecisionId") is None:
        add(NO_DECISION)
        _retag(el, "task")
    elif kind == "scriptTask" and el.tag == q(kind):
        language = (el.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "python3", "text/x-python", "py"):
            add(Message(N_("脚本语言 %(language)s 不受支持，脚本须为 Python"), language=el.get("scriptFormat")))
            el.attrib.pop("scriptFormat", None)
            for script in el.iter(q("script")):
                script.text = "pass"
    elif kind == "timerEventDefinition" and el.tag == q(kind):
        if not any(local(c) in ("timeDate", "timeDuration", "timeCycle") for c in el):
            add(NO_TIME, el.getparent().get("id", ""))
            etree.SubElement(el, q("timeDuration")).text = EXPRESSIONS["timeDuration"]
    elif kind == "lane" and el.tag == q(kind) and el.find(q("childLaneSet")) is None:
        problems.extend(_lane_problem(file_name, el))
    if kind in EXPRESSIONS and el.tag == q(kind) and JUEL.search(el.text or ""):
        add(juel_reason(el.text), _owner_id(el))
        el.text = EXPRESSIONS[kind]
    if settings:
        add(vendor_reason(settings), _owner_id(el))
    return problems


def _lane_problem(file_name: str, lane) -> list[Problem]:
    name = (lane.get("name") or "").strip()
    roles = ", ".join(sorted(STAFF_LANES))
    if not name:
        return [Problem(file_name, lane.get("id", ""), Message(N_("泳道没有名称，请以角色代码命名（%(roles)s）"),
                                                               roles=roles))]
    if name in STAFF_LANES:
        return []
    hint = ROLE_WORDS.get(name)
    reason = Message(N_("泳道 '%(lane)s' 不是角色，请把泳道名改为角色代码（%(roles)s；'%(lane)s' 即 %(role)s）"),
                     lane=name, roles=roles, role=hint) if hint else \
        Message(N_("泳道 '%(lane)s' 不是角色，请把泳道名改为角色代码（%(roles)s）"), lane=name, roles=roles)
    return [Problem(file_name, lane.get("id", ""), reason)]


def _data_stores(file_name: str, work, executable) -> list[Problem]:
    """Data stores: reported where an executable process refers to one, or at the store itself;
    all of them (and their associations) left out of the copy, since SpiffWorkflow's parser
    refuses any data store in the file."""
    problems, gone = [], set()
    referenced = set()
    for process in executable:
        for ref in process.iter(q("dataStoreReference")):
            problems.append(Problem(file_name, ref.get("id", ""), UNSUPPORTED["dataStoreReference"]))
            referenced.add(ref.get("dataStoreRef"))
    for store in list(work.iter(q("dataStore"))) + list(work.iter(q("dataStoreReference"))):
        if local(store) == "dataStore" and store.get("id") not in referenced:
            problems.append(Problem(file_name, store.get("id", ""), DATA_STORE))
        gone.add(store.get("id"))
        store.getparent().remove(store)
    for association in list(work.iter(q("dataInputAssociation"), q("dataOutputAssociation"))):
        refs = {(r.text or "").strip() for r in association if local(r) in ("sourceRef", "targetRef")}
        if refs & gone:
            association.getparent().remove(association)
    return problems


def as_executable(file_name: str, text: str, process_id: str) -> str:
    """The file with `process_id` marked executable (a diagram drawn with isExecutable="false")."""
    root = parse_xml(file_name, text, BPMN_NS)
    for process in root.iter(q("process")):
        if process.get("id") == process_id and not is_executable(process):
            process.set("isExecutable", "true")
            return XML_DECLARATION + etree.tostring(root, encoding="unicode")
    return text


def processes_of(file_name: str, text: str) -> list[tuple[str, str, bool]]:
    """(id, name, executable) of every process in a file, without parsing it with SpiffWorkflow."""
    root = parse_xml(file_name, text, BPMN_NS)
    return [(p.get("id", ""), p.get("name") or "", is_executable(p)) for p in root.iter(q("process"))]


def not_deployable(file_name: str, processes: list[tuple[str, str, bool]]) -> list[Problem]:
    """Why a file gives no process to deploy at all (nothing, when one of its processes is executable)."""
    if any(executable for _, _, executable in processes):
        return []
    if processes:
        return [Problem(file_name, pid, N_("流程不可执行：请设 isExecutable=\"true\" 再部署，或在编辑器中打开"), name)
                for pid, name, _ in processes]
    return [Problem(file_name, "", N_("文件中没有可执行流程（isExecutable=\"true\"）：文件中没有任何流程"))]
