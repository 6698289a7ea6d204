"""Approval actions through the JSON API: the leader sees whom a task can go back to and sends it
back (the reviewer finds it in their tasks); a stale case version is a 409 in the caller's language;
refusals are 403, malformed bodies 422 naming each field; a step is withdrawn by its completer."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.accounts import create_api_token
from workflows.approvals.model import ApprovalAction
from workflows.models import Case

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}


@pytest.fixture
def call(app, world):
    """call(method, url, who, json=..., lang=...) -> (status, JSON body), through who's API token."""
    with world.uow() as uow:
        tokens = {name: create_api_token(uow, user_id, "test") for name, user_id in world.user_ids.items()}
        uow.commit()
    client = app.test_client()

    def send(method: str, url: str, who: str, json=None, lang: str | None = None):
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        if lang:
            headers["Accept-Language"] = lang
        response = client.open("/api/v1" + url, method=method, headers=headers, json=json)
        assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
        return response.status_code, response.get_json()
    return send


def _version(world, case_id: int) -> int:
    with world.factory() as session:
        return session.get(Case, case_id).version


def _actions(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(ApprovalAction))


def test_the_leader_sends_a_case_back_to_the_reviewer(world, call):
    row = world.leader_task()
    status, choices = call("GET", f"/tasks/{row.id}/actions", "leader")
    assert status == 200 and choices["actions"]["send_back"] and not choices["actions"]["sign"]
    assert [(t["bpmn_id"], t["who"]) for t in choices["send_back_targets"]][:1] == [("legality_review", "李审核")]
    version = choices["case_version"]
    assert version == _version(world, row.case_id)

    # a page showing an older version: 409, in the caller's language, and nothing happens
    stale = {"target": "legality_review", "reason": "证据不足。", "case_version": version - 1}
    status, body = call("POST", f"/tasks/{row.id}/actions/send_back", "leader", stale, lang="en")
    assert status == 409 and body["error"] == "This case was changed by someone else meanwhile; reload and try again."
    status, body = call("POST", f"/tasks/{row.id}/actions/send_back", "leader", stale)
    assert status == 409 and body["error"] == "此案件刚被他人处理，请刷新后重试"
    assert _version(world, row.case_id) == version

    status, done = call("POST", f"/tasks/{row.id}/actions/send_back", "leader", {**stale, "case_version": version})
    assert status == 200, done
    assert done["action"] == "send_back" and done["case_version"] > version
    assert (done["task"]["bpmn_id"], done["task"]["assignee"]["name"]) == ("legality_review", "李审核")
    status, mine = call("GET", "/tasks?tab=mine", "reviewer")
    assert [(t["case_id"], t["bpmn_id"]) for t in mine["tasks"]] == [(row.case_id, "legality_review")]
    # the leader's step is gone: acting on it again is a 409 saying who sent it back
    status, body = call("POST", f"/tasks/{row.id}/actions/send_back", "leader", stale)
    assert status == 409 and body["error"].startswith("该任务已由 王领导 于") and body["error"].endswith("退回")


@pytest.mark.one_database
def test_refusals_are_403_and_malformed_bodies_422_naming_each_field(world, call):
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    status, choices = call("GET", f"/tasks/{review.id}/actions", "reviewer")
    assert status == 200 and not choices["actions"]["send_back"] and choices["send_back_targets"] == []
    # a reviewer may not send back (the default: leaders), whatever the body
    status, body = call("POST", f"/tasks/{review.id}/actions/send_back", "reviewer",
                        {"target": "capture", "reason": "x"}, lang="en")
    assert status == 403 and body["error"] == "You may not send back this task"
    assert call("POST", f"/tasks/{review.id}/actions/transfer", "subject", {})[0] == 404
    assert call("POST", f"/tasks/{review.id}/actions/nonsense", "reviewer", {})[0] == 404

    # the holder's body, checked before any service runs: every field named
    status, body = call("POST", f"/tasks/{review.id}/actions/transfer", "reviewer",
                        {"user_id": "2", "reason": 7, "colour": "red", "case_version": True}, lang="en")
    assert status == 422 and set(body["fields"]) == {"user_id", "reason", "colour", "case_version"}
    assert body["fields"]["colour"] == "unknown field"
    status, body = call("POST", f"/tasks/{review.id}/actions/transfer", "reviewer", {})
    assert status == 422 and body["fields"] == {"user_id": "必填", "reason": "必填"}
    status, body = call("POST", f"/tasks/{review.id}/actions/copy", "reviewer", {"roles": ["boss"], "user_ids": [0]})
    assert status == 422 and set(body["fields"]) == {"roles", "user_ids"}
    assert _actions(world) == 0 and world.task(case_id, "legality_review").assignee_id is None


def test_the_reviewer_withdraws_a_completed_review_through_the_api(world, call):
    _, case_id = world.open_record()
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    status, body = call("POST", f"/cases/{case_id}/withdraw", "leader", {"reason": "不是我的"})
    assert status == 409 and body["error"] == "此案件当前没有您可以撤回的步骤"
    status, done = call("POST", f"/cases/{case_id}/withdraw", "reviewer",
                        {"reason": "意见写错了。", "case_version": _version(world, case_id)})
    assert status == 200, done
    assert (done["action"], done["task"]["bpmn_id"], done["task"]["assignee"]["name"]) == \
        ("withdraw", "legality_review", "李审核")
    assert [t.bpmn_id for t in world.tasks(case_id)] == ["legality_review"]
    assert call("POST", f"/cases/{case_id}/withdraw", "reviewer", {})[0] == 409     # nothing left to take back
    status, opinions = call("GET", f"/cases/{case_id}/opinions", "leader")
    assert status == 200 and opinions == {"case_id": case_id, "opinions": []}
    assert call("GET", f"/cases/{case_id}/copies", "manager")[0] == 200
    assert call("GET", f"/cases/{case_id}/opinions", "subject")[0] == 404
