"""Notifications read in the reader's language: a notification is stored as a catalog id with its
parameters (and its Chinese text, for the e-mail), so the same notification reads in Chinese on a
Chinese page and in English with ?lang=en. Rows written before notifications kept a message show
their text as written. The users import names its bad rows in the page's language too."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from credflow_web import location, users_xlsx
from workflows.applications import file_objection
from workflows.cases import assign_task
from workflows.import_jobs import run_import_jobs
from workflows.models import Notification, User

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")


def squeeze(text: str) -> str:
    return " ".join(text.split())


def notes(browser, url: str) -> dict[str, list[str]]:
    """The notifications on the page, by kind, newest first."""
    found: dict[str, list[str]] = {}
    for node in browser.page(url).doc.xpath('//*[@id="notifications"]/*[@data-kind]'):
        found.setdefault(node.get("data-kind"), []).append(squeeze(node.text_content()))
    return found


def test_a_subjects_notifications_read_in_chinese_and_in_english(web, world):
    record_id, case_id = world.open_record()
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)   # confirmed: noticed
    objection = world.run("subject", file_objection, record_id, "factual_error", "金额有误。", []).id
    world.complete("clerk", world.task(objection, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    number = f"A-{objection:06d}"
    subject = web("subject")

    chinese = notes(subject, "/notifications")
    assert any(f"您的异议申请（案件 {number}）已受理" in t for t in chinese["receipt"]), chinese
    assert any("已经认定" in t for t in chinese["record"]), chinese
    english = notes(subject, "/notifications?lang=en")
    assert any(f"Your application {number} (Objection) has been accepted" in t for t in english["receipt"]), english
    assert any("has been confirmed" in t for t in english["record"]), english
    for kind in ("receipt", "record"):
        assert not any(CJK.search(t) for t in english[kind]), english[kind]

    # the e-mail and the stored text stay Chinese, the office's language
    with world.factory() as session:
        receipt = session.scalars(select(Notification).where(Notification.kind == "receipt")).first()
    assert receipt.text.startswith(f"您的异议申请（案件 {number}）已受理") and receipt.message["msgid"]


def test_an_assignment_names_the_task_in_the_readers_language(web, world):
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    world.run("leader", assign_task, review.id, world.user_ids["reviewer2"])
    with world.factory() as session:
        leader = session.get(User, world.user_ids["leader"]).display_name
    reviewer = web("reviewer2")
    [chinese] = notes(reviewer, "/notifications")["assigned"]
    assert f"{leader} 将任务「{review.name}」（案件 C-{case_id:06d}）交给您办理。" in chinese
    [english] = notes(reviewer, "/notifications?lang=en")["assigned"]
    assert f"{leader} has handed you the task “" in english and f"(case C-{case_id:06d})" in english
    assert not CJK.search(english.replace(leader, "")), english


def test_a_notification_written_before_messages_shows_its_text(web, world):
    with world.uow() as uow:
        uow.session.add(Notification(user_id=world.user_ids["clerk"], kind="notice", text="旧的通知文本",
                                     created_at=world.clock.now()))
        uow.commit()
    assert notes(web("clerk"), "/notifications?lang=en")["notice"] == [
        t for t in notes(web("clerk"), "/notifications")["notice"]]
    assert any("旧的通知文本" in t for t in notes(web("clerk"), "/notifications")["notice"])



def test_the_users_import_names_bad_rows_in_the_pages_language(web, world):
    admin = web("admin")
    admin.get("/system/users")
    response = admin.post("/system/users/import", {"sheet": (io.BytesIO(users_xlsx(
        ("new1", "新一", "承办人", "", ""), ("new2", "新二", "领导", "", ""))), "users.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    url = location(response)
    run_import_jobs(world.factory, world.clock)
    assert "第 3 行 · 角色：未知角色：领导" in admin.page(url).text_of("user-errors")
    english = squeeze(admin.page(url + "?lang=en").text_of("user-errors"))
    assert "Row 3" in english and "领导" in english                  # the cell as typed is data
    assert not CJK.search(english.replace("领导", "")), english
