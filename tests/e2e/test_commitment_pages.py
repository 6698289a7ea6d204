"""The township commitments' pages in Chromium, at desktop (1366 x 768) and phone (390 x 844) width:
the public list (no login, reached from the navigation) with each commitment's status, and the staff
list with its case links. The README's screenshots of both are taken here."""
from __future__ import annotations

import os
from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect

from workflows.cases import complete_task, fire_due_timers
from workflows.clock import CST, FixedClock
from workflows.commitments.service import Draft, register_commitment

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
STORIES = [  # subject index, content, deadline, person, post, what the review concludes
    (2, "本年度内完成镇区老旧供水管网改造，保障居民用水安全。", "2026-06-12", "张建国", "镇长", "fulfilled"),
    (1, "按期兑现招商引资优惠政策承诺，不得以换届等理由违约毁约。", "2026-06-12", "李明", "主任", "failed"),
    (2, "三个月内完成辖区内政府拖欠中小企业账款清零。", "2026-06-12", "张建国", "镇长", "partly"),
    (0, "年底前完成全部政务服务事项“一网通办”。", "2026-12-31", "王立新", "局长", None),
]
REVIEW = {"fulfilled": {"review_outcome": "fulfilled", "review_opinion": "经实地核查，已按期完成。"},
          "partly": {"review_outcome": "partly", "review_opinion": "完成八成，余款分期支付。"},
          "failed": {"review_outcome": "failed", "review_opinion": "政策兑现资金未拨付。"}}


@pytest.fixture(scope="module")
def commitments(live_server):
    """The commitments above, registered on the server's day; the first three taken through their review
    on a clock of their own (the server's clock stays where the other browser tests expect it)."""
    later = FixedClock(datetime(2026, 6, 30, 10, 0, tzinfo=CST))

    made = []
    for index, content, deadline, person, post, outcome in STORIES:
        commitment = live_server.run("clerk", register_commitment,
                                     Draft(live_server.subjects[index], content, deadline, person, post))
        made.append((commitment, outcome))
    live_server.run(None, fire_due_timers, clock=later)          # past the deadlines and the townships' time to report
    for commitment, outcome in made:
        if outcome:
            live_server.run("reviewer", complete_task, live_server.task_row(commitment.case_id, "review"),
                            REVIEW[outcome], clock=later)
        if outcome == "failed":
            live_server.run("leader", complete_task, live_server.task_row(commitment.case_id, "leader_confirm"),
                            {"leader_decision": "confirm", "leader_opinion": "确认未履行。"}, clock=later)
    return [c for c, _ in made]


def test_public_commitments_page(browser: Browser, browser_context_args, commitments, screenshots):
    page = browser.new_context(**browser_context_args).new_page()
    page.goto("/public/")
    page.click("#public-commitments-link")            # from the public pages' navigation, no login
    expect(page.locator("h1")).to_have_text("乡镇政府公开承诺")
    rows = page.locator("#public-commitments tbody tr[data-commitment]")
    expect(rows).to_have_count(len(STORIES))
    statuses = sorted(page.locator("#public-commitments [data-status]").all_inner_texts())
    assert statuses == sorted(["已履行", "未履行", "部分履行", "进行中"])
    page.screenshot(path=str(screenshots / "commitments-public.png"), full_page=True)
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    phone.goto("/public/commitments")
    expect(phone.locator("#public-commitments [data-status]")).to_have_count(len(STORIES))
    assert phone.evaluate(FITS), "the public commitments page is wider than a phone"
    phone.screenshot(path=str(screenshots / "commitments-public-phone.png"), full_page=True)


def test_staff_commitments_list(browser: Browser, browser_context_args, live_server, commitments, screenshots):
    page = browser.new_context(**browser_context_args).new_page()
    live_server.log_in(page, "clerk")
    page.click("#nav-commitments")
    expect(page.locator("#commitments tbody tr[data-commitment]")).to_have_count(len(STORIES))
    failed = page.locator("#commitments tr:has([data-status=failed])")
    expect(failed.locator("td").last).to_contain_text("R-")      # the record it opened
    page.screenshot(path=str(screenshots / "commitments-staff.png"), full_page=True)
    failed.locator("a").first.click()                              # to its case
    expect(page).to_have_url(f"{live_server.url}/cases/{commitments[1].case_id}")
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    live_server.log_in(phone, "clerk")
    phone.goto("/commitments")
    expect(phone.locator("#commitments [data-status]")).to_have_count(len(STORIES))
    assert phone.evaluate(FITS), "the staff commitments list is wider than a phone"
    phone.screenshot(path=str(screenshots / "commitments-staff-phone.png"), full_page=True)
