"""A civil servant's accountability case in a real browser: the person logs into the portal, opens
the statement (陈述申辩) from the to-do list, files it with a PDF, and, once the staff have decided
(through the services), reads the outcome and opens the signed decision on the case's page.

The department, its roster, the sanctioned record and the clerk's confirmation are set up through
the services; the department is this module's own, so other browser tests' records open no cases here.
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
from workflows.models import Attachment, Case
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

DEPARTMENT = ("榆林市某区水务局", make_uscc("11610802MB614207"))
# username, password, name, the first 17 digits of the citizen ID, post, start, end
PEOPLE = {
    "principal": ("cs_wang", "wang-pw-2026", "王主任", "61080219700101001", date(2023, 1, 1), date(2026, 3, 31)),
    "official_in_charge": ("cs_zhao", "zhao-pw-2026", "赵副局长", "61080219750303003", date(2022, 6, 1), None),
}
FACTS = "未按合同约定支付管网维修企业账款 36 万元，逾期超过180日。"
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": FACTS, "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-05-29",
           "conduct_date": "2026-02-10"}
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
CONFIRM = {"person_confirmed": "confirm", "confirm_reason": "经核对任职文件，失信行为发生时担任该职务。"}
STATEMENT = "本人任职期间已督促财务科制定还款计划，欠款已于 2026 年 5 月全部结清，附银行回单。"
REASON = "对拖欠账款负有领导责任，已整改，予以诫勉。"
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture(scope="module")
def cases(live_server):
    """The sanctioned record's accountability cases, each confirmed by the clerk and waiting for the
    person's statement: {post: case id}."""
    with live_server.uow() as uow:
        department = register_subject(uow, "department", *DEPARTMENT)
        people = {}
        for post, (username, password, name, first17, start, end) in PEOPLE.items():
            person = register_subject(uow, "civil_servant", name, make_citizen_id(first17))
            add_holding(uow, department.id, person, post, start, end)
            create_user(uow, username, password, name, ["subject"], subject_id=person.id)
            people[person.id] = post
        uow.commit()
        department_id = department.id
    with live_server.uow("clerk") as uow:
        record, lifecycle = open_record(uow, department_id, CAPTURE)
        uow.commit()
        record_id, lifecycle_id = record.id, lifecycle.id
    live_server.complete("reviewer", lifecycle_id, "legality_review", APPROVE)
    live_server.complete("leader", lifecycle_id, "leader_approval", LEADER_OK)
    with live_server.factory() as session:
        opened = session.scalars(select(Case).where(Case.process_key == "accountability",
                                                    Case.record_id == record_id)).all()
        found = {people[c.party_id]: c.id for c in opened}
    assert sorted(found) == sorted(PEOPLE) and len(opened) == 2
    for case_id in found.values():
        live_server.complete("clerk", case_id, "confirm_person", CONFIRM)
        assert live_server.open_task_ids(case_id) == ["statement"]
    return found


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/portal/$"))


def open_statement_from_the_todo_list(page: Page, live_server, case_id: int) -> None:
    row_id = live_server.task_row(case_id, "statement")
    todo = page.locator("#portal-tasks")
    expect(todo).to_contain_text(f"案件 C-{case_id:06d}")
    todo.get_by_role("link", name="陈述申辩").click()
    expect(page).to_have_url(re.compile(rf"/portal/tasks/{row_id}$"))
    expect(page.locator("h1")).to_contain_text("陈述申辩")


def test_a_civil_servant_states_their_case_and_reads_the_decision(browser: Browser, browser_context_args,
                                                                  live_server, cases, tmp_path):
    case_id = cases["principal"]
    username, password, name, *_ = PEOPLE["principal"]
    evidence = tmp_path / "银行回单.pdf"
    evidence.write_bytes(PDF)
    page = browser.new_context(**browser_context_args).new_page()
    try:
        login(page, username, password)
        expect(page.locator("#user-menu")).to_contain_text(name)
        expect(page.locator(f'#my-applications tr[data-application="{case_id}"]')).to_contain_text("问责处理")
        # the other person's case is not on this portal
        expect(page.locator(f'#my-applications tr[data-application="{cases["official_in_charge"]}"]')).to_have_count(0)

        open_statement_from_the_todo_list(page, live_server, case_id)
        page.fill("#f_statement_text", STATEMENT)
        page.set_input_files("#f_statement_files", str(evidence))
        with page.expect_response(lambda r: r.request.method == "POST" and "/portal/tasks/" in r.url):
            page.click("#complete")
        # saved: the case moves on to the reviewer (where the browser lands is the next test's matter)
        assert live_server.open_task_ids(case_id) == ["consider_self_correction"]
        with live_server.factory() as session:
            files = session.scalars(select(Attachment.filename).where(Attachment.case_id == case_id)).all()
        assert files == ["银行回单.pdf"]

        page.goto("/portal/")
        expect(page.locator("#portal-tasks")).to_have_count(0)           # nothing left to do
        page.locator(f'#my-applications tr[data-application="{case_id}"]') \
            .get_by_role("link", name=f"C-{case_id:06d}").click()
        expect(page).to_have_url(re.compile(rf"/portal/applications/{case_id}$"))
        expect(page.locator("h1")).to_contain_text(f"问责处理 C-{case_id:06d}")
        expect(page.locator("#application-status")).to_have_text("办理中")
        expect(page.get_by_role("link", name="银行回单.pdf")).to_be_visible()
        expect(page.locator("#record-summary")).to_contain_text(FACTS)

        # the staff decide through the services
        live_server.complete("reviewer", case_id, "consider_self_correction",
                             {"self_correction": "none", "self_correction_reason": "欠款系督促后结清，不属主动纠错。"})
        live_server.complete("reviewer", case_id, "propose_measure",
                             {"measure": "admonition", "measure_reason": "负有领导责任。"})
        live_server.complete("leader", case_id, "leader_decision",
                             {"final_measure": "admonition", "decision_reason": REASON})
        assert live_server.open_task_ids(case_id) == []

        page.reload()
        expect(page.locator("#application-status")).to_have_text("已办结")
        expect(page.locator("#application-outcome")).to_have_text("诫勉")
        expect(page.get_by_text(REASON)).to_be_visible()
        expect(page.locator("#request-review")).to_be_visible()          # 复核 is offered
        link = page.locator("#documents a[data-document]")
        expect(link).to_have_count(1)
        expect(link).to_contain_text("问责处理决定书")
        expect(link).to_contain_text(re.compile(r"榆信问决〔2026〕\d+号"))
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename.startswith("榆信问决〔2026〕") and download.suggested_filename.endswith(".pdf")
        assert open(download.path(), "rb").read(5) == b"%PDF-"

        page.goto("/portal/integrity")
        expect(page.locator("#integrity-entries")).to_contain_text("诫勉")
        expect(page.locator("#integrity-entries")).to_contain_text("问责处理结果")
    finally:
        page.context.close()


def test_filing_the_statement_lands_on_the_case_page_with_a_confirmation(browser: Browser, browser_context_args,
                                                                         live_server, cases):
    case_id = cases["official_in_charge"]
    username, password, *_ = PEOPLE["official_in_charge"]
    page = browser.new_context(**browser_context_args).new_page()
    try:
        login(page, username, password)
        open_statement_from_the_todo_list(page, live_server, case_id)
        page.fill("#f_statement_text", "分管期间已多次提醒主要负责人按期付款。")
        page.click("#complete")
        expect(page).to_have_url(re.compile(rf"/portal/applications/{case_id}$"), timeout=5000)
        expect(page.locator(".alert-success")).to_contain_text("已提交")
    finally:
        page.context.close()
