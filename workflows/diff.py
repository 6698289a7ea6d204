"""What changed between two versions of a process: elements added, removed and changed."""
from __future__ import annotations

from lxml import etree

from .engine.safexml import BPMN_NS

DI_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                 "http://www.omg.org/spec/DD/20100524/DI")
STRUCTURE = {"incoming", "outgoing", "flowNodeRef", "extensionElements", "documentation", "text",
             "conditionExpression", "timeDate", "timeDuration", "timeCycle", "script"}


def _elements(bpmn_xml: str) -> dict[str, tuple[str, str, str]]:
    """id -> (type, name, signature) of every element inside the processes (not the layout)."""
    root = etree.fromstring(bpmn_xml.encode())
    result = {}
    for process in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}collaboration"):
        for el in process.iter():
            if not isinstance(el.tag, str) or not el.get("id") or el is process:
                continue
            if el.tag.startswith("{" + BPMN_NS) and etree.QName(el).localname in STRUCTURE:
                continue
            if not el.tag.startswith("{" + BPMN_NS):
                continue  # extension elements count in their owner's signature
            kind = etree.QName(el).localname
            attrs = sorted((k, v) for k, v in el.attrib.items() if k != "id")
            inner = "".join(etree.tostring(child, encoding="unicode", with_tail=False)
                            for child in el if isinstance(child.tag, str)
                            and etree.QName(child).localname not in ("incoming", "outgoing", "flowNodeRef")
                            and not (child.tag.startswith("{" + BPMN_NS) and child.get("id")))
            signature = repr(attrs) + " ".join(inner.split())
            result[el.get("id")] = (kind, el.get("name") or "", signature)
    return result


def diff_xml(old_xml: str, new_xml: str) -> dict:
    old, new = _elements(old_xml), _elements(new_xml)
    added = [{"id": i, "type": new[i][0], "name": new[i][1]} for i in new if i not in old]
    removed = [{"id": i, "type": old[i][0], "name": old[i][1]} for i in old if i not in new]
    changed = []
    for i in new:
        if i in old and old[i] != new[i]:
            what = []
            if old[i][1] != new[i][1]:
                what.append(f"名称 name: {old[i][1]} → {new[i][1]}")
            if old[i][0] != new[i][0]:
                what.append(f"类型 type: {old[i][0]} → {new[i][0]}")
            if old[i][2] != new[i][2] and not what:
                what.append("属性或表达式 properties or expressions")
            changed.append({"id": i, "type": new[i][0], "name": new[i][1], "what": "; ".join(what)})
    return {"added": added, "removed": removed, "changed": changed}
