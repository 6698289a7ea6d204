"""Signed PDF decisions issued by the real processes, checked from the outside.

Every kind of document (a department's and a civil servant's sanction, an objection decision, a
civil servant's self-correction decision, a repair approval, receipts, a supplement request) is
issued by driving the BPMN processes once per database (module-scoped `issued`), then checked with
independent tools: poppler's `pdfsig` and pyHanko (office certificate as the trust root) say the
signature is valid over the whole file and invalid after one flipped byte; `pdffonts` shows an
embedded CJK font; `pdftotext` gives back the number, the subject's name and the remedy notice
that fits the subject's kind, and the literal text of markup in the facts, wrapped inside the page.
Numbering (per kind and year, a new year restarts, a rolled-back issue gives its number back, two
concurrent issuers on PostgreSQL never share or skip one) and corrections use their own database.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import workflows.accounts
from workflows.applications import file_credit_repair, file_objection, file_self_correction
from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.documents import correct_document, issue_document, verify_pdf
from workflows.documents.content import chinese_date
from workflows.documents.signing import office_certificate
from workflows.migrations import upgrade_database
from workflows.models import Case, Document, Record, Subject
from workflows.records import open_record
from workflows.settings import Settings
from workflows.worker import run_once

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdfsig", "pdffonts", "pdftotext", "pdfinfo")),
                                reason="poppler-utils (pdfsig, pdffonts, pdftotext, pdfinfo) not installed")

SETTINGS = Settings()
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
DEPARTMENT_A, DEPARTMENT_B, CIVIL_SERVANT = 0, 1, 3          # indexes into SUBJECTS
MARKUP = "<script>alert(1)</script><b>x</b>"
PG_SCHEMA = "credflow_documents_test"
PG_URL = os.environ.get("TEST_DATABASE_URL")          # as in tests/conftest.py
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL not set"))]


def integration_conftest(config):
    """tests/integration/conftest.py as loaded by pytest (`import conftest` depends on the order in
    which pytest happened to load the suite's several conftest.py files)."""
    here = Path(__file__).with_name("conftest.py").resolve()
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == here:
            return plugin
    raise LookupError(here)


# -- the signing instance (one demo certificate for the whole session) --------------------------

@pytest.fixture(scope="session")
def signing_instance(tmp_path_factory):
    """Where the demo office certificate (a 2048-bit key) is made, once per session (and per xdist
    worker); tests/webapp/test_documents_web.py uses the same folder."""
    folder = tmp_path_factory.getbasetemp() / "credflow-documents-instance"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def _instance(monkeypatch, signing_instance):
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(signing_instance))
    # the session's one office certificate (tests/conftest.py) signs and verifies everything
    for name in ("CREDFLOW_SIGNING_KEY", "CREDFLOW_SIGNING_CERT", "CREDFLOW_SETTINGS"):
        monkeypatch.delenv(name, raising=False)


# -- tools --------------------------------------------------------------------------------------

def run_tool(args: list[str], pdf: bytes, tmp_path) -> str:
    path = tmp_path / f"doc-{hashlib.sha256(pdf).hexdigest()[:12]}.pdf"
    path.write_bytes(pdf)
    done = subprocess.run([*args, str(path), *(["-"] if args[0] == "pdftotext" else [])],
                          capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def pdfsig(pdf: bytes, tmp_path) -> str:
    return run_tool(["pdfsig"], pdf, tmp_path)


def pdftotext(pdf: bytes, tmp_path, *options: str) -> str:
    return run_tool(["pdftotext", *options], pdf, tmp_path)


def pdffonts(pdf: bytes, tmp_path) -> list[dict]:
    """pdffonts' table: a long name overflows its column, so read each row's fixed tail from the right
    (type and encoding may hold spaces; emb, sub, uni and the object number and generation do not)."""
    lines = run_tool(["pdffonts"], pdf, tmp_path).splitlines()
    assert lines[0].split()[:2] == ["name", "type"] and set(lines[1]) <= {"-", " "}, lines[:2]
    fonts = []
    for row in lines[2:]:
        tokens = row.split()
        if len(tokens) < 7:
            continue
        fonts.append({"name": tokens[0], "emb": tokens[-5], "sub": tokens[-4], "uni": tokens[-3],
                      "type": " ".join(tokens[1:-5])})
    return fonts


PAGE_FOOTER = re.compile(r"^\s*—\s*\d+\s*—\s*$")


def flat(pdf_text: str) -> str:
    """The text without page footers and without any whitespace (lines wrap anywhere)."""
    lines = [line for line in pdf_text.replace("\f", "\n").splitlines() if not PAGE_FOOTER.match(line)]
    return re.sub(r"\s+", "", "".join(lines))


def pyhanko_status(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(signatures) == 1, f"expected one signature, found {len(signatures)}"
    # pyHanko runs an event loop; a browser test earlier in this worker may have one running
    from workflows.documents.signing import outside_event_loop
    return outside_event_loop(lambda: validate_pdf_signature(signatures[0], ValidationContext(
        trust_roots=[office_certificate(SETTINGS.office_name)])))


def signed_ranges(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert len(found) == 1, "expected one /ByteRange"
    return tuple(int(v) for v in found[0])


def flip_one_byte(pdf: bytes) -> tuple[bytes, int]:
    """One bit flipped in the middle of the file, inside the signed range (not the /Contents hex)."""
    a, b, c, d = signed_ranges(pdf)
    assert (a, c + d) == (0, len(pdf)), "the byte ranges must cover the file around the signature"
    position = len(pdf) // 2
    if not (a <= position < a + b or c <= position < c + d):
        position = (a + b) // 2
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    return bytes(tampered), position


# -- the documents, issued once per database by driving the processes ---------------------------

@dataclass(frozen=True)
class Issued:
    id: int
    kind: str
    year: int
    serial: int
    number: str
    title: str
    code: str
    sha256: str
    pdf: bytes
    subject_name: str
    subject_kind: str
    subject_code: str
    supersedes_id: int | None
    superseded_by_id: int | None


def snapshot(session, document: Document) -> Issued:
    subject = session.get(Subject, document.subject_id)
    return Issued(document.id, document.kind, document.year, document.serial, document.number, document.title,
                  document.verification_code, document.sha256, bytes(document.pdf), subject.name, subject.kind,
                  subject.code, document.supersedes_id, document.superseded_by_id)


def documents_of_case(world, case_id: int) -> list[Issued]:
    with world.factory() as session:
        rows = session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)).all()
        return [snapshot(session, d) for d in rows]


def the_document(world, case_id: int, kind: str) -> Issued:
    found = [d for d in documents_of_case(world, case_id) if d.kind == kind]
    assert len(found) == 1, f"expected one {kind} document of case {case_id}, found {[d.number for d in found]}"
    return found[0]


def long_facts() -> str:
    """Markup, a long unbroken run of digits and Latin letters, then Chinese: 5,000 characters, the
    form's maximum, without any whitespace or em dash (so the flattened text can be compared)."""
    facts = MARKUP + "".join(str(i % 10) for i in range(1500)) + "W" * 400
    cjk = "逾期未支付中小企业账款金额巨大影响恶劣且拒不整改"
    facts += (cjk * (5000 // len(cjk) + 1))[:5000 - len(facts)]
    assert len(facts) == 5000
    return facts


def drive_all_kinds(world, capture) -> dict[str, Issued]:
    run = world.run

    def publish(subject: int, **extra) -> tuple[int, int]:
        record, case = run("clerk", open_record, world.subjects[subject], {**capture, **extra})
        run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
        run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
        return record.id, case.id

    docs: dict[str, Issued] = {}
    # a department's sanction decision (sanction 1)
    record_a, lifecycle_a = publish(DEPARTMENT_A)
    docs["sanction_department"] = the_document(world, lifecycle_a, "sanction")

    # a civil servant's self-correction decision, then the lighter sanction (sanction 2)
    record, lifecycle = run("clerk", open_record, world.subjects[CIVIL_SERVANT], {**capture, "severity": "serious"})
    run("reviewer", complete_task, world.task(lifecycle.id, "legality_review").id, APPROVE)   # confirmed: told
    application = run("subject_c", file_self_correction, record.id, ["recovered_loss"], "已全额退赔", [])
    run("reviewer", complete_task, world.task(application.id, "assessment").id,
        {"proposal": "lighter", "proposed_severity": "general", "assessment_reason": "已挽回损失"})
    run("leader", complete_task, world.task(application.id, "leader_decision").id,
        {"mitigation_decision": "lighter", "mitigated_severity": "general", "mitigated_max_months": 6,
         "decision_reason": "主动纠正，从轻处理"})
    docs["self_correction"] = the_document(world, application.id, "self_correction")
    run("leader", complete_task, world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    docs["sanction_civil_servant"] = the_document(world, lifecycle.id, "sanction")

    # markup and 5,000 characters of facts (sanction 3)
    _, lifecycle_long = publish(DEPARTMENT_B, facts=long_facts())
    docs["sanction_long"] = the_document(world, lifecycle_long, "sanction")

    # an objection: accepted (receipt 1), verified, corrected (objection 1)
    objection = run("subject_a", file_objection, record_a, "factual_error", "金额有误", [])
    run("clerk", complete_task, world.task(objection.id, "acceptance_check").id,
        {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    docs["receipt"] = the_document(world, objection.id, "receipt")
    run("reviewer", complete_task, world.task(objection.id, "verification").id,
        {"verification_outcome": "correct", "verification_reason": "金额确有错误",
         "corrected_facts": "逾期未支付账款 12 万元。"})
    run("leader", complete_task, world.task(objection.id, "leader_approval").id,
        {"final_outcome": "correct", "decision_reason": "予以更正"})
    docs["objection"] = the_document(world, objection.id, "objection")

    # a credit repair: supplement requested (supplement_request 1), accepted (receipt 2), approved (repair 1)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair = run("subject_a", file_credit_repair, record_a, "已履行全部义务", True, [1], [])
    run("clerk", complete_task, world.task(repair.id, "completeness_check").id,
        {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺缴款凭证"})
    docs["supplement_request"] = the_document(world, repair.id, "supplement_request")
    run("subject_a", complete_task, world.task(repair.id, "supplement").id, {"supplement_statement": "已补充"})
    run("clerk", complete_task, world.task(repair.id, "completeness_check").id,
        {"completeness": "complete", "completeness_reason": "齐全"})
    docs["repair_receipt"] = the_document(world, repair.id, "receipt")
    run("reviewer", complete_task, world.task(repair.id, "review").id,
        {"recommendation": "approve", "review_reason": "符合修复条件"})
    run("leader", complete_task, world.task(repair.id, "leader_decision").id,
        {"repair_decision": "approve", "decision_reason": "同意修复"})
    docs["repair"] = the_document(world, repair.id, "repair")
    return docs


@dataclass
class IssuedWorld:
    world: object
    docs: dict[str, Issued]


@pytest.fixture(scope="module", params=DATABASES)
def issued(request, tmp_path_factory, signing_instance):
    """One database per backend with every kind of document issued by the processes. On PostgreSQL
    it lives in its own schema, so the other tests' TRUNCATE of the default schema leaves it alone."""
    helpers = integration_conftest(request.config)
    from workflows.engine.bundle import clear_spec_cache
    from workflows.runtime import WORKFLOWS
    pg_engine = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("documents") / "credflow.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        base = request.getfixturevalue("_pg_migrated")      # this worker's database (pytest-xdist)
        pg_engine = make_engine(base)
        with pg_engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        url = base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{PG_SCHEMA}"
        upgrade_database(url)
    engine = make_engine(url)
    WORKFLOWS.clear()
    clear_spec_cache()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDFLOW_INSTANCE", str(signing_instance))
        mp.setattr(workflows.accounts, "_N", 2 ** 8)           # as tests/conftest.py does for each test
        world = helpers.World(make_session_factory(engine), FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST)))
        docs = drive_all_kinds(world, dict(helpers.CAPTURE))
    WORKFLOWS.clear()
    clear_spec_cache()
    yield IssuedWorld(world, docs)
    engine.dispose()
    if pg_engine is not None:
        with pg_engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        pg_engine.dispose()


KEYS = ["sanction_department", "sanction_civil_servant", "sanction_long", "objection", "self_correction",
        "repair", "receipt", "repair_receipt", "supplement_request"]
DECISION_KEYS = {"sanction_department", "sanction_civil_servant", "sanction_long", "objection", "self_correction",
                 "repair"}


# -- every kind: signature, tampering, fonts, text ----------------------------------------------

@pytest.mark.date_sensitive   # signed now, with a certificate made now, validated now
@pytest.mark.parametrize("key", KEYS)
def test_pdfsig_says_the_whole_document_is_validly_signed(issued, key, tmp_path):
    out = pdfsig(issued.docs[key].pdf, tmp_path)
    assert "Signature is Valid" in out, out
    assert "Total document signed" in out, out
    assert out.count("Signature #") == 1, out


@pytest.mark.date_sensitive   # signed now, with a certificate made now, validated now
@pytest.mark.parametrize("key", KEYS)
def test_pyhanko_trusts_the_office_certificate_and_verify_pdf_finds_the_document(issued, key):
    doc = issued.docs[key]
    status = pyhanko_status(doc.pdf)
    assert status.bottom_line, status.pretty_print_details()
    assert status.intact and status.valid and status.trusted
    assert hashlib.sha256(doc.pdf).hexdigest() == doc.sha256
    with issued.world.factory() as session:
        result = verify_pdf(session, doc.pdf, SETTINGS.office_name)
        assert result.signature_valid and result.intact
        assert result.document is not None and result.document.id == doc.id


@pytest.mark.date_sensitive   # signed now, with a certificate made now, validated now
@pytest.mark.parametrize("key", KEYS)
def test_one_flipped_byte_makes_the_signature_invalid_everywhere(issued, key, tmp_path):
    doc = issued.docs[key]
    tampered, position = flip_one_byte(doc.pdf)
    a, b, c, d = signed_ranges(doc.pdf)
    assert a + b <= c and not (a + b <= position < c), "the flipped byte must be outside /Contents"
    out = pdfsig(tampered, tmp_path)
    assert "Signature is Valid" not in out, out
    assert "Digest Mismatch" in out or "Signature is Invalid" in out, out
    status = pyhanko_status(tampered)
    assert not status.bottom_line
    assert not status.intact
    with issued.world.factory() as session:
        result = verify_pdf(session, tampered, SETTINGS.office_name)
    assert result.document is None and result.signature_valid is False


@pytest.mark.parametrize("key", KEYS)
def test_a_cjk_font_is_embedded(issued, key, tmp_path):
    fonts = pdffonts(issued.docs[key].pdf, tmp_path)
    cjk = [f for f in fonts if re.search(r"Noto.*CJK", f["name"], re.I)]
    assert cjk, fonts
    assert all(f["emb"] == "yes" for f in cjk), cjk
    assert all(f["emb"] == "yes" for f in fonts), f"a font is not embedded: {fonts}"


@pytest.mark.parametrize("key", KEYS)
def test_the_text_gives_back_the_number_and_the_subjects_name(issued, key, tmp_path):
    doc = issued.docs[key]
    body = flat(pdftotext(doc.pdf, tmp_path))
    assert doc.number in body
    assert doc.subject_name in body
    assert doc.title in body
    assert doc.code in body                       # the verification code printed under the QR code
    if doc.subject_kind == "civil_servant":      # never the full citizen ID on a document
        assert doc.subject_code not in body


@pytest.mark.parametrize("key", KEYS)
def test_the_remedy_notice_matches_the_subjects_kind(issued, key, tmp_path):
    doc = issued.docs[key]
    body = flat(pdftotext(doc.pdf, tmp_path))
    if key not in DECISION_KEYS:
        assert "救济途径" not in body and "行政复议" not in body and "申诉" not in body
        return
    assert "救济途径" in body
    if doc.subject_kind == "department":
        assert "60日内依法申请行政复议" in body
        assert "6个月内依法提起行政诉讼" in body
        assert "复核" not in body and "申诉" not in body
    else:
        assert doc.subject_kind == "civil_servant"
        assert "30日内向原处理机关申请复核" in body
        assert "15日内提出申诉" in body
        assert "行政复议" not in body and "行政诉讼" not in body


# what each document says, from the case it was issued in (whitespace removed: lines wrap anywhere)
CONTENT = {
    "sanction_department": ["经查，你单位（统一社会信用代码：", "失信事实：逾期未支付中小企业账款。",
                            "上述行为构成一般失信行为"],
    "sanction_civil_servant": ["经查，你（公民身份号码：", "决定实施以下失信惩戒措施"],
    "sanction_long": ["经查，你单位（统一社会信用代码："],
    "objection": ["异议理由：事实错误", "异议陈述：金额有误", "对该失信记录予以更正",
                  "更正后的失信事实为：逾期未支付账款12万元。"],
    "self_correction": ["主动挽回损失", "情况说明：已全额退赔", "决定从轻实施失信惩戒，失信程度按一般认定，公示期最长不超过6个月",
                        "理由：主动纠正，从轻处理"],
    "repair": ["决定准予信用修复", r"本机关于2026年9月9日受理", "理由：同意修复"],
    "receipt": ["提交的异议申请（案件编号", "材料齐全，本机关已于2026年6月1日受理"],
    "repair_receipt": ["提交的信用修复申请（案件编号", r"本机关将于2026年\d+月\d+日前作出决定"],
    "supplement_request": ["提交的信用修复申请（案件编号", r"请于2026年\d+月\d+日前补正以下材料：缴款凭证原件",
                           "逾期未补正的，视为撤回申请"],
}


@pytest.mark.parametrize("key", KEYS)
def test_each_document_says_what_was_decided(issued, key, tmp_path):
    body = flat(pdftotext(issued.docs[key].pdf, tmp_path))
    for expected in CONTENT[key]:
        assert re.search(expected, body), f"{expected!r} not in the text of {key}: {body[:600]}"
    assert "None" not in body and "{{" not in body and "于前" not in body and "于受理" not in body


@pytest.mark.parametrize("key", ["sanction_department", "sanction_civil_servant"])
def test_a_published_records_sanction_decision_states_its_publication_period(issued, key, tmp_path):
    doc = issued.docs[key]
    with issued.world.factory() as session:
        record = session.get(Record, session.get(Document, doc.id).record_id)
        start, min_end, max_end = record.publication_start, record.publication_min_end, record.publication_max_end
    assert start is not None                      # the lifecycle published it right after the decision
    body = flat(pdftotext(doc.pdf, tmp_path))
    assert "不予公示" not in body
    assert (f"该失信记录自{chinese_date(start)}起公示，最短公示至{chinese_date(min_end)}，"
            f"最长公示至{chinese_date(max_end)}。") in body


def test_which_subject_each_document_is_for(issued):
    docs = issued.docs
    kinds = {key: (docs[key].kind, docs[key].subject_kind) for key in KEYS}
    assert kinds == {
        "sanction_department": ("sanction", "department"),
        "sanction_civil_servant": ("sanction", "civil_servant"),
        "sanction_long": ("sanction", "department"),
        "objection": ("objection", "department"),
        "self_correction": ("self_correction", "civil_servant"),
        "repair": ("repair", "department"),
        "receipt": ("receipt", "department"),
        "repair_receipt": ("receipt", "department"),
        "supplement_request": ("supplement_request", "department"),
    }
    assert docs["repair"].title == "信用修复决定书"
    assert docs["objection"].title == "异议处理决定书"


# -- numbering ----------------------------------------------------------------------------------

def test_numbers_are_per_kind_and_year_from_one(issued):
    by_kind: dict[str, list[Issued]] = {}
    for key in KEYS:
        doc = issued.docs[key]
        prefix = SETTINGS.document_prefixes[doc.kind]
        assert doc.number == f"{prefix}〔2026〕{doc.serial}号"
        assert re.fullmatch(r"(\S+)〔(\d{4})〕(\d+)号", doc.number).groups() == (prefix, "2026", str(doc.serial))
        assert doc.year == 2026
        by_kind.setdefault(doc.kind, []).append(doc)
    serials = {kind: [d.serial for d in sorted(docs, key=lambda d: d.id)] for kind, docs in by_kind.items()}
    assert serials == {"sanction": [1, 2, 3], "receipt": [1, 2], "objection": [1], "self_correction": [1],
                       "repair": [1], "supplement_request": [1]}
    assert len({d.number for d in issued.docs.values()}) == len(KEYS)
    assert len({d.code for d in issued.docs.values()}) == len(KEYS)


def direct_issue(world, case_id: int, record_id: int, kind: str = "sanction", fail: bool = False) -> tuple[int, str]:
    """issue_document in a UnitOfWork of its own; with `fail`, an error after it, before the commit."""
    with world.uow("leader") as uow:
        case, record = uow.session.get(Case, case_id), uow.session.get(Record, record_id)
        document = issue_document(uow, kind, case, record, {})
        result = document.serial, document.number
        if fail:
            raise RuntimeError("failed after issuing, before the commit")
        uow.commit()
    return result


def year_serials(world, kind: str, year: int) -> list[int]:
    with world.factory() as session:
        return list(session.scalars(select(Document.serial).where(Document.kind == kind, Document.year == year)
                                    .order_by(Document.serial)))


def test_serials_restart_for_a_new_year(world, capture):
    # the working-day calendar does not cover 2027: issue directly, not through the processes
    record, case = world.run("clerk", open_record, world.subjects[DEPARTMENT_A], capture)
    world.clock.at = datetime(2026, 12, 31, 16, 0, tzinfo=CST)
    assert [direct_issue(world, case.id, record.id) for _ in range(2)] == [
        (1, "榆信惩决〔2026〕1号"), (2, "榆信惩决〔2026〕2号")]
    world.clock.at = datetime(2027, 1, 4, 9, 0, tzinfo=CST)
    assert direct_issue(world, case.id, record.id) == (1, "榆信惩决〔2027〕1号")
    world.clock.at = datetime(2027, 1, 5, 9, 0, tzinfo=CST)
    assert direct_issue(world, case.id, record.id) == (2, "榆信惩决〔2027〕2号")
    assert year_serials(world, "sanction", 2026) == [1, 2]
    assert year_serials(world, "sanction", 2027) == [1, 2]
    with world.factory() as session:
        doc = session.scalars(select(Document).where(Document.number == "榆信惩决〔2027〕2号")).one()
        assert doc.year == 2027 and doc.issued_at.astimezone(CST).date().isoformat() == "2027-01-05"


def test_a_rolled_back_issue_gives_its_number_back(world, capture):
    record, case = world.run("clerk", open_record, world.subjects[DEPARTMENT_A], capture)
    # the first issue of a kind in a year (its serial row is created) ...
    with pytest.raises(RuntimeError, match="before the commit"):
        direct_issue(world, case.id, record.id, fail=True)
    assert direct_issue(world, case.id, record.id) == (1, "榆信惩决〔2026〕1号")
    # ... and a later one (the row is incremented) both give the number back
    with pytest.raises(RuntimeError, match="before the commit"):
        direct_issue(world, case.id, record.id, fail=True)
    assert direct_issue(world, case.id, record.id) == (2, "榆信惩决〔2026〕2号")
    assert year_serials(world, "sanction", 2026) == [1, 2]
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 2


def issue_at_the_same_moment(world, case_id: int, record_id: int, kind: str, per_thread: int,
                             threads: int = 2) -> list[int]:
    """`threads` issuers, each `per_thread` times, every round started together; their serials."""
    barrier = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []

    def issuer() -> None:
        try:
            for _ in range(per_thread):
                barrier.wait(timeout=60)
                results.append(direct_issue(world, case_id, record_id, kind)[0])
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
            barrier.abort()

    workers = [threading.Thread(target=issuer) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert not errors, errors
    assert not any(w.is_alive() for w in workers)
    return results


def test_two_concurrent_issuers_share_no_number_and_skip_none(world, capture, database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: the race only exists on PostgreSQL")
    record, case = world.run("clerk", open_record, world.subjects[DEPARTMENT_A], capture)
    import workflows.documents as documents
    with monkeypatch.context() as mp:
        # Rendering and signing replaced by cheap stand-ins (unique bytes: the HTML names the number
        # and the verification code); the numbering under test is untouched. 30 real documents, taken
        # one after the other under the serial's row lock, would cost about 20 s; the short
        # transactions also make the two issuers meet more often (the year's first row included).
        mp.setattr(documents, "render_pdf", lambda html: (html.encode(), 0, (350.0, 120.0, 520.0, 185.0)))
        mp.setattr(documents, "sign_pdf", lambda pdf, *args, **kwargs: b"%PDF-stand-in\n" + pdf)
        taken = issue_at_the_same_moment(world, case.id, record.id, "sanction", per_thread=15)
    assert len(taken) == 30
    assert sorted(taken) == list(range(1, 31))                 # 30 distinct serials, no gap
    assert year_serials(world, "sanction", 2026) == list(range(1, 31))
    with world.factory() as session:
        numbers = set(session.scalars(select(Document.number).where(Document.kind == "sanction")))
    assert numbers == {f"榆信惩决〔2026〕{n}号" for n in range(1, 31)}
    # and once with the real rendering and signing, both issuers racing for a kind's first number
    assert sorted(issue_at_the_same_moment(world, case.id, record.id, "objection", per_thread=1)) == [1, 2]
    with world.factory() as session:
        pdfs = list(session.scalars(select(Document.pdf).where(Document.kind == "objection")))
    assert all(pyhanko_status(pdf).bottom_line for pdf in pdfs)


def test_the_seals_date_is_the_documents_date_on_a_utc_host(world, capture, monkeypatch, tmp_path):
    from datetime import timezone
    from types import SimpleNamespace
    import pyhanko.sign.signers.pdf_signer as pdf_signer
    instant = datetime(2026, 6, 2, 7, 30, tzinfo=CST)           # 2026-06-01 23:30 UTC

    class Now(datetime):                                        # the host's clock reads the app's instant
        @classmethod
        def now(cls, tz=None):
            return instant.astimezone(tz) if tz else instant.astimezone(timezone.utc).replace(tzinfo=None)

    monkeypatch.setattr(pdf_signer, "datetime", Now)
    monkeypatch.setattr(pdf_signer, "tzlocal", SimpleNamespace(get_localzone=lambda: timezone.utc))
    record, case = world.run("clerk", open_record, world.subjects[DEPARTMENT_A], capture)
    world.clock.at = instant
    direct_issue(world, case.id, record.id)
    with world.factory() as session:
        pdf = session.scalars(select(Document.pdf)).one()
    body = flat(pdftotext(pdf, tmp_path))
    assert "2026年6月2日" in body                               # the document's date (CST), under the seal
    assert "2026年6月1日" not in body


# -- correction ---------------------------------------------------------------------------------

def test_a_correction_is_a_new_number_that_names_the_old_one_and_the_old_pdf_is_unchanged(world, capture,
                                                                                         tmp_path):
    record, case = world.run("clerk", open_record, world.subjects[DEPARTMENT_A], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    old = the_document(world, case.id, "sanction")
    before = hashlib.sha256(old.pdf).hexdigest()
    assert before == old.sha256

    world.clock.advance(days=2)
    new_id = world.run("leader", lambda uow: correct_document(uow, old.id, "  认定依据条款引用有误  ").id)
    with world.factory() as session:
        new = snapshot(session, session.get(Document, new_id))
        old_after = snapshot(session, session.get(Document, old.id))
    assert new.id != old.id and new.kind == old.kind
    assert (new.number, new.serial) == ("榆信惩决〔2026〕2号", 2)
    assert new.supersedes_id == old.id
    assert old_after.superseded_by_id == new.id
    assert new.code != old.code
    # the old document is immutable: same bytes, same stored hash, still a valid signature
    assert old_after.pdf == old.pdf
    assert hashlib.sha256(old_after.pdf).hexdigest() == before == old_after.sha256
    assert pyhanko_status(old_after.pdf).bottom_line
    # the new one names the old number and the (trimmed) reason, and is signed too
    body = flat(pdftotext(new.pdf, tmp_path))
    assert f"本文书更正并取代{old.number}。更正理由：认定依据条款引用有误" in body
    assert new.number in body
    assert pyhanko_status(new.pdf).bottom_line
    with world.factory() as session:
        stored = session.get(Document, new_id)
        assert stored.supersede_reason == "认定依据条款引用有误"
    # a superseded document cannot be corrected again; a correction needs a reason
    with pytest.raises(ValueError, match="该文书已被更正"):
        world.run("leader", correct_document, old.id, "again")
    with pytest.raises(ValueError, match="请填写更正理由"):
        world.run("leader", correct_document, new_id, "   ")
    with pytest.raises(LookupError):
        world.run("leader", correct_document, 999999, "no such document")
    assert year_serials(world, "sanction", 2026) == [1, 2]


# -- escaping and wrapping ----------------------------------------------------------------------

def test_markup_in_the_facts_is_text_and_long_facts_wrap_inside_the_page(issued, tmp_path):
    doc = issued.docs["sanction_long"]
    plain = pdftotext(doc.pdf, tmp_path)
    body = flat(plain)
    assert MARKUP in body                                    # escaped, printed literally
    assert long_facts() in body                              # all 5,000 characters are there, in order
    # every line of the layout fits the text width of a normal decision page
    layout = pdftotext(doc.pdf, tmp_path, "-layout")
    normal = pdftotext(issued.docs["sanction_department"].pdf, tmp_path, "-layout")
    bound = max(len(line) for line in normal.splitlines()) + 10
    longest = max(len(line) for line in layout.splitlines())
    assert longest <= bound, f"a line of {longest} characters (a normal page's longest is {bound - 10})"
    # and, by position, every word lies between the page's margins
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"', pdftotext(doc.pdf, tmp_path, "-bbox"))
    assert len(words) > 100
    page_width, right_margin = 595.28, 26 * 72 / 25.4
    assert min(float(x0) for x0, _ in words) > 20 * 72 / 25.4
    assert max(float(x1) for _, x1 in words) <= page_width - right_margin + 2
    pages = int(re.search(r"Pages:\s+(\d+)", run_tool(["pdfinfo"], doc.pdf, tmp_path)).group(1))
    assert pages >= 3
    assert pyhanko_status(doc.pdf).bottom_line
