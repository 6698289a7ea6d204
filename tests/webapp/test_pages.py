"""Error pages, language switching and China Standard Time on pages."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from credflow_web import CAPTURE, Page, location

REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚。"}


# -- error pages ----------------------------------------------------------------------------

def _in_layout(page: Page) -> bool:
    brand = page.xpath('//a[contains(@class, "navbar-brand")]')
    return bool(brand) and "credflow" in brand[0].text_content() and bool(page.xpath("//footer"))


def test_unknown_url_is_a_404_page_in_the_layout(web):
    page = Page(web().get("/no/such/page?x=1"))
    assert page.status == 404
    assert page.response.mimetype == "text/html"
    assert _in_layout(page)
    assert page.xpath("//h1")[0].text_content().strip() == "404页面不存在"
    assert page.xpath("//title")[0].text_content().startswith("404 页面不存在")
    # the language links on a URL that matched no route lead home (never built from the raw path)
    assert page.xpath('//a[@href="/?lang=en"]')


def test_unknown_url_for_a_logged_in_user_keeps_the_navigation(web):
    page = Page(web("reviewer").get("/cases/1/nothing"))
    assert page.status == 404
    assert _in_layout(page)
    assert "李审核" in page.text_of("user-menu")


def test_server_error_is_a_500_page_without_a_stack_trace(web, caplog):
    b = web("reviewer")
    with caplog.at_level(logging.ERROR, logger="credflow.web"):
        page = Page(b.get("/__test__/boom"))
    assert page.status == 500
    assert _in_layout(page)
    assert page.text_of("error-message") == "出错了，我们已记录此问题。请稍后重试。"
    for leak in ("Traceback", "RuntimeError", "secret-marker-7f3a", "credflow_web", 'File "'):
        assert leak not in page.text
    # ... but the log has it
    assert any(r.exc_info and "secret-marker-7f3a" in str(r.exc_info[1]) for r in caplog.records)


def test_server_error_for_an_anonymous_user_too(web):
    page = Page(web().get("/__test__/boom"))
    assert page.status == 500
    assert "secret-marker" not in page.text


def test_wrong_method_is_405_in_the_layout(web):
    page = Page(web("reviewer").get("/tasks/1/claim"))
    assert page.status == 405
    assert _in_layout(page)


def test_too_large_a_request_is_413(web, app):
    b = web("clerk")
    b.get("/records/new")
    too_big = b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"]
    from io import BytesIO
    page = Page(b.client.post("/records/new", data={"csrf_token": b.token, **CAPTURE,
                                                    "evidence": (BytesIO(too_big), "big.pdf")},
                              content_type="multipart/form-data"))
    assert page.status == 413
    assert "文件过大" in page.text
    assert _in_layout(page)


# -- language -------------------------------------------------------------------------------

def test_lang_en_switches_the_session(web):
    b = web("reviewer")
    page = Page(b.get("/inbox"))
    assert page.html_lang == "zh-CN"
    assert page.xpath("//h1")[0].text_content().strip() == "待办任务"
    page = Page(b.get("/inbox?lang=en"))
    assert page.html_lang == "en"
    assert page.xpath("//h1")[0].text_content().strip() == "Tasks"
    assert "All times are Beijing time" in page.xpath("//footer")[0].text_content()
    # it sticks for the session ...
    assert Page(b.get("/records")).html_lang == "en"
    # ... an unknown language changes nothing ...
    assert Page(b.get("/records?lang=fr")).html_lang == "en"
    # ... and it can be switched back
    assert Page(b.get("/records?lang=zh_CN")).html_lang == "zh-CN"
    assert Page(b.get("/inbox")).html_lang == "zh-CN"
    # another person's session is not affected
    assert Page(web("reviewer2").get("/inbox")).html_lang == "zh-CN"


def test_english_login_error_and_error_pages(web):
    b = web()
    assert Page(b.get("/login?lang=en")).html_lang == "en"
    page = Page(b.login("reviewer", "wrong"))
    assert page.status == 401
    assert page.text_of("login-error") == "Incorrect username or password."
    missing = Page(b.get("/missing"))
    assert missing.status == 404 and "Page not found" in missing.text


def test_language_chosen_before_login_survives_the_login(web):
    b = web()
    assert Page(b.get("/login?lang=en")).html_lang == "en"
    response = b.login("reviewer")
    assert response.status_code == 302
    assert Page(b.get(location(response))).html_lang == "en"


# -- China Standard Time --------------------------------------------------------------------

def test_times_are_shown_in_china_standard_time(web, world, clock):
    clock.at = datetime(2026, 6, 1, 17, 30, tzinfo=timezone.utc)   # = 2026-06-02 01:30 CST (Tuesday)
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    assert row.created_at == datetime(2026, 6, 1, 17, 30, tzinfo=timezone.utc)   # stored in UTC
    b = web("reviewer")
    inbox = Page(b.get("/inbox"))
    cells = inbox.xpath(f'//tr[@data-task-row="{row.id}"]/td')
    assert cells[6].text_content().strip() == "2026-06-02 01:30"
    # the deadline counts working days from the CST date (Tue 06-02 + 5 = Tue 06-09), not the UTC one
    assert "2026-06-09" in cells[7].text_content()
    assert cells[7].xpath(".//*[@data-deadline]")[0].text_content().strip() == "剩余 5 个工作日"
    case = Page(b.get(f"/cases/{case_id}"))
    assert "开始于 2026-06-02 01:30" in case.text
    assert case.one("timeline").xpath("./li/div")[0].text_content().startswith("2026-06-02 01:30:00")
    # the "completed by ... at" message is in CST as well
    world.complete("reviewer2", row.id, REVIEW)
    assert "于 2026-06-02 01:30 完成" in Page(b.get(f"/tasks/{row.id}")).text_of("error-message")


def test_capture_when_the_calendar_runs_out_explains_why(web, world, clock):
    """chinese_calendar stops at 2026: a task due in 2027 cannot get a deadline. The user is told why
    (a 500 page until commit 9e94cc1 converted CalendarNotCovered to a CaseError) and nothing is saved."""
    clock.at = datetime(2026, 12, 28, 9, 0, tzinfo=timezone.utc)
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", {**CAPTURE, "decision_date": "2026-12-25", "subject_mode": "existing",
                                        "subject_id": world.subjects[0]}))
    assert page.status == 409
    assert "工作日历未覆盖 2027 年（无法确定 2027-01-01 是否为工作日）" in page.text_of("error-message")
    assert "请系统管理员" in page.text_of("error-message")
    assert page.xpath('//*[@id="error-link"]') == []     # the calendar page is the administrator's: no dead link
    from sqlalchemy import func, select
    from workflows.models import Record
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0


def test_completing_a_task_when_the_calendar_runs_out_explains_why(web, world, clock):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    clock.at = datetime(2026, 12, 28, 9, 0, tzinfo=timezone.utc)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    page = Page(b.post(f"/tasks/{row.id}", {"task_id": row.task_id, "action": "complete", **REVIEW}))
    assert page.status == 409      # the task page again, the refusal on top and what was typed kept
    assert "工作日历未覆盖 2027 年" in page.text_of("refusal-text")
    assert page.value_of("review_opinion") == REVIEW["review_opinion"]
    assert page.xpath('//*[@id="refusal-link"]') == []     # the calendar page is the administrator's
    assert world.task(case_id, "legality_review").id == row.id   # nothing moved on
    b.get(f"/tasks/{row.id}?lang=en")
    page = Page(b.post(f"/tasks/{row.id}", {"task_id": row.task_id, "action": "complete", **REVIEW}))
    assert page.status == 409
    assert "does not cover 2027" in page.text_of("refusal-text") and "工作日历" not in page.text_of("refusal-text")


def test_language_links_on_a_404_page_stay_on_site(web):
    page = Page(web().get("/%5Cevil.example/phish"))
    assert page.status == 404
    hrefs = page.xpath('//a[contains(@href, "lang=")]/@href')
    assert hrefs
    for href in hrefs:
        normalised = href.replace("\\", "/")
        assert normalised.startswith("/") and not normalised.startswith("//"), href
