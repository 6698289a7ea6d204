"""逢办必查 on the pages and through the API: a checker lands on the look-up page, looks a subject
up, sees 需审慎办理 with the records and the open objection, records that the deal went ahead,
downloads the signed extract that the public page verifies; another department's checker is told
'not found'; the API with a token; the monthly report; the admin sets a staff member's department."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from credflow_web import CAPTURE, password
from workflows.accounts import create_api_token, create_user
from workflows.applications import file_objection
from workflows.clock import CST, FixedClock
from workflows.demo import SUBJECTS
from workflows.lookups.model import Lookup
from workflows.lookups.service import look_up, record_outcome
from workflows.models import AuditEvent, User
from workflows.runtime import Actor, UnitOfWork

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, PERSON = 0, 1, 3


def published(world) -> int:
    record_id, case_id = world.open_record(A)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    return record_id


def add_checker(world, username: str, department: int) -> None:
    with world.uow() as uow:
        user = create_user(uow, username, password(username), f"查询员{username}", ["checker"])
        user.department_id = world.subjects[department]
        uow.commit()
        world.actors[username], world.user_ids[username] = Actor.of(user), user.id


def test_a_checker_looks_up_records_the_outcome_and_downloads_a_verifiable_extract(web, world):
    record_id = published(world)
    objection = world.run("subject", file_objection, record_id, "factual_error", "欠款已结清。", [])
    add_checker(world, "checker", A)
    me = web("checker")
    start = me.page("/lookups/")
    assert start.status == 200 and start.doc.xpath('//a[@id="nav-lookups"]')
    response = me.post("/lookups/", {"key_kind": "code", "value": SUBJECTS[A][2], "deal_kind": "procurement",
                                     "deal_ref": "YLCG-2026-118"})
    assert response.status_code == 303
    url = response.headers["Location"]
    page = me.page(url)
    assert page.one("lookup-flag").get("data-flag") == "caution" and "需审慎办理" in page.text_of("lookup-flag")
    assert page.xpath(f'//li[@data-record="{record_id}"]')
    assert f"A-{objection.id:06d}" in page.text_of("subjects")
    assert CAPTURE["facts"] in page.text_of("subjects")
    # the outcome: a reason is required when the deal went ahead; the typed choice comes back
    refused = me.post(f"{url}/outcome", {"outcome": "proceeded", "reason": " "})
    assert refused.status_code == 422
    me.page(url)
    for _ in range(2):   # a double submit records once
        assert me.post(f"{url}/outcome", {"outcome": "proceeded", "reason": "唯一供应商。"}).status_code == 303
    page = me.page(url)
    assert "唯一供应商。" in page.text_of("outcome-reason")
    with world.factory() as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "lookup.outcome")).all()) == 1
    pdf = me.post(f"{url}/extract")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    page = me.page(url)
    code = page.text_of("extract-code")
    verified = web().page(f"/public/verify/{code}", follow_redirects=True)
    assert page.text_of("extract-number") == verified.text_of("document-number")
    assert me.get(f"{url}/extract.pdf").data == pdf.data          # the same document again


def test_a_civil_servants_id_is_masked_and_no_match_is_a_clear_result(web, world):
    add_checker(world, "checker", A)
    me = web("checker")
    number = SUBJECTS[PERSON][2]
    response = me.post("/lookups/", {"key_kind": "citizen_id", "value": number, "deal_kind": "appointment",
                                     "deal_ref": "RM-1"})
    page = me.page(response.headers["Location"])
    assert number not in page.text and number[:6] + "*" * 10 + number[16:] in page.text_of("lookup-query")
    assert page.one("lookup-flag").get("data-flag") == "clear"
    response = me.post("/lookups/", {"key_kind": "name", "value": "不存在的单位", "deal_kind": "bidding",
                                     "deal_ref": "ZB-1"})
    page = me.page(response.headers["Location"])
    assert page.one("lookup-flag").get("data-flag") == "none" and page.doc.xpath('//*[@id="no-subject"]')
    assert not page.doc.xpath('//form[@id="outcome-form"]')          # nothing to record without a hit
    bad = me.post("/lookups/", {"key_kind": "citizen_id", "value": number[:17], "deal_kind": "", "deal_ref": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'data-error-for="value"' in text and 'data-error-for="deal_kind"' in text and 'data-error-for="deal_ref"' in text
    listed = me.page("/lookups/")
    assert listed.counts["lookups"] == 2


def test_another_departments_checker_is_told_not_found_and_the_office_sees_all(app, web, world):
    add_checker(world, "checker", A)
    add_checker(world, "checker_b", B)
    made = world.run("checker", look_up, "name", "某单位", "funding", "ZJ-1")
    other = web("checker_b")
    assert other.get(f"/lookups/{made.id}").status_code == 404
    other.get("/lookups/")
    assert other.post(f"/lookups/{made.id}/extract").status_code == 404
    assert other.page("/lookups/").counts["lookups"] == 0
    assert web("clerk").get(f"/lookups/{made.id}").status_code == 200
    assert web("manager").get("/lookups/").status_code == 403
    with world.uow() as uow:
        token_b = create_api_token(uow, world.user_ids["checker_b"], "t")
        uow.commit()
    client = app.test_client()
    response = client.get(f"/api/v1/lookups/{made.id}", headers={"Authorization": f"Bearer {token_b}"})
    assert response.status_code == 404 and response.mimetype == "application/json"


def test_the_api_looks_up_reads_back_and_issues_the_extract(app, world):
    published(world)
    add_checker(world, "checker", A)
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["checker"], "erp")
        subject_token = create_api_token(uow, world.user_ids["subject"], "t")
        uow.commit()
    client, bearer = app.test_client(), {"Authorization": f"Bearer {token}"}
    body = {"key_kind": "code", "value": SUBJECTS[A][2], "deal_kind": "bidding", "deal_ref": "ZB-2026-9"}
    created = client.post("/api/v1/lookups", json=body, headers=bearer)
    assert created.status_code == 201, created.get_data(as_text=True)
    data = created.get_json()
    assert data["hit"] and data["flag"] == "需审慎办理" and data["subjects"][0]["records"]
    assert client.get(f"/api/v1/lookups/{data['id']}", headers=bearer).get_json()["id"] == data["id"]
    bad = client.post("/api/v1/lookups", json={**body, "deal_ref": "", "extra": 1}, headers=bearer)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"extra"}
    bad = client.post("/api/v1/lookups", json={**body, "deal_ref": ""}, headers=bearer)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"deal_ref"}
    first = client.post(f"/api/v1/lookups/{data['id']}/extract", headers=bearer)
    again = client.post(f"/api/v1/lookups/{data['id']}/extract", headers=bearer)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["number"] == again.get_json()["number"]
    assert client.get(f"/api/v1/lookups/{data['id']}", headers=bearer).get_json()["extract"]["verification_code"] \
        == first.get_json()["verification_code"]
    assert client.post("/api/v1/lookups", json=body, headers={"Authorization": f"Bearer {subject_token}"}).status_code == 403
    assert client.post("/api/v1/lookups", json=body).status_code == 401
    with world.factory() as session:
        kept = session.scalars(select(Lookup)).all()
    assert [(k.via_api, k.username, k.deal_ref) for k in kept] == [(True, "checker", "ZB-2026-9")]


def test_the_monthly_report_shows_the_counts_and_reasons(web, world):
    published(world)
    add_checker(world, "checker", A)
    for day, key, value, outcome in ((3, "code", SUBJECTS[A][2], ("proceeded", "经集体研究。")),
                                     (4, "code", SUBJECTS[A][2], ("dropped", "")),
                                     (5, "name", "不存在的单位", None)):
        clock = FixedClock(datetime(2026, 11, day, 10, tzinfo=CST))
        with UnitOfWork(world.factory, world.actors["checker"], clock) as uow:
            made = look_up(uow, key, value, "procurement", f"CG-{day}")
            if outcome:
                record_outcome(uow, made.id, *outcome)
            uow.commit()
    page = web("leader").page("/lookups/report?month=2026-11")
    row = page.xpath(f'//tr[@data-department="{world.subjects[A]}"]')[0]
    counts = {k: int(row.xpath(f'./td[@data-{k}]')[0].text_content()) for k in ("made", "hits", "proceeded", "dropped", "open")}
    assert counts == {"made": 3, "hits": 2, "proceeded": 1, "dropped": 1, "open": 0}
    assert "经集体研究。" in page.text_of("reasons")
    assert web("leader").page("/lookups/report?month=2026-10").xpath('//tr[@data-department]') == []
    assert web("leader").get("/lookups/report?month=2026-13").status_code == 400


def test_the_admin_sets_a_staff_members_department(web, world):
    admin = web("admin")
    url = f"/system/users/{world.user_ids['clerk']}"
    page = admin.page(url)
    assert page.doc.xpath('//form[@id="user-department"]') and page.doc.xpath('//input[@id="role-checker"]')
    roles = [("roles", "clerk"), ("roles", "checker")]          # the new role is assignable on the account's page
    assert admin.post(f"/system/users/{world.user_ids['clerk']}/roles", roles).status_code == 302
    with world.factory() as session:
        assert session.get(User, world.user_ids["clerk"]).role_codes == {"clerk", "checker"}
    page = admin.page(url)
    assert admin.post(f"/lookups/users/{world.user_ids['clerk']}/department",
                      {"department_id": str(world.subjects[B])}).status_code == 302
    with world.factory() as session:
        assert session.get(User, world.user_ids["clerk"]).department_id == world.subjects[B]
    admin.page(url)
    admin.post(f"/lookups/users/{world.user_ids['clerk']}/department", {"department_id": str(world.subjects[PERSON])})
    with world.factory() as session:       # a civil servant is no department: refused, nothing changed
        assert session.get(User, world.user_ids["clerk"]).department_id == world.subjects[B]
