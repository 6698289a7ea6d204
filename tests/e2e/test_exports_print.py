"""Lists on paper and in Excel, in Chromium: the record list's export link downloads the .xlsx of
the filtered list; printed (page.pdf(), the print stylesheet), the list is an A4 landscape table
with a heading (title, filters on screen, print time) and without the navigation, buttons, filter
controls or pager; a list longer than a page repeats its header row on every page. The README's
records.png, records-phone.png and records-print.png are taken here."""
from __future__ import annotations

import io
import os
import subprocess

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from workflows.numbers import record_no

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
SEVERITIES = ["serious", "general", "minor"]
FIELDS = ["government_procurement", "bidding", "ppp", "government_debt"]
# the navigation, the tools, the filter form's controls and the footer: on the screen only
SCREEN_ONLY = ["退出登录", "信用公示", "导出 Excel", "录入记录", "全部状态", "主体名称、代码或编号", "时间均为北京时间"]


@pytest.fixture(scope="module")
def records(live_server):
    """Thirty records of this module's own, waiting in legality review (more than a page of 25)."""
    return [live_server.open_record(i % 3, severity=SEVERITIES[i % 3], field=FIELDS[i % 4])[0] for i in range(30)]


def pdf_text(path) -> list[str]:
    """The PDF's text, page by page."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def pdf_page_size(path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    line = next(x for x in info.splitlines() if x.startswith("Page size:"))
    width, _x, height = line.split(":")[1].split()[:3]
    return float(width), float(height)


def test_the_record_list_exports_and_prints_as_a_table_without_the_screen_s_controls(
        browser: Browser, base_url, live_server, records, tmp_path, screenshots):
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 768},
                                  locale="zh-CN", timezone_id="Asia/Shanghai", accept_downloads=True)
    page = context.new_page()
    try:
        live_server.log_in(page, "clerk")
        page.goto("/records")
        page.select_option("select[name=status]", "under_review")
        page.click("main form button")
        expect(page.locator("#record-table tbody tr").first).to_be_visible()
        page.screenshot(path=screenshots / "records.png")
        # the export: the filtered list, every page of it
        with page.expect_download() as info:
            page.click("a[data-export=xlsx]")
        download = info.value
        assert download.suggested_filename == "credflow-records-20260601.xlsx"
        sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).worksheets[0]
        values = [r for r in sheet.iter_rows(values_only=True)]
        assert values[0][0] == "失信记录" and ("状态", "审核中") in [tuple(r[:2]) for r in values]
        exported = {r[0] for r in values}
        assert {record_no(i) for i in records} <= exported        # all thirty, across the page's two pages
        # on paper
        page.emulate_media(media="print")
        expect(page.locator("nav.navbar")).to_be_hidden()
        expect(page.locator("a[data-export=xlsx]")).to_be_hidden()
        expect(page.locator("main form")).to_be_hidden()
        head = page.locator("[data-print-head]")
        expect(head).to_be_visible()
        expect(head).to_contain_text("失信记录")
        expect(head).to_contain_text("审核中")
        expect(head).to_contain_text("打印时间：2026-06-01 09:00")
        pdf = tmp_path / "records.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        width, height = pdf_page_size(pdf)
        assert width > height                                      # A4 landscape: 842 x 595 pt
        assert abs(width - 841.89) < 2 and abs(height - 595.28) < 2
        pages = pdf_text(pdf)
        text = "\n".join(pages)
        assert "记录编号" in pages[0] and "严重程度" in pages[0] and "筛选条件" in pages[0]
        assert record_no(records[-1]) in text                     # the newest, first on the screen's page
        for word in SCREEN_ONLY:
            assert word not in text, word
        assert "http" not in text                                   # links print as their text, no URLs
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(screenshots / "records-print")], check=True)
        # a phone: the tools wrap with the heading, nothing wider than the screen
        page.emulate_media(media="screen")
        page.set_viewport_size(PHONE)
        page.reload()
        expect(page.locator("a[data-export=xlsx]")).to_be_visible()
        assert page.evaluate(FITS)
        page.screenshot(path=screenshots / "records-phone.png")
    finally:
        context.close()


def test_a_long_printed_list_repeats_its_header_row_on_every_page(browser: Browser, base_url, live_server, records,
                                                                   tmp_path):
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 768},
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    try:
        live_server.log_in(page, "reviewer")
        page.goto("/inbox?tab=group&task=legality_review&per_page=100")
        assert page.locator("#task-table tbody tr").count() >= len(records)
        pdf = tmp_path / "inbox.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True)
        pages = pdf_text(pdf)
        assert len(pages) >= 2
        for text in pages:
            assert "办理期限" in text and "信用主体" in text          # the header row, on every page
        first = pages[0]
        assert "待办任务" in first and "组任务" in first and "合法性审核" in first   # title, tab and filter on screen
        assert "认领下一个任务" not in "".join(pages) and "退出登录" not in "".join(pages)
    finally:
        context.close()
