"""Decision table changes: hit policy, columns, and each rule's cells, told on the decision (and
coloured on the business rule tasks that call it). The tables' layout (DMNDI) is not compared."""
from __future__ import annotations

from lxml import etree

from ..engine.safexml import parse_xml
from .bpmn_facts import Element, code
from .changes import Change

CALLED = ("decision", "calledDecisionId")


def _local(el) -> str:
    return etree.QName(el).localname


def _children(el, name: str) -> list:
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name]


def _text(el) -> str:
    found = [t for t in el.iter() if isinstance(t.tag, str) and _local(t) == "text"]
    return code(found[0].text) if found else ""


def _decisions(dmn_files: dict[str, str]) -> dict[str, tuple[str, dict, list[str]]]:
    """decision id -> (name, facts, rule ids in order); a fact is detail -> value."""
    result = {}
    for file_name, xml in dmn_files.items():
        for decision in parse_xml(file_name, xml, "dmn").iter():
            if not isinstance(decision.tag, str) or _local(decision) != "decision":
                continue
            facts, rules = {}, []
            for table in _children(decision, "decisionTable"):
                policy = (table.get("hitPolicy", "UNIQUE"), table.get("aggregation"))
                facts["hitPolicy"] = " ".join(filter(None, policy))
                inputs = [(i.get("label") or i.get("id"), i) for i in _children(table, "input")]
                outputs = [(o.get("label") or o.get("name") or o.get("id"), o) for o in _children(table, "output")]
                for label, i in inputs:
                    expression = (_children(i, "inputExpression") or [i])[0]
                    facts[f"input:{label}"] = " ".join(filter(None, (_text(i), expression.get("typeRef"))))
                for label, o in outputs:
                    facts[f"output:{label}"] = " ".join(filter(None, (o.get("name"), o.get("typeRef"))))
                for rule in _children(table, "rule"):
                    rule_id = rule.get("id") or str(len(rules))
                    rules.append(rule_id)
                    cells = [*zip(inputs, _children(rule, "inputEntry")), *zip(outputs, _children(rule, "outputEntry"))]
                    for (label, _), cell in cells:
                        facts[f"rule:{rule_id}:{label}"] = _text(cell) or "-"
                    description = _children(rule, "description")
                    facts[f"rule:{rule_id}:description"] = code(description[0].text) if description else ""
                    facts[f"rule:{rule_id}:"] = " | ".join(_text(c) or "-" for c in _children(rule, "inputEntry")) + \
                        " → " + " | ".join(_text(c) or "-" for c in _children(rule, "outputEntry"))
            result[decision.get("id")] = (decision.get("name") or "", facts, rules)
    return result


def _number(detail: str, old_rules: list[str], new_rules: list[str]) -> str:
    """`rule:<id>:<column>` told by the rule's position: `rule:<n>:<column>`."""
    _, rule_id, column = detail.split(":", 2)
    rules = new_rules if rule_id in new_rules else old_rules
    return f"rule:{rules.index(rule_id) + 1}:{column}"


def decision_changes(old_dmn: dict, new_dmn: dict, old: dict[str, Element], new: dict[str, Element]) -> list[Change]:
    before, after = _decisions(old_dmn), _decisions(new_dmn)
    changes = []
    for decision_id in [*after, *(d for d in before if d not in after)]:
        callers = tuple(e.id for e in (new or old).values() if e.facts.get(CALLED) == decision_id)
        old_name, old_facts, old_rules = before.get(decision_id, ("", {}, []))
        new_name, new_facts, new_rules = after.get(decision_id, (old_name, {}, []))
        ref = (decision_id, new_name, "decision")
        if decision_id not in before or decision_id not in after:
            kind = "added" if decision_id not in before else "removed"
            changes.append(Change(*ref, kind, marks=callers))
            continue
        if old_name != new_name:
            changes.append(Change(*ref, "name", "", old_name, new_name, callers))
        gone = {d.split(":")[1] for d in old_facts if d.startswith("rule:") and d.endswith(":") and d not in new_facts}
        came = {d.split(":")[1] for d in new_facts if d.startswith("rule:") and d.endswith(":") and d not in old_facts}
        for detail in sorted(set(old_facts) | set(new_facts)):
            a, b = old_facts.get(detail), new_facts.get(detail)
            if a == b:
                continue
            if detail.startswith("rule:"):
                rule_id = detail.split(":")[1]
                whole = detail.endswith(":")
                if (rule_id in gone or rule_id in came) != whole or (whole and a and b):
                    continue   # a rule that came or went is one line; a kept rule is told cell by cell
                detail = _number(detail, old_rules, new_rules)
            changes.append(Change(*ref, "decision", detail, a, b, callers))
        kept_old = [r for r in old_rules if r in new_rules]
        kept_new = [r for r in new_rules if r in old_rules]
        if kept_old != kept_new:
            changes.append(Change(*ref, "decision", "order", ", ".join(kept_old), ", ".join(kept_new), callers))
    return changes
