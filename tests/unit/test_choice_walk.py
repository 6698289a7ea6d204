"""The walk from a decision task (workflows/choices.py): gateways decided on the case's data plus the
choice, scripts and previews feeding later gateways, operations said in their own words or by
their task's name, blocking prechecks collected, loops and long chains stopped; and an operation
refusing with its precheck's sentence."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

import pytest

from workflows.cases import CaseError
from workflows.choices import MAX_STEPS, Preview, decisions_at, enum_fields, operation_refusal, script_engine, walk_from
from workflows.clock import CST, FixedClock
from workflows.engine.bundle import Bundle, parse_bundle
from workflows.operations import OPERATIONS, Blocked, Operation, OperationContext, OperationError, run_operation
from workflows.settings import Settings
from workflows.workdays import WorkdayCalendar

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://credflow/test">')
FORM = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="{}" /></spiffworkflow:properties></bpmn:extensionElements>'


def flow(source, target, condition=None, name=""):
    body = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            if condition else "")
    return f'<bpmn:sequenceFlow id="f_{source}_{target}" name="{name}" sourceRef="{source}" targetRef="{target}">{body}</bpmn:sequenceFlow>'


def service(id_, name, op, params=(), result=""):
    ps = "".join(f'<spiffworkflow:parameter id="{k}" type="str" value="{v}" />' for k, v in params)
    return (f'<bpmn:serviceTask id="{id_}" name="{name}"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator '
            f'id="{op}" resultVariable="{result}"><spiffworkflow:parameters>{ps}</spiffworkflow:parameters>'
            f'</spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')


# decide --approve--> bump (n+1) --n>=2--> 做甲 (previews ok) --ok--> wait for a timer
#                                 \--else--> 受阻任务 (blocked) --> end 已批准
#        --again--> back to decide;  --spin--> a script loop without end;  default --> end 不予批准
CHAIN = "".join(f'<bpmn:scriptTask id="c{i}" name="第{i}步"><bpmn:script>k = {i}</bpmn:script></bpmn:scriptTask>'
                + flow(f"c{i}", f"c{i + 1}") for i in range(MAX_STEPS + 5))
PROCESS = HEAD + f'''
<bpmn:process id="walk" name="走查" isExecutable="true">
  <bpmn:laneSet id="lanes"><bpmn:lane id="lane_leader" name="leader"><bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start" />
  <bpmn:userTask id="decide" name="决定">{FORM.format("decide.json")}</bpmn:userTask>
  <bpmn:exclusiveGateway id="gw" default="f_gw_end_no" />
  <bpmn:scriptTask id="bump" name="计数"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="gw2" default="f_gw2_blocked" />
  {service("effect", "做甲", "test_effect", [("label", "'甲'")], "effect_result")}
  <bpmn:exclusiveGateway id="gw3" default="f_gw3_end_ok" />
  <bpmn:intermediateCatchEvent id="wait" name="等待期满"><bpmn:timerEventDefinition id="t">
    <bpmn:timeDate xsi:type="bpmn:tFormalExpression">"2026-07-01T00:00:00+08:00"</bpmn:timeDate>
  </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  {service("blocked", "受阻任务", "test_blocked")}
  <bpmn:endEvent id="end_ok" name="已批准" />
  <bpmn:endEvent id="end_no" name="不予批准" />
  <bpmn:scriptTask id="spin" name="空转"><bpmn:script>s = 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="gw_spin" default="f_gw_spin_spin" />
  {CHAIN.replace(flow(f"c{MAX_STEPS + 4}", f"c{MAX_STEPS + 5}"), "")}
  <bpmn:endEvent id="end_far" name="很远" />
  {flow("start", "decide")}{flow("decide", "gw")}
  {flow("gw", "bump", 'choice == "approve"')}{flow("gw", "decide", 'choice == "again"')}
  {flow("gw", "spin", 'choice == "spin"')}{flow("gw", "c0", 'choice == "far"')}{flow("gw", "end_no")}
  {flow("bump", "gw2")}{flow("gw2", "effect", "n &gt;= 2")}{flow("gw2", "blocked")}
  {flow("effect", "gw3")}{flow("gw3", "wait", 'effect_result["ok"]')}{flow("gw3", "end_ok")}
  {flow("blocked", "end_ok")}{flow("wait", "end_ok")}
  {flow("spin", "gw_spin")}{flow("gw_spin", "spin")}{flow(f"c{MAX_STEPS + 4}", "end_far")}
</bpmn:process></bpmn:definitions>'''


def choice_form(*options):
    return {"type": "object", "properties": {
        "choice": {"type": "string", "title": "结论", "oneOf": [{"const": v, "title": t} for v, t in options]},
        "size": {"type": "string", "title": "规模", "oneOf": [{"const": "s", "title": "小"}, {"const": "l", "title": "大"}]},
        "note": {"type": "string", "title": "意见"}}}


FORMS = {"decide.json": choice_form(("approve", "批准"), ("again", "重新决定"), ("spin", "空转"), ("far", "很远"),
                                    ("no", "不予批准")),
         "single.json": {"type": "object", "properties": {"choice": {"type": "string", "title": "结论",
                                                                      "oneOf": [{"const": "approve", "title": "批准"}]}}}}


@pytest.fixture
def operations(monkeypatch):
    said = []

    def describe(ctx, label="?", **_):
        said.append(dict(ctx.data))
        return f"做{label}（{ctx.data['n']}）"
    monkeypatch.setitem(OPERATIONS, "test_effect", Operation(
        "test_effect", lambda ctx, **_: {"ok": True}, "测试", {"label": "str"}, describe=describe,
        preview=lambda ctx, **_: {"ok": True}))
    monkeypatch.setitem(OPERATIONS, "test_blocked", Operation(
        "test_blocked", lambda ctx, **_: None, "测试", {}, precheck=lambda ctx, **_: Blocked("被挡住 / blocked", 7)))
    return said


@pytest.fixture
def spec():
    parsed = parse_bundle(Bundle("walk", "走查", {"walk.bpmn": PROCESS}, {}, FORMS), set(OPERATIONS) |
                          {"test_effect", "test_blocked"}, check=False)
    return parsed.spec.task_specs


CLOCK = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
ENGINE = script_engine(WorkdayCalendar(), CLOCK)


def preview(data):
    return Preview(None, SimpleNamespace(id=1, record_id=None, outcome=None), data, CLOCK, Settings())


def decide(spec, data, form="decide.json"):
    return decisions_at(spec["decide"], FORMS[form], data, preview, ENGINE)


def test_each_choice_is_walked_on_the_cases_data_with_the_choice_set(spec, operations):
    decisions = decide(spec, {"n": 1})
    assert list(decisions) == ["choice"]           # 规模 leads nowhere different: no decision
    effects = {c.value: str(c.effect) for c in decisions["choice"].choices}   # as a Chinese page reads them
    assert effects == {
        "approve": "做甲（2）；等待「等待期满」",     # the script ran on the copy; the preview fed the gateway
        "again": "转分管领导「决定」",
        "spin": "",                                  # a loop of scripts: walked once, nothing to say
        "far": "",                                   # further than a walk goes
        "no": "办结（不予批准）",                     # the default flow
    }
    assert not any(c.blocked for c in decisions["choice"].choices)
    assert operations[0]["choice"] == "approve" and operations[0]["n"] == 2


def test_a_precheck_forbids_a_choice_and_the_task_name_says_an_operation_without_words(spec, operations):
    decision = decide(spec, {"n": 0})["choice"]
    approve = decision.choice("approve")
    assert str(approve.effect) == "受阻任务；办结（已批准）"
    assert approve.blocked == [Blocked("被挡住 / blocked", 7)]
    assert decision.blocks == [Blocked("被挡住 / blocked", 7)] and not decision.all_blocked
    only = decide(spec, {"n": 0}, "single.json")["choice"]      # a form offering only 批准
    assert only.all_blocked


def test_the_walk_changes_nothing_of_the_cases_data(spec, operations):
    data = {"n": 1}
    decide(spec, data)
    assert data == {"n": 1}


def test_walk_stops_after_max_steps(spec, operations):
    walk = walk_from(spec["decide"], {"n": 1, "choice": "far"}, preview({}), ENGINE)
    assert str(walk.text) == "" and walk.blocked == []
    walk = walk_from(spec["decide"], {"n": 1, "choice": "far"}, preview({}), ENGINE, max_steps=MAX_STEPS + 10)
    assert str(walk.text) == "办结（很远）"


def test_enum_fields_are_single_choices_in_the_forms_order():
    schema = {"x-order": ["b", "a"], "properties": {
        "a": {"type": "string", "enum": ["x", "y"], "title": "甲"},
        "b": {"type": "string", "oneOf": [{"const": "p", "title": "丙"}]},
        "many": {"type": "array", "items": {"enum": ["x"]}},
        "text": {"type": "string"}}}
    assert enum_fields(schema) == [("b", "b", [("p", "丙")]), ("a", "甲", [("x", "x"), ("y", "y")])]


def test_an_operation_refuses_with_its_prechecks_sentence(operations):
    ctx = OperationContext(uow=None, case=SimpleNamespace(id=1, record_id=None), task=None)
    with pytest.raises(OperationError) as refused:
        run_operation("test_blocked", ctx, {})
    assert str(refused.value) == "被挡住 / blocked" and refused.value.blocking_case_id == 7
    # as a page meets it: wrapped by the engine, then by the case service
    class EngineError(Exception):       # how SpiffWorkflow's WorkflowTaskException carries the cause
        def __init__(self, exception):
            super().__init__(f"test_blocked: {exception}")
            self.exception = exception
    wrapped = CaseError("「受阻任务」test_blocked: 被挡住 / blocked")
    wrapped.__cause__ = EngineError(refused.value)
    assert operation_refusal(wrapped) is refused.value
    assert operation_refusal(CaseError("other")) is None
