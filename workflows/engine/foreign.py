"""What diagrams drawn for other engines carry and credflow does not run: Camunda, Zeebe, Flowable
and Activiti attributes and extension elements, and JUEL expressions (`${approved}`, `#{amount > 100}`).
Each is reported on its element with what to do instead; nothing is ignored silently, because a
diagram whose assignees, listeners or forms were dropped would run differently from how it reads."""
from __future__ import annotations

import re

from lxml import etree

from ..messages import Joined, Message, N_

VENDOR_NAMESPACES = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda",
    "http://camunda.org/schema/zeebe/1.0": "Camunda 8 (Zeebe)",
    "http://flowable.org/bpmn": "Flowable",
    "http://activiti.org/bpmn": "Activiti",
}

# local name of a vendor setting -> what credflow does instead
_ROLE = N_("角色由任务所在的泳道决定")
_FORM = N_("表单是 JSON Schema 文件（formJsonSchemaFilename）")
_SERVICE = N_("服务任务调用 credflow 的操作（serviceTaskOperator）")
_LISTENER = N_("监听器不受支持，请用脚本任务或前置/后置脚本")
_MAPPING = N_("输入输出映射不受支持，任务直接读写案件数据")
_DUE = N_("办理期限用 dueInWorkdays 或 dueAt")
_DECISION = N_("业务规则任务用 calledDecisionId 指定决策表")
_ENGINE = N_("这是其他引擎的运行设置，credflow 不使用")
_OTHER = N_("credflow 不使用此设置")
ADVICE = {
    **dict.fromkeys(("assignee", "candidateUsers", "candidateGroups", "owner", "assignment", "initiator"), _ROLE),
    **dict.fromkeys(("formKey", "formRef", "formRefBinding", "formRefVersion", "formData", "formField",
                     "formProperty", "formHandlerClass", "userTaskForm", "formDefinition"), _FORM),
    **dict.fromkeys(("class", "expression", "delegateExpression", "type", "topic", "connector", "taskDefinition",
                     "field", "skipExpression", "taskHeaders"), _SERVICE),
    **dict.fromkeys(("executionListener", "taskListener", "eventListener"), _LISTENER),
    **dict.fromkeys(("inputOutput", "inputParameter", "outputParameter", "in", "out", "ioMapping", "input",
                     "output", "properties", "property"), _MAPPING),
    **dict.fromkeys(("dueDate", "followUpDate", "priority"), _DUE),
    **dict.fromkeys(("decisionRef", "decisionRefBinding", "decisionRefVersion", "mapDecisionResult",
                     "calledDecision"), _DECISION),
    **dict.fromkeys(("asyncBefore", "asyncAfter", "async", "exclusive", "jobPriority", "taskPriority",
                     "historyTimeToLive", "versionTag", "isStartableInTasklist", "candidateStarterGroups",
                     "candidateStarterUsers", "failedJobRetryTimeCycle", "modelerTemplate",
                     "modelerTemplateVersion", "executionPlatform", "executionPlatformVersion",
                     "jobWorkerPriority"), _ENGINE),
}

JUEL = re.compile(r"[$#]\{[^}]*\}")


def vendor_of(tag_or_key: str) -> str | None:
    if not tag_or_key.startswith("{"):
        return None
    return VENDOR_NAMESPACES.get(tag_or_key[1:].split("}", 1)[0])


def _prefixed(el, key: str) -> str:
    namespace, local = key[1:].split("}", 1)
    prefix = next((p for p, uri in (el.nsmap or {}).items() if uri == namespace and p), None)
    return f"{prefix}:{local}" if prefix else local


def vendor_settings(el, bpmn_ns: str) -> list[tuple[str, str]]:
    """(vendor, prefixed name) of every vendor attribute on `el` and vendor element in its
    bpmn:extensionElements, in document order."""
    found = [(vendor_of(key), _prefixed(el, key)) for key in el.attrib if vendor_of(key)]
    for ext in el.iterchildren(f"{{{bpmn_ns}}}extensionElements"):
        for child in ext:
            if isinstance(child.tag, str) and vendor_of(child.tag):
                found.append((vendor_of(child.tag), _prefixed(child, child.tag)))
    return found


def vendor_reason(settings: list[tuple[str, str]]) -> Message:
    vendors = list(dict.fromkeys(v for v, _ in settings))
    names = list(dict.fromkeys(n for _, n in settings))
    advice = list(dict.fromkeys(ADVICE.get(n.split(":", 1)[-1], _OTHER) for n in names))
    shown = names[:8] + ([f"… (+{len(names) - 8})"] if len(names) > 8 else [])
    return Message(N_("含 %(vendors)s 专有设置 %(names)s，credflow 不会执行：%(advice)s。请在编辑器中移除"),
                   vendors=Joined(vendors), names=Joined(shown),
                   advice=Joined([Message(a) for a in advice], N_("；")))


def python_for_juel(text: str) -> str | None:
    """A Python expression for a JUEL expression that is one `${...}` (a hint, not a translation)."""
    m = re.fullmatch(r"\s*[$#]\{(.*)\}\s*", text, re.S)
    if not m or JUEL.search(m.group(1)):
        return None
    expression = m.group(1).strip()
    for juel, python in ((r"&&", " and "), (r"\|\|", " or "), (r"!(?!=)", "not "), (r"\beq\b", "=="),
                         (r"\bne\b", "!="), (r"\blt\b", "<"), (r"\bgt\b", ">"), (r"\ble\b", "<="), (r"\bge\b", ">="),
                         (r"\band\b", "and"), (r"\bor\b", "or"), (r"\bnot\b", "not"), (r"\bnull\b", "None"),
                         (r"\btrue\b", "True"), (r"\bfalse\b", "False"), (r"\bempty\s+(\w+)", r"not \1")):
        expression = re.sub(juel, python, expression)
    return re.sub(r"\s+", " ", expression).strip() or None


def juel_reason(text: str) -> Message:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 80 else shown[:77] + "…"
    python = python_for_juel(text)
    if python:
        return Message(N_("JUEL 表达式 %(expression)s 不受支持：credflow 的表达式是 Python，例如 %(python)s"),
                       expression=shown, python=python)
    return Message(N_("JUEL 表达式 %(expression)s 不受支持：credflow 的表达式是 Python"), expression=shown)


def local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""
