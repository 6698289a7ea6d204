"""Township commitments through the Flask test client: the public page (no login) lists every
commitment with its status; a township's account registers its own in the portal and reports its
fulfilment there with evidence files; a clerk registers for any department, bad input coming back
with each field's error and nothing saved; another department's account gets 404 for the pages of
this one; the staff list links each commitment to its case."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
from sqlalchemy import func, select

from credflow_web import Page, location, password
from workflows.accounts import create_user
from workflows.cases import complete_task, fire_due_timers
from workflows.clock import CST
from workflows.commitments.model import Commitment
from workflows.commitments.service import Draft, register_commitment
from workflows.demo import SUBJECTS
from workflows.models import Attachment, HumanTask

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
A, B = 0, 1
FORM = {"content": "年内完成辖区老旧管网改造。", "deadline": "2026-06-30", "responsible_name": "张某",
        "responsible_post": "镇长"}


@pytest.fixture
def subject_b(world):
    with world.uow() as uow:
        user = create_user(uow, "subject_b", password("subject_b"), SUBJECTS[B][1], ["subject"],
                           subject_id=world.subjects[B])
        uow.commit()
        world.user_ids["subject_b"] = user.id
    return "subject_b"


def commitments(world) -> list[Commitment]:
    with world.factory() as session:
        return session.scalars(select(Commitment).order_by(Commitment.id)).all()


def past_deadline(world):
    world.clock.at = datetime(2026, 7, 1, 9, 0, tzinfo=CST)
    with world.uow() as uow:
        fire_due_timers(uow)
        uow.commit()


def test_a_township_registers_and_the_public_sees_it(web, world):
    subject = web("subject")
    portal = subject.page("/portal/")
    assert portal.status == 200
    page = subject.page("/portal/commitments")
    assert page.xpath('//*[@id="new-commitment"]') != []
    response = subject.post("/portal/commitments/new", FORM)
    assert response.status_code == 302
    [mine] = commitments(world)
    assert mine.subject_id == world.subjects[A] and location(response) == f"/portal/commitments/{mine.id}"
    assert mine.registered_by == "subject"
    public = web().page("/public/commitments")       # no login
    assert public.status == 200
    assert public.xpath("//tr[@data-commitment]/@data-commitment") == [str(mine.id)]
    assert public.xpath("//tr[@data-commitment]//span[@data-status]/text()") == ["进行中"]
    assert SUBJECTS[A][1] in public.text and "老旧管网改造" in public.text
    english = web().page("/public/commitments?lang=en")
    assert english.xpath("//tr[@data-commitment]//span[@data-status]/text()") == ["in progress"]
    home = web().page("/public/")
    assert "/public/commitments" in home.xpath("//a/@href")


def test_public_statuses(web, world):
    first = world.run("clerk", register_commitment, Draft(world.subjects[A], "承诺一", "2026-06-30", "张某", "镇长"))
    world.run("clerk", register_commitment, Draft(world.subjects[B], "承诺二", "2026-09-30", "李某", "副镇长"))
    past_deadline(world)
    report = world.task(first.case_id, "report")
    world.run("subject", complete_task, report.id, {"fulfilment_report": "已完成。"})
    review = world.task(first.case_id, "review")
    world.run("reviewer", complete_task, review.id, {"review_outcome": "partly", "review_opinion": "部分完成。"})
    page = web().page("/public/commitments")
    statuses = dict(zip(page.xpath("//tr[@data-commitment]/@data-commitment"),
                        page.xpath("//tr[@data-commitment]//span[@data-status]/@data-status")))
    assert statuses == {str(first.id): "partly", str(first.id + 1): "in_progress"}
    assert "部分履行" in page.text


def test_bad_input_is_shown_beside_each_field_and_nothing_is_saved(web, world):
    clerk = web("clerk")
    assert clerk.page("/commitments/new").status == 200
    bad = clerk.post("/commitments/new", {**FORM, "subject_id": "999999", "content": "  ", "deadline": "2026-05-01"})
    assert bad.status_code == 422
    page = Page(bad)
    assert "请选择已登记的乡镇（街道）政府" in page.text
    assert "承诺内容必填" in page.text
    assert "已过" in page.text
    assert page.xpath("//input[@name='responsible_name']/@value") == ["张某"]     # what was typed stays
    assert commitments(world) == []
    good = clerk.post("/commitments/new", {**FORM, "subject_id": str(world.subjects[B])})
    assert good.status_code == 302
    again = clerk.post("/commitments/new", {**FORM, "subject_id": str(world.subjects[B])})   # a double submit
    assert again.status_code == 302
    assert [c.subject_id for c in commitments(world)] == [world.subjects[B]]
    english = clerk.post("/commitments/new?lang=en", {**FORM, "subject_id": str(world.subjects[B]), "content": ""})
    assert english.status_code == 422 and "承诺内容必填" not in english.get_data(as_text=True)


def test_the_township_reports_in_the_portal_and_others_get_404(web, world, subject_b):
    mine = world.run("subject", register_commitment, Draft(None, FORM["content"], FORM["deadline"], "张某", "镇长"))
    subject, other = web("subject"), web(subject_b)
    assert subject.page(f"/portal/commitments/{mine.id}").xpath('//*[@id="task-form"]') == []      # not due yet
    past_deadline(world)
    page = subject.page(f"/portal/commitments/{mine.id}")
    assert page.xpath('//*[@id="task-form"]') != []
    # the portal's "asked of you" list links the report; it opens on the commitment's page
    row = world.task(mine.case_id, "report")
    assert f"/portal/tasks/{row.id}" in subject.page("/portal/").xpath("//a/@href")
    assert location(subject.get(f"/portal/tasks/{row.id}")) == f"/portal/commitments/{mine.id}"
    assert other.get(f"/portal/tasks/{row.id}").status_code == 404
    assert other.get(f"/portal/commitments/{mine.id}").status_code == 404
    assert other.post(f"/portal/commitments/{mine.id}", {"fulfilment_report": "冒名"}).status_code == 404
    assert str(mine.id) not in other.page("/portal/commitments").xpath("//tr/@data-commitment")
    empty = subject.post(f"/portal/commitments/{mine.id}", {"fulfilment_report": " "})
    assert empty.status_code == 422
    done = subject.post(f"/portal/commitments/{mine.id}",
                        [("fulfilment_report", "改造已完成，附验收报告。"), ("fulfilment_evidence", (BytesIO(PDF), "验收报告.pdf"))],
                        content_type="multipart/form-data")
    assert done.status_code == 302
    review = web("reviewer").page(f"/tasks/{world.task(mine.case_id, 'review').id}")
    assert review.status == 200                      # the reviewer sees the commitment and the report
    assert FORM["content"] in review.text and "改造已完成，附验收报告。" in review.text and "验收报告.pdf" in review.text
    with world.factory() as session:
        files = session.scalars(select(Attachment).where(Attachment.case_id == mine.case_id)).all()
        assert [f.filename for f in files] == ["验收报告.pdf"]
        assert session.scalar(select(func.count()).select_from(HumanTask)
                              .where(HumanTask.case_id == mine.case_id, HumanTask.lane == "subject")) == 0
    again = subject.post(f"/portal/commitments/{mine.id}", {"fulfilment_report": "再次提交"})
    assert again.status_code == 303          # the report is in: nothing more to submit
    assert "验收报告.pdf" in subject.page(f"/portal/commitments/{mine.id}").text


def test_staff_list_links_each_commitment_to_its_case(web, world):
    one = world.run("clerk", register_commitment, Draft(world.subjects[A], "承诺一", "2026-06-30", "张某", "镇长"))
    reviewer = web("reviewer")
    page = reviewer.page("/commitments")
    assert page.status == 200
    assert f"/cases/{one.case_id}" in page.xpath("//tr[@data-commitment]//a/@href")
    assert page.xpath('//*[@id="new-commitment"]') == []           # only clerks register from here
    assert web("clerk").page("/commitments").xpath('//*[@id="new-commitment"]') != []
    assert reviewer.page("/commitments?status=failed").xpath("//tr[@data-commitment]") == []
    case_page = reviewer.page(f"/cases/{one.case_id}")
    assert case_page.status == 200
