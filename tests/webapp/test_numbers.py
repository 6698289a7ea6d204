"""Record, case and application numbers as people see them: a record is R-000012, an application
(objection, self-correction, credit repair) A-000007, any other case C-000007, on the case page,
the inbox, the portal, the messages and the decision documents; and typing one (R-12, C-7, 12)
into a search box finds it. URLs and the JSON API keep the plain ids (the API adds `number`)."""
from __future__ import annotations

import re
import shutil
import subprocess
from io import BytesIO

import pytest
from sqlalchemy import select

from credflow_web import Page, location, password
from workflows.accounts import create_api_token, create_user
from workflows.applications import file_objection
from workflows.models import Document

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
A, B, CIVIL_SERVANT = 0, 1, 3          # indexes into SUBJECTS; the "subject" account belongs to A


def R(record_id: int) -> str:
    return f"R-{record_id:06d}"


def C(case_id: int) -> str:
    return f"C-{case_id:06d}"


def A_(case_id: int) -> str:
    return f"A-{case_id:06d}"


def squeeze(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="session")
def signing_instance(tmp_path_factory):
    """The session's demo office certificate (the folder tests/webapp/test_documents_web.py uses)."""
    folder = tmp_path_factory.getbasetemp() / "credflow-documents-instance"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def instance_dir(monkeypatch, signing_instance):
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(signing_instance))
    for name in ("CREDFLOW_SETTINGS", "CREDFLOW_SECRET_KEY", "CREDFLOW_MAX_UPLOAD_MB",
                 "CREDFLOW_SIGNING_KEY", "CREDFLOW_SIGNING_CERT"):
        monkeypatch.delenv(name, raising=False)
    return signing_instance


def publish(world, subject: int = A, **capture) -> tuple[int, int]:
    """A record through legality review and the leader's approval: (record id, lifecycle case id)."""
    record_id, case_id = world.open_record(subject, **capture)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    return record_id, case_id


def object_to(world, record_id: int) -> int:
    """The subject's objection to its record, filed by the service: the objection case id."""
    return world.run("subject", file_objection, record_id, "factual_error", "金额有误。", []).id


def keep_record(world, objection_id: int) -> None:
    """The objection accepted (a receipt), verified and decided: the record is kept (a decision)."""
    world.complete("clerk", world.task(objection_id, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    world.complete("reviewer", world.task(objection_id, "verification").id,
                   {"verification_outcome": "keep", "verification_reason": "认定无误"})
    world.complete("leader", world.task(objection_id, "leader_approval").id,
                   {"final_outcome": "keep", "decision_reason": "维持原认定"})


# -- the case page -----------------------------------------------------------------------------

def test_the_case_page_writes_the_case_and_record_numbers(web, world):
    record_id, lifecycle_id = publish(world)
    objection_id = object_to(world, record_id)
    clerk = web("clerk")

    page = clerk.page(f"/cases/{lifecycle_id}")
    assert page.status == 200
    assert squeeze(page.xpath("//title")[0].text_content()).startswith(f"案件 {C(lifecycle_id)}")
    assert squeeze(page.xpath("//h1")[0].text_content()) == f"失信记录认定与公示 {C(lifecycle_id)}"
    assert f"失信记录 {R(record_id)}" in [squeeze(h.text_content()) for h in page.xpath('//div[@class="card-header"]')]
    related = squeeze(" ".join(li.text_content() for li in page.xpath('//li[@data-related-case]')))
    assert f"异议申请 {A_(objection_id)}" in related

    page = clerk.page(f"/cases/{objection_id}")
    assert squeeze(page.xpath("//h1")[0].text_content()) == f"异议申请 {A_(objection_id)}"
    assert "#" + str(objection_id) not in squeeze(page.doc.text_content())


# -- the inbox and its search ------------------------------------------------------------------

def test_the_inbox_writes_numbers_and_finds_a_task_by_one(web, world):
    first_record, first_case = world.open_record(A)
    second_record, second_case = world.open_record(B)
    leader = web("leader")

    page = leader.page("/inbox?tab=all")
    row = page.xpath(f'//tr[@data-task-row="{world.task(first_case, "legality_review").id}"]')[0]
    assert squeeze(row.xpath(".//td[1]/div")[0].text_content()) == \
        f"失信记录认定与公示 · {C(first_case)} · {R(first_record)}"

    first_task, second_task = (world.task(first_case, "legality_review").id,
                               world.task(second_case, "legality_review").id)
    for typed in (f"R-{first_record}", f"r{first_record}", R(first_record), f"C-{first_case}", C(first_case)):
        assert leader.page(f"/inbox?tab=all&subject={typed}").task_rows == [first_task], typed
    assert leader.page(f"/inbox?tab=all&subject=R-{second_record}").task_rows == [second_task]
    # a number nobody has finds nothing
    other = max(first_record, second_record) + 50
    assert leader.page(f"/inbox?tab=all&subject=R-{other}").task_rows == []
    # the name search still works, and the field says what it takes
    assert leader.page(f"/inbox?tab=all&subject={world.subject_names[B][:6]}").task_rows == [second_task]
    assert page.xpath('//input[@name="subject"]/@placeholder') == ["名称或编号"]


def test_the_records_list_writes_record_numbers_and_finds_by_record_or_case(web, world):
    first_record, first_case = world.open_record(A)
    second_record, _ = world.open_record(B)
    clerk = web("clerk")

    page = clerk.page("/records")
    numbers = [squeeze(td.text_content()) for td in page.xpath('//table[@id="record-table"]/tbody/tr/td[1]')]
    assert numbers == [R(second_record), R(first_record)]
    assert page.xpath('//table[@id="record-table"]//th[1]')[0].text_content() == "记录编号"

    def found(typed: str) -> list[str]:
        page = clerk.page(f"/records?q={typed}")
        return [squeeze(td.text_content()) for td in page.xpath('//table[@id="record-table"]/tbody/tr/td[1]')
                if td.get("colspan") is None]

    assert found(f"R-{first_record}") == [R(first_record)]
    assert found(f"C-{first_case}") == [R(first_record)]          # the record of that case
    assert found(R(second_record)) == [R(second_record)]
    assert found(f"R-{second_record + 100}") == []


# -- the portal ----------------------------------------------------------------------------------

def test_the_portal_writes_record_and_application_numbers(web, world):
    record_id, _ = publish(world)
    a = web("subject")
    a.get(f"/portal/records/{record_id}/objection")
    response = a.post(f"/portal/records/{record_id}/objection",
                      [("grounds", "factual_error"), ("statement", "认定金额有误。"),
                       ("evidence", (BytesIO(PDF), "回单.pdf"))], content_type="multipart/form-data")
    assert response.status_code == 302
    objection_id = int(location(response).rsplit("/", 1)[1])

    page = a.page(location(response))
    assert f"申请已提交（案件 {A_(objection_id)}）。" in page.alerts
    assert squeeze(page.xpath("//h1")[0].text_content()).startswith(f"异议申请 {A_(objection_id)}")
    assert f"失信记录 {R(record_id)}" in [squeeze(h.text_content()) for h in page.xpath('//div[@class="card-header"]')]

    page = a.page("/portal/")
    assert squeeze(page.xpath(f'//tr[@data-record="{record_id}"]/td[1]')[0].text_content()) == R(record_id)
    row = page.xpath(f'//tr[@data-application="{objection_id}"]')[0]
    assert squeeze(row.xpath("./td[1]")[0].text_content()) == A_(objection_id)
    assert squeeze(row.xpath("./td[3]")[0].text_content()) == R(record_id)

    page = a.page(f"/portal/records/{record_id}")
    assert squeeze(page.xpath("//title")[0].text_content()).startswith(f"记录 {R(record_id)}")
    assert f"正在办理（{A_(objection_id)}）" in squeeze(page.doc.text_content())

    # asking again names the open application by its number
    again = a.post(f"/portal/records/{record_id}/objection",
                   [("grounds", "factual_error"), ("statement", "再次提出。"), ("evidence", (BytesIO(PDF), "b.pdf"))],
                   content_type="multipart/form-data")
    assert f"（案件 {A_(objection_id)}）" in Page(again).text_of("form-error")


def test_the_messages_name_applications_by_number(web, world):
    record_id, _ = publish(world)
    objection_id = object_to(world, record_id)
    keep_record(world, objection_id)
    page = web("subject").page("/notifications")
    texts = [squeeze(n.text_content()) for n in page.xpath('//div[@id="notifications"]/a')]
    assert any(f"您的异议申请（案件 {A_(objection_id)}）已有结果：维持记录。" in t for t in texts), texts
    assert not any(re.search(r"#\d", t) for t in texts), texts


# -- searching people and the public site ---------------------------------------------------------

def test_personnel_and_the_public_site_find_by_record_number(web, world):
    with world.uow() as uow:
        create_user(uow, "personnel", password("personnel"), "钱人事", ["personnel"])
        uow.commit()
    person_record, person_case = world.open_record(CIVIL_SERVANT)
    department_record, department_case = publish(world, B)
    staff = web("personnel")

    def people(typed: str) -> list[str]:
        return [squeeze(a.text_content()).split()[0] for a in staff.page(f"/personnel/?q={typed}")
                .xpath('//div[@id="people"]/a')]

    assert people(f"R-{person_record}") == [world.subject_names[CIVIL_SERVANT]]
    assert people(C(person_case)) == [world.subject_names[CIVIL_SERVANT]]
    assert people(f"R-{department_record}") == []         # a department is nobody's integrity file

    public = web()
    page = public.page(f"/public/?q=R-{department_record}")
    assert [int(v) for v in page.xpath("//tr[@data-public-record]/@data-public-record")] == [department_record]
    assert squeeze(page.xpath("//tr[@data-public-record]//*[@data-record-number]")[0].text_content()) == \
        R(department_record)
    assert public.page(f"/public/records/{department_record}").text_of("record-number") == R(department_record)
    assert public.page(f"/public/?q=R-{person_record}").xpath("//tr[@data-public-record]") == []   # unpublished
    assert public.page(f"/public/?q=C-{department_case}").xpath("//tr[@data-public-record]") == []  # no case numbers


# -- English, the API -----------------------------------------------------------------------------

def test_numbers_read_the_same_in_english(web, world):
    record_id, lifecycle_id = world.open_record(A)
    clerk = web("clerk")
    page = clerk.page(f"/cases/{lifecycle_id}?lang=en")
    assert page.html_lang == "en"
    assert C(lifecycle_id) in squeeze(page.xpath("//h1")[0].text_content())
    assert f"Dishonesty records {R(record_id)}" in [squeeze(h.text_content())
                                                    for h in page.xpath('//div[@class="card-header"]')]
    page = clerk.page("/records?lang=en")
    assert page.xpath('//table[@id="record-table"]//th[1]')[0].text_content() == "Record no."


def test_the_api_adds_numbers_to_records_and_cases(app, world):
    record_id, lifecycle_id = publish(world)
    objection_id = object_to(world, record_id)
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["leader"], "test")
        uow.commit()
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    record = client.get(f"/api/v1/records/{record_id}", headers=headers).get_json()
    assert (record["id"], record["number"]) == (record_id, R(record_id))
    for case_id, number in ((lifecycle_id, C(lifecycle_id)), (objection_id, A_(objection_id))):
        case = client.get(f"/api/v1/cases/{case_id}", headers=headers).get_json()
        assert (case["id"], case["number"]) == (case_id, number)
    found = client.get(f"/api/v1/records?q=R-{record_id}", headers=headers).get_json()
    assert [r["id"] for r in found["records"]] == [record_id]
    schemas = client.get("/api/v1/openapi.json", headers=headers).get_json()["components"]["schemas"]
    assert "number" in schemas["Record"]["required"] and "number" in schemas["Case"]["required"]


# -- a decision document's text ---------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_decision_documents_name_the_record_and_case_by_number(world, tmp_path, instance_dir):
    record_id, lifecycle_id = publish(world)
    objection_id = object_to(world, record_id)
    keep_record(world, objection_id)

    def text_of(case_id: int, kind: str) -> str:
        with world.factory() as session:
            pdf = session.scalars(select(Document.pdf).where(Document.case_id == case_id, Document.kind == kind)).one()
        path = tmp_path / f"{kind}-{case_id}.pdf"
        path.write_bytes(bytes(pdf))
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
        return re.sub(r"\s+", "", out)

    decided = "行政处罚，2026年5月29日认定"            # CAPTURE's source and decision date
    objection = text_of(objection_id, "objection")
    assert re.search(rf"对政务失信记录{R(record_id)}“[^”]+”（{decided}）提出异议", objection)
    receipt = text_of(objection_id, "receipt")
    assert f"（案件编号{A_(objection_id)}，涉及政务失信记录{R(record_id)}“" in receipt
    sanction = text_of(lifecycle_id, "sanction")
    assert f"失信记录：{R(record_id)}“" in sanction
