"""The sharing page (/sharing) in Chromium, at desktop (1366 x 768) and phone (390 x 844) width: a
clerk reaches it from the navigation, sees the queued items with the overdue ones marked, exports
the provincial batch and downloads it, uploads the platform's ack (one item rejected with its
reason) and retries the rejected item. The README's screenshots of the page are taken here."""
from __future__ import annotations

import json
import os
from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.records import open_record
from workflows.sharing.model import SharingItem

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "未按合同约定支付中小企业账款，逾期超过180日。", "legal_basis": "《保障中小企业款项支付条例》第八条"}
# (subject index, decided on, published at): the first a week before the server's day (overdue by
# now: 3 working days after Monday 2026-05-25 is 05-28), the second on the server's day itself
STORIES = [(0, "2026-05-20", datetime(2026, 5, 25, 10, 0, tzinfo=CST)),
           (3, "2026-05-29", datetime(2026, 6, 1, 8, 30, tzinfo=CST))]


@pytest.fixture(scope="module")
def published(live_server):
    """Two records published through the services, each on a clock of its own: four items queued.
    The live server is shared with the other browser tests, whose records queue items too: this
    test looks at its own. Returns each record's item ids by platform."""
    items = []
    for index, decided, at in STORIES:
        clock = FixedClock(at)
        record, case = live_server.run("clerk", open_record, live_server.subjects[index],
                                       {**CAPTURE, "decision_date": decided}, clock=clock)
        live_server.run("reviewer", complete_task, live_server.task_row(case.id, "legality_review"),
                        {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}, clock=clock)
        live_server.run("leader", complete_task, live_server.task_row(case.id, "leader_approval"),
                        {"leader_decision": "approve", "leader_opinion": "同意。"}, clock=clock)
        with live_server.factory() as session:
            items.append({item.platform: item.id for item in session.scalars(
                select(SharingItem).where(SharingItem.record_id == record.id))})
    return items


def test_export_ack_and_retry_on_the_page(browser: Browser, browser_context_args, live_server, published,
                                          screenshots, tmp_path):
    page = browser.new_context(**browser_context_args, accept_downloads=True).new_page()
    live_server.log_in(page, "clerk")
    page.click("#nav-sharing")
    expect(page.locator("h1")).to_have_text("数据报送")
    overdue, fresh = published
    assert set(overdue) == set(fresh) == {"provincial", "national"}
    for item in [*overdue.values(), *fresh.values()]:
        expect(page.locator(f'#sharing-items tr[data-item="{item}"]')).to_have_attribute("data-state", "queued")
    for item in overdue.values():        # the first record's, both platforms: 3 working days have passed
        expect(page.locator(f'#sharing-items tr[data-item="{item}"]')).to_have_class("table-danger")
    for item in fresh.values():
        expect(page.locator(f'#sharing-items tr[data-item="{item}"]')).not_to_have_class("table-danger")

    page.select_option("#e-platform", "provincial")
    page.select_option("#e-format", "json")
    page.click("#export-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("CF-provincial-")
    for item in (overdue["provincial"], fresh["provincial"]):
        expect(page.locator(f'#sharing-items tr[data-item="{item}"]')).to_have_attribute("data-state", "sent")
    with page.expect_download() as download:
        page.locator("#sharing-batches [data-download]").first.click()
    document = json.loads(open(download.value.path(), encoding="utf-8").read())
    in_batch = [i["item_id"] for i in document["items"]]
    first, second = overdue["provincial"], fresh["provincial"]
    assert {first, second} <= set(in_batch)
    ack = tmp_path / "ack.json"
    ack.write_text(json.dumps({"format": "credflow-sharing-ack/1", "batch": document["batch"], "items": [
        {"item_id": item, "result": "rejected", "reason": "认定依据缺少文书编号"} if item == first
        else {"item_id": item, "result": "accepted"} for item in in_batch]}, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#ack-file", str(ack))
    page.click("#ack-form button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text(f"接收 {len(in_batch) - 1} 条，退回 1 条")
    rejected = page.locator(f'#sharing-items tr[data-item="{first}"]')
    expect(rejected).to_have_attribute("data-state", "rejected")
    expect(rejected.locator("[data-reason]")).to_have_text("认定依据缺少文书编号")
    page.screenshot(path=str(screenshots / "sharing.png"), full_page=True)

    rejected.locator(f'[data-retry="{first}"]').click()
    expect(page.locator(f'#sharing-items tr[data-item="{first}"]')).to_have_attribute("data-state", "queued")
    expect(page.locator(f'#sharing-items tr[data-item="{second}"]')).to_have_attribute("data-state", "acknowledged")

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    live_server.log_in(phone, "clerk")
    phone.goto("/sharing")
    expect(phone.locator(f'#sharing-items tr[data-item="{first}"]')).to_have_attribute("data-state", "queued")
    assert phone.evaluate(FITS), "the sharing page is wider than a phone"
    phone.screenshot(path=str(screenshots / "sharing-phone.png"), full_page=True)


def test_subjects_and_the_public_get_nothing(browser: Browser, browser_context_args, live_server):
    page = browser.new_context(**browser_context_args).new_page()
    page.goto("/sharing")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Fsharing")
    expect(page.locator("#nav-sharing")).to_have_count(0)
