"""The yearly integrity evaluation in a real browser: with the round opened, the survey imported
and the scores computed through the services, the reviewer claims the review task and sees the
ranking with every indicator on its page, and approves it; the window passes (the timer), the
leader confirms, and the round's page shows the final ranking and the signed reports. Screenshots
of the round page (1366x768 and a 390 px phone) and of the first page of a department's report."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from workflows.cases import fire_due_timers
from workflows.clock import FixedClock
from workflows.evaluation.model import EvaluationRound, EvaluationScore
from workflows.evaluation.service import open_round, start_round
from workflows.evaluation.survey import import_survey
from workflows.models import Document, Subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PHONE = {"width": 390, "height": 844}
YEAR = 2025          # last year's evaluation, run in June: no other browser test uses that year


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox"))


def survey(live_server) -> bytes:
    book = Workbook()
    book.active.append(["统一社会信用代码", "部门名称", "评估得分"])
    with live_server.factory() as session:
        departments = session.scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.id))
        for n, d in enumerate(departments):
            book.active.append([d.code, d.name, 92 - 7 * n])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_round_reviewed_and_published(browser: Browser, browser_context_args, live_server, screenshots, tmp_path):
    evaluation = live_server.run("leader", open_round, str(YEAR))
    live_server.run("leader", import_survey, evaluation.id, "survey.xlsx", survey(live_server))
    case_id = live_server.run("leader", start_round, evaluation.id).case_id
    row_id = live_server.task_row(case_id, "review")
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    try:
        login(page, "reviewer", live_server.users["reviewer"][0])
        page.goto(f"/tasks/{row_id}")
        panel = page.locator("#evaluation-panel")
        expect(panel).to_be_visible()
        with live_server.factory() as session:
            count = session.query(EvaluationScore).filter(EvaluationScore.round_id == evaluation.id).count()
        expect(panel.locator("tbody tr")).to_have_count(count)
        expect(panel.locator('td[data-indicator="survey"]').first).to_have_text("92.00")
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=screenshots / "evaluation-review.png", full_page=True)
        page.click("#claim")
        page.check('input[name="review_decision"][value="approve"]')
        page.fill('textarea[name="review_opinion"]', "各部门分项指标核对无误。")
        page.click("#complete")
        expect(page).not_to_have_url(re.compile(rf"/tasks/{row_id}$"))
    finally:
        context.close()
    live_server.complete("leader", case_id, "approve", {"approval_decision": "approve", "approval_opinion": "同意。"})
    with live_server.factory() as session:
        deadline = session.get(EvaluationRound, evaluation.id).objection_deadline
    later = FixedClock(deadline + timedelta(seconds=1))       # the window's timer, on a clock of its own
    live_server.run(None, fire_due_timers, clock=later)
    live_server.complete("leader", case_id, "confirm", {"confirm_opinion": "同意公布。"})

    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    try:
        login(page, "leader", live_server.users["leader"][0])
        page.goto(f"/evaluations/{evaluation.id}")
        expect(page.locator("#round-status")).to_have_text("已公布")
        expect(page.locator("#reports li")).to_have_count(count)
        page.set_viewport_size({"width": 1366, "height": 768})
        page.screenshot(path=screenshots / "evaluation-round.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=screenshots / "evaluation-round-phone.png", full_page=True)
        page.goto(f"/evaluations/public/{YEAR}")
        expect(page.locator("#ranking tbody tr")).to_have_count(count)
    finally:
        context.close()
    if shutil.which("pdftoppm"):
        with live_server.factory() as session:
            document = session.scalars(select(Document).where(Document.case_id == case_id,
                                                              Document.kind == "evaluation_report")
                                       .order_by(Document.id)).first()
            pdf = tmp_path / "evaluation-report.pdf"
            pdf.write_bytes(document.pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(screenshots / "evaluation-report")], check=True)
