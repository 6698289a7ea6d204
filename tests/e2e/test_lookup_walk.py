"""逢办必查 in a real browser: a checker of a department looks up a bidder with a published record,
sees 需审慎办理 with the record's facts, records that the deal went ahead with a reason, and
downloads the signed extract, whose verification code the page then shows. Screenshots of the
result at 1366x768 and on a 390 px phone (the README's)."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.accounts import create_user
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PASSWORD = "Checker-walk-2026"
PHONE = {"width": 390, "height": 844}
BIDDER = ("department", "榆林市某区交通运输局")
CAPTURE = {"source": "administrative_penalty", "field": "bidding", "severity": "general",
           "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-05-29"}
FACTS = "在政府采购项目中未按合同约定支付中小企业账款，逾期超过180日。"


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def valid_code(body: str) -> str:
    from workflows.identifiers import USCC_ALPHABET, _ORG_WEIGHTS, _USCC_WEIGHTS
    total = sum(int(c) * w for c, w in zip(body[8:16], _ORG_WEIGHTS))
    first = body + {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first, _USCC_WEIGHTS))
    return first + USCC_ALPHABET[(31 - total % 31) % 31]


def test_a_checker_looks_up_a_bidder_records_the_outcome_and_downloads_the_extract(
        page: Page, browser: Browser, browser_context_args, live_server, screenshots):
    code = valid_code("1161080211223344")
    with live_server.uow() as uow:
        bidder = register_subject(uow, "department", BIDDER[1], code).id
        create_user(uow, "zhou.cha", PASSWORD, "周查询", ["checker"]).department_id = live_server.subjects[1]
        uow.commit()
    with live_server.uow("clerk") as uow:
        record, case = open_record(uow, bidder, {**CAPTURE, "facts": FACTS})
        uow.commit()
    live_server.complete("reviewer", case.id, "legality_review", {"review_decision": "approve", "review_opinion": "事实清楚。"})
    live_server.complete("leader", case.id, "leader_approval", {"leader_decision": "approve", "leader_opinion": "同意。"})

    login(page, "zhou.cha", PASSWORD)
    expect(page).to_have_url(re.compile(r"/lookups/$"))
    page.select_option("#key_kind", "code")
    page.fill("#value", code)
    page.select_option("#deal_kind", "bidding")
    page.fill("#deal_ref", "YLZB-2026-0917")
    page.click("#lookup-submit")
    expect(page).to_have_url(re.compile(r"/lookups/\d+$"))
    expect(page.locator("#lookup-flag")).to_contain_text("需审慎办理")
    expect(page.locator(f'[data-record="{record.id}"]')).to_contain_text(FACTS)

    page.check("#outcome-proceeded")
    page.click("#outcome-submit")          # no reason: refused, the choice kept
    expect(page.locator('[data-error-for="reason"]')).to_contain_text("须填写理由")
    expect(page.locator("#outcome-proceeded")).to_be_checked()
    page.fill("#reason", "该项目为应急抢修工程，经局党组集体研究，已责令其限期整改并加强履约监管。")
    page.click("#outcome-submit")
    expect(page.locator("#outcome-recorded")).to_contain_text("继续办理")

    with page.expect_download() as info:
        page.click("#extract")
    download = info.value
    assert download.suggested_filename.startswith("榆信查字〔2026〕") and download.suggested_filename.endswith(".pdf")
    assert open(download.path(), "rb").read(5) == b"%PDF-"
    page.reload()
    verification = page.locator("#extract-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{12}", verification)
    page.screenshot(path=str(screenshots / "lookup-result.png"), full_page=True)

    result_url = page.url
    page.goto("/lookups/")
    expect(page.locator("#lookups")).to_contain_text("YLZB-2026-0917")
    page.screenshot(path=str(screenshots / "lookups.png"), full_page=True)

    public = browser.new_context(**browser_context_args).new_page()
    public.goto(f"/public/verify/{verification}")
    expect(public.locator("#document-number")).to_have_text(download.suggested_filename[:-4])

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    login(phone, "zhou.cha", PASSWORD)
    phone.goto(result_url)
    expect(phone.locator("#lookup-flag")).to_contain_text("需审慎办理")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the result page overflows a phone: {width} px wide"
    phone.screenshot(path=str(screenshots / "lookup-result-phone.png"), full_page=True)
