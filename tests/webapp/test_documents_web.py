"""Signed decision documents through the Flask test client: staff download them from the case
page, a subject downloads its own from the portal and nobody else's, anonymous visitors are sent
to the login, the public verification page shows a document by its code (a civil servant's ID
masked, a corrected one marked) and checks an uploaded PDF's signature and integrity, and only a
leader issues a correction.

The documents are issued by the real lifecycle (a department's and a civil servant's sanction).
On SQLite they are part of this module's database template, copied per test; on PostgreSQL every
test issues them again. One demo signing certificate serves the whole session."""
from __future__ import annotations

import re
import shutil
from datetime import datetime
from io import BytesIO
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

import workflows.accounts
from credflow_web import Page, WebWorld, location, next_param, password
from workflows.accounts import create_user
from workflows.clock import CST, FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.demo import SUBJECTS
from workflows.engine.bundle import clear_spec_cache
from workflows.models import Case, Document
from workflows.runtime import WORKFLOWS

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, CIVIL_SERVANT = 0, 1, 3            # indexes into SUBJECTS; the "subject" account belongs to A


# -- one signing certificate for the session, documents in the SQLite template -----------------

@pytest.fixture(scope="session")
def signing_instance(tmp_path_factory):
    """The demo office certificate (a 2048-bit key), made once per session and xdist worker (the
    same folder as tests/integration/test_documents.py)."""
    folder = tmp_path_factory.getbasetemp() / "credflow-documents-instance"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def instance_dir(monkeypatch, signing_instance):
    """Overrides tests/webapp/conftest.py: the session's instance folder, so the certificate that
    signed the template's documents is the one the app verifies with."""
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(signing_instance))
    for name in ("CREDFLOW_SETTINGS", "CREDFLOW_SECRET_KEY", "CREDFLOW_MAX_UPLOAD_MB",
                 "CREDFLOW_SIGNING_KEY", "CREDFLOW_SIGNING_CERT"):
        monkeypatch.delenv(name, raising=False)
    return signing_instance


def issue_sanction(world: WebWorld, subject: int) -> None:
    """A sanction decision for SUBJECTS[subject], through the lifecycle."""
    _, case_id = world.open_record(subject)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)


def issue_documents(world: WebWorld) -> None:
    """A department's (A) and a civil servant's sanction decision."""
    for subject in (A, CIVIL_SERVANT):
        issue_sanction(world, subject)


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory, signing_instance):
    """Overrides tests/webapp/conftest.py's template for this module: the same seeded database
    with the two documents already issued (copied per test, like the seed itself)."""
    path = tmp_path_factory.mktemp("web-documents-template") / "template.sqlite3"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    WORKFLOWS.clear()
    clear_spec_cache()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CREDFLOW_INSTANCE", str(signing_instance))
            mp.setattr(workflows.accounts, "_N", 2 ** 8)
            issue_documents(WebWorld(make_session_factory(engine),
                                     FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))))
    finally:
        WORKFLOWS.clear()
        clear_spec_cache()
        engine.dispose()
    return path


class Documents:
    """The documents of this test's database as plain values: `department` (A's sanction) and
    `civil_servant`. On PostgreSQL (no template) one is issued when a test first asks for it."""

    def __init__(self, world):
        self.world, self._cache = world, {}

    def _of(self, subject: int) -> SimpleNamespace:
        if subject not in self._cache:
            query = select(Document).where(Document.subject_id == self.world.subjects[subject]).order_by(Document.id)
            with self.world.factory() as session:
                found = session.scalars(query).first()
            if found is None:
                issue_sanction(self.world, subject)
            with self.world.factory() as session:
                doc = session.scalars(query).first()
                self._cache[subject] = SimpleNamespace(
                    id=doc.id, number=doc.number, title=doc.title, code=doc.verification_code, pdf=bytes(doc.pdf),
                    sha256=doc.sha256, case_id=doc.case_id, record_id=doc.record_id,
                    subject_name=SUBJECTS[subject][1], subject_code=SUBJECTS[subject][2])
        return self._cache[subject]

    @property
    def department(self) -> SimpleNamespace:
        return self._of(A)

    @property
    def civil_servant(self) -> SimpleNamespace:
        return self._of(CIVIL_SERVANT)


@pytest.fixture
def docs(world, instance_dir):
    return Documents(world)


@pytest.fixture
def subject_b(world):
    """A second subject account, for SUBJECTS[1]."""
    with world.uow() as uow:
        create_user(uow, "subject_b", password("subject_b"), SUBJECTS[B][1], ["subject"],
                    subject_id=world.subjects[B])
        uow.commit()
    return "subject_b"


def flip_one_byte(pdf: bytes) -> bytes:
    """One bit flipped in the middle of the file, inside the signed range (not the /Contents hex)."""
    a, b, c, d = (int(v) for v in re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf).groups())
    position = len(pdf) // 2
    if not (a <= position < a + b or c <= position < c + d):
        position = (a + b) // 2
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    return bytes(tampered)


def documents_count(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(Document))


def upload(browser, pdf: bytes, name: str = "decision.pdf") -> Page:
    browser.get("/public/verify")                # the form's CSRF token
    response = browser.post("/public/verify", {"pdf": (BytesIO(pdf), name)}, content_type="multipart/form-data")
    assert response.status_code == 200
    return Page(response)


def verified_card(page: Page) -> dict:
    card = page.one("verified-document")
    values = {dt.text_content().strip(): dd.text_content().strip()
              for dt, dd in zip(card.xpath(".//dt"), card.xpath(".//dd"))}
    values["title"] = card.xpath('.//div[contains(@class, "card-header")]')[0].text_content().strip()
    return values


# -- downloads ----------------------------------------------------------------------------------

def test_staff_download_the_document_from_the_case_page(web, docs):
    browser = web("reviewer")
    page = browser.page(f"/cases/{docs.department.case_id}")
    assert page.status == 200
    links = page.xpath(f'//*[@id="documents"]//a[@data-document="{docs.department.id}"]')
    assert len(links) == 1
    assert docs.department.number in links[0].text_content()
    assert docs.department.code in page.one("documents").text_content()
    response = browser.get(links[0].get("href"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == docs.department.pdf
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote(f"{docs.department.number}.pdf") in disposition


def test_a_subject_downloads_its_own_document_from_the_portal_and_no_other(web, world, docs, subject_b):
    own = web("subject")
    record_page = own.page(f"/portal/records/{docs.department.record_id}")
    hrefs = record_page.xpath(f'//*[@id="documents"]//a[@data-document="{docs.department.id}"]/@href')
    assert hrefs == [f"/portal/documents/{docs.department.id}"]
    response = own.get(hrefs[0])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data() == docs.department.pdf
    # another subject's document, by its id: not found (not "forbidden": its existence is not told)
    assert own.get(f"/portal/documents/{docs.civil_servant.id}").status_code == 404
    assert own.get("/portal/documents/999999").status_code == 404
    # the staff route is not a way around it
    assert own.get(f"/documents/{docs.department.id}").status_code == 403

    other = web(subject_b)
    response = other.get(f"/portal/documents/{docs.department.id}")
    assert response.status_code == 404
    assert docs.department.pdf[:1000] not in response.get_data()


@pytest.mark.parametrize("route", ["/documents/{id}", "/portal/documents/{id}"])
def test_anonymous_visitors_are_sent_to_the_login(web, docs, route):
    url = route.format(id=docs.department.id)
    response = web().get(url)
    assert response.status_code == 302
    assert location(response).startswith("/login")
    assert next_param(response) in (url, url + "?")
    assert response.mimetype != "application/pdf"


# -- public verification ------------------------------------------------------------------------

def test_verify_by_code_shows_the_document_with_a_civil_servants_id_masked(web, docs):
    anonymous = web()
    # the address printed in the QR code redirects to the page with the code filled in
    response = anonymous.get(f"/public/verify/{docs.department.code}")
    assert response.status_code == 302
    assert location(response) == f"/public/verify?code={docs.department.code}"

    page = anonymous.page(location(response))
    assert page.status == 200
    card = verified_card(page)
    assert card["title"] == docs.department.title == "失信惩戒决定书"
    assert page.text_of("document-number") == docs.department.number
    assert card["出具日期"] == "2026-06-01"
    assert docs.department.subject_name in card["当事人"]
    assert docs.department.subject_code in card["当事人"]      # a department's code is public
    assert "有效" in page.text_of("document-state") and "已被更正" not in page.text_of("document-state")
    assert docs.department.sha256 in page.text
    assert not page.xpath('//*[@id="verify-result"]')            # no file was checked

    # a code is read case-insensitively
    assert web().page(f"/public/verify?code={docs.department.code.lower()}").text_of(
        "document-number") == docs.department.number

    page = web().page(f"/public/verify?code={docs.civil_servant.code}")
    card = verified_card(page)
    full_id = docs.civil_servant.subject_code
    masked = full_id[:6] + "*" * 10 + full_id[16:]
    assert page.text_of("document-number") == docs.civil_servant.number
    assert docs.civil_servant.subject_name in card["当事人"]
    assert masked in card["当事人"]
    assert full_id not in page.text                                # not anywhere in the page
    assert full_id[6:14] not in page.text                          # not even the birth date


@pytest.mark.parametrize("code", ["ZZZZZZZZZZZZ", "not a code", "A" * 40])
def test_an_unknown_code_is_not_found(web, code):
    page = web().page("/public/verify?" + f"code={quote(code)}")
    assert page.status == 200
    result = page.one("verify-result")
    assert result.get("data-valid") == "0"
    assert "没有与该验证码对应的文书" in result.text_content()
    assert not page.xpath('//*[@id="verified-document"]')


@pytest.mark.date_sensitive   # signed now, with a certificate made now, validated now
def test_an_uploaded_genuine_pdf_is_valid_and_one_flipped_byte_is_not(web, docs):
    browser = web()
    page = upload(browser, docs.department.pdf)
    result = page.one("verify-result")
    assert result.get("data-valid") == "1"
    assert "有效" in result.text_content()
    assert page.text_of("document-number") == docs.department.number

    page = upload(browser, flip_one_byte(docs.department.pdf))
    result = page.one("verify-result")
    assert result.get("data-valid") == "0"
    assert "无效" in result.text_content()
    assert not page.xpath('//*[@id="verified-document"]')
    assert docs.department.number not in page.text

    page = upload(browser, b"%PDF-1.4\nnot really a pdf\n%%EOF\n", "fake.pdf")
    assert page.one("verify-result").get("data-valid") == "0"

    browser.get("/public/verify")
    response = browser.post("/public/verify", {"pdf": (BytesIO(b"%PDF" + b"0" * (20 * 2 ** 20)), "big.pdf")},
                            content_type="multipart/form-data")
    assert response.status_code == 413


# -- correction ---------------------------------------------------------------------------------

@pytest.mark.date_sensitive   # signed now, with a certificate made now, validated now
def test_a_leader_corrects_a_document_from_the_case_page_and_a_reviewer_cannot(web, world, docs):
    old = docs.department
    case_url = f"/cases/{old.case_id}"
    before = documents_count(world)

    reviewer = web("reviewer")
    page = reviewer.page(case_url)
    assert not page.xpath(f'//form[@action="/documents/{old.id}/correct"]')
    response = reviewer.post(f"/documents/{old.id}/correct", {"reason": "想改就改"})
    assert response.status_code == 403
    assert documents_count(world) == before

    leader = web("leader")
    page = leader.page(case_url)
    assert len(page.xpath(f'//form[@action="/documents/{old.id}/correct"]')) == 1
    response = leader.post(f"/documents/{old.id}/correct", {"reason": ""})
    assert response.status_code == 400                             # a correction needs its reason
    assert documents_count(world) == before

    leader.get(case_url)
    response = leader.post(f"/documents/{old.id}/correct", {"reason": "认定依据条款引用有误"})
    assert response.status_code == 302
    assert location(response) == case_url and response.headers["Location"].endswith("#documents")
    assert documents_count(world) == before + 1
    with world.factory() as session:
        new = session.scalars(select(Document).where(Document.supersedes_id == old.id)).one()
        stored_old = session.get(Document, old.id)
        assert stored_old.superseded_by_id == new.id
        assert stored_old.pdf == old.pdf and stored_old.sha256 == old.sha256
        assert new.number == f"榆信惩决〔2026〕{before + 1}号" and new.case_id == old.case_id   # all are sanctions
        new_code, new_number = new.verification_code, new.number
        assert session.get(Case, old.case_id) is not None

    page = leader.page(case_url)
    assert any(new_number in alert for alert in page.alerts)
    items = page.xpath('//*[@id="documents"]//li')
    old_item = [li for li in items if li.xpath(f'.//a[@data-document="{old.id}"]')][0]
    assert "已被更正" in old_item.text_content()
    assert not old_item.xpath(".//form")                            # no second correction of it
    assert page.xpath(f'//*[@id="documents"]//a[@data-document="{new.id}"]')

    # the public page marks the old one and names its replacement; the new one is in force
    page = web().page(f"/public/verify?code={old.code}")
    state = page.text_of("document-state")
    assert "已被更正" in state and new_number in state
    page = web().page(f"/public/verify?code={new_code}")
    assert page.text_of("document-number") == new_number
    assert "已被更正" not in page.text_of("document-state")
    # the old file itself still verifies (it was issued and is unchanged), shown as corrected
    page = upload(web(), old.pdf)
    assert page.one("verify-result").get("data-valid") == "1"
    assert "已被更正" in page.text_of("document-state")

    # correcting it again is refused
    response = leader.post(f"/documents/{old.id}/correct", {"reason": "再次更正"})
    assert response.status_code == 400
    assert documents_count(world) == before + 1


def test_a_correction_reason_longer_than_the_form_allows_is_refused(web, world, docs):
    """The correction form says maxlength=2000; the server should hold to it too (like the other
    forms' limits), not render a reason of any length into a signed decision."""
    old = docs.department
    before = documents_count(world)
    leader = web("leader")
    leader.get(f"/cases/{old.case_id}")
    response = leader.post(f"/documents/{old.id}/correct", {"reason": "理" * 2001})
    assert response.status_code == 400
    assert documents_count(world) == before
