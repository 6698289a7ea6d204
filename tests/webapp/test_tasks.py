"""The task page: validation, drafts, completion, double submission, claiming."""
from __future__ import annotations

from credflow_web import Page, location

REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}


def _review_task(world):
    _, case_id = world.open_record(subject=1)
    return world.task(case_id, "legality_review")


def _form(row, action="complete", **values):
    return {"task_id": row.task_id, "action": action, **values}


def test_task_page_shows_the_form_and_the_record(web, world):
    row = _review_task(world)
    page = Page(web("reviewer").get(f"/tasks/{row.id}"))
    assert page.status == 200
    assert page.text_of("task-name") == "合法性审核"
    assert page.text_of("assignee") == "未认领"
    assert [r.get("value") for r in page.xpath('//input[@name="review_decision"]')] == ["approve", "return", "reject"]
    assert page.xpath('//textarea[@name="review_opinion"]')
    assert world.subject_names[1] in page.text_of("record-summary")
    assert page.xpath('//button[@id="claim"]')
    assert page.one("complete").get("disabled") is None
    assert page.xpath('//*[@id="draft-note"]') == []


def test_missing_decision_is_shown_beside_the_field_and_the_opinion_is_kept(web, world):
    row = _review_task(world)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    opinion = "证据材料尚缺合同原件。\n请补充 <附件>。"
    page = Page(b.post(f"/tasks/{row.id}", _form(row, review_opinion=opinion)))
    assert page.status == 422
    assert page.error_for("review_decision") == "必填"
    assert page.error_for("review_opinion") is None
    assert page.value_of("review_opinion") == opinion
    assert any("表单有误，请按提示修改。" in a for a in page.alerts)
    # the task is still open and unchanged
    assert world.task(row.case_id, "legality_review").id == row.id


def test_invalid_choice_and_blank_opinion_are_reported(web, world):
    row = _review_task(world)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    page = Page(b.post(f"/tasks/{row.id}", _form(row, review_decision="maybe", review_opinion="   ")))
    assert page.status == 422
    assert page.error_for("review_decision") == "请从选项中选择"
    assert page.error_for("review_opinion") == "必填"


def test_draft_is_shown_to_its_author_only(web, world):
    row = _review_task(world)
    author = web("reviewer")
    author.get(f"/tasks/{row.id}")
    response = author.post(f"/tasks/{row.id}", _form(row, "draft", review_decision="return",
                                                      review_opinion="草稿：需补正"))
    assert response.status_code == 302
    assert location(response) == f"/tasks/{row.id}"
    page = Page(author.get(f"/tasks/{row.id}"))
    assert any("草稿已保存。" in a for a in page.alerts)
    assert page.text_of("draft-note") == "已载入您保存的草稿。"
    assert page.value_of("review_decision") == "return"
    assert page.value_of("review_opinion") == "草稿：需补正"
    # a draft does not complete or claim the task
    assert world.task(row.case_id, "legality_review").assignee_id is None

    other = Page(web("reviewer2").get(f"/tasks/{row.id}"))
    assert other.status == 200
    assert other.xpath('//*[@id="draft-note"]') == []
    assert other.value_of("review_decision") is None
    assert other.value_of("review_opinion") == ""
    assert "草稿：需补正" not in other.text


def test_a_draft_may_be_incomplete_and_is_replaced_by_the_next_one(web, world):
    row = _review_task(world)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    assert b.post(f"/tasks/{row.id}", _form(row, "draft", review_opinion="第一稿")).status_code == 302
    assert b.post(f"/tasks/{row.id}", _form(row, "draft", review_opinion="第二稿")).status_code == 302
    page = Page(b.get(f"/tasks/{row.id}"))
    assert page.value_of("review_opinion") == "第二稿"
    assert page.value_of("review_decision") is None


def test_complete_redirects_with_success_and_the_task_leaves_the_inbox(web, world):
    row = _review_task(world)
    b = web("reviewer")
    inbox = Page(b.get("/inbox"))
    assert inbox.task_rows == [row.id]
    b.get(f"/tasks/{row.id}")
    b.post(f"/tasks/{row.id}", _form(row, "draft", review_opinion="草稿"))   # a draft does not get in the way
    response = b.post(f"/tasks/{row.id}", _form(row, **REVIEW))
    assert response.status_code == 302
    assert location(response) == "/inbox"
    page = Page(b.get("/inbox"))
    assert any("任务「合法性审核」已完成。" in a for a in page.alerts)
    assert page.task_rows == []
    assert page.counts == {"mine": 0, "group": 0}
    assert page.xpath('//*[@id="no-tasks"]')
    # the case moved on to the leader
    leader_row = world.task(row.case_id, "leader_approval")
    assert Page(web("leader").get("/inbox?tab=group")).task_rows == [leader_row.id]
    # and the case page tells the story
    case = Page(b.get(f"/cases/{row.case_id}"))
    timeline = case.one("timeline").text_content()
    assert "完成任务" in timeline and "「合法性审核」" in timeline and "事实清楚，依据充分。" in timeline


def test_posting_the_same_completion_again_names_who_completed_it(web, world, clock):
    row = _review_task(world)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    assert b.post(f"/tasks/{row.id}", _form(row, **REVIEW)).status_code == 302
    clock.advance(minutes=5)
    again = Page(b.post(f"/tasks/{row.id}", _form(row, **REVIEW)))
    assert again.status == 409
    message = again.text_of("error-message")
    assert "该任务已由 李审核 于 2026-06-01 09:00 完成" in message
    assert "操作冲突" in again.text
    # someone else trying it is told the same
    other = web("reviewer2")
    assert "李审核" in Page(other.post(f"/tasks/{row.id}", _form(row, **REVIEW))).text_of("error-message")
    # still exactly one leader task: nothing ran twice
    assert [t.bpmn_id for t in world.tasks(row.case_id)] == ["leader_approval"]


def test_opening_a_completed_task_is_a_conflict_page(web, world):
    row = _review_task(world)
    world.complete("reviewer2", row.id, REVIEW)
    page = Page(web("reviewer").get(f"/tasks/{row.id}"))
    assert page.status == 409
    assert "该任务已由 周审核 于 2026-06-01 09:00 完成" in page.text_of("error-message")
    # claiming it now is a conflict too
    assert web("reviewer").post(f"/tasks/{row.id}/claim").status_code == 409


def test_a_task_that_never_existed_is_404(web, world):
    _review_task(world)
    b = web("reviewer")
    page = Page(b.get("/tasks/99999"))
    assert page.status == 404
    assert page.text_of("error-message") == "任务不存在"
    assert b.post("/tasks/99999", {"task_id": "x", "action": "complete", **REVIEW}).status_code == 404
    assert b.post("/tasks/99999/claim").status_code == 404


def test_a_form_for_an_older_task_is_refused(web, world):
    row = _review_task(world)
    b = web("reviewer")
    b.get(f"/tasks/{row.id}")
    page = Page(b.post(f"/tasks/{row.id}", {**_form(row, **REVIEW), "task_id": "00000000-0000-0000-0000-000000000000"}))
    assert page.status == 404
    assert world.task(row.case_id, "legality_review").id == row.id


def test_claim_moves_the_task_to_mine_and_unclaim_returns_it(web, world):
    row = _review_task(world)
    b = web("reviewer")
    before = Page(b.get("/inbox"))
    assert before.xpath('//a[@data-tab="group"][contains(@class, "active")]')
    assert before.counts == {"mine": 0, "group": 1}

    response = b.post(f"/tasks/{row.id}/claim")
    assert response.status_code == 302 and location(response) == f"/tasks/{row.id}"
    page = Page(b.get(f"/tasks/{row.id}"))
    assert any("已认领任务。" in a for a in page.alerts)
    assert page.text_of("assignee") == "李审核"
    assert page.xpath('//button[@id="unclaim"]')

    mine = Page(b.get("/inbox"))   # "mine" is the default tab once the user holds a task
    assert mine.xpath('//a[@data-tab="mine"][contains(@class, "active")]')
    assert mine.counts == {"mine": 1, "group": 0}
    assert mine.task_rows == [row.id]
    assert Page(b.get("/inbox?tab=group")).task_rows == []
    # the other reviewer no longer sees it in the group
    other = Page(web("reviewer2").get("/inbox"))
    assert other.counts == {"mine": 0, "group": 0}

    response = b.post(f"/tasks/{row.id}/unclaim")
    assert response.status_code == 302 and location(response) == "/inbox"
    back = Page(b.get("/inbox"))
    assert any("已退回到组任务。" in a for a in back.alerts)
    assert back.counts == {"mine": 0, "group": 1}
    assert back.task_rows == [row.id]
    assert Page(web("reviewer2").get("/inbox")).counts == {"mine": 0, "group": 1}


def test_leader_releases_a_task_someone_claimed(web, world):
    row = _review_task(world)
    web("reviewer").post(f"/tasks/{row.id}/claim")
    leader = web("leader")
    page = Page(leader.get("/inbox?tab=all"))
    assert page.counts["all"] == 1 and page.task_rows == [row.id]
    cells = page.xpath(f'//tr[@data-task-row="{row.id}"]/td')
    assert cells[5].text_content().strip() == "李审核"
    assert leader.post(f"/tasks/{row.id}/unclaim").status_code == 302
    assert world.task(row.case_id, "legality_review").assignee_id is None


def test_returned_record_comes_back_to_the_clerk_prefilled(web, world):
    row = _review_task(world)
    reviewer = web("reviewer")
    reviewer.get(f"/tasks/{row.id}")
    assert reviewer.post(f"/tasks/{row.id}", _form(row, review_decision="return",
                                                   review_opinion="请补充合同编号。")).status_code == 302
    capture = world.task(row.case_id, "capture")
    clerk = web("clerk")
    inbox = Page(clerk.get("/inbox"))
    assert inbox.task_rows == [capture.id]
    page = Page(clerk.get(f"/tasks/{capture.id}"))
    assert page.status == 200
    assert page.text_of("task-name") == "录入失信记录"
    # what the record holds is already in the form
    assert page.value_of("source") == "administrative_penalty"
    assert page.value_of("field") == "government_procurement"
    assert page.value_of("severity") == "general"
    assert page.value_of("decision_date") == "2026-05-29"
    assert page.value_of("facts") == "逾期未支付中小企业账款。"
    assert page.text_of("record-status") == "退回补正"
    # the clerk corrects and resubmits; the new review shows the new severity in the inbox
    response = clerk.post(f"/tasks/{capture.id}", {
        "task_id": capture.task_id, "action": "complete", "source": "administrative_penalty",
        "field": "government_procurement", "severity": "serious", "facts": "逾期未支付中小企业账款（合同编号 A-1）。",
        "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-05-29"})
    assert response.status_code == 302
    again = world.task(row.case_id, "legality_review")
    assert again.id != row.id
    inbox = Page(reviewer.get("/inbox?tab=group"))
    assert inbox.task_rows == [again.id]
    assert inbox.xpath(f'//tr[@data-task-row="{again.id}"]/td')[3].text_content().strip() == "严重"
    # the old review's page says it was completed
    assert reviewer.get(f"/tasks/{row.id}").status_code == 409


def test_leader_approval_through_the_web_publishes_the_record(web, world):
    row = _review_task(world)
    world.complete("reviewer", row.id, REVIEW)
    leader_row = world.task(row.case_id, "leader_approval")
    leader = web("leader")
    page = Page(leader.get(f"/tasks/{leader_row.id}"))
    assert [r.get("value") for r in page.xpath('//input[@name="leader_decision"]')] == ["approve", "reject"]
    response = leader.post(f"/tasks/{leader_row.id}", {"task_id": leader_row.task_id, "action": "complete",
                                                       "leader_decision": "approve", "leader_opinion": "同意。"})
    assert response.status_code == 302
    assert world.tasks(row.case_id) == []
    case = Page(leader.get(f"/cases/{row.case_id}"))
    assert case.text_of("record-status") == "公示中"
    assert case.text_of("case-status") == "办理中"      # waiting for the publication timers
    assert "下次定时" in case.text
    summary = case.text_of("record-summary")
    assert "2026-05-29 — 2027-05-29" in summary and "最短至 2026-08-29" in summary
    assert "同意。" in case.text_of("timeline")
