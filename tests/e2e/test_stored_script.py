"""Stored script via a diagram, in a real browser (issue 15, finding 1).

A manager deploys a process whose BPMN carries an XHTML <script> and an SVG element with an onload
handler inside extensionElements. A leader opens the case page (the diagram viewer fetches that
XML) and the diagram's own URL: the script never runs (no marker request, no cookie, no changed
title), the URL is a download, and the pages log no Content-Security-Policy violation. The main
pages of every kind of user, the BPMN editor and the dossier's PDF preview included, are walked
with the policy on and must log none either.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Error as PlaywrightError, Page, expect
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.cases import start_case
from workflows.demo import make_uscc
from workflows.migration import start_job
from workflows.models import ProcessDefinition, User
from workflows.process_admin import deploy_edited
from workflows.records import open_record, register_subject
from workflows.runtime import Actor

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

KEY = "stored_script_probe"
MARKER = "stored-script-marker"
MANAGER = ("csp_manager", "csp-manager-pw-2026", "郑流程", ["manager"])
SUBJECT = ("csp_subject", "csp-subject-pw-2026", "榆林市某区水务局")
# What the hostile script would do with the victim's session: each leaves a trace the test looks for.
PAYLOAD = (f"document.title='PWNED';document.cookie='pwned=1; path=/';"
           f"fetch('/{MARKER}?script='+encodeURIComponent(document.cookie));")
HOSTILE_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_probe" targetNamespace="http://credflow.local/tests">
  <bpmn:process id="{KEY}" name="存储脚本探针" isExecutable="true">
    <bpmn:extensionElements>
      <script xmlns="http://www.w3.org/1999/xhtml">{PAYLOAD}</script>
      <svg xmlns="http://www.w3.org/2000/svg" onload="fetch('/{MARKER}?svg=1')"/>
    </bpmn:extensionElements>
    <bpmn:laneSet id="lanes_probe">
      <bpmn:lane id="lane_leader" name="leader"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>look</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="look" name="查看">
      <bpmn:extensionElements>
        <spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="look.json"/></spiffworkflow:properties>
        <script xmlns="http://www.w3.org/1999/xhtml">{PAYLOAD}</script>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look"/>
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram_probe"><bpmndi:BPMNPlane id="plane_probe" bpmnElement="{KEY}">
    <bpmndi:BPMNShape id="lane_leader_di" bpmnElement="lane_leader" isHorizontal="true">
      <dc:Bounds x="120" y="60" width="560" height="180"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="192" y="132" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="look_di" bpmnElement="look"><dc:Bounds x="320" y="110" width="100" height="80"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="532" y="132" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="228" y="150"/><di:waypoint x="320" y="150"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="420" y="150"/><di:waypoint x="532" y="150"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""
LOOK_FORM = {"type": "object", "title": "查看", "additionalProperties": False, "required": ["note"],
             "properties": {"note": {"type": "string", "title": "意见", "x-widget": "textarea", "minLength": 1}}}
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "未按合同约定支付供水工程款，逾期超过180日。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}
# Reports every policy violation on the console, where the watcher below collects it; injected by
# the browser's DevTools protocol, so the page's own policy does not apply to it.
VIOLATION_REPORTER = """document.addEventListener('securitypolicyviolation', e =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile));"""


class Watcher:
    """Collects what a page must never show: a policy violation and a request to the marker."""

    def __init__(self, page: Page):
        self.violations: list[str] = []
        self.marker_requests: list[str] = []
        page.add_init_script(VIOLATION_REPORTER)
        page.on("console", self._console)
        page.on("request", lambda r: self.marker_requests.append(r.url) if MARKER in r.url else None)

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation") or "Refused to" in text:
            self.violations.append(f"{message.page.url if message.page else ''}: {text}")


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


@pytest.fixture(scope="module")
def world(live_server, browser: Browser, browser_context_args):
    """The hostile process deployed by a manager and a case of it at the leader's task; a published
    record with a subject's objection carrying a PDF (for the dossier preview); a manager and a
    subject account."""
    with live_server.uow() as uow:
        for username, password, display, roles in (MANAGER,):
            if uow.session.scalar(select(User).where(User.username == username)) is None:
                create_user(uow, username, password, display, roles)
        subject = register_subject(uow, "department", SUBJECT[2], make_uscc("11610802MB503277"))
        create_user(uow, SUBJECT[0], SUBJECT[1], SUBJECT[2], ["subject"], subject_id=subject.id)
        uow.commit()
        subject_id = subject.id
        manager = Actor.of(uow.session.scalar(select(User).where(User.username == MANAGER[0])))
    live_server.actors.setdefault(MANAGER[0], manager)
    with live_server.uow(MANAGER[0]) as uow:
        deploy_edited(uow, KEY, HOSTILE_BPMN, {"look.json": LOOK_FORM})
        uow.commit()
    with live_server.uow() as uow:
        probe_case = start_case(uow, KEY).id
        uow.commit()
    with live_server.uow(MANAGER[0]) as uow:
        definition = uow.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == KEY)).one()
        definition_id, job_id = definition.id, start_job(uow, definition, definition).id   # (never run)
        uow.commit()

    with live_server.uow("clerk") as uow:
        record, lifecycle = open_record(uow, subject_id, CAPTURE)
        uow.commit()
        record_id, lifecycle_id = record.id, lifecycle.id
    live_server.complete("reviewer", lifecycle_id, "legality_review",
                         {"review_decision": "approve", "review_opinion": "事实清楚，证据充分。"})
    live_server.complete("leader", lifecycle_id, "leader_approval",
                         {"leader_decision": "approve", "leader_opinion": "同意。"})
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    try:
        login(page, SUBJECT[0], SUBJECT[1])
        page.goto(f"/portal/records/{record_id}/objection")
        page.get_by_label("事实错误").check()
        page.fill("#f_statement", "欠款已于认定前结清，附银行回单。")
        page.set_input_files("#f_evidence", files=[
            {"name": "回单.pdf", "mimeType": "application/pdf", "buffer": one_page_pdf()}])
        page.click("#submit-application")
        expect(page).to_have_url(re.compile(r"/portal/applications/\d+$"))
        objection_id = int(page.url.rsplit("/", 1)[1])
    finally:
        context.close()
    return {"probe_case": probe_case, "definition": definition_id, "job": job_id, "record": record_id, "lifecycle": lifecycle_id,
            "objection_task": live_server.task_row(objection_id, "acceptance_check"),
            "probe_task": live_server.task_row(probe_case, "look")}


def one_page_pdf() -> bytes:
    """A valid, empty one-page PDF with a correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def new_page(browser: Browser, browser_context_args, username: str, password: str) -> tuple[Page, Watcher]:
    page = browser.new_context(**browser_context_args).new_page()
    page.set_default_timeout(15_000)
    watcher = Watcher(page)
    login(page, username, password)
    return page, watcher


def assert_untouched(page: Page, watcher: Watcher, title_before: str) -> None:
    page.wait_for_load_state("networkidle")
    assert watcher.marker_requests == [], f"the stored script ran: {watcher.marker_requests}"
    assert not any(c["name"] == "pwned" for c in page.context.cookies()), "the stored script set a cookie"
    assert page.title() == title_before != "PWNED"


def open_directly(page: Page, watcher: Watcher, url: str) -> None:
    """Navigate to a stored diagram's URL: nothing in it runs, and it arrives as an intact download."""
    title, downloads = page.title(), []
    page.on("download", lambda d: downloads.append(d))
    try:
        page.goto(url)
    except PlaywrightError as exc:      # navigating to a download aborts the navigation
        assert "Download is starting" in str(exc) or "ERR_ABORTED" in str(exc), exc
    assert_untouched(page, watcher, title)
    assert len(downloads) == 1, f"{url} was shown as a page, not downloaded"
    assert downloads[0].suggested_filename.endswith(".bpmn")
    with open(downloads[0].path(), encoding="utf-8") as fh:
        assert "<script" in fh.read()      # the file itself is served intact
    response = page.context.request.get(url)
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


def test_a_script_in_a_deployed_diagram_never_runs_for_a_leader(browser: Browser, browser_context_args,
                                                                live_server, world):
    page, watcher = new_page(browser, browser_context_args, "leader", live_server.users["leader"][0])
    try:
        # the case page: the viewer fetches the hostile XML and draws it; nothing in it runs
        page.goto(f"/cases/{world['probe_case']}")
        expect(page.locator("#diagram")).to_have_attribute("data-ready", "1")
        expect(page.locator('#diagram .djs-element[data-element-id="look"]')).to_have_count(1)
        assert_untouched(page, watcher, page.title())

        # the diagram's own URL, opened directly (a link, a bookmark): a download, never a page
        open_directly(page, watcher, f"/cases/{world['probe_case']}/diagram.bpmn")
        assert page.url.endswith(f"/cases/{world['probe_case']}")   # still on the case page

        # the leader's task of the hostile process: its page too
        page.goto(f"/tasks/{world['probe_task']}")
        expect(page.locator("#task-form")).to_be_visible()
        assert_untouched(page, watcher, page.title())
        assert watcher.violations == []
    finally:
        page.context.close()


def test_the_manager_pages_with_the_hostile_diagram_run_nothing(browser: Browser, browser_context_args, world):
    page, watcher = new_page(browser, browser_context_args, *MANAGER[:2])
    try:
        page.goto(f"/admin/definitions/{world['definition']}")
        expect(page.locator("#diagram")).to_have_attribute("data-ready", "1")
        assert_untouched(page, watcher, page.title())
        with page.expect_download() as download:
            page.click(f'a[href*="/admin/definitions/{world["definition"]}/diagram.bpmn"]')
        assert download.value.suggested_filename == f"{KEY}-v1.bpmn"
        open_directly(page, watcher, f"/admin/definitions/{world['definition']}/diagram.bpmn")
        page.goto(f"/admin/processes/{KEY}/editor")
        expect(page.locator("#canvas")).to_have_attribute("data-ready", "1")
        expect(page.locator('#canvas .djs-element[data-element-id="look"]')).to_have_count(1)
        assert_untouched(page, watcher, page.title())
        assert watcher.violations == []
    finally:
        page.context.close()


def walk(page: Page, watcher: Watcher, steps) -> None:
    for url, ready in steps:
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
    assert watcher.violations == [], "\n".join(watcher.violations)


def test_the_main_pages_log_no_policy_violation(browser: Browser, browser_context_args, live_server, world):
    # staff: inbox, task page with the dossier's PDF preview opened, case page, record form, records
    page, watcher = new_page(browser, browser_context_args, "clerk", live_server.users["clerk"][0])
    try:
        walk(page, watcher, [("/inbox", "main"), (f"/tasks/{world['objection_task']}", "#task-form")])
        panel = page.locator('details.cf-preview[data-preview-kind="pdf"]')
        panel.locator("summary").click()
        expect(panel.locator("iframe.cf-preview-frame")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.goto(f"/cases/{world['lifecycle']}")
        expect(page.locator("#diagram")).to_have_attribute("data-ready", "1")
        page.goto("/records/new")
        expect(page.locator("#new-subject")).to_be_hidden()           # the moved script still runs
        page.check("#mode-new")
        expect(page.locator("#new-subject")).to_be_visible()
        expect(page.locator("#existing-subject")).to_be_hidden()
        walk(page, watcher, [("/records", "main"), ("/notifications", "main"), ("/account/", "main")])
    finally:
        page.context.close()

    page, watcher = new_page(browser, browser_context_args, *MANAGER[:2])
    try:
        walk(page, watcher, [("/admin/", "main"), ("/admin/upload", "main"),
                             ("/admin/processes/record_lifecycle/diff", "#diagram-new[data-ready='1']")])
        page.goto(f"/admin/migrations/{world['job']}")              # the moved progress script polls
        expect(page.locator("#progress-text")).to_contain_text("0 / 1")
        expect(page.locator("#progress-bar")).to_have_text("0%")
        page.goto("/admin/processes/record_lifecycle/editor")
        expect(page.locator("#canvas")).to_have_attribute("data-ready", "1")
        page.wait_for_load_state("networkidle")
        assert watcher.violations == [], "\n".join(watcher.violations)
    finally:
        page.context.close()

    page, watcher = new_page(browser, browser_context_args, "admin", live_server.users["admin"][0])
    try:
        walk(page, watcher, [("/system/users", "main"), ("/system/calendar", "main")])
    finally:
        page.context.close()

    page, watcher = new_page(browser, browser_context_args, SUBJECT[0], SUBJECT[1])
    try:
        walk(page, watcher, [("/portal/", "main"), (f"/portal/records/{world['record']}", "main"),
                             (f"/portal/records/{world['record']}/self_correction", "main")])
    finally:
        page.context.close()

    page = browser.new_context(**browser_context_args).new_page()
    watcher = Watcher(page)
    try:
        walk(page, watcher, [("/public/", "main"), ("/public/verify", "main"), ("/login", "main"),
                             ("/no-such-page", "main")])
        # and the watcher does see a violation: script that reaches a page as markup is refused
        page.goto("/public/")
        page.evaluate("""() => { const s = document.createElement('script'); s.textContent = "document.title = 'PWNED'";
                                 document.body.appendChild(s);
                                 document.body.insertAdjacentHTML('beforeend', '<img src="/static/credflow.css" onerror="document.title=1">'); }""")
        expect(page).not_to_have_title("PWNED")
        page.wait_for_load_state("networkidle")
        assert any("script-src" in v for v in watcher.violations), watcher.violations
    finally:
        page.context.close()
