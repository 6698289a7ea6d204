"""The public complaint form and status page through the test client, and the complainant panel
of the staff's pages: bad input keeps what was typed, an oversized or wrong-type file is refused,
the challenge is checked and used once, 200 posts from one address then the 201st refused with
429, a forged post refused; the identity is seen only by the staff on the case."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from sqlalchemy import func, select

from credflow_web import Page
from workflows.accounts import create_api_token
from workflows.cases import claim_task, complete_task
from workflows.complaints.model import Complaint, ComplaintThrottle
from workflows.demo import SUBJECTS
from workflows.models import Attachment, Case, Document

LIMIT = 4096
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
NAME, PHONE, EMAIL = "陈投诉", "13912345678", "chen@example.cn"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_UPLOAD_BYTES": LIMIT}


def answer(page: Page) -> str:
    a, b = (int(x) for x in page.text_of("challenge-question").replace("= ?", "").split("+"))
    return str(a + b)


def form_values(page: Page, **changes) -> dict:
    values = {"concerned": "某县财政局", "facts": "拖欠中标企业工程款两年未付。", "happened_on": "2026-03-02",
              "contact_name": NAME, "contact_phone": PHONE, "contact_email": EMAIL,
              "challenge_token": page.value_of("challenge_token"), "challenge_answer": answer(page)}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def complaints(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(Complaint))


def file_one(web, **changes) -> tuple[str, str]:
    """A complaint filed on the form: (query code, complaint number)."""
    browser = web()
    page = browser.page("/complaints/new")
    response = browser.post("/complaints/new", form_values(page, **changes), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    done = browser.page(response.headers["Location"])
    return done.text_of("query-code"), done.text_of("complaint-number")


def test_a_citizen_files_with_evidence_and_reads_the_status(web, world):
    browser = web()
    page = browser.page("/complaints/new")
    assert page.status == 200 and page.one("challenge-question") is not None
    values = form_values(page)
    values["evidence"] = (BytesIO(PNG), "合同.png")
    response = browser.post("/complaints/new", values, content_type="multipart/form-data")
    assert response.status_code == 302
    done = browser.page(response.headers["Location"])
    code = done.text_of("query-code")
    assert len(code.replace("-", "")) == 16
    assert browser.get("/complaints/done").status_code == 302          # shown once
    with world.factory() as session:
        complaint = session.scalars(select(Complaint)).one()
        assert complaint.code_sha256 != code and code not in str(complaint.__dict__)
        files = session.scalars(select(Attachment).where(Attachment.case_id == complaint.case_id)).all()
        assert [f.filename for f in files] == ["合同.png"]
    status = Page(browser.post("/complaints/status", {"code": code.lower()}))
    assert status.status == 200 and status.one("complaint-stage").get("data-stage") == "registering"
    assert NAME not in status.text and PHONE not in status.text


def test_missing_fields_are_named_and_what_was_typed_stays(web, world):
    browser = web()
    page = browser.page("/complaints/new")
    response = browser.post("/complaints/new", form_values(page, concerned="", happened_on="", contact_phone="",
                                                           contact_email=""))
    again = Page(response)
    assert again.status == 422
    for name in ("concerned", "happened_on", "contact_phone"):
        assert again.error_for(name), name
    assert again.value_of("facts") == "拖欠中标企业工程款两年未付。" and again.value_of("contact_name") == NAME
    assert complaints(world) == 0


@pytest.mark.parametrize("body, name, words", [(PNG + b"\x00" * LIMIT, "big.png", "大小上限"),
                                                (b"MZ\x90\x00" + b"\x00" * 50, "evil.pdf", "类型不允许")])
def test_an_oversized_or_wrong_type_file_is_refused_and_the_rest_kept(web, world, body, name, words):
    browser = web()
    page = browser.page("/complaints/new")
    values = form_values(page)
    values["evidence"] = (BytesIO(body), name)
    again = Page(browser.post("/complaints/new", values, content_type="multipart/form-data"))
    assert again.status == 422 and words in again.error_for("evidence")
    assert again.value_of("concerned") == "某县财政局" and again.value_of("contact_email") == EMAIL
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert complaints(world) == 0


def test_a_wrong_answer_and_a_replayed_form_are_refused(web, world):
    browser = web()
    page = browser.page("/complaints/new")
    wrong = str(int(answer(page)) + 1)
    again = Page(browser.post("/complaints/new", form_values(page, challenge_answer=wrong)))
    assert again.status == 422 and again.error_for("challenge")
    assert complaints(world) == 0
    values = form_values(page)
    assert browser.post("/complaints/new", values).status_code == 302
    replay = Page(browser.post("/complaints/new", values))     # the same form again (a double click)
    assert replay.status == 422 and "重复提交" in replay.error_for("challenge")
    assert complaints(world) == 1


def test_200_posts_from_one_address_then_the_201st_is_refused(web, world):
    browser = web(ip="203.0.113.9")
    page = browser.page("/complaints/new")
    for _ in range(200):
        assert browser.post("/complaints/new", {"concerned": ""}).status_code == 422
    refused = Page(browser.post("/complaints/new", form_values(page)))
    assert refused.status == 429 and refused.one("rate-limited") is not None
    assert complaints(world) == 0
    other = web(ip="198.51.100.7")     # another address is not held back
    assert Page(other.post("/complaints/new", form_values(other.page("/complaints/new")))).status != 429
    with world.factory() as session:
        row = session.get(ComplaintThrottle, "post:203.0.113.9")
        assert row.attempts == 200


def test_a_forged_post_is_refused(web, world):
    browser = web()
    page = browser.page("/complaints/new")
    values = form_values(page)
    values["csrf_token"] = "forged"
    assert browser.post("/complaints/new", values).status_code == 400
    assert browser.post("/complaints/new", {k: v for k, v in form_values(page).items()}, csrf=False).status_code == 400
    assert complaints(world) == 0


def test_a_wrong_code_tells_nothing(web, world):
    file_one(web)
    browser = web()
    browser.get("/complaints/status")
    for wrong in ("AAAA-BBBB-CCCC-DDDD", "", "<script>"):
        page = Page(browser.post("/complaints/status", {"code": wrong}))
        assert page.one("status-result") is not None and page.doc.xpath('//*[@id="complaint-stage"]') == []
        assert "某县财政局" not in page.text and NAME not in page.text
    letter = browser.post("/complaints/status/letter", {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert letter.mimetype == "text/html" and "某县财政局" not in letter.get_data(as_text=True)


def work(world, who, case_id, bpmn_id, data):
    row = world.task(case_id, bpmn_id)
    world.run(who, claim_task, row.id)
    world.run(who, complete_task, row.id, data)
    return row.id


def test_the_identity_panel_shows_the_staff_on_the_case_only(web, world):
    code, number = file_one(web)
    with world.factory() as session:
        case_id = session.scalars(select(Complaint.case_id)).one()
    row = world.task(case_id, "registration")
    world.run("clerk", claim_task, row.id)
    clerk = web("clerk")
    task_page = clerk.page(f"/tasks/{row.id}")
    assert task_page.text_of("complainant-name") == NAME and PHONE in task_page.text
    assert clerk.page(f"/cases/{case_id}").text_of("complainant-name") == NAME
    for who in ("reviewer", "leader", "manager"):        # not on the case (yet): the panel, no identity
        page = web(who).page(f"/cases/{case_id}")
        assert page.status == 200 and page.one("complainant-hidden") is not None, who
        assert NAME not in page.text and PHONE not in page.text and EMAIL not in page.text, who
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["clerk"], "test")
        uow.commit()
    api = clerk.client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and NAME not in api.get_data(as_text=True) and PHONE not in api.get_data(as_text=True)
    world.run("clerk", complete_task, row.id, {"registration_decision": "accept", "subject_code": SUBJECTS[0][2],
                                               "registration_reason": "受理。"})
    work(world, "reviewer", case_id, "verification", {"findings": "属实。", "proposed_outcome": "founded"})
    work(world, "leader", case_id, "leader_outcome",
         {"outcome": "founded", "reply": "投诉属实，已启动失信记录认定。", "record_source": "breach_of_promise",
          "record_field": "bidding", "record_severity": "general", "legal_basis": "《招标投标法》"})
    leader = web("leader")
    case_page = leader.page(f"/cases/{case_id}")
    assert case_page.text_of("complainant-name") == NAME
    record_link = case_page.one("complaint-record").xpath(".//a/@href")[0]
    origin = leader.page(record_link)
    assert origin.status == 200 and number in origin.text_of("record-origin")
    # the citizen reads the reply and downloads the signed letter
    citizen = web()
    citizen.get("/complaints/status")
    status = Page(citizen.post("/complaints/status", {"code": code}))
    assert status.one("complaint-stage").get("data-stage") == "founded"
    assert "已启动失信记录认定" in status.text_of("complaint-reply")
    pdf = citizen.post("/complaints/status/letter", {"code": code})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    with world.factory() as session:
        document = session.scalars(select(Document).where(Document.kind == "complaint_reply")).one()
        assert document.case_id == case_id and NAME not in str(document.source_data)
        assert session.get(Case, case_id).status == "completed"
    verified = citizen.page(f"/public/verify?code={document.verification_code}")
    assert verified.status == 200 and verified.text_of("document-number") == document.number


def test_the_pages_speak_english_too(web, world):
    browser = web()
    page = browser.page("/complaints/new?lang=en")
    assert page.status == 200 and "Complain about government dishonesty" in page.text
    again = Page(browser.post("/complaints/new", {"concerned": ""}))
    assert again.error_for("facts") == "Say what happened"
    status = browser.page("/complaints/status")
    assert "Follow a complaint" in status.text
    for shown in (page, again, status):   # no Chinese left but the language switch's own name
        words = " ".join(t for t in shown.doc.xpath("//body//text()[not(ancestor::script)][not(ancestor::*[@lang='zh-CN'])]"))
        assert not re.search(r"[\u4e00-\u9fff]", words), re.findall(r".{0,20}[\u4e00-\u9fff]+.{0,20}", words)


def test_status_lookups_are_limited_per_address_too(app, web, world):
    from dataclasses import replace
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], complaint_status_lookups_per_address=3)
    code, _ = file_one(web)
    browser = web(ip="203.0.113.20")
    browser.get("/complaints/status")
    for _ in range(3):
        assert browser.post("/complaints/status", {"code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 200
    refused = Page(browser.post("/complaints/status", {"code": code}))     # even the right code, now
    assert refused.status == 429 and "某县财政局" not in refused.text
    assert browser.post("/complaints/status/letter", {"code": code}).status_code == 429


def test_the_staff_panel_speaks_english(web, world):
    file_one(web)
    with world.factory() as session:
        case_id = session.scalars(select(Complaint.case_id)).one()
    row = world.task(case_id, "registration")
    world.run("clerk", claim_task, row.id)
    clerk = web("clerk")
    for url in (f"/cases/{case_id}?lang=en", f"/tasks/{row.id}?lang=en"):
        page = clerk.page(url)
        panel = page.one("complaint-panel")
        words = " ".join(panel.xpath(".//text()[not(ancestor::*[@id='complainant-name'])]"))
        assert "Complaint" in words and "Complainant" in words, words
        assert not re.search(r"[\u4e00-\u9fff]", words), words
