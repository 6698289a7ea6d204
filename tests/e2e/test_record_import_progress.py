"""A records import in a real browser: a clerk opens the bulk import from the records list, uploads
a small sheet, the page answers at once with the job queued, the worker runs the job (started here
once the queued page is seen) and the page's own script sees the bar reach done and says what was
imported, at desk and at phone width."""
from __future__ import annotations

import io
import os
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from workflows.accounts import create_user
from workflows.demo import make_citizen_id, make_uscc
from workflows.import_jobs import run_import_jobs
from workflows.models import Record, Subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

CLERK = ("clerk_import", "import-pw-2026", "郑承办")
HEADER = ["信用主体代码", "信用主体名称", "主体类型", "认定依据", "领域", "失信程度", "失信事实", "法律依据", "认定日期"]
DEPARTMENT = (make_uscc("11610802MB731977"), "榆林市某区交通运输局")
PERSON = (make_citizen_id("61080219820303007"), "冯某某")
ROWS = [[*DEPARTMENT, "政府部门", "行政处罚", "政府采购", "一般", "逾期未支付中小企业账款。", "《保障中小企业款项支付条例》第八条", "2026-05-20"],
        [*DEPARTMENT, "政府部门", "违约/失信承诺", "招商引资", "严重", "未兑现招商引资优惠承诺。", "《优化营商环境条例》第三十一条", "2026-05-21"],
        [*PERSON, "公务员", "纪律处分", "招标投标", "轻微", "违规干预招标投标活动。", "《公职人员政务处分法》第三十九条", "2026-05-22"]]


@pytest.fixture(scope="module")
def sheet(live_server, tmp_path_factory):
    with live_server.uow() as uow:
        create_user(uow, CLERK[0], CLERK[1], CLERK[2], ["clerk"])
        uow.commit()
    book = Workbook()
    book.active.append(HEADER)
    for row in ROWS:
        book.active.append(row)
    path = tmp_path_factory.mktemp("records") / "失信记录.xlsx"
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def imported(live_server) -> int:
    """The records of this module's two subjects."""
    with live_server.factory() as session:
        ours = select(Subject.id).where(Subject.code.in_([DEPARTMENT[0], PERSON[0]]))
        return session.scalar(select(func.count()).select_from(Record).where(Record.subject_id.in_(ours)))


def test_the_records_import_bar_reaches_done(page: Page, live_server, sheet, screenshots):
    page.goto("/login")
    page.fill("#username", CLERK[0])
    page.fill("#password", CLERK[1])
    page.click("button[type=submit]")
    page.goto("/records")
    page.click("#record-import-link")
    expect(page).to_have_url(re.compile(r"/records/import$"))
    expect(page.locator("#record-template")).to_be_visible()
    page.screenshot(path=screenshots / "record-import-upload.png", full_page=True)
    page.set_input_files("#record-sheet", str(sheet))
    page.click("#record-import-submit")
    expect(page).to_have_url(re.compile(r"/records/imports/\d+$"))
    job = page.locator("#import-job")
    expect(job).to_have_attribute("data-status", "queued")
    assert imported(live_server) == 0                     # only stored so far

    assert run_import_jobs(live_server.factory, live_server.clock) == 1     # the worker's pass
    # the page's script polls the status, sees the job end and shows the outcome (no reload by the test)
    expect(job).to_have_attribute("data-status", "done", timeout=15_000)
    expect(page.locator("#import-bar")).to_have_text("100%")
    expect(page.locator("#import-outcome")).to_contain_text("已导入 3 条失信记录，新登记 2 个信用主体")
    assert imported(live_server) == 3
    page.screenshot(path=screenshots / "record-import.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#import-outcome")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=screenshots / "record-import-phone.png", full_page=True)
    page.goto("/records/import")                          # the upload page lists the job
    expect(page.locator("#record-import-jobs")).to_contain_text("失信记录.xlsx")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=screenshots / "record-import-upload-phone.png", full_page=True)
