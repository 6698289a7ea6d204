"""What each kind of signed document says, read back from the PDF with poppler's `pdftotext`, for a
department and for a civil servant: 你单位 or 你 (never both), the record named by its number and
title, statuses in Chinese, no Latin words other than the record and document numbers, the
verification code, the codes of the subject and the verification address, which comes from the
settings (CREDFLOW_PUBLIC_URL). And the seal: the signature's appearance, rendered by poppler, is
a red ring with a red star in the middle.

The sanction decisions come from driving the record's lifecycle to publication; the other kinds are
issued directly (`issue_document`) with the data their processes give them, on the same records;
the integrity-file extract by its service (`credit_check_extract`)."""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

import workflows.accounts
from workflows.accountability import credit_check_extract
from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.documents import issue_document
from workflows.models import Case, Document, Record, Subject
from workflows.numbers import record_no
from workflows.records import open_record

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftotext", "pdftoppm")),
                                reason="poppler-utils (pdftotext, pdftoppm) not installed")

PUBLIC_URL = "https://xinyong.example.gov.cn/credflow"
DEPARTMENT, CIVIL_SERVANT, OTHER_PERSON = 0, 3, 4           # indexes into workflows.demo.SUBJECTS
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
TITLE = "政府采购领域失信行为"                                 # the test capture's field
RAW_STATUSES = ("draft", "under_review", "confirmed", "sanctioned", "published", "exempted", "repaired")

# what the processes give each kind (workflows/application_ops.py) and the case it is issued in
APPLICATION_DOCUMENTS = {
    "objection": ("objection", "correct", {"grounds": "factual_error", "statement": "金额有误",
                                           "decision_reason": "予以更正", "corrected_facts": "逾期未支付账款12万元。"}),
    "self_correction": ("self_correction", "lighter", {"measures": ["recovered_loss"], "statement": "已全额退赔",
                                                       "mitigated_severity": "general", "mitigated_max_months": 6,
                                                       "decision_reason": "主动纠正，从轻处理"}),
    "repair": ("credit_repair", "approved", {"acceptance": {"accepted_on": "2026-06-03"},
                                             "decision_reason": "同意修复"}),
    "receipt": ("credit_repair", None, {"acceptance": {"accepted_on": "2026-06-01", "decision_due": "2026-06-15"}}),
    "supplement_request": ("credit_repair", None, {"missing_items": "缴款凭证原件",
                                                   "supplement_request": {"due_at": "2026-06-08"}}),
}


def integration_conftest(config):
    here = Path(__file__).with_name("conftest.py").resolve()
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) and Path(plugin.__file__).resolve() == here:
            return plugin
    raise LookupError(here)


def pdf_file(pdf: bytes, folder: Path, name: str) -> Path:
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


def text_of(pdf: bytes, folder: Path, name: str) -> str:
    """The document's text with all whitespace removed (lines wrap anywhere), footers included."""
    out = subprocess.run(["pdftotext", str(pdf_file(pdf, folder, name)), "-"], capture_output=True, text=True,
                         timeout=60).stdout
    return re.sub(r"\s+", "", out)


@pytest.fixture(scope="module")
def signing_instance(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "credflow-documents-instance"   # as test_documents.py
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def documents(request, tmp_path_factory, signing_instance):
    """Every kind of document for a department and for a civil servant, on one SQLite database:
    {(kind, subject kind): (pdf bytes, facts about it)}."""
    helpers = integration_conftest(request.config)
    from workflows.engine.bundle import clear_spec_cache
    from workflows.runtime import WORKFLOWS
    path = tmp_path_factory.mktemp("wording") / "credflow.sqlite3"
    shutil.copy(request.getfixturevalue("_sqlite_template"), path)
    engine = make_engine(f"sqlite:///{path}")
    WORKFLOWS.clear()
    clear_spec_cache()
    issued = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CREDFLOW_INSTANCE", str(signing_instance))
        mp.setenv("CREDFLOW_PUBLIC_URL", PUBLIC_URL + "/")      # a trailing slash is not doubled
        for name in ("CREDFLOW_SIGNING_KEY", "CREDFLOW_SIGNING_CERT", "CREDFLOW_SETTINGS"):
            mp.delenv(name, raising=False)
        mp.setattr(workflows.accounts, "_N", 2 ** 8)
        world = helpers.World(make_session_factory(engine), FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST)))
        run = world.run
        for index in (DEPARTMENT, CIVIL_SERVANT):
            record, lifecycle = run("clerk", open_record, world.subjects[index], dict(helpers.CAPTURE))
            run("reviewer", complete_task, world.task(lifecycle.id, "legality_review").id, APPROVE)
            run("leader", complete_task, world.task(lifecycle.id, "leader_approval").id, LEADER_OK)

            def issue_all(uow, record_id=record.id, lifecycle_id=lifecycle.id):
                record = uow.session.get(Record, record_id)
                kind_of_subject = record.subject.kind
                sanction = uow.session.query(Document).filter_by(case_id=lifecycle_id, kind="sanction").one()
                pdfs = {("sanction", kind_of_subject): bytes(sanction.pdf)}
                filed = datetime(2026, 6, 1, 9, 0, tzinfo=CST)
                for kind, (process, outcome, data) in APPLICATION_DOCUMENTS.items():
                    case = SimpleNamespace(id=lifecycle_id, process_key=process, outcome=outcome, created_at=filed,
                                           outcome_reason=data.get("decision_reason"), party_id=None)
                    document = issue_document(uow, kind, case, record, dict(data))
                    pdfs[(kind, kind_of_subject)] = bytes(document.pdf)
                if kind_of_subject == "department":     # its former head is held to account
                    person = uow.session.get(Subject, world.subjects[OTHER_PERSON])
                    case = SimpleNamespace(id=lifecycle_id, process_key="accountability", outcome="admonition",
                                           created_at=filed, outcome_reason="负有领导责任", party_id=person.id)
                    document = issue_document(uow, "accountability", case, record,
                                              {"post": "principal", "statement": "已整改"}, party=person)
                    pdfs[("accountability", "civil_servant")] = bytes(document.pdf)
                else:                                    # the person's own integrity file, with the record
                    document = credit_check_extract(uow, record.subject_id, "任职审查")
                    pdfs[("credit_check", "civil_servant")] = bytes(document.pdf)
                facts = SimpleNamespace(number=record_no(record), status=record.status)
                issued.update({key: (pdf, facts) for key, pdf in pdfs.items()})
            run("leader", issue_all)
        # the codes and names of everybody a document may name
        with world.factory() as session:
            codes = [s.display_code for s in session.query(Subject)]
    WORKFLOWS.clear()
    clear_spec_cache()
    yield SimpleNamespace(docs=issued, codes=codes, folder=tmp_path_factory.mktemp("wording-pdfs"))
    engine.dispose()


KEYS = [(kind, subject) for kind in ("sanction", *APPLICATION_DOCUMENTS) for subject in ("department", "civil_servant")]
KEYS += [("accountability", "civil_servant"), ("credit_check", "civil_servant")]


def test_every_kind_is_there_for_both_kinds_of_subject(documents):
    assert sorted(documents.docs) == sorted(KEYS)


@pytest.mark.parametrize("kind,subject", KEYS)
def test_the_document_addresses_its_subject_names_the_record_and_speaks_chinese(documents, kind, subject):
    pdf, record = documents.docs[(kind, subject)]
    body = text_of(pdf, documents.folder, f"{kind}-{subject}")
    # 你单位 for a department, 你 for a person; never the two-way 你单位（你）
    assert "（你）" not in body
    if kind == "credit_check":
        assert "你" not in body                               # an extract about the person, to a third party
    elif subject == "department":
        assert "你单位" in body and "你" not in body.replace("你单位", "")
    else:
        assert "你" in body and "你单位" not in body
    # the record by its number and title, never by a bare database id
    assert f"{record.number}“{TITLE}”" in body, body[:800]
    assert not re.search(r"编号为\d", body)
    # statuses in Chinese
    for raw in RAW_STATUSES:
        assert raw not in body
    if kind == "credit_check":
        assert f"{record.number}“{TITLE}”：公示中，2026年5月29日认定" in body
    # the verification address from the settings, once, with the code
    found = re.findall(re.escape(PUBLIC_URL) + r"/public/verify/([A-Z0-9]{12})", body)
    assert len(found) == 1, body[-400:]
    assert "127.0.0.1" not in body
    # no Latin words but the numbers, codes and the address
    rest = body.replace(PUBLIC_URL + "/public/verify/" + found[0], "").replace(found[0], "")
    for code in documents.codes:
        rest = rest.replace(code, "")
    rest = re.sub(r"[RCA]-\d{6}", "", rest)
    rest = re.sub(r"审计锚点：#\d+[0-9a-f]{16}", "", rest)
    assert not re.search(r"[A-Za-z]", rest), re.findall(r"[A-Za-z]+", rest)


def seal_pixels(pdf: bytes, folder: Path, name: str):
    """The pixels the signature's appearance adds to its page: the page rendered by poppler with
    and without annotations, compared. (x, y, (r, g, b)) of every pixel it changes clearly."""
    from PIL import Image, ImageChops
    path = pdf_file(pdf, folder, name)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(path)], capture_output=True,
                                                           text=True, timeout=60).stdout).group(1))
    changed = []
    for page in range(1, pages + 1):
        images = []
        for hide in (False, True):
            out = folder / f"{name}-{page}-{int(hide)}"
            subprocess.run(["pdftoppm", "-r", "100", "-f", str(page), "-l", str(page), "-singlefile", "-png",
                            *(["-hide-annotations"] if hide else []), str(path), str(out)], check=True, timeout=60)
            images.append(Image.open(f"{out}.png").convert("RGB"))
        shown, hidden = images
        box = ImageChops.difference(shown, hidden).getbbox()
        if box:
            x0, y0, x1, y1 = box
            for y in range(y0, y1):
                for x in range(x0, x1):    # changed clearly (not an anti-aliased edge's trace)
                    now, before = shown.getpixel((x, y)), hidden.getpixel((x, y))
                    if sum(abs(a - b) for a, b in zip(now, before)) > 90:
                        changed.append((x, y, now))
    return changed


@pytest.mark.parametrize("kind,subject", [("sanction", "department"), ("credit_check", "civil_servant")])
def test_the_seal_is_a_red_ring_with_a_red_star(documents, kind, subject):
    pdf, _ = documents.docs[(kind, subject)]
    pixels = seal_pixels(pdf, documents.folder, f"seal-{kind}-{subject}")
    red = [(x, y) for x, y, (r, g, b) in pixels if r > 150 and g < 110 and b < 110]
    reddish = [(x, y) for x, y, (r, g, b) in pixels if r > g + 40 and r > b + 40]   # over the printed text too
    assert len(red) > 1500, f"{len(red)} red pixels of {len(pixels)} changed"
    assert len(reddish) >= 0.95 * len(pixels), f"the seal is red: {len(reddish)} of {len(pixels)}"
    xs, ys = [x for x, _ in red], [y for _, y in red]
    width, height = max(xs) - min(xs) + 1, max(ys) - min(ys) + 1
    assert abs(width - height) <= 0.05 * width, (width, height)          # as wide as tall
    assert 130 <= width <= 175, width                                   # about 40 mm at 100 dpi (157 px)
    cx, cy, radius = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2, width / 2
    inked = set(red)
    # round: red on the rim in every direction, ...
    for degrees in range(0, 360, 10):
        angle = math.radians(degrees)
        assert any((round(cx + r * math.cos(angle)), round(cy + r * math.sin(angle))) in inked
                   for r in (radius * k / 100 for k in range(90, 101))), f"no rim at {degrees}°"
    # ... nothing outside the circle, and a star in the middle
    assert all(math.hypot(x - cx, y - cy) <= radius + 2 for x, y in red)
    middle = [(x, y) for x in range(round(cx - radius * 0.15), round(cx + radius * 0.15) + 1)
              for y in range(round(cy - radius * 0.15), round(cy + radius * 0.15) + 1)]
    assert sum(p in inked for p in middle) >= 0.3 * len(middle), "no star in the middle"
    upper_arm = [(round(cx + dx), round(cy - radius * 0.25)) for dx in (-1, 0, 1)]
    assert any(p in inked for p in upper_arm), "the star points up"


def test_the_start_up_warm_up_renders_and_signs_a_specimen(signing_instance, monkeypatch):
    from workflows.documents.warmup import warm_documents
    from workflows.settings import Settings
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(signing_instance))
    assert warm_documents(Settings()) > 0
