"""The working-day calendar in a real browser: in November, with 2027 not entered, the admin sees
the banner, opens 2027 (every day unknown), imports a FICTIONAL test CSV (tests/data/calendar/),
sees the preview, confirms, and sees the grid change and the banner go. Screenshots of the year at
1366x768 and on a 390 px phone (the month grids wrap, the page does not scroll sideways)."""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.clock import CST

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FICTIONAL = Path(__file__).resolve().parents[1] / "data" / "calendar" / "fictional-2027.csv"


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


@pytest.fixture
def november(live_server):
    """The shared server's clock in November 2026 for this test only."""
    before = live_server.clock.at
    live_server.clock.at = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    yield
    live_server.clock.at = before


def test_admin_imports_next_year_after_a_preview_and_sees_the_grid_change(
        page: Page, browser: Browser, browser_context_args, live_server, screenshots, november):
    login(page, "admin", live_server.users["admin"][0])
    expect(page.locator("#calendar-banner")).to_contain_text("2027")
    page.locator("#calendar-banner a").click()
    expect(page).to_have_url(re.compile(r"/system/calendar\?year=2027$"))
    expect(page.locator("#coverage")).to_contain_text("2027 年未覆盖")
    expect(page.locator('td[data-day="2027-02-10"]')).to_have_attribute("data-workday", "unknown")

    page.set_input_files("#import-file", str(FICTIONAL))
    page.click("#import-preview")
    expect(page.locator("h1")).to_contain_text("确认日历变更")
    expect(page.locator('#preview-days tr[data-kind="new"]')).to_have_count(7)
    expect(page.locator("#preview-days")).to_contain_text("2027-02-10")
    page.click("#confirm-apply")

    expect(page).to_have_url(re.compile(r"/system/calendar\?year=2027$"))
    expect(page.locator(".alert-success.alert-dismissible")).to_contain_text("7 天变更")
    expect(page.locator('td[data-day="2027-02-10"]')).to_have_attribute("data-workday", "0")
    expect(page.locator('td[data-day="2027-02-06"]')).to_have_attribute("data-workday", "1")      # a Saturday worked
    expect(page.locator('td[data-day="2027-03-01"]')).to_have_attribute("data-source", "weekday_rule")
    expect(page.locator("#coverage")).to_contain_text("已标记为覆盖")
    expect(page.locator("#calendar-banner")).to_have_count(0)
    page.locator('td[data-day="2027-02-10"]').scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "calendar-admin.png"), full_page=True)

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    login(phone, "admin", live_server.users["admin"][0])
    phone.goto("/system/calendar?year=2027")
    expect(phone.locator('td[data-day="2027-02-10"]')).to_have_attribute("data-workday", "0")
    assert phone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    phone.screenshot(path=str(screenshots / "calendar-admin-phone.png"), full_page=False)
