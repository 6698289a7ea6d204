"""The in-browser BPMN editor of process managers, in a real browser.

A manager edits the record lifecycle (renames a task, adds a user task with a new form), deploys it
as v2 while a case started on v1 keeps running on v1; a condition the sandbox refuses is shown as
the manager types and blocks the deploy; an upload with an unsupported element deploys nothing; a
reviewer is refused every /admin route; every shipped diagram survives a load/save in the modeler.

The module deploys a new lifecycle version: at its end the shipped processes are deployed again
(as a new version with the original content), so later test modules start cases on the original.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete, select
from werkzeug.routing.converters import NumberConverter

from workflows.accounts import create_user
from workflows.definitions import deploy_folder
from workflows.models import Case, ProcessDefinition, ProcessDraft, User

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

MANAGER = ("manager", "manager-pw-2026", "周流程", ["manager"])
LIFECYCLE = "record_lifecycle"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}
REJECT = {"review_decision": "reject", "review_opinion": "证据不足，不予认定。"}

CAMUNDA_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn"
  exporter="Camunda Modeler" exporterVersion="5.20.0" modeler:executionPlatform="Camunda Platform"
  modeler:executionPlatformVersion="7.20.0">
  <bpmn:process id="camunda_countersign" name="会签（Camunda）" isExecutable="true" camunda:historyTimeToLive="180">
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:complexGateway id="Gateway_countersign" name="会签">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing><bpmn:outgoing>Flow_3</bpmn:outgoing>
    </bpmn:complexGateway>
    <bpmn:userTask id="Task_a" name="甲审核" camunda:assignee="demo">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_b" name="乙审核" camunda:candidateGroups="reviewer">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:outgoing>Flow_5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_a"><bpmn:incoming>Flow_4</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_b"><bpmn:incoming>Flow_5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Gateway_countersign" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Gateway_countersign" targetRef="Task_a" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_countersign" targetRef="Task_b" />
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Task_a" targetRef="End_a" />
    <bpmn:sequenceFlow id="Flow_5" sourceRef="Task_b" targetRef="End_b" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="camunda_countersign">
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1"><dc:Bounds x="152" y="142" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Gateway_countersign_di" bpmnElement="Gateway_countersign"><dc:Bounds x="245" y="135" width="50" height="50" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_a_di" bpmnElement="Task_a"><dc:Bounds x="350" y="60" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_b_di" bpmnElement="Task_b"><dc:Bounds x="350" y="180" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_a_di" bpmnElement="End_a"><dc:Bounds x="502" y="82" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_b_di" bpmnElement="End_b"><dc:Bounds x="502" y="202" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1"><di:waypoint x="188" y="160" /><di:waypoint x="245" y="160" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2"><di:waypoint x="270" y="135" /><di:waypoint x="270" y="100" /><di:waypoint x="350" y="100" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_3_di" bpmnElement="Flow_3"><di:waypoint x="270" y="185" /><di:waypoint x="270" y="220" /><di:waypoint x="350" y="220" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_4_di" bpmnElement="Flow_4"><di:waypoint x="450" y="100" /><di:waypoint x="502" y="100" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_5_di" bpmnElement="Flow_5"><di:waypoint x="450" y="220" /><di:waypoint x="502" y="220" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def in_thread(fn, *args):
    """Run a service call in a thread of its own (see test_objection.py: pyhanko's asyncio.run() fails
    in the test's thread, where Playwright's sync API keeps an event loop running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="module")
def manager(live_server):
    """A process manager; at the end of the module the shipped processes are deployed again and
    drafts dropped, so the edits made here do not leak into later test modules."""
    username, password, display, roles = MANAGER
    with live_server.uow() as uow:
        if uow.session.scalar(select(User).where(User.username == username)) is None:
            create_user(uow, username, password, display, roles)
        uow.session.execute(delete(ProcessDraft))
        uow.commit()
    yield username, password
    with live_server.uow() as uow:
        uow.session.execute(delete(ProcessDraft))
        deploy_folder(uow)
        uow.commit()


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def new_page(browser: Browser, browser_context_args: dict) -> Page:
    return browser.new_context(**browser_context_args).new_page()


def open_editor(page: Page, key: str) -> None:
    page.goto(f"/admin/processes/{key}/editor")
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "1", timeout=15_000)


def shape(page: Page, element_id: str):
    return page.locator(f'#canvas g.djs-element[data-element-id="{element_id}"]')


def screen_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Where diagram coordinates (x, y) are on the screen right now."""
    return tuple(page.evaluate("""([x, y]) => {
        const canvas = cfEditor.modeler.get('canvas');
        const box = canvas.viewbox(), rect = canvas.getContainer().getBoundingClientRect();
        return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
    }""", [x, y]))


def versions(live_server, key: str) -> list[int]:
    with live_server.factory() as session:
        return list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                                    .order_by(ProcessDefinition.version)))


def case_info(live_server, case_id: int) -> tuple[int, str]:
    """(the version the case runs on, its status)"""
    with live_server.factory() as session:
        case = session.get(Case, case_id)
        return session.get(ProcessDefinition, case.definition_id).version, case.status


def csrf_token(page: Page) -> str:
    return page.locator('meta[name="csrf-token"]').get_attribute("content")


# -- every shipped diagram survives the modeler ---------------------------------------------------

def test_every_shipped_diagram_round_trips_through_the_modeler(page: Page, live_server, manager):
    login(page, *manager)
    with live_server.factory() as session:
        keys = sorted(set(session.scalars(select(ProcessDefinition.key))))
    assert {"record_lifecycle", "objection", "credit_repair", "self_correction"} <= set(keys)
    tag = re.compile(r"<(spiffworkflow:\w+|bpmn:conditionExpression|bpmn:timeDate|bpmn:timeDuration|bpmn:timeCycle"
                     r"|bpmn:script|bpmn:loopCondition|bpmn:messageEventDefinition)\b")
    for key in keys:
        open_editor(page, key)
        assert page.evaluate("cfEditor.state.importWarnings") == 0, key
        original = page.request.get(f"/admin/processes/{key}/draft.json").json()
        saved = page.evaluate("cfEditor.getXml()")
        # every extension element, condition, timer and script is still there, typed (not generic)
        assert Counter(tag.findall(saved)) == Counter(tag.findall(original["bpmn_xml"])), key
        answer = page.request.post(f"/admin/processes/{key}/validate", headers={"X-CSRFToken": csrf_token(page)},
                                   data={"bpmn_xml": saved, "forms": original["forms"]})
        assert answer.ok, (key, answer.status)
        assert answer.json() == {"ok": True, "problems": []}, key
        if key == LIFECYCLE:
            # the extensions are typed: a service task's operator and parameters are moddle objects
            assert page.evaluate("""() => {
                const bo = cfEditor.modeler.get('elementRegistry').get('save_record').businessObject;
                const op = bo.extensionElements.values.find(v => v.$type === 'spiffworkflow:ServiceTaskOperator');
                return [op.id, op.resultVariable, op.parameters.parameters.length, op.parameters.parameters[0].$type];
            }""") == ["update_record", "saved_record", 6, "spiffworkflow:Parameter"]


# -- 1. rename a task, add a user task with a new form, deploy a new version ----------------------

def test_manager_edits_and_deploys_a_new_version(page: Page, browser: Browser, browser_context_args, live_server,
                                                 manager, screenshots):
    before = versions(live_server, LIFECYCLE)         # [1] unless another module deployed the lifecycle
    current, new = before[-1], before[-1] + 1
    _, old_case = live_server.open_record(0)          # a case on the current version, waiting for legality review
    assert case_info(live_server, old_case) == (current, "running")

    login(page, *manager)
    open_editor(page, LIFECYCLE)
    expect(page.locator("#status")).to_have_text(f"已部署版本 v{current}")

    # rename legality_review through the properties panel
    shape(page, "legality_review").click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "legality_review")
    expect(page.locator("#prop-type")).to_have_text("用户任务")
    expect(page.locator("#prop-lane")).to_have_attribute("data-lane", "reviewer")
    expect(page.locator("#prop-lane")).to_contain_text("审核人")
    expect(page.locator("#prop-form")).to_have_value("legality_review.json")
    page.fill("#prop-name", "合法性审查")
    page.press("#prop-name", "Enter")
    expect(shape(page, "legality_review")).to_contain_text("合法性审查")
    expect(page.locator("#status")).to_contain_text("未保存")

    # a new task from the palette, dropped on the approve flow (gateway -> confirm_record_task) in the
    # reviewer lane: bpmn-js splits the flow and puts the task in the lane it lands in
    page.click('.djs-palette .entry[data-action="create.task"]')
    x, y = screen_point(page, 900, 590)
    page.mouse.move(x - 40, y - 40)
    page.mouse.move(x, y, steps=8)
    page.mouse.click(x, y)
    new_id = page.evaluate("cfEditor.modeler.get('elementRegistry').get('flow_review_approve').target.id")
    assert new_id != "confirm_record_task"
    expect(page.locator("#properties")).to_have_attribute("data-element", new_id)
    # make it a user task (the wrench of the context pad)
    page.click('.djs-context-pad .entry[data-action="replace"]')
    page.click('.djs-popup [data-id="replace-with-user-task"]')
    expect(page.locator("#prop-type")).to_have_text("用户任务")
    page.fill("#prop-id", "check_evidence")
    page.press("#prop-id", "Enter")
    expect(page.locator("#properties")).to_have_attribute("data-element", "check_evidence")
    page.fill("#prop-name", "核查证据")
    page.press("#prop-name", "Enter")
    expect(page.locator("#prop-lane")).to_have_attribute("data-lane", "reviewer")
    # a new form from the template, named after the task
    page.select_option("#prop-form", "__new__")
    expect(page.locator("#new-form-name")).to_have_value("check_evidence.json")
    page.click("#create-form")
    expect(page.locator("#prop-form")).to_have_value("check_evidence.json")
    page.fill("#prop-due", "3")
    page.press("#prop-due", "Enter")
    # the dossier it shows, edited like the form and the deadline: a name no form has is flagged
    page.fill("#prop-dossier", "review_opinion, no_such_field")
    page.press("#prop-dossier", "Enter")
    expect(page.locator('[data-check-for="prop-dossier"]')).to_contain_text("no_such_field")
    page.fill("#prop-dossier", "review_opinion，facts")
    page.press("#prop-dossier", "Enter")
    expect(page.locator('[data-check-for="prop-dossier"]')).to_contain_text("review_opinion → facts")
    assert page.evaluate("""() => {
        const bo = cfEditor.modeler.get('elementRegistry').get('check_evidence').businessObject;
        const props = bo.extensionElements.values.find(v => v.$type === 'spiffworkflow:Properties');
        return props.properties.find(p => p.name === 'dossierFields').value;
    }""") == "review_opinion,facts"
    assert page.evaluate("""() => {
        const reg = cfEditor.modeler.get('elementRegistry'), task = reg.get('check_evidence');
        return [task.incoming.map(f => f.source.id), task.outgoing.map(f => f.target.id)];
    }""") == [["gw_review_decision"], ["confirm_record_task"]]

    # the form editor: an invalid schema blocks saving and deploying until fixed
    page.click("#tab-forms")
    expect(page.locator("#form-file")).to_have_value("check_evidence.json")
    expect(page.locator("#form-preview")).to_contain_text("结论")
    page.fill("#form-json", '{"type": "object", "properties": ')
    expect(page.locator("#form-error")).to_contain_text("JSON")
    expect(page.locator("#deploy")).to_be_disabled()
    expect(page.locator("#save-draft")).to_be_disabled()
    page.fill("#form-json", json.dumps({"type": "object", "properties": {"decision": {"type": "wrong"}}}))
    expect(page.locator("#form-error")).to_contain_text("表单定义无效")
    expect(page.locator("#deploy")).to_be_disabled()
    schema = page.request.get("/admin/api/form-template").json()
    schema["title"] = "核查证据"
    schema["properties"]["opinion"]["title"] = "核查意见"
    page.fill("#form-json", json.dumps(schema, ensure_ascii=False, indent=2))
    expect(page.locator("#form-preview")).to_contain_text("核查意见")
    expect(page.locator("#form-error")).to_be_hidden()
    expect(page.locator("#deploy")).to_be_enabled()

    page.click("#tab-diagram")
    page.click("#validate")
    expect(page.locator("#problems-none")).to_be_visible()
    page.click("#save-draft")
    expect(page.locator("#status")).to_have_text("已保存 09:00")     # the live server's fixed clock
    # still selected (clicking a selected element would deselect it)
    expect(page.locator("#properties")).to_have_attribute("data-element", "check_evidence")
    page.screenshot(path=screenshots / "editor.png")

    page.click("#deploy")
    expect(page.locator("#status")).to_contain_text(f"已部署为 v{new}")
    assert versions(live_server, LIFECYCLE) == [*before, new]
    page.click("#status-link")
    expect(page.locator(f'[data-process="{LIFECYCLE}"] tr[data-version="{new}"]')).to_contain_text("当前")

    # a new case starts on v2: the reviewer's inbox shows the new name, then the new task
    _, new_case = live_server.open_record(1)
    assert case_info(live_server, new_case) == (new, "running")
    reviewer = new_page(browser, browser_context_args)
    try:
        login(reviewer, "reviewer", live_server.users["reviewer"][0])
        reviewer.goto("/inbox?tab=group")
        expect(reviewer.locator(f'[data-task-row="{live_server.task_row(new_case, "legality_review")}"]')
               ).to_contain_text("合法性审查")
        expect(reviewer.locator(f'[data-task-row="{live_server.task_row(old_case, "legality_review")}"]')
               ).to_contain_text("合法性审核")
        in_thread(live_server.complete, "reviewer", new_case, "legality_review", APPROVE)
        assert live_server.open_task_ids(new_case) == ["check_evidence"]
        row_id = live_server.task_row(new_case, "check_evidence")
        reviewer.goto("/inbox?tab=group")
        expect(reviewer.locator(f'[data-task-row="{row_id}"]')).to_contain_text("核查证据")
        reviewer.goto(f"/tasks/{row_id}")
        expect(reviewer.locator("#task-name")).to_have_text("核查证据")
        expect(reviewer.locator('[data-field="opinion"]')).to_contain_text("核查意见")
        # its dossier: the declared fields, in the declared order, who and when
        expect(reviewer.locator('#dossier [data-dossier-field="review_opinion"]')).to_have_text(APPROVE["review_opinion"])
        assert reviewer.locator("#dossier dd[data-dossier-field]").evaluate_all(
            "els => els.map(e => e.dataset.dossierField)") == ["review_opinion", "facts"]
    finally:
        reviewer.context.close()

    # the case started before the deploy still runs on v1 and finishes there
    in_thread(live_server.complete, "reviewer", old_case, "legality_review", REJECT)
    assert case_info(live_server, old_case) == (current, "completed")
    assert live_server.open_task_ids(old_case) == []


# -- 2. a condition the sandbox refuses -------------------------------------------------------------

def test_a_refused_condition_is_shown_live_and_blocks_the_deploy(page: Page, live_server, manager):
    before = versions(live_server, LIFECYCLE)
    login(page, *manager)
    open_editor(page, LIFECYCLE)
    shape(page, "gw_review_decision").click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "gw_review_decision")
    condition = page.locator("#cond-flow_review_reject")
    expect(condition).to_have_value('review_decision == "reject"')
    check = page.locator('[data-check-for="cond-flow_review_reject"]')
    expect(check).to_have_attribute("data-state", "ok")
    condition.fill("__import__('os')")
    expect(check).to_have_attribute("data-state", "bad")
    expect(check).to_contain_text("__import__")

    page.click("#deploy")
    problem = page.locator('#problems li[data-element="gw_review_decision"]')
    expect(problem).to_contain_text("__import__")
    expect(page.locator("#status")).to_contain_text("未部署")
    expect(shape(page, "gw_review_decision")).to_have_class(re.compile(r"\bcf-problem\b"))
    expect(shape(page, "flow_review_reject")).to_have_class(re.compile(r"\bcf-problem\b"))
    expect(page.locator('.cf-problem-badge[data-problem-for="gw_review_decision"]')).to_contain_text("__import__")
    assert versions(live_server, LIFECYCLE) == before

    # clicking the problem selects the element
    shape(page, "legality_review").click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "legality_review")
    problem.click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "gw_review_decision")

    # unsaved changes: leaving asks first
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.click("nav .breadcrumb a")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert dialogs == ["beforeunload"]
    assert versions(live_server, LIFECYCLE) == before


# -- 3. uploads with unsupported elements deploy nothing ---------------------------------------------

def test_upload_with_a_complex_gateway_is_refused(page: Page, live_server, manager):
    with live_server.factory() as session:
        count = len(session.scalars(select(ProcessDefinition.id)).all())
    login(page, *manager)
    page.goto("/admin/upload")
    page.set_input_files('#upload-form input[name="bpmn"]', files=[{
        "name": "countersign.bpmn", "mimeType": "application/xml", "buffer": CAMUNDA_BPMN.encode()}])
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#upload-form button")
    assert posted.value.status == 422
    refused = page.locator('#upload-problems li[data-element="Gateway_countersign"]')
    expect(refused.filter(has_text="复杂网关")).to_have_count(1)
    with live_server.factory() as session:
        assert len(session.scalars(select(ProcessDefinition.id)).all()) == count
        assert session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "camunda_countersign")) is None


# -- 4. only managers ---------------------------------------------------------------------------------

def test_reviewer_is_refused_every_admin_route(page: Page, live_server, manager):
    from webapp import create_app
    engine_url = live_server.factory.kw["bind"].url.render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": engine_url, "SECRET_KEY": "url-map-only", "CLOCK": live_server.clock})
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    login(page, "reviewer", live_server.users["reviewer"][0])
    token = csrf_token(page)
    seen = {"GET": 0, "POST": 0}
    for rule in rules:
        url = rule.rule
        for name, converter in rule._converters.items():
            value = "1" if isinstance(converter, NumberConverter) else LIFECYCLE
            url = re.sub(rf"<(?:[^>:]+:)?{name}>", value, url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = page.request.get(url, max_redirects=0)
            else:
                response = page.request.post(url, headers={"X-CSRFToken": token},
                                             data={"bpmn_xml": "<x/>", "forms": {}}, max_redirects=0)
            assert response.status == 403, (method, url, response.status)
            seen[method] += 1
    assert seen["GET"] >= 10 and seen["POST"] >= 7, seen
    assert versions(live_server, LIFECYCLE)[-1] >= 1


# -- the new-form template ------------------------------------------------------------------------------

def test_the_form_template_accepts_a_plain_opinion(page: Page, live_server, manager):
    from jsonschema import Draft202012Validator
    login(page, *manager)
    schema = page.request.get("/admin/api/form-template").json()
    errors = list(Draft202012Validator(schema).iter_errors({"decision": "approve", "opinion": "核查无误"}))
    assert errors == []


def test_the_editor_speaks_english_with_the_language_switch(page: Page, live_server, manager):
    """Every word the editor's script writes comes from the page: in English, none is Chinese
    (the diagram's own names are data and stay as drawn)."""
    login(page, *manager)
    page.goto(f"/admin/processes/{LIFECYCLE}/editor?lang=en")
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "1", timeout=15_000)
    expect(page.locator("#status")).to_have_text(re.compile(r"^Deployed version v\d+$"))
    shape(page, "legality_review").click()
    expect(page.locator("#prop-type")).to_have_text("User task")
    expect(page.locator("#prop-lane")).to_contain_text("(reviewer)")
    shape(page, "save_record").click()
    expect(page.locator("#prop-operation")).to_be_visible()
    cjk = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
    for selector in ("#properties", "#status", "#editor-tabs", "#base-version"):
        assert not cjk.search(page.locator(selector).inner_text()), (selector, page.locator(selector).inner_text())
    page.click("#tab-forms")
    expect(page.locator("#form-users")).to_contain_text("Used by: ")
