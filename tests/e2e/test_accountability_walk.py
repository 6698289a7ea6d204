"""An accountability case's staff steps in a real browser, each page read as its user reads it:
the clerk's 确认责任人 names the person; the person states their case in the portal; the reviewer's
自我纠错情况认定 and 拟定问责措施 show the statement; the leader's 领导决定 shows the proposal and the
statement, and what each measure will do.

The department, its roster and the sanctioned record are set up through the services; the
department is this module's own, so other browser tests' records open no cases here.
"""
from __future__ import annotations

import os
import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from workflows.accountability import add_holding
from workflows.accounts import create_user
from workflows.demo import make_citizen_id, make_uscc
from workflows.models import Case
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

DEPARTMENT = ("榆林市某区住房和城乡建设局", make_uscc("11610802MB725318"))
PERSON = ("cs_liu", "liu-pw-2026", "刘局长", "61080219680808008")     # username, password, name, first 17 digits
FACTS = "未按合同约定支付保障房施工企业工程款 52 万元，逾期超过180日。"
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": FACTS, "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-05-29",
           "conduct_date": "2026-02-10"}
CONFIRM_REASON = "经核对任免文件，刘局长 2021 年 9 月起任主要负责人，失信行为发生时在岗。"
STATEMENT = "本人已于 2026 年 4 月主持专题会议，约定分三期支付；首期 20 万元已付，附会议纪要。"
SELF_CORRECTION_REASON = "已制定还款计划并支付首期款项，属主动纠错，可从轻。"
MEASURE_REASON = "对拖欠工程款负有主要领导责任，已部分整改，拟予通报。"
DECISION_REASON = "同意拟定意见，予以通报。"
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture(scope="module")
def case_id(live_server) -> int:
    """The sanctioned record's accountability case of the department's principal, waiting for the
    clerk's confirmation."""
    with live_server.uow() as uow:
        department = register_subject(uow, "department", *DEPARTMENT)
        username, password, name, first17 = PERSON
        person = register_subject(uow, "civil_servant", name, make_citizen_id(first17))
        add_holding(uow, department.id, person, "principal", date(2021, 9, 1))
        create_user(uow, username, password, name, ["subject"], subject_id=person.id)
        uow.commit()
        department_id = department.id
    with live_server.uow("clerk") as uow:
        record, lifecycle = open_record(uow, department_id, CAPTURE)
        uow.commit()
        record_id, lifecycle_id = record.id, lifecycle.id
    live_server.complete("reviewer", lifecycle_id, "legality_review",
                         {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"})
    live_server.complete("leader", lifecycle_id, "leader_approval",
                         {"leader_decision": "approve", "leader_opinion": "同意。"})
    with live_server.factory() as session:
        opened = session.scalars(select(Case.id).where(Case.process_key == "accountability",
                                                       Case.record_id == record_id)).all()
    assert len(opened) == 1
    assert live_server.open_task_ids(opened[0]) == ["confirm_person"]
    return opened[0]


def login(page: Page, username: str, password: str, lands_on: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(lands_on))


def dossier_step(page: Page, title: str):
    """The dossier's section of the step called `title` (exactly)."""
    return page.locator("#dossier [data-dossier-section]").filter(
        has=page.locator(".cf-step", has_text=re.compile(rf"^{re.escape(title)}$")))


def staff_step(browser, browser_context_args, live_server, username, case_id, bpmn_id, title, read, fill) -> None:
    """A staff member logs in, opens the task from the group tab of the inbox, reads the page
    (`read`), fills the form (`fill`) and submits it."""
    row_id = live_server.task_row(case_id, bpmn_id)
    page = browser.new_context(**browser_context_args).new_page()
    try:
        login(page, username, live_server.users[username][0], r"/inbox")
        page.goto("/inbox?tab=group")
        row = page.locator(f'#task-table [data-task-row="{row_id}"]')
        expect(row).to_contain_text(title)
        row.locator(f'a[href$="/tasks/{row_id}"]').first.click()
        expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
        expect(page.locator("#task-name")).to_have_text(title)
        read(page)
        fill(page)
        page.click("#complete")
        expect(page).to_have_url(re.compile(r"/inbox"))
        expect(page.locator(".alert-success")).to_be_visible()
        expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)
    finally:
        page.context.close()


def the_person_is_named(page: Page) -> None:
    person = page.locator('#dossier [data-dossier-section="person"]')
    expect(person.locator(".cf-step")).to_have_text("责任人")
    expect(person.locator('[data-dossier-field="person_name"]')).to_have_text(PERSON[2])
    expect(person.locator('[data-dossier-field="person_code"]')).to_have_text(re.compile(r"^610802\*+80$"))
    expect(person.locator('[data-dossier-field="post"]')).to_have_text("主要负责人")


def the_statement_is_shown(page: Page) -> None:
    statement = dossier_step(page, "陈述申辩")
    expect(statement.locator(".cf-who")).to_have_text(PERSON[2])
    expect(statement.locator('[data-dossier-field="statement_text"]')).to_have_text(STATEMENT)
    files = statement.locator('[data-dossier-field="statement_files"]')
    expect(files.locator("a[data-attachment]")).to_have_text("会议纪要.pdf")
    expect(files.locator('details.cf-preview[data-preview-kind="pdf"] summary')).to_have_text("预览")


def no_raw_keys(page: Page) -> None:
    expect(page.locator("#dossier")).not_to_contain_text(
        re.compile(r"\b(confirm|lighter|notice|principal|admonition)\b"))


def test_the_staff_read_the_person_the_statement_and_the_proposal(browser: Browser, browser_context_args,
                                                                 live_server, case_id, tmp_path, screenshots):
    username, password, name, _ = PERSON

    def confirm_page(page):
        the_person_is_named(page)
        expect(dossier_step(page, "录入失信记录").locator('[data-dossier-field="facts"]')).to_have_text(FACTS)
        expect(page.locator('[data-decision="person_confirmed"] [data-choice-effect]')).to_have_text([
            "确认后：告知陈述申辩权利；转信用主体「陈述申辩」",
            "更正为他人后：更正责任人；告知陈述申辩权利；转信用主体「陈述申辩」",
            "无需追责后：办结（不予追责）"])
        no_raw_keys(page)

    def confirm(page):
        page.check("input[name=person_confirmed][value=confirm]")
        page.fill("#f_confirm_reason", CONFIRM_REASON)
    staff_step(browser, browser_context_args, live_server, "clerk", case_id, "confirm_person", "确认责任人",
               confirm_page, confirm)
    assert live_server.open_task_ids(case_id) == ["statement"]

    # -- the person states their case in the portal, with a PDF
    evidence = tmp_path / "会议纪要.pdf"
    evidence.write_bytes(PDF)
    person = browser.new_context(**browser_context_args).new_page()
    try:
        login(person, username, password, r"/portal/$")
        person.locator("#portal-tasks").get_by_role("link", name="陈述申辩").click()
        expect(person.locator("h1")).to_contain_text("陈述申辩")
        person.fill("#f_statement_text", STATEMENT)
        person.set_input_files("#f_statement_files", str(evidence))
        person.click("#complete")
        expect(person).to_have_url(re.compile(rf"/portal/applications/{case_id}$"))
    finally:
        person.context.close()
    assert live_server.open_task_ids(case_id) == ["consider_self_correction"]

    # -- the reviewer: the self-correction finding, then the proposed measure, each beside the statement
    def consider_page(page):
        the_person_is_named(page)
        the_statement_is_shown(page)
        expect(dossier_step(page, "确认责任人").locator('[data-dossier-field="confirm_reason"]')).to_have_text(
            CONFIRM_REASON)
        expect(page.locator('[data-decision="self_correction"] [data-choice-effect="exempt"]')).to_contain_text(
            "免予问责后：出具《免予问责决定书》")
        no_raw_keys(page)

    def consider(page):
        page.check("input[name=self_correction][value=lighter]")
        page.fill("#f_self_correction_reason", SELF_CORRECTION_REASON)
    staff_step(browser, browser_context_args, live_server, "reviewer", case_id, "consider_self_correction",
               "自我纠错情况认定", consider_page, consider)

    def propose_page(page):
        the_statement_is_shown(page)
        finding = dossier_step(page, "自我纠错情况认定")
        expect(finding.locator(".cf-who")).to_have_text("李审核")
        expect(finding.locator('[data-dossier-field="self_correction"]')).to_have_text("从轻")
        no_raw_keys(page)

    def propose(page):
        page.select_option("#f_measure", "notice")
        page.fill("#f_measure_reason", MEASURE_REASON)
    staff_step(browser, browser_context_args, live_server, "reviewer", case_id, "propose_measure",
               "拟定问责措施", propose_page, propose)

    # -- the leader: the proposal and the statement, and what each measure will do
    def decision_page(page):
        the_person_is_named(page)
        the_statement_is_shown(page)
        proposal = dossier_step(page, "拟定问责措施")
        expect(proposal.locator(".cf-who")).to_have_text("李审核")
        expect(proposal.locator('[data-dossier-field="measure"]')).to_have_text("通报")
        expect(proposal.locator('[data-dossier-field="measure_reason"]')).to_have_text(MEASURE_REASON)
        expect(dossier_step(page, "自我纠错情况认定").locator('[data-dossier-field="self_correction_reason"]')) \
            .to_have_text(SELF_CORRECTION_REASON)
        measures = [("检查", "《问责处理决定书》"), ("通报", "《问责处理决定书》"), ("诫勉", "《问责处理决定书》"),
                    ("组织处理", "《问责处理决定书》"), ("移送纪检监察机关", "《问责处理决定书》"),
                    ("不予问责", "《免予问责决定书》")]
        expect(page.locator('#f_final_measure_effects [data-choice-effect]')).to_have_text(
            [re.compile(rf"^{label}后：.*出具{re.escape(document)}；记入诚信档案；办结") for label, document in measures])
        expect(page.locator("[data-choice-blocked]")).to_have_count(0)
        no_raw_keys(page)

    def decide(page):
        page.select_option("#f_final_measure", "notice")
        page.fill("#f_decision_reason", DECISION_REASON)
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.screenshot(path=screenshots / "accountability-leader.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390      # nothing wider than the phone
        page.screenshot(path=screenshots / "accountability-leader-phone.png", full_page=True)
        page.set_viewport_size({"width": 1366, "height": 768})
    staff_step(browser, browser_context_args, live_server, "leader", case_id, "leader_decision",
               "领导决定", decision_page, decide)
    assert live_server.open_task_ids(case_id) == []
