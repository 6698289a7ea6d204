"""The dashboard (/dashboard) in Chromium: a leader opens it from the navigation, every chart is
drawn (a <canvas>, no error), the chart/table toggle works, a click on a bar opens the list behind
it with as many rows as the bar says; and the page fits a phone. The README's screenshots
dashboard.png (1366 x 768) and dashboard-phone.png (390 wide) are taken here.

The live server is shared with the other browser tests: this module checks that its own records
(captured March to May 2026, on clocks of their own) are counted and listed; the screenshots show
everything on the server."""
from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect

from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.records import open_record

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
CAPTURE = {"source": "administrative_penalty", "field": "government_debt", "severity": "general",
           "facts": "未按期偿还政府债务。", "legal_basis": "《预算法》第九十四条"}
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
# (subject index, severity, captured, decided or None: left in legality review)
STORIES = [(0, "general", datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 5, 9, 0)),
           (1, "serious", datetime(2026, 3, 16, 9, 0), datetime(2026, 3, 26, 9, 0)),
           (2, "general", datetime(2026, 4, 8, 9, 0), datetime(2026, 4, 10, 9, 0)),
           (0, "minor", datetime(2026, 4, 20, 9, 0), None),
           (1, "serious", datetime(2026, 5, 6, 9, 0), datetime(2026, 5, 13, 9, 0)),
           (2, "general", datetime(2026, 5, 18, 9, 0), None),
           (3, "general", datetime(2026, 5, 25, 9, 0), None)]


@pytest.fixture(scope="module")
def stories(live_server):
    """This module's records, each captured (and decided) on a clock of its own; their ids by month."""
    months = {}
    for index, severity, captured, decided in STORIES:
        clock = FixedClock(captured.replace(tzinfo=CST))
        record, case = live_server.run("clerk", open_record, live_server.subjects[index],
                                       {**CAPTURE, "severity": severity, "decision_date": "2026-01-15"}, clock=clock)
        months.setdefault(captured.strftime("%Y-%m"), []).append(record.id)
        if decided is None:
            continue
        clock = FixedClock(decided.replace(tzinfo=CST))
        live_server.run("reviewer", complete_task, live_server.task_row(case.id, "legality_review"), APPROVE, clock=clock)
        live_server.run("leader", complete_task, live_server.task_row(case.id, "leader_approval"), LEADER_OK, clock=clock)
    return months


def charts_drawn(page) -> list[str]:
    cards = page.locator("[data-chart]")
    expect(cards.first).to_be_visible()
    ids = [cards.nth(i).get_attribute("data-chart") for i in range(cards.count())]
    for chart_id in ids:
        card = page.locator(f'[data-chart="{chart_id}"]')
        expect(card.locator(".dashboard-chart canvas")).to_have_count(1)
        assert card.locator(".dashboard-chart").is_visible(), chart_id
        assert "error" not in card.inner_text().lower()
    return ids


def test_the_leader_sees_every_chart_and_clicks_through(browser: Browser, browser_context_args, live_server,
                                                       stories, screenshots):
    page = browser.new_context(**browser_context_args).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    live_server.log_in(page, "leader")
    page.click("#nav-monitoring")   # the 监测评价 menu
    page.click("#nav-dashboard")
    expect(page.locator("h1")).to_contain_text("监测看板")
    ids = charts_drawn(page)
    assert set(ids) == {"by_department", "by_field", "by_severity", "by_month", "steps_by_step", "steps_by_person",
                        "applications", "decision_times"}
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)

    # this module's own records: the months of capture, as chart and as table
    page.goto("/dashboard/?field=government_debt&from=2026-01-01&to=2026-06-01")
    charts_drawn(page)
    card = page.locator('[data-chart="by_month"]')
    card.locator('[data-show="table"]').click()
    expect(card.locator(".dashboard-table")).to_be_visible()
    expect(card.locator(".dashboard-chart")).to_be_hidden()
    april = int(card.locator("tbody tr", has_text="2026-04").locator("td").inner_text())
    assert april >= len(stories["2026-04"])        # ours, and any other test's of that month and field
    card.locator('[data-show="chart"]').click()
    expect(card.locator(".dashboard-chart canvas")).to_be_visible()
    # click April's bar on the canvas: where ECharts drew it
    card.locator(".dashboard-chart").scroll_into_view_if_needed()
    x, y = page.evaluate("""() => {
        const box = document.getElementById('chart-by_month');
        const chart = echarts.getInstanceByDom(box);
        const months = chart.getOption().xAxis[0].data;
        const [px, py] = chart.convertToPixel({seriesIndex: 0}, [months.indexOf('2026-04'), 1]);
        const r = box.getBoundingClientRect();
        return [r.left + px, r.top + py];
    }""")
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r"/dashboard/records\?.*by=month.*key=2026-04"))
    expect(page.locator("#list-total")).to_contain_text(f"共 {april} 条")
    expect(page.locator("#drill-table tr[data-record]")).to_have_count(min(april, 25))
    for record_id in stories["2026-04"]:
        expect(page.locator(f'#drill-table tr[data-record="{record_id}"]')).to_have_count(1)
    assert not errors, errors


def test_the_dashboard_fits_a_phone(browser: Browser, browser_context_args, live_server, stories, screenshots):
    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    live_server.log_in(phone, "leader")
    phone.goto("/dashboard/")
    charts_drawn(phone)
    assert phone.evaluate(FITS), "the dashboard is wider than a phone"
    phone.screenshot(path=str(screenshots / "dashboard-phone.png"), full_page=True)
