"""Deployable bundles: the shipped one parses; each kind of mistake a process manager can make
is refused before anything is stored, with the file, the element and the reason."""
from __future__ import annotations

import json
import re
import shutil
from string import Template

import pytest

from workflows.definitions import deploy_folder
from workflows.engine.bundle import Bundle, InvalidBundle, parse_bundle, read_folder
from workflows.operations import MESSAGES, OPERATIONS
from workflows.paths import bundled_dir

from in_english import english

# One lane `clerk`: start -> user task `fill` (form fill.json) -> [$step] -> end.
# $step may add elements; `after_fill` is the id the user task's outgoing flow leads to.
MINIMAL = Template("""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="defs_$key" targetNamespace="http://credflow/test">
  <bpmn:process id="$key" name="Minimal $key" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_1" name="$lane">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>fill</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="fill" name="Fill in">
      <bpmn:extensionElements>
        <spiffworkflow:properties>$form_property</spiffworkflow:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    $step
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="to_fill" sourceRef="start" targetRef="fill" />
    <bpmn:sequenceFlow id="after_fill" sourceRef="fill" targetRef="$after_fill" />
  </bpmn:process>
</bpmn:definitions>
""")
FORM_PROPERTY = '<spiffworkflow:property name="formJsonSchemaFilename" value="fill.json" />'
FORM = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}


def bpmn(key="mini", lane="clerk", form_property=FORM_PROPERTY, step="", after_fill="end") -> str:
    return MINIMAL.substitute(key=key, lane=lane, form_property=form_property, step=step, after_fill=after_fill)


def step(element_xml: str, first: str, last: str | None = None) -> dict:
    """Put elements between the user task and the end: fill -> first ... last -> end."""
    flow_out = f'<bpmn:sequenceFlow id="to_end" sourceRef="{last or first}" targetRef="end" />'
    return {"step": element_xml + flow_out, "after_fill": first}


def bundle(text: str, forms: dict | None = None, key="mini") -> Bundle:
    return Bundle(key, key, bpmn_files={f"{key}.bpmn": text}, dmn_files={},
                  forms={"fill.json": FORM} if forms is None else forms)


def problems_of(b: Bundle):
    with pytest.raises(InvalidBundle) as info:
        parse_bundle(b, set(OPERATIONS))
    assert info.value.problems, "InvalidBundle without problems"
    return info.value.problems


def script_task(script: str) -> dict:
    return step(f'<bpmn:scriptTask id="calc" scriptFormat="python"><bpmn:script>{script}</bpmn:script>'
                '</bpmn:scriptTask>', "calc")


def gateway(condition: str) -> dict:
    return step(f"""
    <bpmn:exclusiveGateway id="decide" default="otherwise" />
    <bpmn:sequenceFlow id="when" sourceRef="decide" targetRef="join">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="otherwise" sourceRef="decide" targetRef="join" />
    <bpmn:exclusiveGateway id="join" />""", "decide", "join")


def timer(expression: str) -> dict:
    return step(f"""
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition id="wait_timer">
        <bpmn:timeDuration>{expression}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>""", "wait")


def service_task(operation: str, value: str = "note") -> dict:
    return step(f"""
    <bpmn:serviceTask id="call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="{operation}">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="reason" type="str" value="{value}" />
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>""", "call")


# ------------------------------------------------------------------ the shipped bundle

def test_shipped_folder_parses_without_problems():
    bundles = {b.key: b for b in read_folder(bundled_dir("bpmn"), bundled_dir("forms"))}
    assert set(bundles) == {"record_lifecycle", "objection", "self_correction", "credit_repair", "accountability",
                            "commitment", "complaint", "integrity_evaluation"}
    for bundle_ in bundles.values():
        parse_bundle(bundle_, set(OPERATIONS))
    assert set(bundles["objection"].dmn_files) == set()       # only the DMN a process calls travels with it
    lifecycle = bundles["record_lifecycle"]
    assert lifecycle.name == "政务失信记录生命周期"
    assert set(lifecycle.forms) == {"capture.json", "legality_review.json", "final_review.json",
                                    "leader_approval.json"}
    assert set(lifecycle.dmn_files) == {"sanction_rules.dmn"}   # the sanction rules travel with it
    parsed = parse_bundle(lifecycle, set(OPERATIONS))
    assert parsed.spec.name == "record_lifecycle"
    assert "publication_period" in parsed.subprocess_specs


def test_minimal_template_is_valid():
    # every refusal below is one edit away from this
    parse_bundle(bundle(bpmn()), set(OPERATIONS))
    parse_bundle(bundle(bpmn(**service_task("reject_record"))), set(OPERATIONS))
    parse_bundle(bundle(bpmn(**script_task("count = 1"))), set(OPERATIONS))
    parse_bundle(bundle(bpmn(**gateway("note == 'x'"))), set(OPERATIONS))
    parse_bundle(bundle(bpmn(**timer('"PT5S"'))), set(OPERATIONS))


@pytest.fixture
def shipped_copy(tmp_path):
    shutil.copytree(bundled_dir("bpmn"), tmp_path / "bpmn")
    shutil.copytree(bundled_dir("forms"), tmp_path / "forms")
    return tmp_path


def _sha(folder) -> str:
    (lifecycle,) = [b for b in read_folder(folder / "bpmn", folder / "forms") if b.key == "record_lifecycle"]
    return lifecycle.sha256


def test_bundle_sha256_is_stable_across_reads(shipped_copy):
    first = _sha(shipped_copy)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert _sha(shipped_copy) == first
    assert _sha(bundled_dir("bpmn").parent) == first


def test_bundle_sha256_changes_when_a_form_changes(shipped_copy):
    before = _sha(shipped_copy)
    path = shipped_copy / "forms" / "record_lifecycle" / "capture.json"
    form = json.loads(path.read_text(encoding="utf-8"))
    form["properties"]["facts"]["maxLength"] = 6000
    path.write_text(json.dumps(form, ensure_ascii=False, indent=2), encoding="utf-8")
    assert _sha(shipped_copy) != before


def test_bundle_sha256_ignores_how_a_form_file_is_laid_out(shipped_copy):
    before = _sha(shipped_copy)
    path = shipped_copy / "forms" / "record_lifecycle" / "capture.json"
    form = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(reversed(form.items())), separators=(",", ":")), encoding="utf-8")
    assert _sha(shipped_copy) == before


def test_bundle_sha256_follows_the_dmn_it_calls_and_ignores_unrelated_ones(shipped_copy):
    before = _sha(shipped_copy)
    dmn = shipped_copy / "bpmn" / "sanction_rules.dmn"
    unrelated = dmn.read_text(encoding="utf-8").replace('id="sanction_rules"', 'id="other_rules"')
    (shipped_copy / "bpmn" / "other_rules.dmn").write_text(unrelated, encoding="utf-8")
    assert _sha(shipped_copy) == before
    dmn.write_text(dmn.read_text(encoding="utf-8").replace("</definitions>", "<!-- edited --></definitions>"),
                   encoding="utf-8")
    assert _sha(shipped_copy) != before


# ------------------------------------------------------------------ the corpus of mistakes
# Each case: the bundle, then (file, element, a pattern the reason must match).

BAD_BUNDLES = {
    "malformed XML": (
        bundle(bpmn().replace("</bpmn:process>", "")),
        ("mini.bpmn", "", r"malformed XML")),
    "a script that imports": (
        bundle(bpmn(**script_task("import os"))),
        ("mini.bpmn", "calc", r"Script refused by the sandbox: .*import statements are not allowed")),
    "a gateway condition reaching for __class__": (
        bundle(bpmn(**gateway("note.__class__ is str"))),
        ("mini.bpmn", "decide", r"condition towards 'join'.*__class__")),
    "a timer expression reaching for a dunder": (
        bundle(bpmn(**timer('"PT5S".__len__()'))),
        ("mini.bpmn", "wait", r"timer expression refused by the sandbox: .*__len__")),
    "a service parameter that imports": (
        bundle(bpmn(**service_task("reject_record", value="__import__('os')"))),
        ("mini.bpmn", "call", r"parameter 'reason'.*__import__")),
    "a user task without a form": (
        bundle(bpmn(form_property="")),
        ("mini.bpmn", "fill", r"user task has no form \(property formJsonSchemaFilename\)")),
    "a user task whose form file is missing": (
        bundle(bpmn(), forms={}),
        ("mini.bpmn", "fill", r"form forms/mini/fill\.json does not exist")),
    "a lane that is not a role": (
        bundle(bpmn(lane="janitor")),
        ("mini.bpmn", "fill", r"lane 'janitor' is not a role")),
    "the manager's lane (managers edit, they do not work cases)": (
        bundle(bpmn(lane="manager")),
        ("mini.bpmn", "fill", r"lane 'manager' is not a role")),
    "a service task naming an unknown operation": (
        bundle(bpmn(**service_task("launch_rockets"))),
        ("mini.bpmn", "call", r"unknown service operation 'launch_rockets'")),
    "a form that is not a JSON Schema": (
        bundle(bpmn(), forms={"fill.json": {"type": 12}}),
        ("forms/mini/fill.json", "", r"invalid JSON Schema")),
    "a bundle key naming no process": (
        Bundle("elsewhere", "elsewhere", {"mini.bpmn": bpmn()}, {}, {"fill.json": FORM}),
        ("mini.bpmn", "elsewhere", r"no executable process with this id")),
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundle_is_refused_naming_file_element_and_reason(case):
    b, (file, element, reason) = BAD_BUNDLES[case]
    problems = problems_of(b)
    matching = [p for p in problems if p.file == file and p.element == element and re.search(reason, english(p.reason))]
    assert matching, f"no problem ({file}, {element}, /{reason}/) among {problems}"
    # and the exception text a manager sees carries the same three things
    with pytest.raises(InvalidBundle) as info:
        parse_bundle(b, set(OPERATIONS))
    text = "; ".join(english(p) for p in info.value.problems)
    assert file in text and element in text and re.search(reason, text)
    assert file in str(info.value) and element in str(info.value)   # the Chinese text names them too


def test_flow_to_a_missing_element_is_refused():
    problems = problems_of(bundle(bpmn(after_fill="nowhere")))
    assert [(p.file, p.element) for p in problems] == [("mini.bpmn", "after_fill")]
    assert "nowhere" in str(problems[0].reason)


def test_flow_to_a_missing_element_says_the_target_is_missing():
    (problem,) = problems_of(bundle(bpmn(after_fill="nowhere")))
    assert re.search(r"missing|not found|does not exist|no element", english(problem.reason), re.I)
    assert "two items" not in english(problem.reason)


def test_timer_expression_calling_open_is_refused():
    problems = problems_of(bundle(bpmn(**timer('open("/etc/passwd").read()'))))
    assert any(p.file == "mini.bpmn" and p.element == "wait" and "open" in english(p.reason) for p in problems)


def test_every_problem_is_listed_not_just_the_first():
    text = bpmn(lane="janitor", **service_task("launch_rockets"))
    problems = problems_of(bundle(text, forms={"fill.json": FORM, "broken.json": {"type": 12}}))
    # compare the reasons as an English page shows them
    reasons = {(p.element, english(p.reason).split(":")[0].split(" '")[0]) for p in problems}
    assert ("fill", "lane") in reasons
    assert ("call", "unknown service operation") in reasons
    assert ("", "invalid JSON Schema") in reasons


def test_malformed_xml_names_the_line():
    (problem,) = problems_of(bundle(bpmn().replace('<bpmn:endEvent id="end" />', '<bpmn:endEvent id="end">')))
    assert problem.file == "mini.bpmn"
    assert re.search(r"line \d+", english(problem.reason)) and problem.line > 0


# ------------------------------------------------------------------ folders: read and deploy

def _write_process(folder, key, text, forms=None):
    (folder / "bpmn").mkdir(exist_ok=True)
    (folder / "bpmn" / f"{key}.bpmn").write_text(text, encoding="utf-8")
    form_dir = folder / "forms" / key
    form_dir.mkdir(parents=True, exist_ok=True)
    for name, schema in ({"fill.json": FORM} if forms is None else forms).items():
        (form_dir / name).write_text(json.dumps(schema), encoding="utf-8")


def test_read_folder_refuses_a_form_file_that_is_not_json(tmp_path):
    _write_process(tmp_path, "mini", bpmn(), forms={})
    (tmp_path / "forms" / "mini" / "fill.json").write_text('{"type": "object",', encoding="utf-8")
    with pytest.raises(InvalidBundle) as info:
        read_folder(tmp_path / "bpmn", tmp_path / "forms")
    (problem,) = info.value.problems
    assert problem.file == "forms/mini/fill.json" and "invalid JSON" in english(problem.reason)


class SessionTouched(AssertionError):
    pass


class UntouchableUow:
    """A unit of work whose database must not be reached."""

    @property
    def session(self):
        raise SessionTouched("deploy_folder reached the database")

    actor = clock = audit = session


def test_deploy_folder_with_one_bad_process_deploys_nothing(tmp_path):
    _write_process(tmp_path, "a_good", bpmn(key="a_good"))                  # sorted first
    _write_process(tmp_path, "b_bad", bpmn(key="b_bad", **service_task("launch_rockets")))
    with pytest.raises(InvalidBundle) as info:
        deploy_folder(UntouchableUow(), tmp_path / "bpmn", tmp_path / "forms")
    assert [(p.file, p.element) for p in info.value.problems] == [("b_bad.bpmn", "call")]


def test_deploy_folder_guard_is_real_a_good_folder_does_reach_the_database(tmp_path):
    # proves the test above would notice a deploy that started before checking everything
    _write_process(tmp_path, "a_good", bpmn(key="a_good"))
    with pytest.raises(SessionTouched):
        deploy_folder(UntouchableUow(), tmp_path / "bpmn", tmp_path / "forms")


# ------------------------------------------------------------------ messages

def message_wait(name: str) -> str:
    """The minimal process waiting, after the user task, for the message `name` (declared)."""
    text = bpmn(**step(f'<bpmn:intermediateCatchEvent id="wait_msg"><bpmn:messageEventDefinition id="wait_def" '
                       f'messageRef="msg_{name}" /></bpmn:intermediateCatchEvent>', "wait_msg"))
    return text.replace("</bpmn:definitions>", f'<bpmn:message id="msg_{name}" name="{name}" /></bpmn:definitions>')


def test_an_event_waiting_for_a_message_nothing_sends_is_refused():
    with pytest.raises(InvalidBundle) as info:
        parse_bundle(bundle(message_wait("record_corected")), set(OPERATIONS), messages=set(MESSAGES))
    [problem] = info.value.problems
    assert (problem.file, problem.element) == ("mini.bpmn", "wait_msg")
    reason = english(problem.reason)
    assert "'record_corected'" in reason and "would wait forever" in reason
    assert "record_corrected, record_repaired, record_revoked" in reason   # what it could have been


def test_an_event_waiting_for_a_message_credflow_delivers_deploys():
    assert set(MESSAGES) == {"record_corrected", "record_revoked", "record_repaired"}
    parse_bundle(bundle(message_wait("record_corrected")), set(OPERATIONS), messages=set(MESSAGES))
