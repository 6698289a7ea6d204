"""The sharing page (/sharing): credit-office staff and admins see each item's state, platform,
change and deadline, the overdue ones marked; they export a batch, download it, upload the ack and
retry a rejected item. Subjects, the public and other staff get nothing."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from credflow_web import Page
from workflows.models import AuditEvent
from workflows.sharing.model import SharingBatch, SharingItem

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def publish(world, subject=0):
    _, case_id = world.open_record(subject)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)


def item_rows(page: Page):
    return {int(tr.get("data-item")): tr for tr in page.xpath('//table[@id="sharing-items"]//tr[@data-item]')}


def upload_ack(b, data: bytes, name="ack.json"):
    return b.post("/sharing/ack", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


@pytest.mark.parametrize("who, status", [("clerk", 200), ("leader", 200), ("admin", 200), ("subject", 403),
                                         ("manager", 403)])
def test_who_sees_the_page(web, who, status):
    assert web(who).get("/sharing").status_code == status


def test_the_public_is_sent_to_log_in_and_nothing_links_there(web):
    response = web().get("/sharing")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert web().post("/sharing/export", {"platform": "provincial"}, csrf=False).status_code in (302, 400)
    assert not Page(web("subject").get("/portal/")).xpath('//a[@id="nav-sharing"]')
    assert Page(web("clerk").get("/inbox")).xpath('//a[@id="nav-sharing"]')


def test_round_trip_through_the_page(web, world):
    publish(world)
    b = web("clerk")
    page = b.page("/sharing")
    rows = item_rows(page)
    assert len(rows) == 2 and {tr.get("data-state") for tr in rows.values()} == {"queued"}
    assert page.text_of("sharing-items").count("新增") == 2
    assert not page.xpath('//tr[contains(@class, "table-danger")]')

    done = b.post("/sharing/export", {"platform": "provincial", "format": "json"}, follow_redirects=True)
    assert done.status_code == 200
    with world.factory() as session:
        batch = session.scalars(select(SharingBatch)).one()
    download = b.get(f"/sharing/batches/{batch.id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.data)
    item_id = document["items"][0]["item_id"]
    ack = {"format": "credflow-sharing-ack/1", "batch": batch.number,
           "items": [{"item_id": item_id, "result": "rejected", "reason": "缺少认定文书编号"}]}
    assert upload_ack(b, json.dumps(ack, ensure_ascii=False).encode()).status_code == 302
    page = b.page("/sharing")
    rejected = item_rows(page)[item_id]
    assert rejected.get("data-state") == "rejected"
    assert "缺少认定文书编号" in rejected.xpath('.//td[@data-reason]')[0].text_content()
    assert b.post("/sharing/retry", {"item_id": str(item_id)}).status_code == 302
    assert b.post("/sharing/retry", {"item_id": str(item_id)}, follow_redirects=True).status_code == 200   # said, once
    assert item_rows(b.page("/sharing"))[item_id].get("data-state") == "queued"
    with world.factory() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("sharing.%"))).all()
        assert session.get(SharingItem, item_id).attempts == 2
    assert {"sharing.exported", "sharing.downloaded", "sharing.ack_imported", "sharing.retried"} <= set(actions)
    assert actions.count("sharing.retried") == 1


def test_a_bad_ack_is_shown_and_changes_nothing(web, world):
    publish(world)
    b = web("admin")
    b.post("/sharing/export", {"platform": "national", "format": "csv"})
    response = upload_ack(b, b'{"format": "credflow-sharing-ack/1", "batch": "CF-none", "items": [{"item_id": 1}]}')
    page = Page(response)
    assert response.status_code == 422 and "从未报送" in page.text_of("sharing-problems")
    assert upload_ack(b, b"").status_code == 400
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(SharingItem).where(SharingItem.state == "sent")) == 1


def test_overdue_items_are_marked_and_filtered(web, world):
    publish(world)
    world.clock.advance(days=7)      # Monday 2026-06-01 + 7 days: past the 3rd working day
    b = web("leader")
    page = b.page("/sharing?overdue=1")
    assert len(page.xpath('//tr[contains(@class, "table-danger")]')) == 2
    assert page.xpath('//div[@data-count="overdue"]')[0].text_content().strip() == "2"
    assert len(item_rows(b.page("/sharing?platform=national"))) == 1
    assert not item_rows(b.page("/sharing?state=rejected"))
    world.clock.advance(days=-7)
    assert not b.page("/sharing?overdue=1").xpath('//tr[@data-item]')
