"""The approval actions on the pages: 退回 from the task page, 转办 to a colleague of the lane, a stale
page refused, an added signer's page, 抄送 with its read status, 撤回 from the case page."""
from __future__ import annotations

import pytest

from credflow_web import Page, location

REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚。"}


def _version(page: Page) -> str:
    return page.value_of("case_version")


def test_the_leader_sends_back_and_the_reviewer_finds_the_reason_and_their_answers(web, world):
    row = world.leader_task()
    leader = web("leader")
    page = Page(leader.get(f"/tasks/{row.id}"))
    assert page.xpath('//button[@data-action="send_back"]')
    options = page.xpath('//select[@name="target"]/option')
    assert [o.get("value") for o in options] == ["legality_review", "capture"]     # nearest first
    assert "李审核" in options[0].text_content() and "张承办" in options[1].text_content()
    response = leader.post(f"/tasks/{row.id}/actions/send_back",
                           {"target": "legality_review", "reason": "违法事实部分需补充证据。", "case_version": _version(page)})
    assert response.status_code == 302 and location(response) == "/inbox"
    assert world.tasks(row.case_id)[0].bpmn_id == "legality_review"

    returned = world.task(row.case_id, "legality_review")
    reviewer = web("reviewer")
    mine = Page(reviewer.get("/inbox?tab=mine"))
    assert mine.task_rows == [returned.id]
    task = Page(reviewer.get(f"/tasks/{returned.id}"))
    assert task.one("task-notice").get("data-notice") == "returned"
    assert "王领导" in task.text_of("task-notice") and "违法事实部分需补充证据。" in task.text_of("notice-reason")
    assert task.value_of("review_decision") == "approve" and task.value_of("review_opinion") == "事实清楚。"
    # the timeline says it in words: who sent it back from which step to whom, and why
    case = Page(leader.get(f"/cases/{row.case_id}"))
    event = next(li for li in case.xpath('//ul[@id="timeline"]/li') if "退回" in li.text_content())
    text = " ".join(event.text_content().split())
    assert "「领导审批」" in text and "至「合法性审核」" in text and "李审核" in text and "违法事实部分需补充证据。" in text


def test_the_transfer_form_lists_only_colleagues_of_the_lane_and_a_stale_page_is_refused(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    reviewer = web("reviewer")
    page = Page(reviewer.get(f"/tasks/{row.id}"))
    assert [o.text_content() for o in page.xpath('//select[@id="transfer-user"]/option')] == ["周审核"]
    assert not page.xpath('//button[@data-action="send_back"]')       # leaders send back (the default policy)
    stale = str(int(_version(page)) - 1)
    refused = Page(reviewer.post(f"/tasks/{row.id}/actions/transfer",
                                 {"user_id": str(world.user_ids["reviewer2"]), "reason": "出差。", "case_version": stale}))
    assert refused.status == 409 and "此案件刚被他人处理" in refused.text_of("error-message")
    assert world.task(case_id, "legality_review").assignee_id is None
    response = reviewer.post(f"/tasks/{row.id}/actions/transfer",
                             {"user_id": str(world.user_ids["reviewer2"]), "reason": "出差。", "case_version": _version(page)})
    assert location(response) == "/inbox"
    assert world.task(case_id, "legality_review").assignee_id == world.user_ids["reviewer2"]
    moved = Page(web("reviewer2").get(f"/tasks/{row.id}"))
    assert moved.one("task-notice").get("data-notice") == "transferred" and "出差。" in moved.text_of("notice-reason")


def test_a_delegate_hands_the_task_back_with_the_form_filled(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    reviewer = web("reviewer")
    page = Page(reviewer.get(f"/tasks/{row.id}"))
    reviewer.post(f"/tasks/{row.id}/actions/delegate",
                  {"user_id": str(world.user_ids["clerk"]), "reason": "请核对证据。", "case_version": _version(page)})
    clerk = web("clerk")
    rows = Page(clerk.get("/inbox?tab=mine"))
    assert rows.task_rows == [row.id]
    assert "张承办（代 李审核）" in " ".join(rows.xpath('//td[@data-assignee]')[0].text_content().split())
    task = Page(clerk.get(f"/tasks/{row.id}"))
    assert task.xpath('//button[@id="resolve"]') and not task.xpath('//button[@id="complete"]')
    response = clerk.post(f"/tasks/{row.id}/actions/resolve",
                          {"task_id": row.task_id, "review_decision": "approve", "review_opinion": "证据已核对。",
                           "resolve_opinion": "已核对，无误。", "case_version": _version(task)})
    assert location(response) == "/inbox"
    back = Page(reviewer.get(f"/tasks/{row.id}"))
    assert back.one("task-notice").get("data-notice") == "resolved"
    assert back.value_of("review_opinion") == "证据已核对。"
    assert "已核对，无误。" in back.text_of("task-opinions")


def test_an_added_signer_sees_the_dossier_and_answers(web, world):
    row = world.leader_task()
    leader = web("leader")
    page = Page(leader.get(f"/tasks/{row.id}"))
    leader.post(f"/tasks/{row.id}/actions/add_signer",
                {"user_id": str(world.user_ids["reviewer2"]), "position": "before", "reason": "请复核处罚依据。",
                 "case_version": _version(page)})
    signer_row = next(t for t in world.tasks(row.case_id) if t.kind == "added_signer")
    signer = web("reviewer2")
    inbox = Page(signer.get("/inbox?tab=mine"))
    assert inbox.task_rows == [signer_row.id] and inbox.xpath('//span[@data-badge="added_signer"]')
    task = Page(signer.get(f"/tasks/{signer_row.id}"))
    assert task.xpath('//li[@data-dossier-section="step"]//*[@data-dossier-field="review_opinion"]')
    assert task.xpath('//form[@id="sign-form"]') and not task.xpath('//form[@id="task-form"]')
    assert world.subject_names[0] in task.text_of("record-summary")
    response = signer.post(f"/tasks/{signer_row.id}/actions/sign",
                           {"approved": "1", "opinion": "依据充分。", "case_version": _version(task)})
    assert location(response) == "/inbox"
    step = Page(leader.get(f"/tasks/{row.id}"))
    assert "依据充分。" in step.text_of("task-opinions")
    assert step.one("added-signers").xpath('.//li/@data-signer-status') == ["done"]


def test_the_case_page_shows_who_has_read_a_copy(web, world):
    row = world.leader_task()
    leader = web("leader")
    page = Page(leader.get(f"/tasks/{row.id}"))
    leader.post(f"/tasks/{row.id}/actions/copy", [("user_ids", str(world.user_ids["reviewer2"])), ("roles", "clerk"),
                                                  ("reason", "请知悉。"), ("case_version", _version(page))])
    case = Page(leader.get(f"/cases/{row.case_id}"))
    assert [li.get("data-copy-to") for li in case.xpath('//div[@id="case-copies"]//li')] == \
        [str(world.user_ids["clerk"]), str(world.user_ids["reviewer2"])]
    assert case.xpath('//div[@id="case-copies"]//@data-read') == ["0", "0"]

    reader = web("reviewer2")
    copies = Page(reader.get("/copies"))
    assert copies.xpath('//tr[@data-copy-case]/@data-copy-case') == [str(row.case_id)]
    assert "请知悉。" in copies.text_of("copies") and "未读" in copies.text_of("copies")
    reader.get(f"/cases/{row.case_id}")
    case = Page(leader.get(f"/cases/{row.case_id}"))
    read = dict(zip(case.xpath('//div[@id="case-copies"]//li/@data-copy-to'),
                    case.xpath('//div[@id="case-copies"]//@data-read')))
    assert read == {str(world.user_ids["clerk"]): "0", str(world.user_ids["reviewer2"]): "1"}
    assert "已读" in case.text_of("case-copies")


def test_the_reviewer_withdraws_a_step_from_the_case_page(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    world.complete("reviewer", row.id, REVIEW)
    reviewer = web("reviewer")
    case = Page(reviewer.get(f"/cases/{case_id}"))
    assert "合法性审核" in case.text_of("withdraw")
    assert not Page(web("leader").get(f"/cases/{case_id}")).xpath('//*[@id="withdraw"]')
    response = reviewer.post(f"/cases/{case_id}/withdraw", {"reason": "意见写错了。", "case_version": _version(case)})
    back = world.task(case_id, "legality_review")
    assert location(response) == f"/tasks/{back.id}"
    assert [t.bpmn_id for t in world.tasks(case_id)] == ["legality_review"]
    task = Page(reviewer.get(f"/tasks/{back.id}"))
    assert task.one("task-notice").get("data-notice") == "withdrawn"
    assert task.value_of("review_opinion") == "事实清楚。"


@pytest.mark.one_database
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_approval_pages_speak_one_language(web, world, session_factory, language):
    """The crawl of test_one_language.py meets no approval action: these pages, with some, here
    (on the legality review, reviewers allowed to add signers)."""
    from test_one_language import other_language, shown_text, usernames, world_data
    from workflows.approvals.policy import set_policy
    world.run("manager", set_policy, "record_lifecycle", "*", "add_signer", ["holder"])
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    reviewer, signer = web("reviewer"), web("reviewer2")
    page = Page(reviewer.get(f"/tasks/{row.id}"))
    reviewer.post(f"/tasks/{row.id}/actions/add_signer", {"user_id": str(world.user_ids["reviewer2"]),
                                                          "position": "before", "reason": "请复核。",
                                                          "case_version": _version(page)})
    signer_row = next(t for t in world.tasks(case_id) if t.kind == "added_signer")
    suffix = "?lang=en" if language == "en" else ""
    signer_page = Page(signer.get(f"/tasks/{signer_row.id}{suffix}"))
    bodies = {"signer": signer_page.text}
    signer.post(f"/tasks/{signer_row.id}/actions/sign", {"approved": "0", "opinion": "处罚偏重。",
                                                         "case_version": _version(signer_page)})
    page = Page(reviewer.get(f"/tasks/{row.id}"))
    reviewer.post(f"/tasks/{row.id}/actions/copy", [("roles", "clerk"), ("case_version", _version(page))])
    reviewer.get("/inbox")                              # the flash, said in the language of the moment
    bodies.update({url: who.get(url + suffix).get_data(as_text=True) for who, url in (
        (reviewer, f"/tasks/{row.id}"), (reviewer, f"/cases/{case_id}"), (web("clerk"), "/copies"))})
    assert "处罚偏重。" in bodies[f"/tasks/{row.id}"] and "请复核。" in bodies[f"/cases/{case_id}"]
    data, names = world_data(session_factory), usernames(session_factory)
    found = {url: other_language(shown_text(body, language, names), language, data) for url, body in bodies.items()}
    assert found == {url: [] for url in bodies}, found


@pytest.mark.one_database
def test_countersign_instances_show_in_the_inbox_and_on_the_task_page(web, world):
    """A 或签 of three (the countersign fixture, with this world's people): one declines, the page lists each."""
    from pathlib import Path

    from workflows.cases import complete_task, start_case
    from workflows.definitions import deploy_bundle
    from workflows.engine.bundle import read_folder
    fixtures = Path(__file__).resolve().parents[1] / "data" / "approvals"
    [bundle] = [b for b in read_folder(fixtures / "bpmn", fixtures / "forms") if b.key == "countersign"]
    text = bundle.bpmn_files["countersign.bpmn"].replace("clerk,clerk2,reviewer", "reviewer,reviewer2,leader")
    world.run("manager", deploy_bundle, type(bundle)(bundle.key, bundle.name, {"countersign.bpmn": text}, {},
                                                     dict(bundle.forms)))
    case_id = world.run("clerk", start_case, "countersign", {}).id
    mine = {t.assignee_id: t for t in world.tasks(case_id)}
    world.run("leader", complete_task, mine[world.user_ids["leader"]].id,
              {"cs_decision": "reject", "opinion": "证据不足。"})
    reviewer = web("reviewer")
    row = mine[world.user_ids["reviewer"]]
    inbox = Page(reviewer.get("/inbox?tab=mine"))
    assert inbox.task_rows == [row.id] and inbox.xpath('//span[@data-badge="countersign"]')
    page = Page(reviewer.get(f"/tasks/{row.id}"))
    states = dict(zip(page.xpath('//li[@data-countersigner]/@data-countersigner'), page.xpath('//li/@data-state')))
    assert states == {"reviewer": "waiting", "reviewer2": "waiting", "leader": "rejected"}
    assert "证据不足。" in page.text_of("countersign") and "或签" in page.text_of("countersign")
