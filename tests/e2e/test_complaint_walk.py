"""A complaint in a real browser: a citizen files one on the public form (no login) with an
evidence file, answers the challenge and gets the query code; the clerk claims and registers it
from the inbox (seeing the complainant, being on the case), the reviewer verifies, the leader
decides; the citizen enters the code and reads the reply. Screenshots of the form, the code and
the answer at 1366x768 and on a 390 px phone (the README's)."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.demo import SUBJECTS

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
NAME, MOBILE = "周投诉", "13700001111"
REPLY = "经核查，投诉属实，已对该单位启动政务失信记录认定程序。感谢您的监督。"


def new_page(browser: Browser, browser_context_args, **extra) -> Page:
    return browser.new_context(**{**browser_context_args, **extra}).new_page()


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox"))


def shots(page: Page, screenshots, name: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshots / f"{name}-phone.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def work(browser, browser_context_args, live_server, username, case_id, bpmn_id, fill, shot=None):
    """Staff log in, open the task from the inbox's group tab, claim it and submit its form."""
    row_id = live_server.task_row(case_id, bpmn_id)
    page = new_page(browser, browser_context_args)
    try:
        login(page, username, live_server.users[username][0])
        page.goto("/inbox?tab=group")
        page.locator(f'#task-table [data-task-row="{row_id}"] a[href$="/tasks/{row_id}"]').first.click()
        expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
        expect(page.locator("#complaint-panel")).to_be_visible()
        expect(page.locator("#complainant-hidden")).to_be_visible()      # not on the case before claiming
        page.click("#claim")
        expect(page.locator("#complainant-name")).to_have_text(NAME)     # on the case now
        fill(page)
        if shot:
            shots(page, shot[0], shot[1])
        page.click("#complete")
        expect(page).to_have_url(re.compile(r"/inbox"))
        expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)
    finally:
        page.context.close()


def test_a_citizen_complains_and_reads_the_reply(browser: Browser, browser_context_args, live_server, screenshots,
                                                  tmp_path):
    evidence = tmp_path / "付款凭证.png"
    evidence.write_bytes(PNG)
    citizen = new_page(browser, browser_context_args)
    citizen.goto("/public/")
    citizen.click("#public-complaint-link")
    expect(citizen).to_have_url(re.compile(r"/complaints/new$"))
    citizen.fill("#f_concerned", "榆林市某区住房和城乡建设局")
    citizen.fill("#f_facts", "保障房项目中标三个月仍拒不签订合同，也不退还投标保证金。")
    citizen.fill("#f_happened_on", "2026-03-02")
    citizen.set_input_files("#f_evidence", str(evidence))
    citizen.fill("#f_contact_name", NAME)
    citizen.fill("#f_contact_phone", MOBILE)
    shots(citizen, screenshots, "complaint-form")
    citizen.fill("#f_challenge_answer", "0")          # wrong: refused, what was typed stays
    citizen.click("#submit-complaint")
    expect(citizen.locator('[data-error-for="challenge"]')).to_be_visible()
    expect(citizen.locator("#f_contact_name")).to_have_value(NAME)
    citizen.set_input_files("#f_evidence", str(evidence))   # a browser never keeps a chosen file
    a, b = (int(x) for x in citizen.locator("#challenge-question").inner_text().replace("= ?", "").split("+"))
    citizen.fill("#f_challenge_answer", str(a + b))
    citizen.click("#submit-complaint")
    expect(citizen).to_have_url(re.compile(r"/complaints/done$"))
    code = citizen.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", code)
    shots(citizen, screenshots, "complaint-code")
    from sqlalchemy import select
    from workflows.complaints.model import Complaint
    with live_server.factory() as session:
        case_id = session.scalars(select(Complaint.case_id).order_by(Complaint.id.desc())).first()

    work(browser, browser_context_args, live_server, "clerk", case_id, "registration", lambda page: (
        page.check("input[name=registration_decision][value=accept]"),
        page.fill("#f_subject_code", SUBJECTS[0][2]),
        page.fill("#f_registration_reason", "属于政务失信投诉，予以受理。")))
    work(browser, browser_context_args, live_server, "reviewer", case_id, "verification", lambda page: (
        page.fill("#f_findings", "调取招标文件和保证金台账，情况属实。"),
        page.check("input[name=proposed_outcome][value=founded]")))
    work(browser, browser_context_args, live_server, "leader", case_id, "leader_outcome", lambda page: (
        page.check("input[name=outcome][value=founded]"),
        page.fill("#f_reply", REPLY),
        page.select_option("#f_record_source", "breach_of_promise"),
        page.select_option("#f_record_field", "bidding"),
        page.check("input[name=record_severity][value=general]"),
        page.fill("#f_legal_basis", "《招标投标法》第四十六条")), shot=(screenshots, "complaint-decision"))

    citizen.goto("/complaints/status")
    citizen.fill("#code", code.lower())
    citizen.locator("#status-form button").click()
    expect(citizen.locator("#complaint-stage")).to_have_attribute("data-stage", "founded")
    expect(citizen.locator("#complaint-reply")).to_have_text(REPLY)
    expect(citizen.locator("body")).not_to_contain_text("调取招标文件")        # the internal findings stay inside
    with citizen.expect_download() as download:
        citizen.locator("#letter-form button").click()
    assert download.value.suggested_filename.endswith(".pdf")
    download.value.save_as(tmp_path / "letter.pdf")
    assert (tmp_path / "letter.pdf").read_bytes().startswith(b"%PDF")
    shots(citizen, screenshots, "complaint-status")
    citizen.context.close()
