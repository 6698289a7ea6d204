"""The pages people open on a phone, at 390 x 844: nothing wider than the screen, tables as cards.

Each page is opened by the person who uses it (a reviewer's inbox and task, a subject's portal, the
public's record list, record and document verification); the case page and the administrators' pages
met on the way are checked for overflow too. The README's phone screenshots are taken here.
"""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.demo import make_uscc
from workflows.models import Document
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

PHONE = {"width": 390, "height": 844}
SUBJECT_NAME = "榆林市某区住房和城乡建设局"
SUBJECT_USER = ("subject_housing", "subject-pw-2026")
MANAGER = ("manager_phone", "manager-pw-2026")
PERSONNEL = ("personnel_phone", "personnel-pw-2026")
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "serious",
           "facts": "未按合同约定支付保障性住房建设企业工程款 236 万元，逾期超过180日，经催告仍未支付。",
           "legal_basis": "《保障中小企业款项支付条例》第八条、第十五条", "decision_date": "2026-05-29"}
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意按规则实施惩戒并公示。"}
# each list's column headings, which label the lines of its cards
INBOX_LABELS = ["信用主体", "领域", "严重程度", "办理角色", "办理人", "到达时间", "办理期限"]
PORTAL_LABELS = ["记录编号", "领域", "严重程度", "状态", "认定日期", "公示期", "可申请修复"]
PUBLIC_LABELS = ["代码", "领域", "严重程度", "公示期"]
RECORDS_LABELS = ["记录编号", "信用主体", "代码", "领域", "严重程度", "状态", "认定日期", "公示期"]

# Every element whose right edge is beyond the viewport, unless an ancestor clips it inside the screen
# (a scrolling box, the diagram canvas); plus the document's own scroll width.
OVERFLOW = """() => {
  const vw = window.innerWidth, bad = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= vw + 0.5) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible' && a.getBoundingClientRect().right <= vw + 0.5) { clipped = true; break; }
    }
    if (!clipped) bad.push(name(el) + ' right=' + Math.round(r.right) + ' "' + (el.innerText || '').trim().slice(0, 30) + '"');
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: vw, bad: bad.slice(0, 12)};
}"""

# The rows of a card table: each labelled cell's label (drawn by CSS from data-label), whether it shows
# and how wide it is against its row.
CARD_CELLS = """(table) => [...table.tBodies[0].rows].map(tr => [...tr.cells].map(td => ({
  label: td.dataset.label || '',
  drawn: getComputedStyle(td, '::before').content.replace(/^"|"$/g, ''),
  shown: td.getBoundingClientRect().height > 0,
  share: td.getBoundingClientRect().width / tr.getBoundingClientRect().width,
  text: td.innerText.trim()})))"""


@pytest.fixture(scope="module")
def phone_world(live_server):
    """A department with an account and one published record (with its signed decision), a record of the
    same department waiting for the reviewer, and a process manager. Returns the ids the pages need."""
    with live_server.uow() as uow:
        subject = register_subject(uow, "department", SUBJECT_NAME, make_uscc("11610802MB503151"))
        create_user(uow, SUBJECT_USER[0], SUBJECT_USER[1], SUBJECT_NAME, ["subject"], subject_id=subject.id)
        create_user(uow, MANAGER[0], MANAGER[1], "赵管理", ["manager"])
        create_user(uow, PERSONNEL[0], PERSONNEL[1], "钱人事", ["personnel"])
        uow.commit()
        subject_id = subject.id
    with live_server.uow("clerk") as uow:
        published, published_case = open_record(uow, subject_id, CAPTURE)
        waiting, waiting_case = open_record(uow, subject_id, {**CAPTURE, "severity": "general", "field": "bidding"})
        uow.commit()
        ids = {"published": published.id, "published_case": published_case.id,
               "waiting": waiting.id, "waiting_case": waiting_case.id}
    live_server.complete("reviewer", ids["published_case"], "legality_review", APPROVE)
    live_server.complete("leader", ids["published_case"], "leader_approval", LEADER_OK)
    with live_server.factory() as session:
        ids["code"] = session.scalars(select(Document.verification_code)
                                      .where(Document.record_id == ids["published"])).first()
    ids["task"] = live_server.task_row(ids["waiting_case"], "legality_review")
    return ids


def phone(browser: Browser, browser_context_args: dict, login: tuple[str, str] | None = None) -> Page:
    """A phone-sized page in a browser context of its own, logged in as someone or nobody."""
    page = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    if login:
        page.goto("/login")
        page.fill("#username", login[0])
        page.fill("#password", login[1])
        page.click("button[type=submit]")
        expect(page.locator("#user-menu")).to_have_count(1)
    return page


def assert_fits(page: Page) -> None:
    """Nothing on the page is wider than the phone's screen."""
    page.wait_for_load_state("load")
    found = page.evaluate(OVERFLOW)
    assert found["scrollWidth"] <= found["innerWidth"] and not found["bad"], \
        f"{page.url} overflows a {found['innerWidth']} px screen (scroll width {found['scrollWidth']}): {found['bad']}"


def assert_within_screen(locator) -> None:
    box = locator.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"clipped at the screen's edge: {box}"


def assert_cards(page: Page, table: str, labels: list[str]) -> list[list[dict]]:
    """The table shows as cards: no header row, each row's cells full width, each labelled cell with its label."""
    expect(page.locator(f"{table} thead")).to_be_hidden()
    rows = page.locator(table).evaluate(CARD_CELLS)
    assert rows, f"{table} has no rows"
    for cells in rows:
        assert [c["label"] for c in cells if c["label"]] == labels
        for cell in cells:
            if cell["shown"]:
                assert cell["share"] > 0.8, f"{table}: a cell is a narrow column, not a card line: {cell}"
            if cell["label"] and cell["text"]:
                assert cell["drawn"] == cell["label"] and cell["shown"], f"{table}: a field shows without its label: {cell}"
    return rows


def shoot(page: Page, screenshots, name: str) -> None:
    """The README's phone screenshot of the whole page."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)



def test_the_reviewer_works_the_inbox_and_a_task_on_a_phone(browser: Browser, browser_context_args, live_server,
                                                             phone_world, screenshots):
    page = phone(browser, browser_context_args, ("reviewer", live_server.users["reviewer"][0]))
    try:
        page.goto("/inbox?tab=group&subject=住房和城乡建设局")     # this test's tasks, whatever else ran before
        assert_fits(page)
        assert_cards(page, "#task-table", INBOX_LABELS)
        card = page.locator(f'#task-table [data-task-row="{phone_world["task"]}"]')
        expect(card).to_contain_text(SUBJECT_NAME)
        expect(card.locator('[data-label="严重程度"]')).to_have_text("一般")
        expect(card.locator('[data-label="办理期限"] [data-deadline]')).to_contain_text("工作日")
        claim = card.get_by_role("button", name="认领")
        assert_within_screen(claim)
        shoot(page, screenshots, "inbox-phone")

        # the header row is hidden with its sort links: the same links above the cards
        page.locator("#phone-sort").get_by_role("link", name="到达时间").click()
        expect(page).to_have_url(re.compile(r"sort=created"))
        expect(page.locator("#phone-sort")).to_contain_text("到达时间 ▲")

        claim.click()
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto("/inbox?tab=mine")
        page.locator(f'#task-table [data-task-row="{phone_world["task"]}"]').get_by_role("link", name="办理").click()
        expect(page).to_have_url(re.compile(rf"/tasks/{phone_world['task']}$"))
        expect(page.locator("#task-name")).to_have_text("合法性审核")
        page.check("input[name=review_decision][value=approve]")
        page.fill("#f_review_opinion", "事实清楚，证据充分，程序合法。")
        assert_fits(page)
        shoot(page, screenshots, "task-phone")
        assert_within_screen(page.locator("#complete"))
        page.click("#complete")                   # submitted: the reviewer's inbox is as it was for other tests
        expect(page).to_have_url(re.compile(r"/inbox"))
        expect(page.locator(".alert-success")).to_be_visible()
        assert_fits(page)

        page.goto(f"/cases/{phone_world['waiting_case']}")
        expect(page.locator("#diagram")).to_have_attribute("data-ready", "1", timeout=15_000)
        assert_fits(page)

        page.goto("/records")
        assert_fits(page)
        assert_cards(page, "#record-table", RECORDS_LABELS)

        page.goto("/inbox?lang=en")             # English words are longer: the brand and the labels wrap, no more
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_fits(page)
    finally:
        page.context.close()


def test_the_subject_reads_the_portal_on_a_phone(browser: Browser, browser_context_args, phone_world, screenshots):
    page = phone(browser, browser_context_args, SUBJECT_USER)
    try:
        page.goto("/portal/")
        assert_fits(page)
        assert_cards(page, "#my-records", PORTAL_LABELS)
        card = page.locator(f'#my-records [data-record="{phone_world["published"]}"]')
        expect(card.locator('[data-label="状态"]')).to_have_text("公示中")
        expect(card.locator('[data-label="公示期"]')).to_have_text("2026-05-29 — 2029-05-29")
        assert_within_screen(card.get_by_role("link", name="查看"))
        shoot(page, screenshots, "portal-phone")

        card.get_by_role("link", name="查看").click()
        expect(page).to_have_url(re.compile(rf"/portal/records/{phone_world['published']}$"))
        expect(page.locator("#record-summary")).to_contain_text(CAPTURE["facts"])
        assert_fits(page)
        page.click("#apply-objection")
        expect(page).to_have_url(re.compile(r"/objection$"))
        assert_fits(page)
    finally:
        page.context.close()


def test_the_public_finds_a_record_and_verifies_its_decision_on_a_phone(browser: Browser, browser_context_args,
                                                                        phone_world, screenshots):
    page = phone(browser, browser_context_args)
    try:
        page.goto("/public/")
        assert_fits(page)
        assert_cards(page, "#public-records", PUBLIC_LABELS)
        card = page.locator(f'#public-records [data-public-record="{phone_world["published"]}"]')
        expect(card).to_contain_text(SUBJECT_NAME)
        expect(card.locator('[data-label="代码"]')).to_have_text(make_uscc("11610802MB503151"))
        shoot(page, screenshots, "public-phone")

        card.get_by_role("link", name="详情").click()
        expect(page).to_have_url(re.compile(rf"/public/records/{phone_world['published']}$"))
        expect(page.locator("#record-number")).to_be_visible()
        assert_fits(page)

        page.goto("/public/verify")
        page.fill("#code", phone_world["code"])
        page.locator("#verify-code button").click()
        expect(page.locator("#document-number")).to_contain_text("号")
        expect(page.locator("#document-state")).to_contain_text("有效")
        assert_fits(page)
        shoot(page, screenshots, "verify-phone")
    finally:
        page.context.close()


def test_the_pages_administrators_pass_on_the_way_fit_a_phone(browser: Browser, browser_context_args, live_server,
                                                               phone_world):
    for login, urls in [(MANAGER, ["/admin/", "/admin/definitions/1", "/admin/upload"]),
                        (("admin", live_server.users["admin"][0]), ["/system/users", "/system/calendar", "/system/outbox"]),
                        (PERSONNEL, ["/personnel/", "/personnel/roster"])]:
        page = phone(browser, browser_context_args, login)
        try:
            for url in urls:
                page.goto(url)
                assert_fits(page)
            if login == MANAGER:
                page.goto("/admin/")
                process = page.locator('[data-process="record_lifecycle"]')
                expect(process.locator("thead")).to_be_hidden()
                expect(process.locator('[data-label="部署时间"]').first).to_be_visible()
        finally:
            page.context.close()


def test_the_desktop_keeps_its_tables(page: Page, live_server, phone_world):
    """At 1366 x 768 the same lists are tables with their header row, one line per row."""
    page.goto("/login")
    page.fill("#username", "reviewer")
    page.fill("#password", live_server.users["reviewer"][0])
    page.click("button[type=submit]")
    expect(page.locator("#task-table thead")).to_be_visible()
    expect(page.locator("#phone-sort")).to_be_hidden()
    page.locator("#logout").evaluate("b => b.form.submit()")
    expect(page.locator("#user-menu")).to_have_count(0)
    page.goto("/public/")
    expect(page.locator("#public-records thead")).to_be_visible()
    assert page.locator("#public-records tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    label = page.locator('#public-records td[data-label="领域"]').first
    assert label.evaluate("td => getComputedStyle(td, '::before').content") == "none"
