"""The approval policy page (/admin/processes/<key>/approval-policy): a process manager sees who may
take each approval action on each task, restricts 转办 on the legality review to leaders (the
reviewer holding it is then refused through the API), and ticking the default again restores it."""
from __future__ import annotations

from sqlalchemy import select

from workflows.accounts import create_api_token
from workflows.approvals.model import ApprovalPolicy
from workflows.models import AuditEvent

URL = "/admin/processes/record_lifecycle/approval-policy"
CELL = "legality_review|transfer"


def _cell(page, cell: str) -> tuple[list[str], bool]:
    """The boxes ticked in a cell, and whether the cell is set on its own."""
    [td] = page.xpath(f'//td[@data-cell="{cell}"]')
    return td.xpath('.//input[@type="checkbox"][@checked]/@value'), bool(td.xpath(".//*[@data-own]"))


def test_a_manager_restricts_transfer_and_restores_the_default(app, web, world):
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["reviewer"], "test")
        uow.commit()
    api = app.test_client()

    def reviewer(method: str, url: str, json=None):
        return api.open("/api/v1" + url, method=method, json=json, headers={"Authorization": f"Bearer {token}"})

    manager = web("manager")
    page = manager.page(URL)
    assert page.status == 200
    assert [r.get("data-task") for r in page.xpath("//tbody/tr")][:3] == ["*", "capture", "legality_review"]
    assert _cell(page, CELL) == (["holder"], False) and _cell(page, "*|send_back") == (["leader"], False)
    assert reviewer("GET", f"/tasks/{review.id}/actions").get_json()["actions"]["transfer"] is True

    response = manager.post(URL, [("cell", CELL), (CELL, "leader"), ("cell", "*|copy"), ("*|copy", "holder")])
    assert response.status_code == 302
    page = manager.page(URL)
    assert _cell(page, CELL) == (["leader"], True) and _cell(page, "*|copy") == (["holder"], False)
    assert "已保存审批权限：1 处更改" in page.alerts        # one change: the unchanged cell was left alone
    assert reviewer("GET", f"/tasks/{review.id}/actions").get_json()["actions"]["transfer"] is False
    refused = reviewer("POST", f"/tasks/{review.id}/actions/transfer",
                       {"user_id": world.user_ids["reviewer2"], "reason": "请周审核办理。"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "您不能对此任务转办"

    manager.post(URL, [("cell", CELL), (CELL, "holder")])           # the default ticked again
    page = manager.page(URL)
    assert _cell(page, CELL) == (["holder"], False)
    with world.factory() as session:
        assert session.scalars(select(ApprovalPolicy)).all() == []
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "approval.policy_set")
                                 .order_by(AuditEvent.id)).all()
    assert [(e.data["task"], e.data["allowed"]) for e in events] == [("legality_review", ["leader"]),
                                                                     ("legality_review", None)]
    assert reviewer("GET", f"/tasks/{review.id}/actions").get_json()["actions"]["transfer"] is True
    assert web("leader").get(URL).status_code == 403
