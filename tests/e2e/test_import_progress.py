"""A roster import in a real browser: personnel staff upload a sheet, the page answers at once with
the job queued, the worker runs the job (started here once the queued page is seen), and the page's
own script sees the bar reach done and shows what was added, at desk and at phone width."""
from __future__ import annotations

import csv
import io
import os
import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from workflows.accounts import create_user
from workflows.demo import make_citizen_id, make_uscc
from workflows.import_jobs import run_import_jobs
from workflows.models import PostHolding, Subject
from workflows.records import register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

DEPARTMENT = ("榆林市某区水务局", make_uscc("11610802MB731906"))
STAFF = ("hr_qian", "qian-pw-2026", "钱人事")
COLUMNS = ("department_code", "person_id_number", "person_name", "post", "title", "project", "project_phase",
           "start_date", "end_date")
PEOPLE = [("61080219700101001", "马局长", "principal", "局长"), ("61080219750505005", "牛副局长", "official_in_charge", "副局长"),
          ("61080219800909009", "杨科长", "project_lead", "项目负责人")]


@pytest.fixture(scope="module")
def sheet(live_server, tmp_path_factory):
    with live_server.uow() as uow:
        register_subject(uow, "department", *DEPARTMENT)
        create_user(uow, STAFF[0], STAFF[1], STAFF[2], ["personnel"])
        uow.commit()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for first17, name, post, title in PEOPLE:
        writer.writerow((DEPARTMENT[1], make_citizen_id(first17), name, post, title,
                         "河道治理PPP项目" if post == "project_lead" else "", "建设期" if post == "project_lead" else "",
                         "2025-01-01", ""))
    path = tmp_path_factory.mktemp("roster") / "任职名册.csv"
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


def holdings(live_server) -> int:
    """The post holdings of this module's department."""
    with live_server.factory() as session:
        department = select(Subject.id).where(Subject.code == DEPARTMENT[1]).scalar_subquery()
        return session.scalar(select(func.count()).select_from(PostHolding).where(
            PostHolding.department_id == department))


def test_the_roster_import_bar_reaches_done(page: Page, live_server, sheet, screenshots):
    page.goto("/login")
    page.fill("#username", STAFF[0])
    page.fill("#password", STAFF[1])
    page.click("button[type=submit]")
    page.goto("/personnel/roster")
    page.set_input_files("#roster-import input[name=sheet]", str(sheet))
    page.click("#roster-import button")
    expect(page).to_have_url(re.compile(r"/personnel/roster/imports/\d+$"))
    job = page.locator("#import-job")
    expect(job).to_have_attribute("data-status", "queued")
    expect(page.locator("#import-status-text")).to_have_text("排队等候处理…")
    assert holdings(live_server) == 0                     # only stored so far

    assert run_import_jobs(live_server.factory, live_server.clock) == 1     # the worker's pass
    # the page's script polls the status, sees the job end and shows the outcome (no reload by the test)
    expect(job).to_have_attribute("data-status", "done", timeout=15_000)
    expect(page.locator("#import-bar")).to_have_text("100%")
    expect(page.locator("#import-outcome")).to_have_text("已导入 3 条任职记录。")
    assert holdings(live_server) == 3
    page.screenshot(path=screenshots / "roster-import.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#import-outcome")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=screenshots / "roster-import-phone.png", full_page=True)
