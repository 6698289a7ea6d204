"""The warnings page in Chromium (desktop 1366 x 768 and phone 390 wide): a leader reaches it from the
navigation, evaluates now and finds the warning about a commitment due within ten working days,
acknowledges it (the note is required: the error shows beside it), and sees the overdue steps the
rules find a few weeks later. The README's screenshots are taken here (docs/screenshots/warnings*.png)."""
from __future__ import annotations

import os
from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect

from workflows.clock import CST, FixedClock
from workflows.commitments.service import Draft, register_commitment
from workflows.early_warning.evaluate import evaluate_warnings
from workflows.numbers import case_no

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(scope="module")
def story(live_server):
    """A township's commitment due a week after the server's day, and a record waiting in review."""
    commitment = live_server.run("clerk", register_commitment, Draft(
        live_server.subjects[2], "六月上旬完成镇区积水点整治并公示结果。", "2026-06-08", "张建国", "镇长"))
    _, case_id = live_server.open_record(1)
    return {"commitment": case_no(commitment.case_id, "commitment"), "record_case": case_no(case_id, "record_lifecycle")}


def test_a_leader_evaluates_and_acknowledges(browser: Browser, browser_context_args, live_server, story, screenshots):
    page = browser.new_context(**browser_context_args).new_page()
    live_server.log_in(page, "leader")
    page.click("#nav-monitoring")   # the 监测评价 menu
    page.click("#nav-warnings")
    expect(page.locator("h1")).to_contain_text("监测预警")
    page.click("#evaluate-now")
    expect(page.locator(".alert-success")).to_contain_text("预警评估完成")
    mine = page.locator("#warnings tr[data-warning]", has_text=story["commitment"])
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-rule", "commitment_due")
    expect(mine.locator("a[data-warning-link]")).to_contain_text("2026-06-08")

    mine.locator("button[type=submit]").click()             # no note: the browser's own check first
    expect(page.locator("#warnings tr[data-warning]", has_text=story["commitment"])
           .locator("[data-state-text]")).to_have_text("待处理")
    mine = page.locator("#warnings tr[data-warning]", has_text=story["commitment"])
    mine.locator("input[name=note]").fill("已电话督办，镇政府承诺6月8日前完成。")
    mine.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("预警已确认")
    page.select_option("#f-state", "acknowledged")
    page.click("#filters button[type=submit]")
    mine = page.locator("#warnings tr[data-warning]", has_text=story["commitment"])
    expect(mine.locator("[data-acknowledgement]")).to_contain_text("已电话督办")

    # three weeks later the worker's evaluation finds the review overdue (the server's clock stays put)
    live_server.run(None, evaluate_warnings, clock=FixedClock(datetime(2026, 6, 24, 9, 0, tzinfo=CST)))
    page.goto("/warnings")
    step = page.locator("#warnings tr[data-rule=overdue_step]", has_text=story["record_case"])
    expect(step).to_have_count(1)
    expect(step).to_contain_text("合法性审核")
    page.locator("#warning-rules summary").click()
    page.screenshot(path=str(screenshots / "warnings.png"), full_page=True)

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    live_server.log_in(phone, "leader")
    phone.goto("/warnings")
    expect(phone.locator("#warnings tr[data-rule=overdue_step]", has_text=story["record_case"])).to_have_count(1)
    assert phone.evaluate(FITS), "the warnings page is wider than a phone"
    phone.screenshot(path=str(screenshots / "warnings-phone.png"), full_page=True)


def test_others_are_refused(browser: Browser, browser_context_args, live_server):
    page = browser.new_context(**browser_context_args).new_page()
    live_server.log_in(page, "reviewer")
    expect(page.locator("#nav-warnings")).to_have_count(0)
    response = page.goto("/warnings")
    assert response.status == 403
