"""Accountability and the integrity file through the Flask test client: the person sees their own
file and their accountability case in the portal (files the statement, reads the decision, asks
for 复核); `personnel` reads anyone's file, adds entries, downloads the signed credit-check extract
and keeps the roster; everybody else is refused (403 for staff, 404 for other subjects)."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import date
from io import BytesIO
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from credflow_web import CAPTURE, Page, location, password
from workflows.accountability import ROSTER_COLUMNS, add_entry, add_holding
from workflows.accounts import create_user
from workflows.demo import SUBJECTS, make_citizen_id
from workflows.import_jobs import run_import_jobs
from workflows.models import Attachment, Case, Document, IntegrityEntry, PostHolding, Subject
from workflows.records import open_record, register_subject
from workflows.runtime import Actor

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
CONFIRM = {"person_confirmed": "confirm", "confirm_reason": "经核对任职文件，失信行为发生时在岗。"}
STATEMENT = "本人已督促财务科于 2026 年 5 月结清欠款，请求从轻处理。"
P1_NAME, O1_NAME = "王主任", "赵副局长"
P1_CODE, O1_CODE = make_citizen_id("61080219700101001"), make_citizen_id("61080219750303003")
DEPARTMENT = 0                      # SUBJECTS[0]; the seeded "subject" account is the department's


# -- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture
def people(world):
    """P1 (principal of the department until 2026-03-31) and O1 (official in charge), each with a
    portal account ('p1', 'o1'), and a 'personnel' account."""
    with world.uow("manager") as uow:
        p1 = register_subject(uow, "civil_servant", P1_NAME, P1_CODE)
        o1 = register_subject(uow, "civil_servant", O1_NAME, O1_CODE)
        department = world.subjects[DEPARTMENT]
        add_holding(uow, department, p1, "principal", date(2023, 1, 1), date(2026, 3, 31), "局长")
        add_holding(uow, department, o1, "official_in_charge", date(2022, 6, 1), None, "副局长")
        for username, display, roles, subject_id in (("p1", P1_NAME, ["subject"], p1.id),
                                                     ("o1", O1_NAME, ["subject"], o1.id),
                                                     ("personnel", "钱人事", ["personnel"], None)):
            user = create_user(uow, username, password(username), display, roles, subject_id=subject_id)
            world.actors[username], world.user_ids[username] = Actor.of(user), user.id
        uow.commit()
        return SimpleNamespace(p1=p1.id, o1=o1.id)


def sanctioned(world, people) -> SimpleNamespace:
    """The department's record (conduct 2026-02-10) sanctioned: the lifecycle opens P1's and O1's cases."""
    record, lifecycle = world.run("clerk", open_record, world.subjects[DEPARTMENT],
                                  {**CAPTURE, "conduct_date": "2026-02-10"})
    world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    with world.factory() as session:
        cases = {c.party_id: c.id for c in session.scalars(select(Case).where(
            Case.process_key == "accountability", Case.record_id == record.id))}
    assert set(cases) == {people.p1, people.o1}
    return SimpleNamespace(record=record.id, p1_case=cases[people.p1], o1_case=cases[people.o1])


def confirm(world, case_id: int):
    world.complete("clerk", world.task(case_id, "confirm_person").id, CONFIRM)
    return world.task(case_id, "statement")


def staff_decide(world, case_id: int, measure="admonition", reason="予以诫勉谈话。"):
    world.complete("reviewer", world.task(case_id, "consider_self_correction").id,
                   {"self_correction": "none", "self_correction_reason": "未主动纠错。"})
    world.complete("reviewer", world.task(case_id, "propose_measure").id,
                   {"measure": measure, "measure_reason": "负有领导责任。"})
    world.complete("leader", world.task(case_id, "leader_decision").id,
                   {"final_measure": measure, "decision_reason": reason})


@pytest.fixture
def decided(world, people):
    """P1's case decided (诫勉) through the services, with P1's own statement; O1's case still open."""
    cases = sanctioned(world, people)
    world.complete("p1", confirm(world, cases.p1_case).id, {"statement_text": STATEMENT})
    staff_decide(world, cases.p1_case)
    with world.factory() as session:
        cases.document = session.scalars(select(Document.id).where(Document.case_id == cases.p1_case)).one()
    return cases


def pdf_text(data: bytes) -> str:
    return "".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                                  check=True).stdout.decode().split())


def roster_csv(*rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def count(world, model, *where) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# -- the person ---------------------------------------------------------------------------------

def test_the_person_states_their_case_reads_the_decision_and_asks_for_review(web, world, people):
    cases = sanctioned(world, people)
    statement = confirm(world, cases.p1_case)
    p1 = web("p1")
    index = p1.page("/portal/")
    task_url = f"/portal/tasks/{statement.id}"
    todo = index.xpath(f'//div[@id="portal-tasks"]//a[@href="{task_url}"]')
    assert [a.text_content() for a in todo] == ["陈述申辩"]
    assert index.xpath(f'//tr[@data-application="{cases.p1_case}"]')
    assert not index.xpath(f'//tr[@data-application="{cases.o1_case}"]')     # O1's case is O1's business
    form = p1.page(task_url)
    assert form.status == 200 and form.one("f_statement_text") is not None
    # the statement is saved; what the response is, is test_filing_the_statement_lands_on_the_case_page's matter
    p1.post(task_url, [("statement_text", STATEMENT), ("statement_files", (BytesIO(PDF), "缴款凭证.pdf"))],
            content_type="multipart/form-data")
    assert not p1.page("/portal/").xpath('//div[@id="portal-tasks"]')
    page = p1.page(f"/portal/applications/{cases.p1_case}")
    assert [a.text_content() for a in page.xpath('//a[starts-with(@href, "/portal/attachments/")]')] == ["缴款凭证.pdf"]
    assert page.text_of("application-status") == "办理中"
    assert [t.bpmn_id for t in world.tasks(cases.p1_case)] == ["consider_self_correction"]

    staff_decide(world, cases.p1_case)
    page = p1.page(f"/portal/applications/{cases.p1_case}")
    assert page.text_of("application-status") == "已办结"
    assert page.text_of("application-outcome") == "诫勉"
    assert "予以诫勉谈话。" in page.text
    [link] = page.xpath('//div[@id="documents"]//a[@data-document]')
    assert "问责处理决定书" in link.text_content()
    pdf = p1.get(link.get("href"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"{P1_NAME}：" in pdf_text(pdf.data) and "申请复核" in pdf_text(pdf.data)
    # the integrity file holds the decision
    mine = p1.page("/portal/integrity")
    assert mine.status == 200 and P1_NAME in mine.text
    assert "诫勉" in mine.text_of("integrity-entries")

    # 复核: a new case linked to the first, shown in the portal; a second request is refused
    assert page.xpath('//button[@id="request-review"]')
    response = p1.post(f"/portal/applications/{cases.p1_case}/review")
    assert response.status_code == 302
    review_id = int(location(response).rsplit("/", 1)[1])
    with world.factory() as session:
        review = session.get(Case, review_id)
        assert (review.parent_case_id, review.party_id, review.status) == (cases.p1_case, people.p1, "running")
    assert [t.bpmn_id for t in world.tasks(review_id)] == ["propose_measure"]
    review_page = p1.page(f"/portal/applications/{review_id}")
    assert review_page.status == 200 and review_page.text_of("application-status") == "办理中"
    assert p1.page(f"/portal/applications/{cases.p1_case}").status == 200     # back on the first case's page
    refused = p1.post(f"/portal/applications/{cases.p1_case}/review")
    assert refused.status_code == 400 and "复核已在办理" in refused.get_data(as_text=True)
    assert count(world, Case, Case.parent_case_id == cases.p1_case) == 1


def test_filing_the_statement_lands_on_the_case_page(web, world, people):
    cases = sanctioned(world, people)
    statement = confirm(world, cases.p1_case)
    p1 = web("p1")
    p1.get(f"/portal/tasks/{statement.id}")
    response = p1.post(f"/portal/tasks/{statement.id}", {"statement_text": STATEMENT})
    assert [t.bpmn_id for t in world.tasks(cases.p1_case)] == ["consider_self_correction"]   # saved either way
    assert response.status_code == 302 and location(response) == f"/portal/applications/{cases.p1_case}"


def test_other_accounts_reach_neither_the_persons_case_nor_their_file(web, world, people, decided):
    world.run("personnel", add_entry, people.o1, "appraisal", "2025 年度考核：优秀。", "年度考核", date(2026, 1, 20))
    with world.factory() as session:
        attachment_ids = session.scalars(select(Attachment.id).where(Attachment.case_id == decided.p1_case)).all()
    assert attachment_ids == []          # the fixture's statement has no file; the URLs below are the case's own
    p1_urls = (f"/portal/applications/{decided.p1_case}", f"/portal/documents/{decided.document}")

    o1 = web("o1")
    for url in p1_urls:
        assert o1.get(url).status_code == 404, url
    o1.get("/portal/")
    assert o1.post(f"/portal/applications/{decided.p1_case}/review").status_code == 404
    assert count(world, Case, Case.parent_case_id == decided.p1_case) == 0
    # O1's own file holds O1's entry only; O1's own case is there
    own = o1.page("/portal/integrity")
    assert own.status == 200 and O1_NAME in own.text
    assert "2025 年度考核：优秀。" in own.text_of("integrity-entries")
    assert P1_NAME not in own.text and "诫勉" not in own.text
    index = o1.page("/portal/")
    assert index.xpath(f'//tr[@data-application="{decided.o1_case}"]')
    assert not index.xpath(f'//tr[@data-application="{decided.p1_case}"]')
    assert o1.get(f"/portal/applications/{decided.o1_case}").status_code == 200

    # the department's own account: the record is its own, the person's case and file are not
    department = web("subject")
    for url in p1_urls:
        assert department.get(url).status_code == 404, url
    assert department.get("/portal/integrity").status_code == 404
    assert not department.page("/portal/").xpath(f'//tr[@data-application="{decided.p1_case}"]')
    assert department.get(f"/portal/records/{decided.record}").status_code == 200


def test_the_department_does_not_see_the_persons_decision_on_its_record(web, world, people, decided):
    page = web("subject").page(f"/portal/records/{decided.record}")
    assert page.status == 200
    assert not page.xpath(f'//a[@data-document="{decided.document}"]')
    assert "问责处理决定书" not in page.text


def test_a_department_account_has_no_integrity_file(web, world):
    department = web("subject")
    assert department.get("/portal/integrity").status_code == 404
    assert department.get("/portal/").status_code == 200


def test_an_exempted_person_reads_exempt_from_accountability(web, world, people):
    cases = sanctioned(world, people)
    world.complete("p1", confirm(world, cases.p1_case).id, {"statement_text": STATEMENT})
    world.complete("reviewer", world.task(cases.p1_case, "consider_self_correction").id,
                   {"self_correction": "exempt", "self_correction_reason": "主动纠错，消除影响。"})
    page = web("p1").page(f"/portal/applications/{cases.p1_case}")
    assert page.text_of("application-outcome") == "免予问责"


# -- personnel ----------------------------------------------------------------------------------

def test_personnel_read_any_file_add_an_entry_and_download_the_credit_check(web, world, people):
    world.run("personnel", add_entry, people.o1, "violation", "2019 年违纪，已过查阅期。", "纪委", date(2020, 1, 10))
    world.run("personnel", add_entry, people.p1, "commendation", "2025 年度优秀公务员。", "市人社局", date(2026, 2, 1))
    staff = web("personnel")
    listing = staff.page("/personnel/")
    assert listing.status == 200 and O1_NAME in listing.text and P1_NAME in listing.text
    found = staff.page("/personnel/?q=" + O1_NAME)
    assert O1_NAME in found.text and P1_NAME not in found.text
    assert O1_CODE not in listing.text                     # the citizen ID is shown masked
    page = staff.page(f"/personnel/people/{people.o1}")
    assert page.status == 200
    assert "暂无在有效期内的记录" in page.text_of("integrity-entries")    # the 2020 entry is past its period
    response = staff.post(f"/personnel/people/{people.o1}", {"kind": "appraisal", "entry_date": "2026-01-20",
                                                             "source": "年度考核", "summary": "2025 年度考核：优秀。"})
    assert response.status_code == 302 and location(response) == f"/personnel/people/{people.o1}"
    page = staff.page(f"/personnel/people/{people.o1}")
    assert "2025 年度考核：优秀。" in page.text_of("integrity-entries")
    assert "年度考核结果" in page.text_of("integrity-entries")
    assert "2019 年违纪" not in page.text
    refused = staff.post(f"/personnel/people/{people.o1}", {"kind": "appraisal", "summary": "  "}, follow_redirects=True)
    assert refused.status_code == 200
    with world.factory() as session:
        entries = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == people.o1)
                                  .order_by(IntegrityEntry.id)).all()
    assert [(e.kind, e.created_by) for e in entries] == [("violation", "personnel"), ("appraisal", "personnel")]
    # another person's file is there too
    assert "2025 年度优秀公务员。" in staff.page(f"/personnel/people/{people.p1}").text_of("integrity-entries")

    response = staff.post(f"/personnel/people/{people.o1}/credit-check", {"purpose": "拟任职务审查"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert O1_NAME in text and "2025年度考核：优秀。" in text and "拟任职务审查" in text
    assert "2019年违纪" not in text and P1_NAME not in text
    with world.factory() as session:
        document = session.scalars(select(Document).where(Document.kind == "credit_check")).one()
    assert (document.subject_id, document.case_id, document.issued_by) == (people.o1, None, "personnel")
    # a department is no civil servant
    assert staff.get(f"/personnel/people/{world.subjects[DEPARTMENT]}").status_code == 404


def test_the_personnel_pages_are_for_the_personnel_role_only(web, world, people):
    urls = ("/personnel/", f"/personnel/people/{people.p1}", "/personnel/roster")
    for username in ("reviewer", "clerk", "leader", "manager", "p1", "subject"):
        b = web(username)
        for url in urls:
            assert b.get(url).status_code == 403, (username, url)
        b.get("/")
        assert b.post(f"/personnel/people/{people.p1}/credit-check", {"purpose": "x"}).status_code == 403, username
        assert b.post(f"/personnel/people/{people.p1}", {"kind": "integrity", "summary": "x"}).status_code == 403
    assert count(world, Document, Document.kind == "credit_check") == 0
    assert count(world, IntegrityEntry) == 0
    anonymous = web().get("/personnel/")
    assert anonymous.status_code == 302 and location(anonymous).startswith("/login")


def test_the_roster_page_adds_a_holding_and_imports_a_sheet(web, world, people):
    staff = web("personnel")
    assert staff.page("/personnel/roster").status == 200
    department_code = SUBJECTS[DEPARTMENT][2]
    new_person = make_citizen_id("61080219880808008")
    response = staff.post("/personnel/roster", {
        "department_code": department_code, "post": "principal", "person_name": "钱局长",
        "person_id_number": new_person, "title": "局长", "start_date": "2026-04-01", "end_date": ""})
    assert response.status_code == 200
    page_text = response.get_data(as_text=True)
    assert "已添加任职记录" in page_text and "钱局长" in page_text
    with world.factory() as session:
        person = session.scalars(select(Subject).where(Subject.code == new_person)).one()
        holding = session.scalars(select(PostHolding).where(PostHolding.person_id == person.id)).one()
    assert (person.kind, person.name, holding.post, holding.start_date, holding.end_date) == (
        "civil_servant", "钱局长", "principal", date(2026, 4, 1), None)

    a, b = make_citizen_id("61080219900101011"), make_citizen_id("61080219900202022")
    sheet = roster_csv((department_code, a, "甲某", "official_in_charge", "", "", "", "2025-01-01", "2026-03-31"),
                       (department_code, b, "乙某", "project_lead", "", "污水处理厂PPP项目", "建设期", "2025-06-01", ""))
    response = staff.post("/personnel/roster", [("sheet", (BytesIO(sheet), "名册.csv"))],
                          content_type="multipart/form-data")
    assert response.status_code == 303          # stored with a job; the worker reads it
    run_import_jobs(world.factory, world.clock)
    response = staff.get(location(response))
    assert response.status_code == 200
    assert "已导入 2 条任职记录" in response.get_data(as_text=True)
    assert count(world, PostHolding) == 5

    bad = b[:17] + ("0" if b[17] != "0" else "1")
    sheet = roster_csv((department_code, make_citizen_id("61080219900303033"), "丙某", "principal", "", "", "",
                        "2026-01-01", ""), (department_code, bad, "丁某", "principal", "", "", "", "2026-01-01", ""))
    response = staff.post("/personnel/roster", [("sheet", (BytesIO(sheet), "名册.csv"))],
                          content_type="multipart/form-data")
    run_import_jobs(world.factory, world.clock)
    response = staff.get(location(response))
    errors = Page(response).text_of("roster-errors")
    assert "第 3 行" in errors and "校验位" in errors
    assert count(world, PostHolding) == 5
    assert count(world, Subject, Subject.code == make_citizen_id("61080219900303033")) == 0
    # a bad form: unknown department
    response = staff.post("/personnel/roster", {"department_code": "91610800MA0000000X", "post": "principal",
                                                "person_name": "x", "person_id_number": new_person,
                                                "start_date": "2026-04-01"})
    assert response.status_code == 422 and count(world, PostHolding) == 5


def test_personnel_open_an_accountability_case_from_the_persons_page(web, world, people):
    """The record picker offers the decided records of the departments the person held a post in
    on the conduct date, where the person has no case yet (P1 has the lifecycle's: none); a person
    the roster named only after the sanction (P3) is offered the record, and choosing it and a
    post opens the case, listed on the person's page."""
    staff = web("personnel")
    assert staff.page(f"/personnel/people/{people.p1}").xpath('//*[@id="open-accountability"]') == []
    done = sanctioned(world, people)
    assert staff.page(f"/personnel/people/{people.p1}").xpath('//*[@id="open-accountability"]') == []
    with world.uow("manager") as uow:
        p3 = register_subject(uow, "civil_servant", "钱科长", make_citizen_id("61080219800505005"))
        add_holding(uow, world.subjects[DEPARTMENT], p3, "official_in_charge", date(2025, 1, 1), None, "副局长")
        uow.commit()
        p3 = p3.id
    page = staff.page(f"/personnel/people/{p3}")
    form = page.one("open-accountability")
    assert [o.get("value") for o in form.xpath('.//select[@name="record_id"]/option')] == [str(done.record)]
    response = staff.post(form.get("action"), {"record_id": done.record, "person_id": p3,
                                               "post": "official_in_charge"})
    assert response.status_code == 302 and location(response) == f"/personnel/people/{p3}"
    with world.factory() as session:
        cases = session.scalars(select(Case).where(Case.process_key == "accountability", Case.party_id == p3)
                                .order_by(Case.id)).all()
    assert len(cases) == 1 and cases[-1].record_id == done.record
    assert staff.page(f"/personnel/people/{p3}").xpath('//*[@id="open-accountability"]') == []   # one case
    assert f"C-{cases[-1].id:06d}" in staff.page(f"/personnel/people/{p3}").text_of("accountability-cases")
