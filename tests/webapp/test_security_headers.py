"""The security headers and how stored files leave the app (issue 15, finding 1: stored script via
a diagram).

- Every route of the URL map, for every caller, answers with the Content-Security-Policy (no inline
  script), nosniff, a referrer policy and X-Frame-Options; so do static files, 404s and 500s.
- No page renders an inline script with code, an on*= handler or a javascript: link: every
  template is scanned, and every HTML page the sweep renders for each role is parsed.
- A stored file (a diagram, an upload, a document, a spreadsheet) is a download with nosniff and a
  policy that runs nothing; a manager's diagram carrying <script> included, under both its URLs.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from credflow_web import world_template
from test_route_matrix import BODIES, CALLERS, Caller, build, matrix_rules, methods_of, url_for_rule
from webapp.security_headers import PAGE_POLICY
from workflows.cases import start_case
from workflows.models import ProcessDefinition
from workflows.process_admin import deploy_edited

TEMPLATES = Path(__file__).resolve().parents[2] / "webapp" / "templates"
DIRECTIVES = ("default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
              "form-action 'self'", "frame-ancestors 'none'")
# Types a browser may render as a document of this origin: anything stored must not be served so.
INERT_TYPES = {"application/json", "text/plain"}
PAGE_TYPES = {"text/html"}


# -- the sweep's world: test_route_matrix's objects -----------------------------------------------

_TEMPLATE = {}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "security-headers", build)
    return path


@pytest.fixture
def objects(database_url, world, app):
    import hashlib

    from test_route_matrix import PDF
    o = _TEMPLATE["objects"] if database_url.startswith("sqlite") else build(world)
    digest = hashlib.sha256(PDF).hexdigest()
    path = Path(app.config["UPLOAD_FOLDER"]) / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    return o


# -- what every answer must carry -----------------------------------------------------------------

def header_problems(response) -> list[str]:
    h = response.headers
    problems = []
    policy = h.get("Content-Security-Policy", "")
    if not policy:
        problems.append("no Content-Security-Policy")
    elif "unsafe-inline" in policy.split("script-src", 1)[-1].split(";")[0] or "unsafe-eval" in policy:
        problems.append(f"a policy that lets inline script run: {policy}")
    elif "default-src 'none'" not in policy and not all(d in policy for d in DIRECTIVES):
        problems.append(f"a policy without {[d for d in DIRECTIVES if d not in policy]}")
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if h.get("Referrer-Policy") not in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"):
        problems.append(f"Referrer-Policy {h.get('Referrer-Policy')!r}")
    ancestors = "SAMEORIGIN" if "frame-ancestors 'self'" in policy else "DENY"
    if h.get("X-Frame-Options") != ancestors:
        problems.append(f"X-Frame-Options {h.get('X-Frame-Options')!r}, the policy says {ancestors}")
    return problems


def stored_file_problems(response) -> list[str]:
    """A response that is not one of our pages nor JSON: a download, or an inline preview that
    runs nothing (sandbox)."""
    if response.status_code >= 300 or response.mimetype in PAGE_TYPES | INERT_TYPES:
        return []
    disposition = response.headers.get("Content-Disposition", "")
    policy = response.headers.get("Content-Security-Policy", "")
    if disposition.startswith("attachment"):
        return [] if "sandbox" in policy else [f"a download ({response.mimetype}) without a sandboxing policy"]
    if disposition.startswith("inline") and "sandbox" in policy and "default-src 'none'" in policy:
        return []
    return [f"{response.mimetype} served as {disposition or 'a page'} ({policy or 'no policy'})"]


def markup_problems(markup: str) -> list[str]:
    """Inline script with code, on*= handlers and javascript: URLs in rendered HTML."""
    if not markup.strip():
        return []
    problems = []
    tree = lxml_html.fromstring(markup)
    for script in tree.iter("script"):
        if script.get("src") is None and script.get("type") != "application/json":
            problems.append(f"inline <script>: {(script.text or '').strip()[:60]!r}")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"<{element.tag} {name}=...>")
            if name in ("href", "action", "formaction", "src") and value.strip().lower().startswith("javascript:"):
                problems.append(f"<{element.tag} {name}={value[:40]!r}>")
    return problems


# -- the tests --------------------------------------------------------------------------------------

def sweep_problems(app, web, objects, caller: str) -> tuple[int, list[str]]:
    """Every route and method of the URL map as this caller: (answers, problems naming each)."""
    who = Caller(app, web, caller, objects)
    found, sent, pages = [], 0, 0
    for rule in matrix_rules(app):
        url = url_for_rule(app, rule, objects)
        channel = "api" if rule.endpoint.startswith("api.") else "web"
        for method in methods_of(rule):
            kind, make = BODIES.get(rule.endpoint, ("form", lambda o: {}))
            response = who.send(rule.endpoint, method, url, (kind, make(objects)), channel)
            sent += 1
            problems = header_problems(response) + stored_file_problems(response)
            if response.mimetype == "text/html":
                pages += 1
                problems += markup_problems(response.get_data(as_text=True))
            elif response.mimetype == "application/json" and isinstance(response.get_json(silent=True), dict):
                problems += markup_problems(response.get_json()["html"]) if "html" in response.get_json() else []
            found += [f"{caller}: {method} {url} ({response.status_code}): {p}" for p in problems]
    if sent <= 100 or pages == 0:
        found.append(f"{caller}: only {sent} answers, {pages} of them pages")
    return sent, found


@pytest.mark.one_database
def test_every_route_answers_every_caller_with_the_security_headers(app, web, objects):
    """Every route and method of the URL map, as each caller in turn (allowed or refused, page,
    redirect, error, JSON, file): the headers are there, a rendered page has no inline script or
    handler, and what is not a page is a download or inert. The callers share one world per
    database (building it is most of the cost): the few requests an allowed caller gets through (a
    claim, a comment, a credit-check extract) change no later caller's answers, whose statuses,
    types and dispositions are the same as on a world of their own."""
    found, total = [], 0
    for caller in CALLERS:
        sent, problems = sweep_problems(app, web, objects, caller)
        found, total = found + problems, total + sent
    assert not found, f"{len(found)} problems in {total} answers to {len(CALLERS)} callers:\n" + "\n".join(found)


def test_static_files_errors_and_the_login_page_carry_the_headers(web):
    anonymous, reviewer = web(), web("reviewer")
    answers = {
        "static css": anonymous.get("/static/credflow.css"),
        "static js": anonymous.get("/static/case_diagram.js"),
        "bpmn-js": anonymous.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js"),
        "missing static": anonymous.get("/static/no-such-file.js"),
        "404": reviewer.get("/no-such-page"),
        "405": reviewer.get("/tasks/1/claim"),
        "500": reviewer.get("/__test__/boom"),
        "api 401": anonymous.get("/api/v1/tasks"),
        "login": anonymous.get("/login"),
    }
    for name, response in answers.items():
        assert header_problems(response) == [], (name, response.status_code, header_problems(response))
    assert answers["500"].status_code == 500
    assert answers["login"].headers["Content-Security-Policy"] == PAGE_POLICY
    assert answers["login"].headers["X-Frame-Options"] == "DENY"


def test_no_template_has_inline_script_or_event_handlers():
    """The templates themselves (every branch, not only the ones the sweep renders)."""
    inline_script = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
    found = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        found += [f"{name}: {m.group(0)}" for m in inline_script.finditer(text)]
        found += [f"{name}: {m.group(0)[-60:]}" for m in handler.finditer(text)]
        found += [f"{name}: javascript: URL" for _ in re.finditer(r"=\s*[\"']\s*javascript:", text, re.I)]
    assert not found, "move the code to a file under webapp/static/:\n" + "\n".join(found)


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" targetNamespace="http://credflow.local/t">
  <bpmn:process id="probe" name="探针" isExecutable="true">
    <bpmn:extensionElements><script xmlns="http://www.w3.org/1999/xhtml">fetch('/marker?'+document.cookie)</script>
      <svg xmlns="http://www.w3.org/2000/svg" onload="fetch('/marker')"/></bpmn:extensionElements>
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="leader"><bpmn:flowNodeRef>look</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="look" name="查看"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="look.json"/></spiffworkflow:properties>
      </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look"/><bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
LOOK = {"type": "object", "properties": {"note": {"type": "string", "title": "意见"}}, "required": ["note"]}


def test_a_deployed_diagram_with_script_is_only_ever_a_download(web, world):
    """The finding: a manager's BPMN with an XHTML <script> (and an SVG onload) was served inline as
    application/xml, where the browser runs it. Both diagram URLs now answer it as an attachment
    with nosniff and a sandboxing policy; the viewer's fetch still gets the XML intact."""
    world.run("manager", deploy_edited, "probe", HOSTILE, {"look.json": LOOK})
    case_id = world.run(None, start_case, "probe").id
    with world.factory() as session:
        definition_id = session.scalars(select(ProcessDefinition.id).where(ProcessDefinition.key == "probe")).one()
    leader, manager = web("leader"), web("manager")
    for browser, url in ((leader, f"/cases/{case_id}/diagram.bpmn"),
                         (manager, f"/admin/definitions/{definition_id}/diagram.bpmn"),
                         (manager, f"/admin/definitions/{definition_id}/diagram.bpmn?download=1")):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Disposition"].startswith("attachment;"), url
        assert response.headers["Content-Disposition"].endswith('.bpmn"') or ".bpmn" in response.headers[
            "Content-Disposition"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy, url
        assert response.get_data(as_text=True) == HOSTILE, url         # the stored file, byte for byte
    # the editor's JSON carries the same XML: inert as JSON, never sniffed
    draft = manager.get("/admin/processes/probe/draft.json")
    assert draft.mimetype == "application/json" and draft.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" in draft.get_json()["bpmn_xml"]
