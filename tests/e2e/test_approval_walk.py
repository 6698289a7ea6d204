"""The approval actions (issue 17) in a real browser, each done by its user through the pages:
a leader returns a sanction to the reviewer (退回), who finds the reason and their answers and hands
it to a colleague (转办); a 或签 of three finishes on the second answer, an agreement after a
disagreement (会签); the case is copied to the leader (抄送), who reads it, and its sender sees that.

The records, the earlier steps and the countersign process are set up through the services; the
subject is this module's own, so other browser tests' filters never meet its tasks. The README's
approval screenshots (docs/screenshots/approval-*.png) are taken here.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.cases import start_case
from workflows.definitions import deploy_bundle
from workflows.demo import make_uscc
from workflows.engine.bundle import read_folder
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "approvals"
SUBJECT = ("department", "榆林市某区市场监督管理局", make_uscc("11610802MB614238"))
CAPTURE = {"source": "administrative_penalty", "field": "bidding", "severity": "serious",
           "facts": "在政府采购招标中违规设定供应商资格条件，排斥潜在投标人。",
           "legal_basis": "《政府采购法实施条例》第二十条", "decision_date": "2026-05-29"}
REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚，证据充分，程序合法。"}
RETURN_REASON = "处罚依据引用的条款与认定事实不符，请重新审核。"
TRANSFER_REASON = "本人出差一周，转孙审核办理。"
# the countersign fixture's 或签 of three, with this server's people: who answers first, second, never
SIGNERS = ("clerk", "reviewer2", "reviewer")
NO_OPINION = "投标人资格条件的证据不足，不同意。"
YES_OPINION = "证据已补充，同意执行。"
COPY_REASON = "请领导知悉会签结果。"


def display(live_server, username: str) -> str:
    return live_server.users[username][1]


def user_page(browser: Browser, browser_context_args, live_server, username: str) -> Page:
    """A browser of the user's own, logged in (they land on their inbox)."""
    page = browser.new_context(**browser_context_args).new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", live_server.users[username][0])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/inbox"))
    expect(page.locator("#user-menu")).to_contain_text(display(live_server, username))
    return page


def open_from_inbox(page: Page, row_id: int, title: str, tab: str = "mine") -> None:
    """The row is in the user's inbox tab; they open its task page."""
    page.goto(f"/inbox?tab={tab}")
    row = page.locator(f'#task-table [data-task-row="{row_id}"]')
    expect(row).to_contain_text(title)
    row.locator(f'a[href$="/tasks/{row_id}"]').first.click()
    expect(page).to_have_url(re.compile(rf"/tasks/{row_id}$"))
    expect(page.locator("#task-name")).to_have_text(title)


def open_action(page: Page, name: str) -> None:
    """Click an approval action's button; its form opens below the bar."""
    page.click(f'#approval-actions button[data-action="{name}"]')
    expect(page.locator(f"#act-{name}")).to_be_visible()
    expect(page.locator(f"#act-{name}")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))


def notified(page: Page, kind: str, row_id: int, words: str) -> None:
    """The user's messages hold a notice of `kind` leading to the task, saying `words`."""
    page.click("#notifications-link")
    note = page.locator(f'#notifications [data-kind="{kind}"][href$="/tasks/{row_id}"]')
    expect(note).to_have_count(1)
    expect(note).to_contain_text(words)


def shoot(page: Page, path: Path) -> None:
    """A full-page screenshot at 1366 px, without a focus ring or a hovered button."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.locator("h1").first.hover()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366          # nothing wider than the screen
    page.screenshot(path=path, full_page=True, animations="disabled")


@pytest.fixture(scope="module")
def sanction(live_server) -> tuple[int, int]:
    """A record of this module's subject reviewed by the reviewer, waiting for the leader's
    approval: (case id, the leader's row)."""
    with live_server.uow() as uow:
        subject_id = register_subject(uow, *SUBJECT).id
        uow.commit()
    with live_server.uow("clerk") as uow:
        _, case = open_record(uow, subject_id, CAPTURE)
        uow.commit()
        case_id = case.id
    live_server.complete("reviewer", case_id, "legality_review", REVIEW)
    assert live_server.open_task_ids(case_id) == ["leader_approval"]
    return case_id, live_server.task_row(case_id, "leader_approval")


def test_the_leader_returns_a_sanction_and_the_reviewer_transfers_it(browser: Browser, browser_context_args,
                                                                    live_server, sanction, screenshots):
    case_id, leader_row = sanction

    # -- 退回: the leader picks the reviewer's step from the list and gives the reason
    leader = user_page(browser, browser_context_args, live_server, "leader")
    try:
        open_from_inbox(leader, leader_row, "领导审批", tab="group")
        open_action(leader, "send_back")
        target = leader.locator("#send_back-target")
        expect(target.locator("option")).to_have_text(["合法性审核（李审核 办理）", "录入失信记录（张承办 办理）"])
        target.select_option(label="合法性审核（李审核 办理）")
        leader.fill("#send_back-reason", RETURN_REASON)
        shoot(leader, screenshots / "approval-send-back.png")
        leader.locator("#act-send_back").get_by_role("button", name="确认退回").click()
        expect(leader).to_have_url(re.compile(r"/inbox"))
        expect(leader.locator(".alert-success")).to_contain_text("已退回")
        expect(leader.locator(f'[data-task-row="{leader_row}"]')).to_have_count(0)
    finally:
        leader.context.close()
    assert live_server.open_task_ids(case_id) == ["legality_review"]
    returned = live_server.task_row(case_id, "legality_review")

    # -- the reviewer finds it in their own tasks, with the reason and their previous answers
    reviewer = user_page(browser, browser_context_args, live_server, "reviewer")
    try:
        notified(reviewer, "returned", returned, RETURN_REASON)
        open_from_inbox(reviewer, returned, "合法性审核")
        notice = reviewer.locator("#task-notice")
        expect(notice).to_have_attribute("data-notice", "returned")
        expect(notice).to_contain_text("王领导 将案件退回到此步骤（自「领导审批」）")
        expect(reviewer.locator("#notice-reason")).to_have_text(f"理由：{RETURN_REASON}")
        expect(reviewer.locator("#draft-note")).to_have_text("已载入您上次填写的内容。")
        expect(reviewer.locator("input[name=review_decision][value=approve]")).to_be_checked()
        expect(reviewer.locator("#f_review_opinion")).to_have_value(REVIEW["review_opinion"])
        shoot(reviewer, screenshots / "approval-returned.png")

        # -- 转办 to the second reviewer, the only colleague of the lane
        open_action(reviewer, "transfer")
        expect(reviewer.locator("#transfer-user option")).to_have_text([display(live_server, "reviewer2")])
        reviewer.locator("#transfer-user").select_option(label=display(live_server, "reviewer2"))
        reviewer.fill("#transfer-reason", TRANSFER_REASON)
        reviewer.locator("#act-transfer").get_by_role("button", name="确认转办").click()
        expect(reviewer).to_have_url(re.compile(r"/inbox"))
        expect(reviewer.locator(".alert-success")).to_contain_text("已转办")
        expect(reviewer.locator(f'[data-task-row="{returned}"]')).to_have_count(0)
    finally:
        reviewer.context.close()

    colleague = user_page(browser, browser_context_args, live_server, "reviewer2")
    try:
        notified(colleague, "transferred", returned, TRANSFER_REASON)
        open_from_inbox(colleague, returned, "合法性审核")
        expect(colleague.locator("#assignee")).to_have_text(display(live_server, "reviewer2"))
        expect(colleague.locator("#task-notice")).to_have_attribute("data-notice", "transferred")
        expect(colleague.locator("#task-notice")).to_contain_text("李审核 转办了此任务")
        expect(colleague.locator("#notice-reason")).to_have_text(f"理由：{TRANSFER_REASON}")
    finally:
        colleague.context.close()


@pytest.fixture(scope="module")
def countersign_case(live_server) -> int:
    """The countersign fixture (a 或签 of three) deployed with this server's people, and a case of it."""
    [bundle] = [b for b in read_folder(FIXTURES / "bpmn", FIXTURES / "forms") if b.key == "countersign"]
    text = bundle.bpmn_files["countersign.bpmn"]
    assert text.count("clerk,clerk2,reviewer") == 2           # the property and the preScript
    ours = type(bundle)(bundle.key, bundle.name, {"countersign.bpmn": text.replace("clerk,clerk2,reviewer",
                                                                                    ",".join(SIGNERS))},
                        {}, dict(bundle.forms))
    with live_server.uow() as uow:
        deploy_bundle(uow, ours)
        uow.commit()
    with live_server.uow("clerk") as uow:
        case_id = start_case(uow, "countersign", {}).id
        uow.commit()
    assert live_server.open_task_ids(case_id) == ["cs", "cs", "cs"]
    return case_id


def countersign_rows(live_server, case_id: int) -> dict[str, int]:
    """Each signer's open row of the countersign."""
    from sqlalchemy import select

    from workflows.models import HumanTask, User
    with live_server.factory() as session:
        return dict(session.execute(select(User.username, HumanTask.id).join(User, User.id == HumanTask.assignee_id)
                                    .where(HumanTask.case_id == case_id, HumanTask.bpmn_id == "cs")).all())


def test_a_countersign_finishes_on_the_second_answer_and_a_copy_is_read(browser: Browser, browser_context_args,
                                                                         live_server, countersign_case, screenshots):
    case_id = countersign_case
    rows = countersign_rows(live_server, case_id)
    assert sorted(rows) == sorted(SIGNERS)
    first, second, third = SIGNERS

    def answer(username: str, decision: str, opinion: str, shot: str | None = None) -> None:
        page = user_page(browser, browser_context_args, live_server, username)
        try:
            expect(page.locator(f'[data-task-row="{rows[username]}"] [data-badge="countersign"]')).to_be_visible()
            open_from_inbox(page, rows[username], "会签审批")
            mine = page.locator(f'#countersign [data-countersigner="{username}"]')
            expect(mine).to_have_attribute("data-state", "waiting")
            expect(mine).to_contain_text("（本任务）")
            page.check(f"input[name=cs_decision][value={decision}]")
            page.fill("#f_opinion", opinion)
            if shot:
                shoot(page, screenshots / shot)
            page.click("#complete")
            expect(page).to_have_url(re.compile(r"/inbox"))
            expect(page.locator(".alert-success")).to_contain_text("会签审批")
            expect(page.locator(f'[data-task-row="{rows[username]}"]')).to_have_count(0)
        finally:
            page.context.close()

    answer(first, "reject", NO_OPINION)
    answer(second, "approve", YES_OPINION, shot="approval-countersign.png")
    assert live_server.open_task_ids(case_id) == ["carry_out"]

    # -- the third signer's row is gone: the 或签 was decided without them
    page = user_page(browser, browser_context_args, live_server, third)
    try:
        for tab in ("mine", "all"):
            page.goto(f"/inbox?tab={tab}")
            expect(page.locator("#task-table")).to_be_visible()
            expect(page.locator(f'[data-task-row="{rows[third]}"]')).to_have_count(0)
    finally:
        page.context.close()

    # -- 抄送: the clerk, holding the next step, copies the case to the leader
    carry_out = live_server.task_row(case_id, "carry_out")
    clerk = user_page(browser, browser_context_args, live_server, "clerk")
    leader = user_page(browser, browser_context_args, live_server, "leader")
    try:
        open_from_inbox(clerk, carry_out, "执行决定", tab="group")
        open_action(clerk, "copy")
        clerk.locator("#copy-users").select_option(label=display(live_server, "leader"))
        clerk.fill("#copy-reason", COPY_REASON)
        shoot(clerk, screenshots / "approval-copy.png")
        clerk.locator("#act-copy").get_by_role("button", name="确认抄送").click()
        expect(clerk.locator(".alert-success")).to_contain_text("已抄送")
        expect(clerk).to_have_url(re.compile(rf"/tasks/{carry_out}$"))   # claimed by acting: still the clerk's

        # the leader: a notice, and the case in 抄送我的, unread until opened
        leader.goto("/inbox")
        expect(leader.locator("#unread-count")).to_be_visible()
        leader.click("#notifications-link")
        note = leader.locator('#notifications [data-kind="copied"]')
        expect(note).to_have_count(1)
        expect(note).to_contain_text(f"{display(live_server, 'clerk')} 将案件")
        expect(note).to_contain_text("「执行决定」")
        leader.click("#nav-copies")
        copied = leader.locator(f'#copies tr[data-copy-case="{case_id}"]')
        expect(copied).to_contain_text(COPY_REASON)
        expect(copied).to_contain_text("未读")
        copied.locator("a").click()
        expect(leader).to_have_url(re.compile(rf"/cases/{case_id}$"))
        opinions = leader.locator("#case-opinions [data-opinion=countersign]")
        expect(opinions).to_have_count(2)
        expect(opinions.nth(0)).to_contain_text(NO_OPINION)
        expect(opinions.nth(0)).to_contain_text("不同意")
        expect(opinions.nth(1)).to_contain_text(YES_OPINION)
        leader.click("#nav-copies")
        expect(leader.locator(f'#copies tr[data-copy-case="{case_id}"]')).to_contain_text("已读")

        # the sender sees the leader has read it, beside the countersign's opinions
        clerk.goto(f"/cases/{case_id}")
        leader_id = live_server.actors["leader"].user_id
        read = clerk.locator(f'#case-copies [data-copy-to="{leader_id}"]')
        expect(read.locator("[data-read]")).to_have_attribute("data-read", "1")
        expect(read).to_contain_text("已读")
        opinions = clerk.locator("#case-opinions [data-opinion=countersign]")
        expect(opinions).to_have_count(2)
        expect(opinions.nth(0)).to_contain_text(display(live_server, first))
        expect(opinions.nth(1)).to_contain_text(display(live_server, second))
        expect(clerk.locator("[data-case-task]")).to_have_count(1)
        expect(clerk.locator("[data-case-task]")).to_contain_text("执行决定")
        expect(clerk.locator("#diagram")).to_have_attribute("data-ready", "1", timeout=15_000)
        shoot(clerk, screenshots / "approval-case.png")
    finally:
        clerk.context.close()
        leader.context.close()
