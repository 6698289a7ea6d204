"""What a BPMN diagram says, element by element, as comparable facts: (kind, detail) -> value.

An element is anything with an id that a manager would name (a task, an event, a gateway, a flow,
a lane, a process, a message). Its parts (event definitions, conditions, scripts, loop settings,
the spiffworkflow extensions: form, deadline, operation and parameters) fold into its facts; their
generated ids, the order of attributes and children, XML escaping, empty containers, whitespace
around code and the attributes bpmn-js leaves out when they hold the schema's default value never
make a fact differ. The layout (BPMN DI) is not here: see layout.py."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from lxml import etree

from ..engine.safexml import BPMN_NS, parse_xml

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
COLOUR_NAMESPACES = {"http://bpmn.io/schema/bpmn/biocolor/1.0", "http://www.omg.org/spec/BPMN/non-normative/color/1.0"}
DERIVED = {"incoming", "outgoing", "flowNodeRef"}     # follow from the flows and lanes
PARTS = {"laneSet", "childLaneSet", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
         "conditionExpression", "condition", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
         "completionCondition", "loopCondition", "ioSpecification", "dataInput", "dataOutput", "inputSet",
         "outputSet", "dataInputAssociation", "dataOutputAssociation", "property", "script", "documentation",
         "extensionElements", "text", "assignment", "from", "to", "inputDataItem", "outputDataItem",
         "loopDataInputRef", "loopDataOutputRef"}
# attribute -> its value when absent (BPMN 2.0 schema); a modeler may write it or leave it out
DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "parallelMultiple": "false",
            "isForCompensation": "false", "startQuantity": "1", "completionQuantity": "1",
            "instantiate": "false", "triggeredByEvent": "false", "isSequential": "false",
            "gatewayDirection": "Unspecified", "isClosed": "false", "processType": "None",
            "isCollection": "false", "behavior": "All", "implementation": "##unspecified",
            "isImmediate": "true", "isExecutable": "false"}
OWNER_ATTRIBUTES = {"name": ("name", ""), "sourceRef": ("flow", "source"), "targetRef": ("flow", "target"),
                    "default": ("flow", "default"), "attachedToRef": ("flow", "attachedTo"),
                    "cancelActivity": ("event", "cancelActivity"), "scriptFormat": ("script", "scriptFormat"),
                    "calledElement": ("call", "calledElement"), "messageRef": ("message", "messageRef")}
PROPERTY_KINDS = {"formJsonSchemaFilename": ("form", "file"), "formUiSchemaFilename": ("form", "uiFile"),
                  "dueInWorkdays": ("deadline", "dueInWorkdays"), "dueAt": ("deadline", "dueAt"),
                  "dossierFields": ("dossier", "")}


@dataclass
class Element:
    id: str
    type: str                      # the BPMN local name: userTask, sequenceFlow, lane, ...
    name: str
    facts: dict[tuple[str, str], str] = field(default_factory=dict)
    lane: tuple[str, str] | None = None      # (lane id, lane name = role) of a flow node


def code(text: str | None) -> str:
    """Code or an expression as written, without the indentation and blank lines around it."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return textwrap.dedent("\n".join(line.rstrip() for line in lines)).strip("\n").strip()


def _local(el) -> str:
    return etree.QName(el).localname


def _namespace(el) -> str:
    return etree.QName(el).namespace or ""


def _is_part(el) -> bool:
    name = _local(el)
    return _namespace(el) != BPMN_NS or name in PARTS or name.endswith("EventDefinition") or not el.get("id")


def elements(bpmn_files: dict[str, str]) -> dict[str, Element]:
    """id -> Element for every element of every file of a version."""
    result: dict[str, Element] = {}
    for file_name, xml in bpmn_files.items():
        root = parse_xml(file_name, xml, BPMN_NS)
        for el in root.iter(f"{{{BPMN_NS}}}*"):
            if el is root or _is_part(el):
                continue
            element = Element(el.get("id"), _local(el), el.get("name") or "")
            _owner_facts(el, element.facts)
            result.setdefault(element.id, element)
        for lane in root.iter(f"{{{BPMN_NS}}}lane"):
            for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
                node = result.get((ref.text or "").strip())
                if node is not None:   # the innermost lane wins: nested lanes come later
                    node.lane = (lane.get("id"), lane.get("name") or "")
    return result


def _put(facts: dict, key: tuple[str, str], value: str) -> None:
    if value != "":
        facts[key] = f"{facts[key]}\n{value}" if key in facts else value


def _owner_facts(owner, facts: dict) -> None:
    kind_of_name = ("lane", "role") if _local(owner) == "lane" else ("name", "")
    for attr, value in owner.attrib.items():
        if attr == "id" or etree.QName(attr).namespace in COLOUR_NAMESPACES or DEFAULTS.get(attr) == value:
            continue   # a colour is layout (layout.py)
        attr = etree.QName(attr).localname
        key = kind_of_name if attr == "name" else OWNER_ATTRIBUTES.get(attr, ("other", attr))
        _put(facts, key, value)
    definitions = sorted(_local(c) for c in owner if _namespace(c) == BPMN_NS and _local(c).endswith("EventDefinition"))
    if definitions:
        facts[("type", "eventDefinition")] = ", ".join(definitions)
    for child in owner:
        if isinstance(child.tag, str) and _is_part(child) and _local(child) not in DERIVED:
            _part_facts(child, facts, _local(child))


def _part_facts(el, facts: dict, path: str) -> None:
    """Facts of a part of an element, classified by what it is; anything unknown is 'other' by path."""
    name, ns, text = _local(el), _namespace(el), code(el.text)
    if ns == SPIFF_NS:
        if name == "property":
            kind = PROPERTY_KINDS.get(el.get("name", ""), ("other", el.get("name", "")))
            _put(facts, kind, (el.get("value") or "").strip())
            return
        if name == "serviceTaskOperator":
            _put(facts, ("operation", "operation"), el.get("id", ""))
            _put(facts, ("operation", "resultVariable"), el.get("resultVariable", ""))
            for parameter in el.iter(f"{{{SPIFF_NS}}}parameter"):
                value, kind = parameter.get("value", ""), parameter.get("type", "str")
                shown = value if kind in ("", "str") else f"{value} ({kind})"
                _put(facts, ("parameter", parameter.get("id", "")), shown)
            return
        if name in ("preScript", "postScript"):
            return _put(facts, ("script", name), text)
        if name == "calledDecisionId":
            return _put(facts, ("decision", "calledDecisionId"), text)
        if name in ("messageVariable", "messagePayload", "payloadExpression"):
            return _put(facts, ("message", name), text)
        if name == "instructionsForEndUser":
            return _put(facts, ("documentation", "instructions"), text)
    elif ns == BPMN_NS:
        if name == "script":
            return _put(facts, ("script", "script"), text)
        if name in ("conditionExpression", "condition"):
            return _put(facts, ("condition", ""), text)
        if name in ("timeDate", "timeDuration", "timeCycle"):
            return _put(facts, ("timer", name), text)
        if name == "documentation":
            return _put(facts, ("documentation", ""), text)
        if name == "text":
            return _put(facts, ("documentation", "text"), text)
        if name in ("multiInstanceLoopCharacteristics", "standardLoopCharacteristics"):
            facts[("loop", "")] = name
            path = "loop"
        if name.endswith("EventDefinition"):
            path = name
    loop = path.startswith("loop")
    for attr, value in el.attrib.items():
        if attr in ("id", XSI_TYPE) or DEFAULTS.get(attr) == value:
            continue
        if attr.endswith("Ref") and name.endswith("EventDefinition"):
            _put(facts, ("message", attr), value)
        else:
            _put(facts, ("loop", attr) if loop else ("other", f"{path}@{attr}"), value)
    if text and len(el) == 0 and name not in ("extensionElements", "laneSet"):
        _put(facts, ("loop", name) if loop else ("other", path), text)
    for child in el:
        if isinstance(child.tag, str) and (_is_part(child) or ns != BPMN_NS):
            sub = _local(child)
            _part_facts(child, facts, sub if ns == BPMN_NS and name == "extensionElements" else f"{path}/{sub}")
