"""A record from capture to publication, through the pages only, in a real browser.

Data the pages do not create themselves (other records, earlier steps of a case) is set up
through the services; everything a test checks is done by clicking and typing.
"""
from __future__ import annotations

import gettext
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.demo import make_uscc

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

NEW_DEPARTMENT = "榆林市某区财政局"


def wrong_check(code: str) -> str:
    """The same code with another (wrong) check character."""
    return code[:17] + ("G" if code[17] != "G" else "H")


VALID_CODE = make_uscc("11610802MB503127")       # 11610802MB5031279F
WRONG_CODE = wrong_check(VALID_CODE)
CATALOG = Path(__file__).resolve().parents[2] / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.mo"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}


def has_class(name: str):
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def new_page(browser: Browser, browser_context_args: dict) -> Page:
    """A page in a context of its own (another user's browser)."""
    context = browser.new_context(**browser_context_args)
    return context.new_page()


def display_name(live_server, username: str) -> str:
    return live_server.users[username][1]


def login(page: Page, live_server, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", live_server.users[username][0])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator("#user-menu")).to_contain_text(display_name(live_server, username))


def fill_capture(page: Page, facts: str, legal_basis: str, decision_date: str) -> None:
    page.select_option("#f_source", "administrative_penalty")
    page.select_option("#f_field", "government_procurement")
    page.check("input[name=severity][value=general]")
    page.fill("#f_facts", facts)
    page.fill("#f_legal_basis", legal_basis)
    page.fill("#f_decision_date", decision_date)


def diagram_element(page: Page, bpmn_id: str):
    return page.locator(f'#diagram g.djs-element[data-element-id="{bpmn_id}"]')


def wait_for_diagram(page: Page) -> None:
    expect(page.locator("#diagram")).to_have_attribute("data-ready", "1", timeout=15_000)


@pytest.fixture(scope="module")
def seeded(live_server):
    """A handful of records waiting for legality review, so the reviewer's inbox is not empty.
    Keys name what each record is used for."""
    return {
        "filler": live_server.open_record(0),
        "claim": live_server.open_record(1, severity="serious", field="investment_promotion",
                                         facts="招商引资承诺的奖励资金未按约兑现。",
                                         legal_basis="《优化营商环境条例》第三十一条"),
        "conflict": live_server.open_record(2, severity="minor", field="township_commitment",
                                            facts="镇政府未履行与企业签订的厂房建设承诺。"),
        "leader": live_server.open_record(3, field="bidding", facts="在招标投标中违规指定供应商。",
                                          legal_basis="《招标投标法实施条例》第四十一条"),
        "filler2": live_server.open_record(4, severity="serious", field="government_debt",
                                           facts="拖欠工程款形成政府隐性债务。"),
    }


# -- 1. the clerk captures a record ---------------------------------------------------------------

def test_clerk_captures_a_record_for_a_new_department(page: Page, live_server, seeded, screenshots):
    page.goto("/login")
    expect(page.locator("#username")).to_be_visible()
    page.screenshot(path=screenshots / "login.png", full_page=True)
    login(page, live_server, "clerk")

    page.get_by_role("link", name="录入记录").click()
    expect(page).to_have_url(re.compile(r"/records/new$"))
    page.check("#mode-new")
    page.select_option("#kind", "department")
    page.fill("#name", NEW_DEPARTMENT)
    page.fill("#code", WRONG_CODE)
    fill_capture(page, "未按期支付政府采购合同款项。", "《政府采购法》第七十一条", "2026-05-29")
    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=screenshots / "record_new.png", full_page=True)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#submit-record")
    assert posted.value.status == 422

    error = page.locator('[data-error-for="subject"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("校验位错误")
    expect(page.locator("#code")).to_have_class(has_class("is-invalid"))
    # everything typed is still there
    expect(page.locator("#mode-new")).to_be_checked()
    expect(page.locator("#name")).to_have_value(NEW_DEPARTMENT)
    expect(page.locator("#code")).to_have_value(WRONG_CODE)
    expect(page.locator("#f_source")).to_have_value("administrative_penalty")
    expect(page.locator("#f_field")).to_have_value("government_procurement")
    expect(page.locator("input[name=severity][value=general]")).to_be_checked()
    expect(page.locator("#f_facts")).to_have_value("未按期支付政府采购合同款项。")
    expect(page.locator("#f_legal_basis")).to_have_value("《政府采购法》第七十一条")
    expect(page.locator("#f_decision_date")).to_have_value("2026-05-29")

    page.fill("#code", VALID_CODE)
    page.click("#submit-record")
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.locator(".alert-success")).to_contain_text("已提交合法性审核")
    expect(page.locator("#record-summary")).to_contain_text(NEW_DEPARTMENT)
    expect(page.locator("#record-status")).to_have_text("审核中")
    expect(page.locator("#case-status")).to_have_text("办理中")

    wait_for_diagram(page)
    expect(diagram_element(page, "legality_review")).to_have_class(has_class("cf-current"))
    expect(diagram_element(page, "capture")).to_have_class(has_class("cf-completed"))
    expect(diagram_element(page, "leader_approval")).not_to_have_class(re.compile(r"\bcf-"))
    assert "合法性审核" in diagram_element(page, "legality_review").text_content()


def test_code_error_is_shown_together_with_the_other_field_errors(page: Page, live_server):
    login(page, live_server, "clerk")
    page.goto("/records/new")
    page.check("#mode-new")
    page.fill("#name", NEW_DEPARTMENT + "（二）")
    page.fill("#code", wrong_check(make_uscc("11610802MB503135")))
    page.click("#submit-record")
    expect(page.locator('[data-error-for="facts"]')).to_be_visible()   # the record fields are reported...
    expect(page.locator('[data-error-for="subject"]')).to_be_visible(timeout=2_000)  # ...and so is the code


# -- 2. the reviewer claims and decides -----------------------------------------------------------

def test_reviewer_claims_from_group_tasks_and_approves(page: Page, live_server, seeded, screenshots):
    _, case_id = seeded["claim"]
    row_id = live_server.task_row(case_id, "legality_review")
    login(page, live_server, "reviewer")

    expect(page.locator('#inbox-tabs a[data-tab="group"]')).to_have_class(has_class("active"))
    group_count = int(page.locator('#inbox-tabs [data-count="group"]').inner_text())
    assert group_count >= 5
    # a page of 25 (the other browser tests' tasks share the live server's queue)
    expect(page.locator("#task-table [data-task-row]")).to_have_count(min(group_count, 25))
    expect(page.locator("#claim-next button")).to_have_text("认领下一个任务")
    page.screenshot(path=screenshots / "inbox.png", full_page=True)
    page.goto("/inbox?tab=group&per_page=100")
    row = page.locator(f'#task-table [data-task-row="{row_id}"]')
    expect(row).to_contain_text("合法性审核")
    expect(row).to_contain_text("榆林市某县招商服务中心")
    expect(row).to_contain_text("严重")

    row.get_by_role("button", name="认领").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
    expect(page.locator("#assignee")).to_have_text(display_name(live_server, "reviewer"))
    expect(page.locator("#task-name")).to_have_text("合法性审核")
    expect(page.locator("#complete")).to_be_enabled()
    page.screenshot(path=screenshots / "task.png", full_page=True)

    opinion = "请核实兑现期限。\n第二行意见。"
    page.fill("#f_review_opinion", opinion)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#complete")
    assert posted.value.status == 422
    expect(page.locator('[data-error-for="review_decision"]')).to_be_visible()
    expect(page.locator("#f_review_opinion")).to_have_value(opinion)
    expect(page.locator(".alert-danger")).to_contain_text("表单有误")

    page.check("input[name=review_decision][value=approve]")
    page.click("#complete")
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(".alert-success")).to_contain_text("合法性审核")
    expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)
    for tab in ("mine", "group"):
        page.goto(f"/inbox?tab={tab}")
        expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)
    assert live_server.open_task_ids(case_id) == ["leader_approval"]


# -- 3. two reviewers, one task -------------------------------------------------------------------

def test_second_reviewer_is_told_who_completed_the_task(browser: Browser, browser_context_args, live_server, seeded):
    _, case_id = seeded["conflict"]
    row_id = live_server.task_row(case_id, "legality_review")
    first, second = new_page(browser, browser_context_args), new_page(browser, browser_context_args)
    try:
        login(first, live_server, "reviewer")
        login(second, live_server, "reviewer2")
        for page in (first, second):
            page.goto(f"/tasks/{row_id}")
            expect(page.locator("#assignee")).to_have_text("未认领")
            expect(page.locator("#complete")).to_be_enabled()

        first.check("input[name=review_decision][value=approve]")
        first.fill("#f_review_opinion", "同意认定。")
        first.click("#complete")
        expect(first).to_have_url(re.compile(r"/inbox"))
        expect(first.locator(".alert-success")).to_be_visible()

        second.check("input[name=review_decision][value=reject]")
        second.fill("#f_review_opinion", "证据不足。")
        with second.expect_response(lambda r: r.request.method == "POST") as posted:
            second.click("#complete")
        assert posted.value.status == 409
        expect(second.locator("#error-card")).to_contain_text("409")
        message = second.locator("#error-message")
        expect(message).to_contain_text("该任务已由 李审核 于 2026-06-01 09:00 完成")
        expect(message).not_to_contain_text("completed by")     # a Chinese page, in Chinese only
        expect(second.locator("#typed-input textarea")).to_have_value("证据不足。")   # what was typed, to copy
        assert live_server.open_task_ids(case_id) == ["leader_approval"]   # the second submit changed nothing
    finally:
        first.context.close()
        second.context.close()


# -- 4. the leader approves: the record is published ----------------------------------------------

def test_leader_approves_and_the_record_is_published(page: Page, live_server, seeded, screenshots):
    _, case_id = seeded["leader"]
    live_server.complete("reviewer", case_id, "legality_review", APPROVE)
    row_id = live_server.task_row(case_id, "leader_approval")
    login(page, live_server, "leader")

    page.goto("/inbox?tab=group")
    row = page.locator(f'#task-table [data-task-row="{row_id}"]')
    expect(row).to_contain_text("领导审批")
    expect(row).to_contain_text("刘某某")
    row.get_by_role("link", name="领导审批").click()
    expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
    expect(page.locator("#record-status")).to_have_text("已认定")
    page.check("input[name=leader_decision][value=approve]")
    page.fill("#f_leader_opinion", "同意按规则实施惩戒并公示。")
    page.click("#complete")
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator(f'[data-task-row="{row_id}"]')).to_have_count(0)

    page.goto(f"/cases/{case_id}")
    expect(page.locator("#record-status")).to_have_text("公示中")
    expect(page.locator("#case-status")).to_have_text("办理中")
    expect(page.locator("#record-summary")).to_contain_text("2026-05-29 — 2027-05-29")
    expect(page.locator("#timeline")).to_contain_text("同意按规则实施惩戒并公示。")
    wait_for_diagram(page)
    for done in ("capture", "legality_review", "leader_approval", "publish_record_task"):
        expect(diagram_element(page, done)).to_have_class(has_class("cf-completed"))
    # the publication subprocess waits on its first timer (minimum period), on corrections and on
    # a revocation; the maximum-period timer comes after the minimum one, so it is not armed yet
    for waiting in ("publication_period", "min_period_reached", "wait_record_corrected", "on_record_revoked"):
        expect(diagram_element(page, waiting)).to_have_class(has_class("cf-waiting"))
    expect(diagram_element(page, "max_period_reached")).not_to_have_class(re.compile(r"\bcf-"))
    expect(page.locator("#diagram g.djs-element.cf-current")).to_have_count(0)
    page.screenshot(path=screenshots / "case.png", full_page=True)


# -- 5. English ---------------------------------------------------------------------------------

def test_language_switch_shows_english_labels(page: Page, live_server, seeded):
    if not CATALOG.exists():
        pytest.skip(f"no compiled English catalog at {CATALOG.relative_to(CATALOG.parents[3])} "
                    "(run `pybabel compile -d webapp/translations`)")
    with CATALOG.open("rb") as fh:
        english = gettext.GNUTranslations(fh)
    names = {zh: english.gettext(zh) for zh in ("待办任务", "我的任务", "组任务", "退出登录", "信用主体")}
    untranslated = [zh for zh, en in names.items() if en == zh]
    assert not untranslated, f"the English catalog does not translate {untranslated}"

    login(page, live_server, "reviewer")
    # the menu opens by Bootstrap's script, at the end of the page: wait for it (a click before it
    # ran only followed the toggle's "#" under load)
    page.wait_for_load_state("load")
    page.click("#user-menu")
    english_link = page.get_by_role("link", name="English")
    expect(english_link).to_be_visible()
    english_link.click()
    expect(page).to_have_url(re.compile(r"lang=en"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(names["待办任务"])
    expect(page.locator('#inbox-tabs a[data-tab="group"]')).to_contain_text(names["组任务"])
    expect(page.locator('#inbox-tabs a[data-tab="mine"]')).to_contain_text(names["我的任务"])
    expect(page.locator("#task-table thead")).to_contain_text(names["信用主体"])
    expect(page.locator("#logout")).to_have_text(names["退出登录"])
    # the choice sticks for the session
    page.goto("/inbox?tab=group")
    expect(page.locator("h1")).to_have_text(names["待办任务"])
