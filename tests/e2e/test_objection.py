"""An objection from filing to the corrected record, through the pages only, in a real browser.

The record is captured and published through the services (that part is covered by
test_record_to_publication.py); the subject files the objection, the clerk, the reviewer and the
leader handle it, the public watches the record, each in a browser context of its own.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.accounts import create_user
from workflows.demo import make_uscc
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

SUBJECT_NAME = "榆林市某区交通运输局"
SUBJECT_USER = ("subject_traffic", "subject-pw-2026")
FACTS = "未按合同约定支付道路养护企业账款 48 万元，逾期超过180日。"
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": FACTS, "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-05-29"}
CORRECTED = "未按合同约定支付道路养护企业账款 12 万元，逾期超过180日（其余 36 万元已于认定前支付）。"
STATEMENT = "认定的欠款金额有误：48 万元中的 36 万元已于 2026 年 3 月支付，附银行回单。"
ACCEPT_REASON = "申请材料齐全，符合受理条件。"
VERIFY_REASON = "经核对银行回单，36 万元已于认定前支付，认定金额有误。"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意按规则实施惩戒并公示。"}


@pytest.fixture(scope="module")
def published(live_server):
    """A department of its own with a subject account and one published record: (record id, lifecycle case id)."""
    with live_server.uow() as uow:
        subject = register_subject(uow, "department", SUBJECT_NAME, make_uscc("11610802MB503143"))
        create_user(uow, SUBJECT_USER[0], SUBJECT_USER[1], SUBJECT_NAME, ["subject"], subject_id=subject.id)
        uow.commit()
        subject_id = subject.id
    with live_server.uow("clerk") as uow:
        record, case = open_record(uow, subject_id, CAPTURE)
        uow.commit()
        record_id, case_id = record.id, case.id
    live_server.complete("reviewer", case_id, "legality_review", APPROVE)
    live_server.complete("leader", case_id, "leader_approval", LEADER_OK)
    return record_id, case_id


def new_page(browser: Browser, browser_context_args: dict) -> Page:
    """A page in a browser context of its own: another person, or the public without a login."""
    return browser.new_context(**browser_context_args).new_page()


def login(page: Page, username: str, password: str, lands_on: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(lands_on))


def staff_completes(browser, browser_context_args, live_server, username, case_id, bpmn_id, fill) -> None:
    """A staff member logs in, opens the task from the group tab of the inbox and submits its form."""
    row_id = live_server.task_row(case_id, bpmn_id)
    page = new_page(browser, browser_context_args)
    try:
        login(page, username, live_server.users[username][0], r"/inbox")
        page.goto("/inbox?tab=group&per_page=100")   # other tests' tasks share the live server's queue
        row = page.locator(f'#task-table [data-task-row="{row_id}"]')
        expect(row).to_contain_text(SUBJECT_NAME)
        row.locator(f'a[href$="/tasks/{row_id}"]').first.click()
        expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
        fill(page)
        page.click("#complete")
        expect(page).to_have_url(re.compile(r"/inbox"))
        expect(page.locator(".alert-success")).to_be_visible()
        expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)
    finally:
        page.context.close()


def dossier_step(page: Page, title: str):
    """The dossier's section of the step called `title` (exactly)."""
    return page.locator("#dossier [data-dossier-section]").filter(
        has=page.locator(".cf-step", has_text=re.compile(rf"^{re.escape(title)}$")))


def the_leader_sees_the_case_file(page: Page, lifecycle_id: int) -> None:
    """The leader's approval page, before any choice: what was filed, what the verification found
    (each with who), the record's own steps and decisions, and what each choice will do."""
    filing = dossier_step(page, "提出异议")
    expect(filing).to_have_attribute("data-dossier-section", "filing")
    expect(filing.locator(".cf-who")).to_have_text(SUBJECT_NAME)
    expect(filing.locator('[data-dossier-field="grounds"]')).to_have_text("事实错误")
    expect(filing.locator('[data-dossier-field="statement"]')).to_have_text(STATEMENT)
    evidence = filing.locator('[data-dossier-field="evidence"]')
    expect(evidence.locator("a[data-attachment]")).to_have_text("银行回单.pdf")
    expect(evidence.locator('details.cf-preview[data-preview-kind="pdf"] summary')).to_have_text("预览")

    verification = dossier_step(page, "核查")
    expect(verification.locator(".cf-who")).to_have_text("李审核")
    expect(verification.locator('[data-dossier-field="verification_outcome"]')).to_have_text("更正")
    expect(verification.locator('[data-dossier-field="verification_reason"]')).to_have_text(VERIFY_REASON)
    expect(verification.locator('[data-dossier-field="corrected_facts"]')).to_have_text(CORRECTED)

    # the record's own case: its capture with the facts objected to, and who reviewed it
    capture = dossier_step(page, "录入失信记录")
    expect(capture).to_have_attribute("data-case", str(lifecycle_id))
    expect(capture.locator(".badge", has_text="来源案件")).to_contain_text(f"C-{lifecycle_id:06d}")
    expect(capture.locator('[data-dossier-field="facts"]')).to_have_text(FACTS)
    expect(dossier_step(page, "合法性审核").locator(".cf-who")).to_have_text("李审核")
    # the clerk's acceptance: the reason, and its receipt in the record's history, issued by the clerk
    acceptance = dossier_step(page, "受理审查")
    expect(acceptance.locator(".cf-who")).to_have_text("张承办")
    expect(acceptance.locator('[data-dossier-field="acceptance_reason"]')).to_have_text(ACCEPT_REASON)
    receipt = page.locator("#record-history [data-history-document]", has_text="受理回执")
    expect(receipt.locator(".cf-who")).to_have_text("张承办")

    # each choice says what it will do; none is forbidden
    effects = page.locator('[data-decision="final_outcome"] [data-choice-effect]')
    expect(effects).to_have_text([re.compile(r"^更正后：更正记录；出具《异议处理决定书》"),
                                  re.compile(r"^撤销后：撤销记录；出具《异议处理决定书》"),
                                  re.compile(r"^维持后：维持记录；出具《异议处理决定书》")])
    expect(page.locator("[data-choice-blocked]")).to_have_count(0)
    expect(page.locator("#dossier")).not_to_contain_text(re.compile(r"\b(correct|factual_error|accept)\b"))


def take_desktop_and_phone_screenshots(page: Page, screenshots, name: str) -> None:
    """The whole page at 1366 px and on a 390 px phone, nothing wider than the screen."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshots / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_objection_filed_marked_verified_corrected_and_public(browser: Browser, browser_context_args, live_server,
                                                               published, tmp_path, screenshots):
    record_id, lifecycle_id = published
    evidence = tmp_path / "银行回单.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
                         b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
                         b"trailer << /Root 1 0 R >>\n%%EOF\n")
    subject = new_page(browser, browser_context_args)
    public = new_page(browser, browser_context_args)
    try:
        # -- the subject logs in, lands on the portal and opens the record
        login(subject, *SUBJECT_USER, r"/portal/$")
        expect(subject.locator("#user-menu")).to_contain_text(SUBJECT_NAME)
        row = subject.locator(f'#my-records tr[data-record="{record_id}"]')
        expect(row).to_contain_text("公示中")
        row.get_by_role("link", name="查看").click()
        expect(subject).to_have_url(re.compile(rf"/portal/records/{record_id}$"))
        expect(subject.locator("#record-summary")).to_contain_text(FACTS)

        # -- files an objection with a PDF
        subject.click("#apply-objection")
        expect(subject).to_have_url(re.compile(rf"/portal/records/{record_id}/objection$"))
        subject.get_by_label("事实错误").check()
        subject.fill("#f_statement", STATEMENT)
        subject.set_input_files("#f_evidence", str(evidence))
        subject.click("#submit-application")
        expect(subject).to_have_url(re.compile(r"/portal/applications/\d+$"))
        case_id = int(subject.url.rsplit("/", 1)[1])
        expect(subject.locator(".alert-success")).to_contain_text(f"申请已提交（案件 A-{case_id:06d}）")
        expect(subject.locator("h1")).to_contain_text(f"异议申请 A-{case_id:06d}")
        expect(subject.locator("#application-status")).to_have_text("办理中")
        expect(subject.get_by_role("link", name="银行回单.pdf")).to_be_visible()
        assert live_server.open_task_ids(case_id) == ["acceptance_check"]

        # -- not marked before it is accepted
        public.goto("/public/")
        expect(public.locator(f'tr[data-public-record="{record_id}"]')).not_to_contain_text("异议处理中")

        # -- the clerk accepts it: the public list and page carry the mark
        def accept(page):
            expect(page.locator("#task-name")).to_have_text("受理审查")
            page.check("input[name=acceptance][value=accept]")
            page.fill("#f_acceptance_reason", ACCEPT_REASON)
        staff_completes(browser, browser_context_args, live_server, "clerk", case_id, "acceptance_check", accept)

        public.goto("/public/")
        expect(public.locator("#user-menu")).to_have_count(0)          # nobody logged in
        public_row = public.locator(f'tr[data-public-record="{record_id}"]')
        expect(public_row).to_contain_text(SUBJECT_NAME)
        expect(public_row.locator(".badge")).to_have_text("异议处理中")
        public.evaluate("document.activeElement && document.activeElement.blur()")
        public.screenshot(path=screenshots / "public.png", full_page=True)
        public_row.get_by_role("link", name="详情").click()
        expect(public).to_have_url(re.compile(rf"/public/records/{record_id}$"))
        expect(public.locator("#objection-mark")).to_have_text("异议处理中")

        # -- the reviewer verifies: correct, with the corrected facts; the leader approves
        def verify(page):
            expect(page.locator("#task-name")).to_have_text("核查")
            page.check("input[name=verification_outcome][value=correct]")
            page.fill("#f_verification_reason", VERIFY_REASON)
            page.fill("#f_corrected_facts", CORRECTED)
        staff_completes(browser, browser_context_args, live_server, "reviewer", case_id, "verification", verify)

        def approve(page):
            expect(page.locator("#task-name")).to_have_text("领导审批")
            the_leader_sees_the_case_file(page, lifecycle_id)
            page.check("input[name=final_outcome][value=correct]")
            page.fill("#f_decision_reason", "同意更正认定金额。")
            take_desktop_and_phone_screenshots(page, screenshots, "objection-leader")
        staff_completes(browser, browser_context_args, live_server, "leader", case_id, "leader_approval", approve)
        assert live_server.open_task_ids(case_id) == []

        # -- the subject sees the outcome and is told
        subject.reload()
        expect(subject.locator("#application-status")).to_have_text("已办结")
        expect(subject.locator("#application-outcome")).to_have_text("更正记录")
        expect(subject.locator("#record-summary")).to_contain_text(CORRECTED)
        expect(subject.locator("#unread-count")).to_be_visible()
        subject.click("#notifications-link")
        expect(subject).to_have_url(re.compile(r"/notifications$"))
        note = subject.locator('#notifications [data-kind="decision"]', has_text=f"案件 A-{case_id:06d}")
        expect(note).to_have_count(1)
        expect(note).to_contain_text(f"您的异议申请（案件 A-{case_id:06d}）已有结果：更正记录。")
        note.click()
        expect(subject).to_have_url(re.compile(rf"/portal/applications/{case_id}$"))

        subject.goto("/portal/")
        record_row = subject.locator(f'#my-records tr[data-record="{record_id}"]')
        expect(record_row).to_contain_text("公示中")
        expect(record_row).not_to_contain_text("异议标注")
        application_row = subject.locator(f'#my-applications tr[data-application="{case_id}"]')
        expect(application_row).to_contain_text("异议申请")
        expect(application_row).to_contain_text("已办结")
        expect(application_row).to_contain_text("更正记录")
        subject.screenshot(path=screenshots / "portal.png", full_page=True)

        # -- the public sees the corrected record, without the mark
        public.goto("/public/")
        public_row = public.locator(f'tr[data-public-record="{record_id}"]')
        expect(public_row).to_contain_text(SUBJECT_NAME)
        expect(public_row).not_to_contain_text("异议处理中")
        public_row.get_by_role("link", name="详情").click()
        expect(public.locator("#objection-mark")).to_have_count(0)
        expect(public.locator("dl")).to_contain_text(CORRECTED)
        expect(public.locator("dl")).not_to_contain_text(FACTS)
    finally:
        subject.context.close()
        public.context.close()


def test_the_services_issue_a_decision_while_the_browser_runs(page: Page, live_server):
    """Regression (found at 2c1e55c): signing.sign_pdf() called pyHanko's synchronous PdfSigner.sign_pdf(),
    which runs asyncio.run(); in a thread with a running event loop (Playwright's sync API keeps one running in
    the test thread for the whole session) issuing a decision failed with 'asyncio.run() cannot be called from
    a running event loop', and so did every later test of the run that published a record."""
    page.goto("/public/")                        # the browser (and its event loop) is up
    with live_server.uow("clerk") as uow:
        record, case = open_record(uow, live_server.subjects[2], {**CAPTURE, "facts": "镇政府未兑现厂房建设承诺。"})
        uow.commit()
    live_server.complete("reviewer", case.id, "legality_review", APPROVE)
    live_server.complete("leader", case.id, "leader_approval", LEADER_OK)   # issues the signed decision
    assert live_server.open_task_ids(case.id) == []
