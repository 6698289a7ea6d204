"""Personnel opening an accountability case by hand are told why one is refused, on the person's
page (422), with what they chose kept (issue 15, finding 4): a record not decided yet, a record
whose case another member of staff opened meanwhile, a record that does not exist."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from credflow_web import CAPTURE, Page
from test_personnel import DEPARTMENT, people, sanctioned  # noqa: F401  (fixtures)
from workflows.accountability import add_holding
from workflows.demo import make_citizen_id
from workflows.models import Case
from workflows.records import open_record, register_subject


def accountability_cases(world, person_id) -> list[int]:
    with world.factory() as session:
        return session.scalars(select(Case.id).where(Case.process_key == "accountability",
                                                     Case.party_id == person_id)).all()


def chosen_post(page: Page) -> list[str]:
    return page.xpath('//form[@id="open-accountability"]//select[@name="post"]/option[@selected]/@value')


def test_a_record_under_review_is_refused_on_the_page(web, world, people):   # noqa: F811
    record, _ = world.run("clerk", open_record, world.subjects[DEPARTMENT], {**CAPTURE, "conduct_date": "2026-02-10"})
    staff = web("personnel")
    staff.get(f"/personnel/people/{people.p1}")
    page = Page(staff.post("/personnel/accountability", {"record_id": record.id, "person_id": people.p1,
                                                         "post": "official_in_charge"}))
    assert page.status == 422
    assert page.text_of("open-accountability-refused").startswith("只能对已认定的失信记录启动问责")
    assert "only a decided record" not in page.text_of("open-accountability-refused")   # one language

    assert accountability_cases(world, people.p1) == []


def test_a_case_opened_meanwhile_is_named(web, world, people):   # noqa: F811
    done = sanctioned(world, people)
    with world.uow("manager") as uow:       # named to the roster after the sanction: offered by hand
        p3 = register_subject(uow, "civil_servant", "钱科长", make_citizen_id("61080219800505005"))
        add_holding(uow, world.subjects[DEPARTMENT], p3, "project_lead", date(2025, 1, 1), None, "项目负责人")
        uow.commit()
        p3 = p3.id
    first, second = web("personnel"), web("personnel")
    for staff in (first, second):
        form = staff.page(f"/personnel/people/{p3}").one("open-accountability")
        assert form.xpath('.//select[@name="record_id"]/option/@value') == [str(done.record)]
    assert first.post("/personnel/accountability", {"record_id": done.record, "person_id": p3,
                                                    "post": "principal"}).status_code == 302
    (case,) = accountability_cases(world, p3)
    page = Page(second.post("/personnel/accountability", {"record_id": done.record, "person_id": p3,
                                                          "post": "official_in_charge"}))
    assert page.status == 422
    refused = page.text_of("open-accountability-refused")
    assert refused.startswith("该人员对此失信记录已有问责案件") and f"C-{case:06d}" in refused
    assert accountability_cases(world, p3) == [case]
    assert f"C-{case:06d}" in page.text_of("accountability-cases")


def test_a_record_that_is_not_there_is_refused_with_the_post_kept(web, world, people):   # noqa: F811
    sanctioned(world, people)
    with world.uow("manager") as uow:
        p3 = register_subject(uow, "civil_servant", "钱科长", make_citizen_id("61080219800505005"))
        add_holding(uow, world.subjects[DEPARTMENT], p3, "principal", date(2025, 1, 1), None, "局长")
        uow.commit()
        p3 = p3.id
    staff = web("personnel")
    staff.get(f"/personnel/people/{p3}")
    for record_id in ("999999", "abc", ""):
        page = Page(staff.post("/personnel/accountability", {"record_id": record_id, "person_id": p3,
                                                             "post": "project_lead"}))
        assert page.status == 422, record_id
        assert page.text_of("open-accountability-refused") == "失信记录不存在"
        assert chosen_post(page) == ["project_lead"]
    assert accountability_cases(world, p3) == []
