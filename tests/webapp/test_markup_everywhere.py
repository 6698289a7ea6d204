"""Markup typed into any free-text field stays text on every page that shows it and in every signed
document that prints it. Each field gets its own payload (a script, an <img onerror>, a <b>, an
entity and quotes; the tag names the field), typed where users type it: record capture, task forms
(a draft first, shown back, then submitted), comments, the portal's applications and tasks, upload
file names, the personnel roster and files, display names, the process editor, search boxes, the
JSON API. A page passes when lxml finds no element or on* attribute made from a payload and the
payload's exact characters in its text (neither raw nor double-escaped); a document, when pdftotext
gives it back literally and the HTML handed to WeasyPrint has no element made from a payload."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from io import BytesIO
from xml.sax.saxutils import quoteattr

import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

import workflows.documents
from credflow_web import CAPTURE, Page, location, password
from workflows.accounts import create_api_token, create_user
from workflows.demo import make_citizen_id, make_uscc
from workflows.models import Document, HumanTask, ProcessDefinition, Subject
from workflows.runtime import Actor
from workflows.worker import run_once

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def payload(tag: str) -> str:
    return f'<script>alert("{tag}")</script><img src=x onerror=alert("{tag}")><b>粗{tag}</b>&amp;"\''


def short(tag: str) -> str:
    """For fields of at most 40 characters."""
    return f"<script>alert({tag})</script><b>&amp;"


def filename(tag: str) -> str:
    """No slash: a file name keeps only what follows the last one."""
    return f"<img src=x onerror=alert('{tag}')><script>alert('{tag}')<b>{tag}&amp;.pdf"


# -- checks -------------------------------------------------------------------------------------

def inert(doc, where: str) -> None:
    """No element and no event handler came from a payload (the templates have no <b>, <i>, no
    image named x and no on* attribute; their inline scripts never call alert)."""
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        handlers = [a for a in el.attrib if a.lower().startswith("on")]
        assert not handlers, f"{where}: <{el.tag} {handlers}> came from markup"
        assert el.tag not in ("b", "i") and not (el.tag == "img" and el.get("src") == "x"), \
            f"{where}: <{el.tag}> came from markup: {lxml_html.tostring(el)[:120]!r}"
        if el.tag == "script":
            assert "alert" not in (el.text or "") + el.get("src", ""), f"{where}: a script came from markup"
            if el.get("type") == "application/json":
                json.loads(el.text)


def check(response_or_page, *texts, values=None, status=(200, 422)) -> Page:
    """The page is inert and shows each of `texts` literally; `values`: form controls showing them."""
    page = response_or_page if isinstance(response_or_page, Page) else Page(response_or_page)
    where = page.response.request.path if page.response.request else "?"
    assert page.status in status, (where, page.status, page.alerts)
    inert(page.doc, where)
    body = page.doc.text_content()
    for text in texts:
        assert text in body, f"{where}: {text!r} is not shown literally"
    for name, value in (values or {}).items():
        assert page.value_of(name) == value, f"{where}: field {name} shows {page.value_of(name)!r}"
    return page


def check_pdf(pdf: bytes, tmp_path, *texts) -> None:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    flat = re.sub(r"\s+", "", out)
    for text in texts:
        assert re.sub(r"\s+", "", text) in flat, f"{text!r} not printed literally in:\n{out}"


@pytest.fixture
def rendered(monkeypatch):
    """The HTML of every document issued, as handed to WeasyPrint."""
    seen, original = [], workflows.documents.render_html
    monkeypatch.setattr(workflows.documents, "render_html",
                        lambda kind, context: seen.append((kind, original(kind, context))) or seen[-1][1])
    yield seen
    for kind, text in seen:
        inert(lxml_html.document_fromstring(text), f"document {kind}")


def document(world, case_id: int, kind: str) -> Document:
    """The case's latest document of that kind."""
    with world.factory() as session:
        found = session.scalars(select(Document).where(Document.case_id == case_id, Document.kind == kind)
                                .order_by(Document.id.desc())).first()
        assert found is not None, f"no {kind} document for case {case_id}"
        session.expunge(found)
        return found


def user(world, username: str, display: str, roles, subject_id=None) -> None:
    """An account whose display name is `display`."""
    with world.uow() as uow:
        made = create_user(uow, username, password(username), display, roles, subject_id=subject_id)
        uow.commit()
        world.actors[username], world.user_ids[username] = Actor.of(made), made.id


def fill(b, world, case_id: int, bpmn_id: str, data: dict, draft_only: dict | None = None) -> HumanTask:
    """Type `data` into a staff task's form: saved as a draft, shown back as typed, then submitted."""
    row = world.task(case_id, bpmn_id)
    url = f"/tasks/{row.id}"
    b.get(url)
    draft = {**data, **(draft_only or {})}
    assert b.post(url, {"task_id": row.task_id, "action": "draft", **draft}).status_code == 302
    check(b.page(url), values={k: v for k, v in draft.items() if "&amp;" in str(v)})
    response = b.post(url, {"task_id": row.task_id, "action": "complete", **data})
    assert response.status_code == 302, Page(response).alerts
    return row


def upload(tag: str):
    return BytesIO(PDF), filename(tag)


def post_form(b, url: str, fields: list, status=302):
    response = b.post(url, fields, content_type="multipart/form-data")
    assert response.status_code == status, Page(response).alerts
    return response


# -- a record captured, returned, sanctioned, objected to, mitigated and repaired ---------------

@needs_pdftotext
def test_the_record_and_its_applications_show_markup_as_text_and_print_it_in_every_decision(
        web, world, rendered, tmp_path):
    name, facts, basis, project, phase = (payload("name"), payload("facts"), payload("basis"),
                                          payload("proj"), short("ph"))
    user(world, "rev_x", payload("dRev"), ["reviewer"])
    user(world, "lead_x", payload("dLead"), ["leader"])

    # the capture form: a wrong code shows every typed value back, the uploaded file's name too
    clerk = web("clerk")
    clerk.get("/records/new")
    form = [*{**CAPTURE, "subject_mode": "new", "kind": "department", "name": name, "code": "91610800MA00000000",
              "facts": facts, "legal_basis": basis, "project": project, "project_phase": phase,
              "conduct_date": "2026-02-10"}.items(), ("evidence", upload("ev"))]
    page = check(post_form(clerk, "/records/new", form, 422), filename("ev"),
                 values={"name": name, "facts": facts, "legal_basis": basis, "project": project,
                         "project_phase": phase})
    kept = page.xpath('//input[@name="evidence__kept"]/@value')
    form = [(k, v) for k, v in form if k not in ("code", "evidence")] + [
        ("code", make_uscc("11610800MB555555")), ("evidence__kept", kept[0])]
    case_url = location(post_form(clerk, "/records/new", form))
    case_id = int(case_url.rsplit("/", 1)[1])
    check(clerk.page(case_url), name, facts, basis, filename("ev"))
    check(clerk.page("/records"), name)
    with world.factory() as session:
        subject_id = session.scalars(select(Subject.id).where(Subject.code == make_uscc("11610800MB555555"))).one()
        record_id = session.scalars(select(HumanTask.record_id).where(HumanTask.case_id == case_id)).first()
    user(world, "dept_x", payload("dSubj"), ["subject"], subject_id)

    reviewer, leader = web("reviewer"), web("leader")

    # review: claimed by a reviewer with a marked-up name, reassigned by such a leader, returned
    rev_x = web("rev_x")
    row = world.task(case_id, "legality_review")
    check(rev_x.page("/inbox?tab=group"), name)
    assert rev_x.post(f"/tasks/{row.id}/claim").status_code == 302
    assert rev_x.post(f"/cases/{case_id}/comments", {"body": payload("comment")}).status_code == 302
    lead_x = web("lead_x")
    check(lead_x.page("/inbox?tab=all"), name, payload("dRev"), payload("dLead"))
    check(lead_x.page(f"/tasks/{row.id}"), name, facts, basis, payload("dRev"))
    assert lead_x.post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer"]}).status_code == 302
    check(reviewer.page("/notifications"), payload("dLead"))
    fill(reviewer, world, case_id, "legality_review", {"review_decision": "return", "review_opinion": payload("retOp")})
    # the returned capture task shows the record's own text in its fields
    capture = world.task(case_id, "capture")
    page = check(clerk.page(f"/tasks/{capture.id}"), name,
                 values={"facts": facts, "legal_basis": basis, "project": project, "project_phase": phase})
    data = {f: page.value_of(f) for f in ("source", "field", "severity", "facts", "legal_basis", "decision_date",
                                          "conduct_date", "project", "project_phase")}
    assert clerk.post(f"/tasks/{capture.id}", {"task_id": capture.task_id, "action": "complete",
                                               **data}).status_code == 302
    fill(reviewer, world, case_id, "legality_review", {"review_decision": "approve",
                                                       "review_opinion": payload("revOp")})

    # confirmed, the subject is told and asks for mitigation before the sanction: a form refused for a
    # missing choice keeps what was typed
    dept = web("dept_x")
    check(dept.page(f"/portal/records/{record_id}"), name, facts, basis, payload("dSubj"))
    apply_url = f"/portal/records/{record_id}/self_correction"
    dept.get(apply_url)
    check(post_form(dept, apply_url, [("statement", payload("scStmt")), ("evidence", upload("scEv"))], 422),
          filename("scEv"), values={"statement": payload("scStmt")})
    app_url = location(post_form(dept, apply_url, [("measures", "recovered_loss"), ("statement", payload("scStmt")),
                                                   ("evidence", upload("scEv2"))]))
    sc_case = int(app_url.rsplit("/", 1)[1])
    check(dept.page(app_url), filename("scEv2"), name)
    fill(reviewer, world, sc_case, "assessment", {"proposal": "lighter", "proposed_severity": "general",
                                                  "assessment_reason": payload("scAss")})
    fill(leader, world, sc_case, "leader_decision", {
        "mitigation_decision": "lighter", "mitigated_severity": "general", "mitigated_max_months": "6",
        "decision_reason": payload("scDec")})
    check(dept.page(app_url), payload("scDec"))
    check(reviewer.page(f"/cases/{sc_case}"), payload("scDec"), filename("scEv2"), name, facts)
    check_pdf(document(world, sc_case, "self_correction").pdf, tmp_path, name, payload("scStmt"), payload("scDec"))

    fill(leader, world, case_id, "leader_approval", {"leader_decision": "approve", "leader_opinion": payload("leadOp")})
    check(clerk.page(case_url), payload("retOp"), payload("revOp"), payload("leadOp"), payload("comment"),
          payload("dRev"))
    sanction = document(world, case_id, "sanction")
    check_pdf(sanction.pdf, tmp_path, name, facts, basis)
    anonymous = web()
    check(anonymous.page("/public/"), name)
    check(anonymous.page(f"/public/records/{record_id}"), name, facts, basis)
    check(anonymous.page(f"/public/verify?code={sanction.verification_code}"), name)

    # an objection: accepted (a receipt), the facts corrected (the decision prints them)
    objection_url = f"/portal/records/{record_id}/objection"
    dept.get(objection_url)
    app_url = location(post_form(dept, objection_url, [("grounds", "factual_error"), ("statement", payload("obStmt")),
                                                       ("evidence", upload("obEv"))]))
    ob_case = int(app_url.rsplit("/", 1)[1])
    check(dept.page(app_url), filename("obEv"))
    fill(clerk, world, ob_case, "acceptance_check", {"acceptance": "accept", "acceptance_reason": payload("obAcc")})
    check_pdf(document(world, ob_case, "receipt").pdf, tmp_path, name)
    fill(reviewer, world, ob_case, "verification", {"verification_outcome": "correct",
                                                    "corrected_facts": payload("obFix"),
                                                    "verification_reason": payload("obVer")})
    fill(leader, world, ob_case, "leader_approval", {"final_outcome": "correct", "decision_reason": payload("obDec")})
    check_pdf(document(world, ob_case, "objection").pdf, tmp_path, name, payload("obStmt"), payload("obDec"),
              payload("obFix"))
    check(dept.page(app_url), payload("obDec"))
    check(clerk.page(f"/cases/{ob_case}"), payload("obDec"), filename("obEv"))

    # the leader corrects the sanction decision: the new one prints why
    assert leader.post(f"/documents/{sanction.id}/correct", {"reason": payload("corr")}).status_code == 302
    check_pdf(document(world, case_id, "sanction").pdf, tmp_path, name, payload("corr"))

    # a credit repair: a supplement asked for (a notice), filed in the portal, accepted, approved
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair_url = f"/portal/records/{record_id}/credit_repair"
    dept.get(repair_url)
    app_url = location(post_form(dept, repair_url, [("obligations_fulfilled", "on"), ("statement", payload("rpStmt")),
                                                    ("commitment", upload("rpCom"))]))
    rp_case = int(app_url.rsplit("/", 1)[1])
    fill(clerk, world, rp_case, "completeness_check", {"completeness": "supplement", "missing_items": payload("rpMiss"),
                                                       "completeness_reason": payload("rpComp")})
    check_pdf(document(world, rp_case, "supplement_request").pdf, tmp_path, name, payload("rpMiss"))
    task_url = f"/portal/tasks/{world.task(rp_case, 'supplement').id}"
    dept.get(task_url)
    post_form(dept, task_url, [("supplement_statement", payload("rpSup")), ("supplement_files", upload("rpSupF"))])
    fill(clerk, world, rp_case, "completeness_check", {"completeness": "complete", "completeness_reason": "齐全"})
    check_pdf(document(world, rp_case, "receipt").pdf, tmp_path, name)
    fill(reviewer, world, rp_case, "review", {"recommendation": "approve", "review_reason": payload("rpRev")})
    fill(leader, world, rp_case, "leader_decision", {"repair_decision": "approve", "decision_reason": payload("rpDec")})
    check_pdf(document(world, rp_case, "repair").pdf, tmp_path, name, payload("rpDec"))
    check(dept.page(app_url), payload("rpDec"), filename("rpCom"), filename("rpSupF"))
    check(dept.page("/portal/"))
    check(clerk.page(f"/cases/{rp_case}"), filename("rpSupF"), name)
    assert {kind for kind, _ in rendered} == {"self_correction", "sanction", "receipt", "objection",
                                              "supplement_request", "repair"}


# -- a department captured through the API, its principal held accountable, personnel files -----

@needs_pdftotext
def test_accountability_personnel_files_and_the_api_show_markup_as_text_and_print_it(
        web, world, app, rendered, tmp_path):
    dname, facts, basis, code = payload("dept2"), payload("facts2"), payload("basis2"), make_uscc("11610800MB666666")
    user(world, "personnel", "钱人事", ["personnel"])
    with world.uow() as uow:
        token = create_api_token(uow, world.user_ids["clerk"], "test")
        uow.commit()
    api, auth = app.test_client(), {"Authorization": f"Bearer {token}"}
    capture = {**CAPTURE, "facts": facts, "legal_basis": basis, "conduct_date": "2026-02-10"}
    # the API answers JSON (never HTML), and gives back exactly what was sent
    response = api.post("/api/v1/records", headers=auth, json={
        "subject": {"kind": "department", "name": dname, "code": code}, "capture": capture})
    assert response.status_code == 201 and response.mimetype == "application/json"
    record = response.get_json()["record"]
    assert (record["subject"]["name"], record["facts"], record["legal_basis"]) == (dname, facts, basis)
    case_id = record["case_id"]
    refused = api.post("/api/v1/records", headers=auth, json={"subject_id": 1, "capture": capture, payload("key"): 1})
    assert refused.status_code == 422 and refused.mimetype == "application/json"
    assert payload("key") in refused.get_json()["fields"]

    # the roster: a new civil servant named in markup, principal of that department
    staff = web("personnel")
    staff.get("/personnel/roster")
    person_code = make_citizen_id("61080219700101009")
    check(staff.post("/personnel/roster", {
        "department_code": code, "post": "principal", "person_name": payload("person"),
        "person_id_number": person_code, "title": payload("title"), "start_date": "2025-01-01",
        "project": payload("hproj"), "project_phase": short("hph")}),
        dname, payload("person"), payload("title"), payload("hproj"), short("hph"))
    with world.factory() as session:
        person_id = session.scalars(select(Subject.id).where(Subject.code == person_code)).one()
    user(world, "person_x", payload("dPers"), ["subject"], person_id)
    check(staff.page("/personnel/"), payload("person"))
    check(staff.page("/personnel/", query_string={"q": payload("q")}), values={"q": payload("q")})

    world.complete("reviewer", world.task(case_id, "legality_review").id, {"review_decision": "approve",
                                                                           "review_opinion": "同意。"})
    world.complete("leader", world.task(case_id, "leader_approval").id, {"leader_decision": "approve",
                                                                         "leader_opinion": "同意。"})
    check_pdf(document(world, case_id, "sanction").pdf, tmp_path, dname, facts, basis)
    with world.factory() as session:
        acc_case = session.scalars(select(HumanTask.case_id).where(HumanTask.bpmn_id == "confirm_person")).one()
    clerk, reviewer = web("clerk"), web("reviewer")
    fill(clerk, world, acc_case, "confirm_person", {"person_confirmed": "confirm", "confirm_reason": payload("conf")},
         draft_only={"replacement_code": "<b onclick=1>&amp;"})
    # the person states their case in the portal, with a file
    person = web("person_x")
    check(person.page("/portal/"), payload("dPers"))
    task_url = f"/portal/tasks/{world.task(acc_case, 'statement').id}"
    person.get(task_url)
    post_form(person, task_url, [("statement_text", payload("accStmt")), ("statement_files", upload("accF"))])
    fill(reviewer, world, acc_case, "consider_self_correction", {"self_correction": "none",
                                                                 "self_correction_reason": payload("accSc")})
    fill(reviewer, world, acc_case, "propose_measure", {"measure": "admonition", "measure_reason": payload("accMe")})
    fill(web("leader"), world, acc_case, "leader_decision", {"final_measure": "admonition",
                                                             "decision_reason": payload("accDec")})
    check_pdf(document(world, acc_case, "accountability").pdf, tmp_path, payload("person"), dname, facts,
              payload("accStmt"), payload("accDec"))
    check(person.page(f"/portal/applications/{acc_case}"), payload("accDec"), filename("accF"), dname, facts)
    check(person.page("/portal/integrity"), payload("person"), payload("accDec"))
    check(clerk.page(f"/cases/{acc_case}"), payload("accDec"), filename("accF"), dname)

    # the personnel file: an entry typed in, a wrong kind refused, the signed credit check
    url = f"/personnel/people/{person_id}"
    assert staff.post(url, {"kind": "appraisal", "entry_date": "2026-01-20", "source": payload("src"),
                            "summary": payload("entry")}).status_code == 302
    check(staff.page(url), payload("person"), payload("title"), payload("hproj"), payload("entry"), payload("src"),
          payload("accDec"))
    check(staff.post(url, {"kind": payload("kind"), "summary": "x"}, follow_redirects=True), payload("kind"))
    response = staff.post(f"{url}/credit-check", {"purpose": payload("pur")})
    assert response.mimetype == "application/pdf"
    check_pdf(response.data, tmp_path, payload("person"), payload("entry"), payload("src"), payload("pur"))
    assert {kind for kind, _ in rendered} == {"sanction", "accountability", "credit_check"}


# -- names typed in the process editor, uploads, and what error messages repeat -----------------

def test_names_from_the_process_editor_and_input_repeated_in_errors_are_text(web, world):
    manager = web("manager")
    draft = manager.get("/admin/processes/record_lifecycle/draft.json").get_json()
    xml = draft["bpmn_xml"].replace('name="政务失信记录生命周期"', f'name={quoteattr(payload("proc"))}')
    xml = xml.replace('name="合法性审核"', f'name={quoteattr(payload("task"))}')
    form = json.loads(json.dumps(draft["forms"]["legality_review.json"]))
    opinion = form["properties"]["review_opinion"]
    opinion["title"], opinion["description"] = payload("label"), payload("desc")
    form["properties"]["review_decision"]["oneOf"][0]["title"] = payload("opt")
    headers = {"X-CSRFToken": manager.token}
    preview = manager.client.post("/admin/api/form-preview", headers=headers, json={
        **form, "properties": {**form["properties"], payload("prop"): {"type": "string"}}}).get_json()
    fragment = lxml_html.fragment_fromstring(preview["html"], create_parent="div")
    inert(fragment, "form preview")     # a field's name goes into id=, name=, data-field= and its label
    assert all(payload(t) in fragment.text_content() for t in ("label", "desc", "opt", "prop"))
    assert payload("prop") in fragment.xpath("//input/@name")
    response = manager.client.post("/admin/processes/record_lifecycle/deploy", headers=headers, json={
        "bpmn_xml": xml, "forms": {**draft["forms"], "legality_review.json": form}})
    assert response.get_json()["ok"], response.get_json()
    check(manager.page("/admin/processes/record_lifecycle/diff"), payload("task"))
    with world.factory() as session:
        newest = session.scalar(select(func.max(ProcessDefinition.id)))
    check(manager.page(f"/admin/definitions/{newest}"), payload("proc"))
    # an upload refused: the file's name and the offending element's id are repeated as text
    bad = (f'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" isExecutable="true">'
           f'<complexGateway id={quoteattr(payload("elem"))}/></process></definitions>').encode()
    manager.get("/admin/upload")
    page = check(manager.post("/admin/upload", [("bpmn", (BytesIO(bad), filename("bpmn")))],
                              content_type="multipart/form-data"), filename("bpmn"), payload("elem"))
    assert payload("elem") in page.xpath("//li/@data-element")

    # the renamed task in the inbox, on its page (labels, help, options) and on the case page
    _, case_id = world.open_record(0)
    reviewer, clerk = web("reviewer"), web("clerk")
    check(reviewer.page("/inbox"), payload("task"))
    check(reviewer.page(f"/tasks/{world.task(case_id, 'legality_review').id}"),
          *(payload(t) for t in ("task", "label", "desc", "opt")))
    check(clerk.page(f"/cases/{case_id}"), payload("task"))
    fill(reviewer, world, case_id, "legality_review", {"review_decision": "approve", "review_opinion": "同意。"})
    check(reviewer.page("/inbox"), payload("task"))      # the flash names the task

    # input that an error message repeats: a refused file's name
    clerk.get("/records/new")
    page = check(post_form(clerk, "/records/new", [
        *{**CAPTURE, "subject_mode": "new", "kind": payload("kind"), "name": "某单位", "code": "x"}.items(),
        ("evidence", (BytesIO(b"MZ" + b"\0" * 64), filename("exe")))], 422), filename("exe"))
    assert "请选择主体类型" in page.error_for("subject")   # the kind is refused without repeating it
    # an error page links back to where the visitor came from: the address stays an attribute
    referrer = 'http://example.org/" onmouseover="alert(1)'
    page = check(clerk.get("/cases/99999", headers={"Referer": referrer}), status=(404,))
    assert referrer in page.xpath("//a/@href")
    # what is typed into a search box or the login form comes back in the box, as typed
    q = payload("q")
    anonymous = web()
    check(anonymous.page("/public/", query_string={"q": q}), values={"q": q})
    check(anonymous.page("/public/verify", query_string={"code": q}), values={"code": q})
    check(clerk.page("/records", query_string={"q": q}), values={"q": q})
    check(reviewer.page("/inbox", query_string={"subject": q}), values={"subject": q})
    anonymous.get("/login")
    check(anonymous.post("/login", {"username": q, "password": "x"}), values={"username": q}, status=(401,))
