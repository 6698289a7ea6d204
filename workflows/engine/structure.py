"""Checks on a BPMN file's structure that SpiffWorkflow's parser lets through: duplicate ids,
references to missing elements (flows, boundary events, pools, messages, default flows) and nodes
no sequence flow reaches from a start event."""
from __future__ import annotations

from lxml import etree

from ..messages import Message, N_
from .problems import Problem
from .safexml import BPMN_NS, parse_xml



FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "manualTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "exclusiveGateway",
              "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway", "startEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "endEvent", "boundaryEvent"}
CONTAINERS = {"process", "subProcess", "transaction"}


def _local(el) -> str:
    return etree.QName(el).localname if el is not None and isinstance(el.tag, str) else ""


def check_structure(name: str, text: str) -> list[Problem]:
    """Duplicate ids, references to nowhere (flows, boundary events, messages, default flows, pools)
    and elements no flow reaches, which SpiffWorkflow reports confusingly or not at all."""
    root = parse_xml(name, text, BPMN_NS)
    problems, by_id = [], {}
    extension_ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str)
                     and not el.tag.startswith("{" + BPMN_NS) and el.get("id")
                     and "spiffworkflow" in el.tag}
    for el in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = el.get("id")
        if not element_id:
            continue
        if element_id in by_id:
            problems.append(Problem(name, element_id, N_("此 id 被两个元素使用")))
        elif element_id in extension_ids:
            problems.append(Problem(name, element_id, N_("此 id 与图中服务操作或参数的 id 相同，请给此元素另取一个 id")))
        by_id.setdefault(element_id, el)
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref and ref not in by_id:
                problems.append(Problem(name, flow.get("id", ""), Message(
                    N_("连线的 %(end)s '%(ref)s' 指向的元素不存在"), end=end, ref=ref)))
    for event in root.iter(f"{{{BPMN_NS}}}boundaryEvent"):
        ref = event.get("attachedToRef")
        if _local(by_id.get(ref)) not in FLOW_NODES:
            problems.append(Problem(name, event.get("id", ""), Message(
                N_("边界事件未附着在任务上：attachedToRef '%(ref)s' 不是任务或子流程"), ref=ref)))
    for pool in root.iter(f"{{{BPMN_NS}}}participant"):
        ref = pool.get("processRef")
        if ref and _local(by_id.get(ref)) != "process":
            problems.append(Problem(name, pool.get("id", ""), Message(
                N_("泳池引用的流程不存在：processRef '%(ref)s' 不是流程"), ref=ref)))
    for definition in root.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
        ref = definition.get("messageRef")
        if ref and _local(by_id.get(ref)) != "message":
            owner = definition.getparent()
            problems.append(Problem(name, owner.get("id") or definition.get("id", ""),
                                    Message(N_("消息引用不存在：此文件中没有 messageRef '%(ref)s' 指向的 <bpmn:message>"),
                                            ref=ref)))
    for tag in ("exclusiveGateway", "inclusiveGateway", "complexGateway"):
        for gateway in root.iter(f"{{{BPMN_NS}}}{tag}"):
            ref = gateway.get("default")
            flow = by_id.get(ref)
            if ref and (_local(flow) != "sequenceFlow" or flow.get("sourceRef") != gateway.get("id")):
                problems.append(Problem(name, gateway.get("id", ""), Message(
                    N_("默认连线 '%(ref)s' 不是从此网关出发的连线"), ref=ref)))
    if problems:
        return problems
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("isExecutable", "true") != "false":
            for container in [process, *process.iter(*(f"{{{BPMN_NS}}}{t}" for t in CONTAINERS - {"process"}))]:
                problems.extend(_check_reachable(name, container))
    return problems


def _check_reachable(name: str, container) -> list[Problem]:
    """Every flow node of a process or subprocess is reached from a start event (or is a boundary
    event of a reached activity, an event subprocess, a link or compensation target)."""
    nodes = {el.get("id"): el for el in container if _local(el) in FLOW_NODES and el.get("id")
             and el.tag.startswith("{" + BPMN_NS)}
    process = _local(container) == "process"
    if not nodes:
        return [Problem(name, container.get("id", ""),
                        N_("流程是空的：请画出开始事件、任务和结束事件") if process else
                        N_("子流程是空的：请画出开始事件、任务和结束事件"), container.get("name") or "")]
    if not any(_local(el) == "startEvent" for el in nodes.values()):
        return [Problem(name, container.get("id", ""), N_("流程没有开始事件") if process else N_("子流程没有开始事件"))]
    following: dict[str, list[str]] = {}
    for flow in container.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
        following.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for node_id, el in nodes.items():
        if _local(el) == "boundaryEvent":
            following.setdefault(el.get("attachedToRef"), []).append(node_id)
    reached = set()
    todo = [node_id for node_id, el in nodes.items()
            if _local(el) == "startEvent" or el.get("triggeredByEvent") == "true"
            or el.get("isForCompensation") == "true"
            or (_local(el) == "intermediateCatchEvent" and el.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None)]
    while todo:
        node_id = todo.pop()
        if node_id not in reached:
            reached.add(node_id)
            todo.extend(following.get(node_id, []))
    return [Problem(name, node_id, N_("不可达：没有从开始事件通往此处的连线，它永远不会执行"))
            for node_id in nodes if node_id not in reached]
