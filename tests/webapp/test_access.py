"""CSRF on every state-changing POST, and who may see and do what."""
from __future__ import annotations

import pytest

from credflow_web import CAPTURE, Page, location

CSRF_MESSAGE = "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"
REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}


def _posts(world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    return {
        "claim": ("reviewer", f"/tasks/{row.id}/claim", {}),
        "unclaim": ("reviewer", f"/tasks/{row.id}/unclaim", {}),
        "complete": ("reviewer", f"/tasks/{row.id}", {**REVIEW, "task_id": row.task_id, "action": "complete"}),
        "draft": ("reviewer", f"/tasks/{row.id}", {**REVIEW, "task_id": row.task_id, "action": "draft"}),
        "assign": ("leader", f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer2"]}),
        "comment": ("reviewer", f"/cases/{case_id}/comments", {"body": "意见"}),
        "new record": ("clerk", "/records/new", {**CAPTURE, "subject_mode": "existing",
                                                 "subject_id": world.subjects[1]}),
        "logout": ("reviewer", "/logout", {}),
    }, case_id, row


@pytest.mark.parametrize("action", ["claim", "unclaim", "complete", "draft", "assign", "comment", "new record",
                                    "logout"])
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_post_without_valid_csrf_token_is_refused(web, world, action, token):
    posts, case_id, row = _posts(world)
    user, url, data = posts[action]
    b = web(user)
    if token == "forged":
        data = {**data, "csrf_token": "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb"}
    page = Page(b.post(url, data, csrf=False))
    assert page.status == 400
    assert page.text_of("error-message") == CSRF_MESSAGE
    assert page.xpath('//nav[contains(@class, "navbar")]')  # in the app's layout
    # nothing happened
    after = world.tasks(case_id)
    assert [(t.id, t.assignee_id) for t in after] == [(row.id, None)]
    assert b.get("/inbox").status_code == 200   # still logged in
    with world.factory() as session:
        from sqlalchemy import func, select
        from workflows.models import Comment, Record, TaskDraft
        assert session.scalar(select(func.count()).select_from(Comment)) == 0
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0
        assert session.scalar(select(func.count()).select_from(Record)) == 1


def test_token_from_another_session_is_refused(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    other = web("reviewer2")
    b = web("reviewer")
    page = Page(b.post(f"/tasks/{row.id}/claim", {"csrf_token": other.token}, csrf=False))
    assert page.status == 400
    assert page.text_of("error-message") == CSRF_MESSAGE
    assert world.task(case_id, "legality_review").assignee_id is None


def test_login_post_without_csrf_is_refused(web):
    page = Page(web().post("/login", {"username": "reviewer", "password": "pw-reviewer"}, csrf=False))
    assert page.status == 400
    assert page.text_of("error-message") == CSRF_MESSAGE


# -- roles ----------------------------------------------------------------------------------

def test_reviewer_cannot_open_claim_or_complete_a_leaders_task(web, world):
    row = world.leader_task()
    b = web("reviewer")
    assert Page(b.get(f"/tasks/{row.id}")).status == 403
    claim = Page(b.post(f"/tasks/{row.id}/claim"))
    assert claim.status == 403
    assert "不能办理此任务" in claim.text_of("error-message")
    complete = Page(b.post(f"/tasks/{row.id}", {"task_id": row.task_id, "action": "complete",
                                                 "leader_decision": "approve", "leader_opinion": "同意。"}))
    assert complete.status == 403
    draft = b.post(f"/tasks/{row.id}", {"task_id": row.task_id, "action": "draft", "leader_opinion": "x"})
    assert draft.status_code == 403
    after = world.task(row.case_id, "leader_approval")
    assert after.id == row.id and after.assignee_id is None


def test_leader_sees_but_cannot_complete_a_reviewer_task(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    b = web("leader")
    page = Page(b.get(f"/tasks/{row.id}"))
    assert page.status == 200
    assert page.one("complete").get("disabled") is not None
    response = b.post(f"/tasks/{row.id}", {**REVIEW, "task_id": row.task_id, "action": "complete"})
    assert response.status_code == 403
    assert world.task(case_id, "legality_review").id == row.id


def test_reviewer_cannot_complete_a_task_claimed_by_another_reviewer(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    other = web("reviewer2")
    other.post(f"/tasks/{row.id}/claim")
    b = web("reviewer")
    page = Page(b.get(f"/tasks/{row.id}"))
    assert page.status == 200
    assert page.text_of("assignee") == "周审核"
    assert page.one("complete").get("disabled") is not None
    assert page.xpath('//button[@id="claim"]') == []
    response = b.post(f"/tasks/{row.id}", {**REVIEW, "task_id": row.task_id, "action": "complete"})
    assert response.status_code == 403
    claim = Page(b.post(f"/tasks/{row.id}/claim"))
    assert claim.status == 409
    assert "周审核" in claim.text_of("error-message")
    unclaim = Page(b.post(f"/tasks/{row.id}/unclaim"))
    assert unclaim.status == 403
    assert world.task(case_id, "legality_review").assignee_id == world.user_ids["reviewer2"]


def test_clerk_may_capture_but_reviewer_and_leader_may_not(web):
    page = Page(web("clerk").get("/records/new"))
    assert page.status == 200
    assert page.xpath('//form[@id="record-form"]')
    for user in ("reviewer", "leader"):
        assert web(user).get("/records/new").status_code == 403
        assert web(user).post("/records/new", {**CAPTURE, "subject_id": 1}).status_code == 403


def test_subject_account_is_kept_out_of_staff_pages(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    b = web("subject")
    for url in ("/inbox", "/records", "/records/new", f"/cases/{case_id}", f"/tasks/{row.id}",
                f"/cases/{case_id}/diagram.bpmn"):
        page = Page(b.get(url))
        assert page.status == 403, url
        assert "无权访问" in page.text
    assert b.post(f"/cases/{case_id}/comments", {"body": "我有异议"}).status_code == 403
    assert b.post(f"/tasks/{row.id}/claim").status_code == 403
    # no staff links in the navigation
    page = Page(b.get("/inbox"))
    assert page.xpath('//a[@href="/inbox"]') == [] and page.xpath('//a[@href="/records"]') == []


def test_manager_reads_cases_but_has_no_inbox(web, world):
    _, case_id = world.open_record()
    b = web("manager")
    assert b.get(f"/cases/{case_id}").status_code == 200
    assert b.get("/records").status_code == 200
    assert b.get("/inbox").status_code == 403
    assert b.get("/records/new").status_code == 403


def test_leader_reassigns_a_reviewer_task_to_the_second_reviewer(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    leader = web("leader")
    page = Page(leader.get(f"/tasks/{row.id}"))
    options = dict(zip(page.xpath('//select[@name="user_id"]/option/@value'),
                       [o.text_content() for o in page.xpath('//select[@name="user_id"]/option')]))
    assert options == {str(world.user_ids["reviewer"]): "李审核", str(world.user_ids["reviewer2"]): "周审核"}
    response = leader.post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer2"],
                                                        "back": f"/tasks/{row.id}"})
    assert response.status_code == 302
    assert location(response) == f"/tasks/{row.id}"
    page = Page(leader.get(f"/tasks/{row.id}"))
    assert page.text_of("assignee") == "周审核"
    assert any("已改派任务。" in a for a in page.alerts)

    mine = Page(web("reviewer2").get("/inbox?tab=mine"))
    assert mine.task_rows == [row.id]
    assert mine.counts == {"mine": 1, "group": 0}
    first = Page(web("reviewer").get("/inbox?tab=group"))
    assert first.task_rows == []
    assert first.counts == {"mine": 0, "group": 0}


def test_leader_cannot_assign_to_someone_whose_roles_do_not_fit(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    page = Page(web("leader").post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["clerk"]}))
    assert page.status == 400
    assert "不能办理此任务" in page.text_of("error-message")
    assert world.task(case_id, "legality_review").assignee_id is None


def test_reviewer_cannot_reassign(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    b = web("reviewer")
    page = Page(b.get(f"/tasks/{row.id}"))
    assert page.xpath('//form[contains(@action, "/assign")]') == []   # no reassign form (转办 is another)
    response = Page(b.post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer2"]}))
    assert response.status == 403
    assert "只有领导可以改派任务" in response.text_of("error-message")
    assert world.task(case_id, "legality_review").assignee_id is None


def test_reassign_does_not_redirect_off_site(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    response = web("leader").post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer2"],
                                                              "back": "https://evil.example/phish"})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
