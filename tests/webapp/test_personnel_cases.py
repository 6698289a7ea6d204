"""Personnel staff read the accountability cases of the people in their charge (every civil
servant: the personnel area lists them all): the case numbers on a person's page are links to the
case page, which they read without acting (no task, no opinion, no correction), with its diagram
and decision; a record's other cases stay closed to them, on the web and in the JSON API. A
person's integrity file lists their own published records, and those published before and since
repaired, marked as such, linked where the viewer may open them."""
from __future__ import annotations

from sqlalchemy import select

from credflow_web import CAPTURE, Page
from test_no_dead_links import repair
from test_route_matrix import APPROVE, LEADER_OK
from test_personnel import confirm, decided, people, sanctioned, staff_decide  # noqa: F401  (fixtures)
from workflows.accounts import create_api_token
from workflows.models import Case, Document
from workflows.records import open_record
from workflows.worker import run_once

STATEMENT = "本人已督促整改。"


def links(page: Page, css_id: str) -> list[str]:
    return page.one(css_id).xpath(".//a/@href")


def test_the_case_numbers_on_a_persons_page_open_the_case_read_only(web, world, people, decided):
    personnel = web("personnel")
    person = personnel.page(f"/personnel/people/{people.p1}")
    assert links(person, "accountability-cases") == [f"/cases/{decided.p1_case}"]
    assert f"C-{decided.p1_case:06d}" in person.text_of("accountability-cases")

    case = personnel.page(f"/cases/{decided.p1_case}")
    assert case.status == 200
    assert case.text_of("case-status") == "已办结"
    assert "予以诫勉谈话。" in case.text_of("timeline")
    # read-only: no opinion form, no correction of the decision
    assert not case.xpath('//form[contains(@action, "/comments")]')
    assert not case.xpath('//form[contains(@action, "/correct")]')
    # the decision opens; the record's lifecycle case is named, not linked
    document = case.xpath(f'//a[@data-document="{decided.document}"]/@href')
    assert document == [f"/documents/{decided.document}"]
    response = personnel.get(document[0])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert personnel.get(f"/cases/{decided.p1_case}/diagram.bpmn").status_code == 200
    with world.factory() as session:
        lifecycle = session.scalars(select(Case.id).where(Case.record_id == decided.record,
                                                          Case.process_key == "record_lifecycle")).one()
        sanction = session.scalars(select(Document.id).where(Document.case_id == lifecycle)).first()
    related = case.xpath(f'//li[@data-related-case="{lifecycle}"]')
    assert related and not related[0].xpath(".//a")
    # what personnel may not open answers 403, as before
    for url in (f"/cases/{lifecycle}", f"/cases/{lifecycle}/diagram.bpmn", "/records", "/records/new",
                f"/documents/{sanction}"):
        assert personnel.get(url).status_code == 403, url


def test_an_open_case_shows_personnel_its_steps_as_text(web, world, people):
    cases = sanctioned(world, people)
    statement = confirm(world, cases.p1_case)
    page = web("personnel").page(f"/cases/{cases.p1_case}")
    item = page.xpath(f'//li[@data-case-task="{statement.id}"]')[0]
    assert not item.xpath(".//a")                      # not a link: personnel work no task
    text = " ".join(item.text_content().split())
    assert "陈述申辩" in text and "信用主体" in text and "王主任" in text   # the step, its lane, its holder
    # the clerk sees the same step as text too (a subject's task is not the inbox's), a reviewer's as a link
    world.complete("p1", statement.id, {"statement_text": STATEMENT})
    row = world.task(cases.p1_case, "consider_self_correction")
    for username, linked in (("reviewer", True), ("leader", True), ("clerk", False), ("manager", False),
                             ("personnel", False)):
        item = web(username).page(f"/cases/{cases.p1_case}").xpath(f'//li[@data-case-task="{row.id}"]')[0]
        assert bool(item.xpath(f'.//a[@href="/tasks/{row.id}"]')) == linked, username


def test_the_api_gives_personnel_the_accountability_cases_only(app, world, people, decided):
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["personnel"], "test")
        uow.commit()
    client, bearer = app.test_client(), {"Authorization": f"Bearer {token}"}
    with world.factory() as session:
        lifecycle = session.scalars(select(Case.id).where(Case.record_id == decided.record,
                                                          Case.process_key == "record_lifecycle")).one()
    found = client.get(f"/api/v1/cases/{decided.p1_case}", headers=bearer)
    assert found.status_code == 200 and found.get_json()["process"] == "accountability"
    assert client.get(f"/api/v1/cases/{lifecycle}", headers=bearer).status_code == 403
    assert client.get("/api/v1/cases/999999", headers=bearer).status_code == 404


def test_the_integrity_file_lists_the_persons_own_published_and_repaired_records(web, world, people):
    ids = []
    for _ in range(2):
        record, lifecycle = world.run("clerk", open_record, people.p1, CAPTURE)
        world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
        world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
        ids.append(record.id)
    repaired, published = ids
    under_review, _ = world.run("clerk", open_record, people.p1, CAPTURE)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair(world, "p1", repaired)
    department_record = world.open_record(0)[0]

    # the person, in the portal: both, marked, each linked to its own page
    mine = web("p1").page("/portal/integrity")
    listed = {int(li.get("data-own-record")): li for li in mine.one("own-records").xpath("./li")}
    assert set(listed) == {repaired, published}      # not the record under review, not the department's
    assert under_review.id not in listed and department_record not in listed
    assert "公示中" in listed[published].text_content()
    assert "已修复" in listed[repaired].text_content() and "已信用修复，于 2026-09-09 终止公示" in \
        " ".join(listed[repaired].text_content().split())
    p1 = web("p1")
    for record_id, li in listed.items():
        hrefs = li.xpath(".//a/@href")
        assert hrefs == [f"/portal/records/{record_id}"] or (hrefs == [] and p1.get(
            f"/portal/records/{record_id}").status_code == 404), (record_id, hrefs)
        for href in hrefs:
            assert p1.get(href).status_code == 200, href

    # personnel, on the person's page: the published one links to the public page, the repaired one
    # (no longer public) is named only
    page = web("personnel").page(f"/personnel/people/{people.p1}")
    listed = {int(li.get("data-own-record")): li for li in page.one("own-records").xpath("./li")}
    assert set(listed) == {repaired, published}
    assert listed[published].xpath(".//a/@href") == [f"/public/records/{published}"]
    assert listed[repaired].xpath(".//a") == []
    assert web().get(f"/public/records/{published}").status_code == 200

    english = web("p1").page("/portal/integrity?lang=en")
    assert "publication ended on 2026-09-09" in english.text_of("own-records")
