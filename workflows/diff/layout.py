"""Where each element is drawn (BPMN DI): shape bounds, edge waypoints, label positions, colours.
Compared only when a manager asks to see layout changes; moving a box changes no behaviour."""
from __future__ import annotations

from lxml import etree

from ..engine.safexml import BPMN_NS, parse_xml

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"


def _number(value: str | None) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return value or ""


def _bounds(el) -> str:
    box = el.find(f"{{{DC_NS}}}Bounds")
    if box is None:
        return ""
    return "x={} y={} w={} h={}".format(*(_number(box.get(k)) for k in ("x", "y", "width", "height")))


def layout_facts(bpmn_files: dict[str, str]) -> dict[str, dict[tuple[str, str], str]]:
    """bpmnElement id -> {("layout", detail): value} for every shape and edge drawn."""
    result: dict[str, dict[tuple[str, str], str]] = {}
    for file_name, xml in bpmn_files.items():
        root = parse_xml(file_name, xml, BPMN_NS)
        for el in root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"):
            facts = result.setdefault(el.get("bpmnElement", ""), {})
            if etree.QName(el).localname == "BPMNShape":
                facts[("layout", "bounds")] = _bounds(el)
                if el.get("isExpanded") is not None:
                    facts[("layout", "expanded")] = el.get("isExpanded")
            else:
                facts[("layout", "waypoints")] = " ".join(
                    f"({_number(p.get('x'))},{_number(p.get('y'))})" for p in el.iterfind(f"{{{DI_NS}}}waypoint"))
            label = el.find(f"{{{BPMNDI_NS}}}BPMNLabel")
            if label is not None and _bounds(label):
                facts[("layout", "label")] = _bounds(label)
            colours = sorted(f"{etree.QName(k).localname}={v}" for k, v in el.attrib.items()
                             if etree.QName(k).namespace)
            if colours:
                facts[("layout", "colour")] = " ".join(colours)
    return result
