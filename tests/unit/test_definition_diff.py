"""The version diff tells what a change means: each kind of property a manager edits (lane and role,
form, deadline, service operation and parameters, condition, timer, script, name, elements added or
removed, decision table) shows on its element with the old and new value, and nothing else shows.
Every test edits a shipped diagram (bpmn/, forms/) the way a manager would."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from workflows.diff import diff_definitions

REPO = Path(__file__).resolve().parents[2]


def shipped(key: str) -> SimpleNamespace:
    """A process as deployed: its BPMN, its forms and the decision tables it calls."""
    bpmn = (REPO / "bpmn" / f"{key}.bpmn").read_text(encoding="utf-8")
    forms = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((REPO / "forms" / key).glob("*.json"))}
    dmn = {p.name: p.read_text(encoding="utf-8") for p in (REPO / "bpmn").glob("*.dmn")
           if "calledDecisionId" in bpmn}
    return SimpleNamespace(bpmn_files={f"{key}.bpmn": bpmn}, dmn_files=dmn, forms=forms)


def edited(version: SimpleNamespace, *replacements: tuple[str, str], forms=None, dmn=None) -> SimpleNamespace:
    """A copy of `version` with each (old, new) text replaced once in its BPMN (the old text must be there once)."""
    (name, xml), = version.bpmn_files.items()
    for old, new in replacements:
        assert xml.count(old) == 1, f"{old!r} occurs {xml.count(old)} times"
        xml = xml.replace(old, new)
    new_forms = copy.deepcopy(version.forms)
    if forms:
        forms(new_forms)
    return SimpleNamespace(bpmn_files={name: xml}, dmn_files=dmn or dict(version.dmn_files), forms=new_forms)


def told(diff) -> list[tuple]:
    return [(c.element_id, c.kind, c.detail, c.old if isinstance(c.old, str) or c.old is None else str(c.old),
             c.new if isinstance(c.new, str) or c.new is None else str(c.new)) for c in diff.changes]


@pytest.mark.parametrize("key", ["record_lifecycle", "objection", "accountability", "credit_repair",
                                 "self_correction"])
def test_a_version_compared_with_itself_shows_nothing(key):
    assert diff_definitions(shipped(key), shipped(key), layout=True).changes == []


def test_a_deadline_from_two_to_three_working_days_is_the_one_change_shown():
    old = shipped("objection")
    form = '<spiffworkflow:property name="formJsonSchemaFilename" value="acceptance_check.json" />\n'
    new = edited(old, (form + '          <spiffworkflow:property name="dueInWorkdays" value="2" />',
                       form + '          <spiffworkflow:property name="dueInWorkdays" value="3" />'))
    diff = diff_definitions(old, new)
    assert told(diff) == [("acceptance_check", "deadline", "dueInWorkdays", "2", "3")]
    change, = diff.changed[0].changes
    assert (change.element_name, str(change.kind_words), str(change.what)) == ("受理审查", "办理期限", "工作日数")


def test_a_deadline_given_as_an_expression():
    old = shipped("accountability")
    new = edited(old, ('<spiffworkflow:property name="dueAt" value="statement_due" />',
                       '<spiffworkflow:property name="dueAt" value="add_workdays(today(), 7)" />'))
    assert told(diff_definitions(old, new)) == [("statement", "deadline", "dueAt", "statement_due",
                                                 "add_workdays(today(), 7)")]


def test_a_task_moved_to_another_lane_and_a_lane_given_another_role():
    old = shipped("record_lifecycle")
    moved = edited(old, ("<bpmn:flowNodeRef>count_return</bpmn:flowNodeRef>\n", ""),
                   ("<bpmn:flowNodeRef>legality_review</bpmn:flowNodeRef>",
                    "<bpmn:flowNodeRef>legality_review</bpmn:flowNodeRef>"
                    "<bpmn:flowNodeRef>count_return</bpmn:flowNodeRef>"))
    assert told(diff_definitions(old, moved)) == [("count_return", "lane", "", "clerk", "reviewer")]
    renamed = edited(old, ('<bpmn:lane id="lane_leader" name="leader">',
                           '<bpmn:lane id="lane_leader" name="reviewer">'))
    # told once, on the lane: not again on each of its 27 tasks, events and gateways
    assert told(diff_definitions(old, renamed)) == [("lane_leader", "lane", "role", "leader", "reviewer")]


def test_form_file_and_form_fields_are_told_on_the_task():
    old = shipped("objection")

    def change_fields(forms):
        fields = forms["acceptance_check.json"]["properties"]
        fields["acceptance_reason"]["title"] = "受理审查意见"
        fields["acceptance_reason"]["maxLength"] = 500
        fields["contact_phone"] = {"type": "string", "title": "联系电话"}
        forms["acceptance_check.json"]["required"].remove("acceptance_reason")

    diff = diff_definitions(old, edited(old, forms=change_fields))
    assert told(diff) == [
        ("acceptance_check", "form", "field:acceptance_reason:maxLength", "2000", "500"),
        ("acceptance_check", "form", "field:acceptance_reason:required", "必填", "选填"),
        ("acceptance_check", "form", "field:acceptance_reason:title", "审查意见", "受理审查意见"),
        ("acceptance_check", "form", "field:contact_phone:", None, "联系电话")]
    assert [str(c.what) for c in diff.changes][-2:] == ["字段 acceptance_reason 的标题", "字段 contact_phone"]

    other_file = edited(old, ('value="acceptance_check.json"', 'value="verification.json"'))
    changes = told(diff_definitions(old, other_file))
    assert changes[0] == ("acceptance_check", "form", "file", "acceptance_check.json", "verification.json")
    # and what the task's form now asks, field by field (the old form's fields went, the new one's came)
    assert ("acceptance_check", "form", "field:acceptance:", "审查结论", None) in changes
    assert all(c[0] == "acceptance_check" for c in changes)


def test_a_start_form_no_task_uses_is_told_on_its_file():
    old = shipped("objection")

    def retitle(forms):
        forms["start.json"]["title"] = "异议申请书"

    diff = diff_definitions(old, edited(old, forms=retitle))
    assert [(c.element_id, c.element_type, c.kind, c.detail) for c in diff.changes] == [
        ("start.json", "form", "form", "form:title")]


def test_service_operation_and_its_parameters():
    old = shipped("record_lifecycle")
    new = edited(old, ('<spiffworkflow:serviceTaskOperator id="return_record">',
                       '<spiffworkflow:serviceTaskOperator id="reject_record">'),
                 ('<spiffworkflow:parameter id="severity" type="str" value="severity" />',
                  '<spiffworkflow:parameter id="severity" type="str" value="\'serious\'" />'),
                 ('<spiffworkflow:parameter id="decision_date" type="str" value="decision_date" />',
                  '<spiffworkflow:parameter id="decision_date" type="str" value="decision_date" />'
                  '<spiffworkflow:parameter id="note" type="str" value="review_opinion" />'))
    assert told(diff_definitions(old, new)) == [
        ("save_record", "parameter", "severity", "severity", "'serious'"),
        ("save_record", "parameter", "note", None, "review_opinion"),
        ("return_record_task", "operation", "operation", "return_record", "reject_record")]


def test_a_gateway_condition_and_its_default_flow():
    old = shipped("record_lifecycle")
    new = edited(old, ('return_count &lt; 3</bpmn:conditionExpression>',
                       'return_count &lt; 2</bpmn:conditionExpression>'),
                 ('default="flow_mitigation_none"', 'default="flow_mitigation_lighter"'))
    assert told(diff_definitions(old, new)) == [
        ("gw_mitigation", "flow", "default", "flow_mitigation_none", "flow_mitigation_lighter"),
        ("flow_return_allowed", "condition", "", "return_count < 3", "return_count < 2")]


def test_a_timer():
    old = shipped("objection")
    xml = old.bpmn_files["objection.bpmn"]
    start = xml.index('<bpmn:boundaryEvent id="verification_overdue"')
    old_timer = xml[start:xml.index("</bpmn:boundaryEvent>", start)]
    new = edited(old, (old_timer, old_timer.replace("verification_due", 'add_workdays(verification_due, 5)')))
    assert told(diff_definitions(old, new)) == [
        ("verification_overdue", "timer", "timeDate", "verification_due", "add_workdays(verification_due, 5)")]


def test_scripts_of_a_script_task_and_after_a_service_task():
    old = shipped("record_lifecycle")
    new = edited(old, ("<bpmn:script>return_count = return_count + 1</bpmn:script>",
                       "<bpmn:script>return_count += 2</bpmn:script>"),
                 ("del facts, legal_basis</spiffworkflow:postScript>", "del facts</spiffworkflow:postScript>"))
    diff = diff_definitions(old, new)
    changes = told(diff)
    assert [c[:3] for c in changes] == [("save_record", "script", "postScript"), ("count_return", "script", "script")]
    assert diff.changes[0].lines[-2:] == [("-", "del facts, legal_basis"), ("+", "del facts")]   # shown line by line
    assert changes[0][3].endswith("del facts, legal_basis") and changes[0][4].endswith("del facts")
    assert changes[1][3:] == ("return_count = return_count + 1", "return_count += 2")


def test_an_element_renamed():
    old = shipped("objection")
    new = edited(old, ('<bpmn:userTask id="acceptance_check" name="受理审查">',
                       '<bpmn:userTask id="acceptance_check" name="异议受理审查">'))
    diff = diff_definitions(old, new)
    assert told(diff) == [("acceptance_check", "name", "", "受理审查", "异议受理审查")]
    assert diff.changed[0].name == "异议受理审查"


def test_elements_added_and_removed():
    old = shipped("self_correction")
    annotation = '<bpmn:textAnnotation id="note_added"><bpmn:text>先核实整改材料</bpmn:text></bpmn:textAnnotation>'
    new = edited(old, ("</bpmn:process>", annotation + "</bpmn:process>"),
                 ('<bpmn:sequenceFlow id="flow_start_accept" sourceRef="start" '
                  'targetRef="accept_self_correction_task" />', ""))
    diff = diff_definitions(old, new)
    assert told(diff) == [("note_added", "added", "", None, None), ("flow_start_accept", "removed", "", None, None)]
    assert [(e.id, e.name, str(e.type_words)) for e in diff.added] == [("note_added", "", "注释")]
    assert [(e.id, str(e.type_words)) for e in diff.removed] == [("flow_start_accept", "连线")]
    assert diff.markers() == {"added": ["note_added"], "changed": []}


def test_a_decision_table_rule_is_told_on_the_decision_and_coloured_on_its_tasks():
    old = shipped("record_lifecycle")
    (name, dmn), = old.dmn_files.items()
    cell = '<outputEntry id="rule_2025_department_minor_out_max_months">\n          <text>3</text>'
    assert dmn.count(cell) == 1
    new = edited(old, dmn={name: dmn.replace(cell, cell.replace("<text>3</text>", "<text>6</text>"))})
    diff = diff_definitions(old, new)
    assert told(diff) == [("sanction_rules", "decision", "rule:1:最长公示期（月）", "3", "6")]
    assert str(diff.changes[0].what) == "第 1 条规则 · 最长公示期（月）"
    assert diff.markers()["changed"] == ["propose_sanctions", "recompute_sanctions"]


def _modeler_style(xml: str) -> str:
    """What a save from the browser's modeler does without any edit: XML escaping of quotes, empty
    containers collapsed, default attributes dropped, attributes and DI shapes in another order."""
    xml = re.sub(r'value="([^"]*)"', lambda m: 'value="' + m.group(1).replace("'", "&#39;") + '"', xml)
    xml = re.sub(r"<spiffworkflow:parameters>\s*</spiffworkflow:parameters>", "<spiffworkflow:parameters />", xml)
    xml = xml.replace(' cancelActivity="true"', "")
    xml = re.sub(r'<bpmn:userTask id="([^"]+)" name="([^"]+)">', r'<bpmn:userTask name="\2" id="\1">', xml)
    return xml.replace("\n", "\r\n")


def test_layout_only_changes_show_nothing_unless_asked():
    old = shipped("objection")
    xml = old.bpmn_files["objection.bpmn"]
    shape = re.search(r'<bpmndi:BPMNShape id="acceptance_check_di" bpmnElement="acceptance_check">\s*'
                      r'<dc:Bounds x="(\d+)" y="(\d+)"', xml)
    moved_xml = xml.replace(shape.group(0), shape.group(0).replace(f'x="{shape.group(1)}"',
                                                                   f'x="{int(shape.group(1)) + 40}"'))
    new = SimpleNamespace(bpmn_files={"objection.bpmn": _modeler_style(moved_xml)}, dmn_files=old.dmn_files,
                          forms=old.forms)
    assert _modeler_style(xml) != xml
    assert diff_definitions(old, new).changes == []
    layout = diff_definitions(old, new, layout=True)
    assert [(c.element_id, c.kind, c.detail) for c in layout.changes] == [("acceptance_check", "layout", "bounds")]
    assert layout.changes[0].new.startswith(f"x={int(shape.group(1)) + 40} ")


def test_a_diagram_saved_by_the_editor_without_an_edit_shows_nothing():
    """tests/data/diff: objection.bpmn as shipped, and as the editor's bpmn-js (the vendored modeler)
    saved it after opening it, untouched: quotes escaped, empty parameter lists collapsed,
    cancelActivity="true" left out, shapes in another order (the old diff listed four elements as changed)."""
    folder = REPO / "tests" / "data" / "diff"
    versions = [SimpleNamespace(bpmn_files={"objection.bpmn": (folder / name).read_text(encoding="utf-8")},
                                dmn_files={}, forms={})
                for name in ("objection.as_shipped.bpmn", "objection.saved_by_bpmn_js.bpmn")]
    assert versions[0].bpmn_files != versions[1].bpmn_files
    assert diff_definitions(*versions, layout=True).changes == []
