"""A subject sees a record only from the office's notice at confirmation (告知): a clerk's draft and a
record under review are nowhere in its portal or API, a direct URL is 'not found' as for someone
else's record; from confirmation on it is notified once and sees the record. What hangs on a record
it was not notified of (applications, tasks, documents) is hidden the same way."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from credflow_web import Page
from test_personnel import confirm as confirm_person, decided, people  # noqa: F401 (fixtures)
from test_portal import APPROVE, LEADER_OK, A, applications, minimum_period_passed, objection_form, publish
from workflows.accounts import create_api_token
from workflows.applications import APPLICATION_PROCESSES, file_credit_repair, file_objection
from workflows.models import Document, Notification, Record
from workflows.records import open_record

PROCESSES = APPLICATION_PROCESSES


@pytest.fixture
def token(world):
    """An API token of the subject's account, made at the test's present."""
    def make() -> str:
        with world.uow() as uow:
            value = create_api_token(uow, world.user_ids["subject"], "test")
            uow.commit()
        return value
    return make


def api_get(app, token: str, url: str):
    return app.test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def listed(page: Page) -> list[int]:
    return [int(v) for v in page.xpath("//tr[@data-record]/@data-record")]


def record_notices(world) -> list[Notification]:
    with world.factory() as session:
        return session.scalars(select(Notification).where(Notification.user_id == world.user_ids["subject"],
                                                          Notification.kind == "record")).all()


def test_a_draft_and_a_record_under_review_are_invisible_to_the_subject(app, web, world, token):
    draft = world.run("clerk", open_record, world.subjects[A], None)[0].id   # the clerk has not submitted it
    under_review, case_id = world.open_record(A)
    returned, returned_case = world.open_record(A)
    world.complete("reviewer", world.task(returned_case, "legality_review").id,
                   {"review_decision": "return", "review_opinion": "请补充证据。"})
    a = web("subject")
    index = a.page("/portal/")
    assert index.status == 200 and listed(index) == []
    assert not index.xpath("//tr[@data-application]") and not index.xpath('//div[@id="portal-tasks"]')
    for record_id in (draft, under_review, returned):
        assert a.get(f"/portal/records/{record_id}").status_code == 404, record_id
        for process in PROCESSES:
            url = f"/portal/records/{record_id}/{process}"
            assert a.get(url).status_code == 404, url
            assert a.post(url, objection_form(), content_type="multipart/form-data").status_code == 404, url
    assert applications(world) == 0
    assert record_notices(world) == []
    notifications = a.page("/notifications")
    assert notifications.status == 200 and "/portal/records/" not in notifications.text

    secret = token()
    body = api_get(app, secret, "/api/v1/records").get_json()
    assert body["records"] == [] and body["total"] == 0
    for record_id in (draft, under_review, returned):
        assert api_get(app, secret, f"/api/v1/records/{record_id}").status_code == 404
    assert api_get(app, secret, f"/api/v1/cases/{case_id}").status_code == 404


def test_from_confirmation_the_subject_is_notified_once_and_sees_the_record(app, web, world, token, clock):
    record_id, case_id = world.open_record(A)
    clock.advance(hours=1)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)   # 认定: the office tells A
    [notice] = record_notices(world)
    assert notice.link == f"/portal/records/{record_id}" and "已经认定" in notice.text

    a = web("subject")
    assert listed(a.page("/portal/")) == [record_id]
    page = a.page(f"/portal/records/{record_id}")
    assert page.status == 200
    assert page.text_of("notified-at") == "本机关于 2026-06-01 告知您该记录"
    assert a.page(f"/portal/records/{record_id}?lang=en").text_of("notified-at") == \
        "The office notified you of this record on 2026-06-01"
    notifications = a.page("/notifications?lang=zh_CN")    # back to Chinese: the notice reads as stored
    assert notice.text in " ".join(notifications.text.split())
    secret = token()
    assert [r["id"] for r in api_get(app, secret, "/api/v1/records").get_json()["records"]] == [record_id]
    assert api_get(app, secret, f"/api/v1/records/{record_id}").status_code == 200

    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)       # published
    assert len(record_notices(world)) == 1                                              # not told twice
    assert listed(a.page("/portal/")) == [record_id]


def test_what_hangs_on_a_record_not_notified_is_hidden_too(app, web, world, token):
    """A record the office has not notified (notified_at empty: under a later notice status in the
    settings, say) hides its applications, tasks and documents as well as itself."""
    record_id, _ = publish(world, A)
    minimum_period_passed(world)
    objection = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])
    repair = world.run("subject", file_credit_repair, record_id, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件"})
    supplement = world.task(repair.id, "supplement")
    with world.factory() as session:
        document = session.scalars(select(Document.id).where(Document.record_id == record_id)).first()
    a = web("subject")
    urls = [f"/portal/records/{record_id}", f"/portal/applications/{objection.id}",
            f"/portal/applications/{repair.id}", f"/portal/tasks/{supplement.id}", f"/portal/documents/{document}"]
    for url in urls:
        assert a.get(url).status_code == 200, url                                   # notified: all there
    secret = token()
    assert [t["id"] for t in api_get(app, secret, "/api/v1/tasks").get_json()["tasks"]] == [supplement.id]

    with world.factory() as session:
        session.execute(update(Record).where(Record.id == record_id).values(notified_at=None))
        session.commit()
    index = a.page("/portal/")
    assert listed(index) == [] and not index.xpath("//tr[@data-application]")
    assert not index.xpath('//div[@id="portal-tasks"]')
    for url in urls:
        assert a.get(url).status_code == 404, url
    assert api_get(app, secret, "/api/v1/tasks").get_json()["tasks"] == []
    for url in (f"/api/v1/tasks/{supplement.id}", f"/api/v1/cases/{repair.id}", f"/api/v1/records/{record_id}"):
        assert api_get(app, secret, url).status_code == 404, url


def test_a_persons_accountability_case_task_and_file_entry_follow_the_records_notice(web, world, people, decided):
    """The accountability cases about a department's record reach its people only as the record
    does: hidden with it, its file entry too, while the record is not notified."""
    statement = confirm_person(world, decided.o1_case)            # O1 is asked for a statement
    p1, o1 = web("p1"), web("o1")
    entries = '//div[@id="integrity-entries"]/div[contains(@class, "list-group-item")]'
    shown = [e.text_content() for e in p1.page("/portal/integrity").xpath(entries)]
    assert any("问责处理结果" in text for text in shown)
    assert p1.get(f"/portal/applications/{decided.p1_case}").status_code == 200
    assert o1.page("/portal/").xpath(f'//div[@id="portal-tasks"]//a[@href="/portal/tasks/{statement.id}"]')

    with world.factory() as session:
        session.execute(update(Record).where(Record.id == decided.record).values(notified_at=None))
        session.commit()
    hidden = [e.text_content() for e in p1.page("/portal/integrity").xpath(entries)]
    assert not any("问责处理结果" in text for text in hidden)
    assert p1.get(f"/portal/applications/{decided.p1_case}").status_code == 404
    assert not o1.page("/portal/").xpath('//div[@id="portal-tasks"]')
    assert o1.get(f"/portal/tasks/{statement.id}").status_code == 404
