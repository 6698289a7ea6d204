"""Malformed and hostile BPMN/DMN driven through the deploy paths a process manager really uses:
the upload page (/admin/upload, multipart), the editor's JSON deploy (/admin/processes/<key>/deploy)
and `credflow deploy PATH`. Each is refused (4xx or exit 1, never a 500 or a traceback) with the
file, the element (where there is one) and the reason, and nothing changes: no new
ProcessDefinition version, no draft, no audit event, the running case untouched. At the end the
deployed lifecycle still runs, and a valid upload and a valid JSON deploy do deploy, so every
"nothing changed" above could have seen a change.

tests/unit/test_bundle.py checks the bundle checker itself; this corpus is about what reaches it
(file bytes, entities, encodings, sizes, folders) and what the manager is shown.
"""
from __future__ import annotations

import hashlib
import re
import resource
import shutil
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from workflows.models import Base, Case, ProcessDefinition
from workflows.paths import bundled_dir

from credflow_web import Page

KEY = "record_lifecycle"
FILE = "record_lifecycle.bpmn"
DMN_FILE = "sanction_rules.dmn"
BASE = (bundled_dir("bpmn") / FILE).read_text(encoding="utf-8")
DMN = (bundled_dir("bpmn") / DMN_FILE).read_text(encoding="utf-8")
SECRET = "root:x:0:0"                       # the first line of /etc/passwd on every Linux
XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
MAX_UPLOAD_MB = 1                             # so the request limit (5 uploads + 1 MB) is 6 MB
ENTITY_SECONDS = 3.0                          # an entity bomb must be refused within this much CPU time
ENTITY_MEMORY_MB = 150                        # ... and must not grow the process by this much
MARKUP_ID = "x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"   # an id that is markup once unescaped


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_UPLOAD_BYTES": MAX_UPLOAD_MB * 1024 * 1024}


# ------------------------------------------------------------------ building the corpus

def edit(*pairs: tuple[str, str], source: str = BASE) -> str:
    """The shipped diagram with each `old` replaced by `new` once; an `old` that is not there
    fails the test (the corpus must keep hitting what it means to hit)."""
    for old, new in pairs:
        if old not in source:
            raise AssertionError(f"corpus out of date: {old!r} is not in the diagram any more")
        source = source.replace(old, new, 1)
    return source


def retag(element_id: str, new_tag: str, source: str = BASE) -> str:
    """The element with this id turned into another BPMN element type, children kept."""
    pattern = re.compile(rf'<bpmn:(\w+) id="{element_id}"(.*?)</bpmn:\1>', re.S)
    if not pattern.search(source):
        raise AssertionError(f"corpus out of date: no element {element_id!r}")
    return pattern.sub(lambda m: f'<bpmn:{new_tag} id="{element_id}"{m.group(2)}</bpmn:{new_tag}>', source, 1)


def inside_process(xml: str) -> str:
    """Elements added at the end of the lifecycle process."""
    return edit(("</bpmn:process>", xml + "\n  </bpmn:process>"))


def with_doctype(dtd: str, reference: str = "") -> str:
    """The diagram with a DOCTYPE, and `reference` (an entity use) in the start event's text."""
    body = BASE.split("\n", 1)[1]
    if reference:
        body = edit(('<bpmn:startEvent id="start" name="收到失信信息">',
                     f'<bpmn:startEvent id="start" name="收到失信信息"><bpmn:documentation>{reference}'
                     '</bpmn:documentation>'), source=body)
    return f"{XML_DECL}<!DOCTYPE bpmn:definitions [\n{dtd}\n]>\n{body}"


def billion_laughs() -> str:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    return with_doctype("\n".join(levels), "&lol9;")


def quadratic_blowup() -> str:
    # one 50 kB entity used 20,000 times: 1 GB if expanded, 110 kB on the wire
    return with_doctype(f'<!ENTITY big "{"x" * 50_000}">', "&big;" * 20_000)


def big_documentation(size: int) -> str:
    return edit(('<bpmn:startEvent id="start" name="收到失信信息">',
                 f'<bpmn:startEvent id="start" name="收到失信信息"><bpmn:documentation>{"说明" * (size // 6)}'
                 '</bpmn:documentation>'))


def deep_nesting(depth: int = 5000) -> str:
    return edit(("<bpmn:documentation>承办人：录入记录、补正</bpmn:documentation>",
                 "<bpmn:documentation>" + "<x>" * depth + "</x>" * depth + "</bpmn:documentation>"))


def dmn_cell(cell_id: str, new_text: str) -> str:
    pattern = re.compile(rf'(<(?:inputEntry|outputEntry) id="{cell_id}">\s*<text>)(.*?)(</text>)', re.S)
    if not pattern.search(DMN):
        raise AssertionError(f"corpus out of date: no DMN cell {cell_id!r}")
    return pattern.sub(lambda m: m.group(1) + new_text + m.group(3), DMN, 1)


@dataclass
class Bad:
    """One refused deploy: where it goes, what is sent, and what the manager must be told."""
    name: str
    via: str                  # "upload" | "deploy" (editor JSON) | "draft" (editor JSON) | "cli" (credflow deploy PATH)
    body: object              # upload: bytes; deploy: bpmn_xml str or a whole JSON body (dict); cli: {file: text|bytes}
    file: str | None          # the file the message names (None: the request never got that far)
    element: str              # the element it names ("" = none)
    reason: str               # a pattern the reason must match
    status: int = 422
    filename: str = FILE      # the upload's file name
    forms: dict | None = None  # deploy: the forms sent (default: the current ones)
    bomb: bool = False        # must be refused quickly and without growing memory


def corpus(external_dtd_url: str) -> list[Bad]:
    return [
        # ---- not a BPMN file at all
        Bad("empty file", "upload", b"", FILE, "", r"empty"),
        Bad("only whitespace", "deploy", " \n\t ", FILE, "", r"empty"),
        Bad("plain text", "upload", "这不是 BPMN，只是一段文字。\n".encode(), FILE, "", r"malformed XML"),
        Bad("binary junk (a PNG)", "upload", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
            "junk.bpmn", "", r"not UTF-8 encoded", filename="junk.bpmn"),
        Bad("truncated XML", "upload", BASE[: len(BASE) // 2].encode(), FILE, "", r"malformed XML.*line \d+"),
        Bad("wrong root element (XHTML)", "upload",
            b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>hi</p></body></html>',
            FILE, "", r"root element is <html>"),
        Bad("BPMN namespace missing (wrong URI)", "upload",
            edit(('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
                  'xmlns:bpmn="http://example.com/not-bpmn"')).encode(), FILE, "",
            r"root element is <definitions> in namespace 'http://example.com/not-bpmn'"),
        Bad("not UTF-8 (GBK bytes under an UTF-8 declaration)", "upload", BASE.encode("gbk"), FILE, "",
            r"not UTF-8 encoded \(byte 0x\w\w on line \d+\)"),
        Bad("declared in GBK", "upload", BASE.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"), FILE,
            "", r"not UTF-8 encoded"),
        Bad("declared in GBK, written in UTF-8 (would be read as mojibake)", "deploy",
            BASE.replace('encoding="UTF-8"', 'encoding="GBK"'), FILE, "", r"GBK.*other than UTF-8"),
        Bad("UTF-16", "upload", BASE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
            FILE, "", r"UTF-16"),
        Bad("NUL character in a saved draft", "draft", edit(("收到失信信息", "收到\x00失信信息")), FILE, "", r"NUL"),
        Bad("lone surrogate in a saved draft", "draft", '{"bpmn_xml": "<a>\\udfff</a>", "forms": {}}', FILE, "",
            r"not valid UTF-8"),
        Bad("NUL character in the editor's XML", "deploy", edit(("收到失信信息", "收到\x00失信信息")), FILE, "", r"NUL"),
        Bad("lone surrogate in the editor's JSON", "deploy", '{"bpmn_xml": "' + XML_DECL.replace('"', '\\"')
            .replace("\n", "") + '<a>\\ud800</a>", "forms": {}}', FILE, "", r"not valid UTF-8"),
        # ---- entities, DTDs and sizes: refused, never expanded, fetched or echoed
        Bad("XXE: external entity reading /etc/passwd (upload)", "upload",
            with_doctype('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;").encode(), FILE, "",
            r"DOCTYPE"),
        Bad("XXE: external entity reading /etc/passwd (editor)", "deploy",
            with_doctype('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"), FILE, "", r"DOCTYPE"),
        Bad("XXE: parameter entity", "upload",
            with_doctype('<!ENTITY % p SYSTEM "file:///etc/passwd">\n%p;').encode(), FILE, "", r"DOCTYPE"),
        Bad("external DTD fetched over the network", "upload",
            (XML_DECL + f'<!DOCTYPE bpmn:definitions SYSTEM "{external_dtd_url}">\n'
             + BASE.split("\n", 1)[1]).encode(), FILE, "", r"DOCTYPE"),
        Bad("billion laughs", "upload", billion_laughs().encode(), FILE, "", r"DOCTYPE", bomb=True),
        Bad("quadratic blowup", "deploy", quadratic_blowup(), FILE, "", r"DOCTYPE", bomb=True),
        Bad("deeply nested elements", "upload", deep_nesting().encode(), FILE, "", r"malformed XML.*[Dd]epth"),
        Bad("over the 2 MB diagram limit (upload)", "upload", big_documentation(2_200_000).encode(), FILE, "",
            r"larger than 2 MB"),
        Bad("over the 2 MB diagram limit (editor)", "deploy", big_documentation(2_200_000), FILE, "",
            r"larger than 2 MB"),
        Bad("over the request size limit", "upload", b"<x/>" + b" " * (7 * 1024 * 1024), None, "",
            r"File too large", status=413),
        # ---- processes and structure
        Bad("no process", "upload", re.sub(r"<bpmn:process .*</bpmn:process>", "", BASE, flags=re.S).encode(),
            FILE, "", r"no executable process"),
        Bad("process not executable", "upload", edit(('isExecutable="true"', 'isExecutable="false"')).encode(),
            FILE, KEY, r"not executable"),
        Bad("two processes with the same id", "upload",
            edit(("</bpmn:definitions>", f'  <bpmn:process id="{KEY}" isExecutable="true">'
                  '<bpmn:startEvent id="start_2" /></bpmn:process>\n</bpmn:definitions>')).encode(),
            FILE, KEY, r"used by two elements"),
        Bad("duplicate element ids", "upload", edit(('<bpmn:userTask id="final_review"',
                                                     '<bpmn:userTask id="legality_review"')).encode(),
            FILE, "legality_review", r"used by two elements"),
        Bad("sequence flow to a missing element", "upload",
            edit(('sourceRef="count_return" targetRef="return_record_task"',
                  'sourceRef="count_return" targetRef="return_record_taks"')).encode(),
            FILE, "flow_count_return", r"targetRef 'return_record_taks' does not exist"),
        Bad("no start event", "upload", retag("start", "intermediateThrowEvent").encode(), FILE, KEY,
            r"start event"),
        Bad("a task no flow leads to (and which would import os)", "upload", inside_process(
            '<bpmn:scriptTask id="orphan" scriptFormat="python"><bpmn:script>import os</bpmn:script>'
            '</bpmn:scriptTask><bpmn:sequenceFlow id="orphan_out" sourceRef="orphan" targetRef="end_rejected" />'
        ).encode(), FILE, "orphan", r"no sequence flow leads here"),
        Bad("complex gateway", "upload", retag("gw_return_count", "complexGateway").encode(), FILE,
            "gw_return_count", r"复杂网关|complex gateway"),
        Bad("call activity to an unknown process", "upload", inside_process(
            '<bpmn:callActivity id="call_elsewhere" calledElement="no_such_process" />'
            '<bpmn:sequenceFlow id="to_call" sourceRef="gw_return_count" targetRef="call_elsewhere" />'
        ).encode(), FILE, "call_elsewhere", r"调用活动|call activit"),
        Bad("message reference to no message", "upload",
            edit(('messageRef="msg_record_corrected"', 'messageRef="msg_record_corected"')).encode(),
            FILE, "wait_record_corrected", r"messageRef 'msg_record_corected' names no <bpmn:message>"),
        Bad("boundary event attached to nothing", "upload",
            edit(('attachedToRef="publication_period"', 'attachedToRef="publication_periode"')).encode(),
            FILE, "on_record_revoked", r"attachedToRef 'publication_periode' names no task"),
        Bad("default flow that is not the gateway's", "deploy",
            edit(('default="flow_mitigation_none"', 'default="flow_review_approve"')), FILE, "gw_mitigation",
            r"default flow 'flow_review_approve' is not a sequence flow leaving this gateway"),
        Bad("business rule task calling an unknown decision", "upload",
            edit(("<spiffworkflow:calledDecisionId>sanction_rules<", "<spiffworkflow:calledDecisionId>sanction_ruels<"))
            .encode(), FILE, "propose_sanctions", r"sanction_ruels"),
        # ---- code the sandbox refuses
        Bad("script task with import", "upload",
            edit(("return_count = return_count + 1", "import os\nreturn_count = return_count + 1")).encode(),
            FILE, "count_return", r"import statements are not allowed"),
        Bad("condition reaching for a dunder", "deploy",
            edit(('review_decision == "approve"', 'review_decision.__class__.__mro__ is not None')),
            FILE, "gw_review_decision", r"__class__"),
        Bad("timer expression calling open", "upload",
            edit(('publication["min_end_at"]', 'open("/etc/passwd").read()')).encode(), FILE,
            "min_period_reached", r"open"),
        Bad("loop condition importing os", "upload",
            edit(('<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">True</bpmn:loopCondition>',
                  '<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">__import__("os").system("id") != 0'
                  '</bpmn:loopCondition>')).encode(), FILE, "correction_loop", r"(?i)loop condition.*__import__"),
        Bad("postScript with an import", "deploy",
            edit(('publication_rule = saved_record["publication_rule"]',
                  'import subprocess\npublication_rule = saved_record["publication_rule"]')),
            FILE, "save_record", r"postScript.*import"),
        # ---- operations, forms, lanes, keys
        Bad("service task with an unknown operation", "upload",
            edit(('<spiffworkflow:serviceTaskOperator id="return_record">',
                  '<spiffworkflow:serviceTaskOperator id="drop_all_tables">')).encode(),
            FILE, "return_record_task", r"unknown service operation 'drop_all_tables'"),
        Bad("user task with no form", "upload",
            edit(('<spiffworkflow:property name="formJsonSchemaFilename" value="legality_review.json" />', ""))
            .encode(), FILE, "legality_review", r"no form"),
        Bad("user task whose form file does not exist", "deploy",
            edit(('value="legality_review.json"', 'value="legality_reveiw.json"')), FILE, "legality_review",
            r"forms/record_lifecycle/legality_reveiw\.json does not exist"),
        Bad("lane that is not a role", "upload", edit(('<bpmn:lane id="lane_clerk" name="clerk">',
                                                       '<bpmn:lane id="lane_clerk" name="janitor">')).encode(),
            FILE, "capture", r"lane 'janitor' is not a role"),
        Bad("form that is not a JSON Schema", "deploy", BASE, "forms/record_lifecycle/legality_review.json", "",
            r"invalid JSON Schema", forms={"legality_review.json": {"type": 12, "properties": []}}),
        Bad("form that is not even an object", "deploy", BASE, "forms/record_lifecycle/legality_review.json", "",
            r"invalid JSON Schema", forms={"legality_review.json": "<script>alert(1)</script>"}),
        Bad("process id differs from the key deployed to", "deploy",
            edit((f'<bpmn:process id="{KEY}"', '<bpmn:process id="record_lifecycle_v2"'),
                 (f'processRef="{KEY}"', 'processRef="record_lifecycle_v2"')), FILE, KEY,
            r"no executable process with this id"),
        Bad("element id carrying markup", "upload",
            edit(('<bpmn:userTask id="final_review"', f'<bpmn:userTask id="{MARKUP_ID}"'),
                 ('<bpmn:serviceTask id="reject_record_task"', f'<bpmn:serviceTask id="{MARKUP_ID}"')).encode(),
            FILE, 'x"><script>alert(1)</script>', r"used by two elements"),
        # ---- `credflow deploy PATH`: files on disk, DMN
        Bad("malformed DMN (cli)", "cli", {DMN_FILE: DMN[: len(DMN) // 2]}, DMN_FILE, "", r"XML 格式错误"),
        Bad("DMN output cell escaping the sandbox (cli)", "cli",
            {DMN_FILE: dmn_cell("rule_2025_department_minor_out_publish",
                                "().__class__.__base__.__subclasses__() is None")},
            DMN_FILE, "rule_2025_department_minor_out_publish", r"__class__"),
        Bad("DMN input cell importing os (cli)", "cli",
            {DMN_FILE: dmn_cell("rule_2025_department_minor_in_rule", '__import__("os").getcwd()')},
            DMN_FILE, "rule_2025_department_minor_in_rule", r"决策表输入单元格.*__import__"),
        Bad("DMN input expression reading a dunder (cli)", "cli",
            {DMN_FILE: DMN.replace("<text>severity</text>", "<text>severity.__class__</text>", 1)},
            DMN_FILE, "input_severity", r"决策表输入表达式.*__class__"),
        Bad("DMN that is not a DMN (cli)", "cli", {DMN_FILE: '<?xml version="1.0"?><rules><rule/></rules>'},
            DMN_FILE, "", r"根元素是.*<rules>"),
        Bad("BPMN file that is not UTF-8 (cli)", "cli", {FILE: BASE.encode("gbk")}, FILE, "", r"不是 UTF-8 编码"),
        Bad("XXE in a BPMN file on disk (cli)", "cli",
            {FILE: with_doctype('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;")}, FILE, "", r"DOCTYPE"),
    ]


# ------------------------------------------------------------------ what must not change

def snapshot(session_factory) -> dict:
    """Row counts of every table, every definition version, every case's row."""
    with session_factory() as session:
        counts = {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                  for t in Base.metadata.sorted_tables}
        definitions = session.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
                                             ProcessDefinition.sha256).order_by(ProcessDefinition.id)).all()
        cases = [(c.id, c.definition_id, c.status, c.version, hashlib.sha256(c.state.encode()).hexdigest())
                 for c in session.scalars(select(Case).order_by(Case.id))]
    return {"counts": counts, "definitions": [tuple(d) for d in definitions], "cases": cases}


def changes(before: dict, after: dict) -> list[str]:
    found = [f"table {t}: {before['counts'][t]} -> {n} rows" for t, n in after["counts"].items()
             if before["counts"].get(t) != n]
    if before["definitions"] != after["definitions"]:
        found.append(f"definitions {before['definitions'][-1:]} -> {after['definitions'][-1:]}")
    if before["cases"] != after["cases"]:
        found.append("a case row changed")
    return found


class _DTDServer(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        body = b'<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        self.send_response(200)
        self.send_header("Content-Type", "application/xml-dtd")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def dtd_server():
    """A local HTTP server that counts fetches: an external DTD must never be fetched."""
    _DTDServer.hits = []
    server = HTTPServer(("127.0.0.1", 0), _DTDServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/evil.dtd", _DTDServer.hits
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------ sending and reading answers

def send(manager, case: Bad, forms: dict, shipped: Path, tmp: Path, database_url: str, monkeypatch):
    """(status, problems as [(file, element, reason)], everything shown)"""
    if case.via == "upload":
        response = manager.post("/admin/upload", {"bpmn": (BytesIO(case.body), case.filename)},
                                content_type="multipart/form-data")
        page = Page(response)
        items = page.xpath('//*[@id="upload-problems"]//li') if page.doc is not None else []
        problems = [(re.split(r"：|: ", li.text_content().split(" · ")[0], maxsplit=1)[0].strip(),
                     li.get("data-element"), li.text_content()) for li in items]
        if response.status_code == 413:
            problems = [(None, "", page.text_of("error-card"))]
        return response.status_code, problems, page.text
    if case.via in ("deploy", "draft"):
        headers = {"X-CSRFToken": manager.token}
        url = f"/admin/processes/{KEY}/{case.via}"
        if isinstance(case.body, str) and case.body.startswith("{"):
            response = manager.client.post(url, data=case.body.encode(), content_type="application/json",
                                           headers=headers)
        else:
            body = {"bpmn_xml": case.body, "forms": {**forms, **(case.forms or {})}}
            response = manager.client.post(url, json=body, headers=headers)
        shown = response.get_data(as_text=True)
        problems = []
        if response.is_json and isinstance(response.get_json(), dict):
            problems = [(p["file"], p["element"], p["reason"]) for p in response.get_json().get("problems", [])]
        return response.status_code, problems, shown
    # cli: a copy of the shipped folder with the case's files written over it
    folder = tmp / re.sub(r"\W+", "_", case.name)
    shutil.copytree(shipped, folder)
    for name, content in case.body.items():
        target = folder / "bpmn" / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    from webapp.cli import main
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["deploy", str(folder / "bpmn")])
    shown = result.output                     # stdout and stderr, as a terminal shows them
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown += f"\nEXCEPTION {result.exception!r}"
    problems = []
    for line in shown.splitlines():
        m = re.match(r"refused: (.*?)(?:, element '(.*?)'(?: 「.*?」)?)?: (.*)$", line)
        if m:
            problems.append((m.group(1), m.group(2) or "", m.group(3)))
    status = 422 if result.exit_code == 1 and problems else 500
    return status, problems, shown


def judge(case: Bad, status: int, problems: list, shown: str, elapsed: float, grown_mb: float,
          before: dict, after: dict) -> list[str]:
    wrong = []
    if status != case.status:
        wrong.append(f"status {status}, expected {case.status}")
    match = [p for p in problems if (case.file is None or p[0] == case.file) and p[1] == case.element
             and re.search(case.reason, p[2], re.S) and (case.via != "upload" or case.element in p[2])]
    if not match:
        wrong.append(f"no problem naming file {case.file!r}, element {case.element!r}, /{case.reason}/; "
                     f"got {problems[:4]!r}")
    if case.via == "upload" and case.status == 422 and "Not deployed. The problems:" not in shown:
        wrong.append("the page does not say, in English (the manager's language here), that nothing was deployed")
    if SECRET in shown or "/bin/bash" in shown:
        wrong.append("/etc/passwd content appears in the answer")
    if "Traceback" in shown or "EXCEPTION" in shown:
        wrong.append("a traceback or exception is shown: " + shown[-300:])
    if case.via == "upload" and "<script>alert(1)</script>" in shown:
        wrong.append("markup from the upload is shown unescaped")
    if case.bomb and elapsed > ENTITY_SECONDS:
        wrong.append(f"took {elapsed:.1f} s of CPU (limit {ENTITY_SECONDS} s)")
    if case.bomb and grown_mb > ENTITY_MEMORY_MB:
        wrong.append(f"peak memory grew by {grown_mb:.0f} MB")
    wrong.extend(changes(before, after))
    return wrong


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ the test

def test_every_malformed_or_hostile_deploy_is_refused_and_changes_nothing(
        web, world, session_factory, database_url, tmp_path, monkeypatch, dtd_server):
    dtd_url, dtd_hits = dtd_server
    cases = corpus(dtd_url)
    assert len(cases) >= 25 and len({c.name for c in cases}) == len(cases)

    record_id, case_id = world.open_record()          # a running case on the deployed version
    manager = web("manager")
    # the manager reads English: every reason below is matched as the English page and JSON show it
    # (`credflow deploy` speaks Chinese: the "cli" cases match the Chinese text)
    assert manager.get("/admin/upload?lang=en").status_code == 200   # the page (and its CSRF token)
    draft = manager.get(f"/admin/processes/{KEY}/draft.json").get_json()
    forms = draft["forms"]
    assert draft["bpmn_xml"] == BASE, "the deployed lifecycle is not the shipped one"

    shipped = tmp_path / "shipped"
    shutil.copytree(bundled_dir("bpmn"), shipped / "bpmn")
    shutil.copytree(bundled_dir("forms"), shipped / "forms")

    # the base of every mutation is valid: the editor's own check says so
    answer = manager.client.post(f"/admin/processes/{KEY}/validate", json={"bpmn_xml": BASE, "forms": forms},
                                 headers={"X-CSRFToken": manager.token}).get_json()
    assert answer == {"ok": True, "problems": []}

    # Time bounds are on this process's CPU time: an entity bomb expanded would burn CPU far beyond
    # them, while a machine busy with other work only stretches the wall time.
    report, started = [], time.process_time()
    for case in cases:
        before = snapshot(session_factory)
        peak, t0 = _peak_mb(), time.process_time()
        try:
            status, problems, shown = send(manager, case, forms, shipped, tmp_path, database_url, monkeypatch)
        except Exception as exc:  # noqa: BLE001 -- one broken case must not hide the others
            report.append(f"[{case.via}] {case.name}: raised {exc!r}")
            continue
        elapsed, grown = time.process_time() - t0, _peak_mb() - peak
        wrong = judge(case, status, problems, shown, elapsed, grown, before, snapshot(session_factory))
        if wrong:
            report.append(f"[{case.via}] {case.name}:\n    " + "\n    ".join(wrong))
    if dtd_hits:
        report.append(f"the external DTD was fetched: {dtd_hits}")
    assert not report, f"{len(report)} of {len(cases)} deploys went wrong:\n" + "\n".join(report)
    assert time.process_time() - started < 60

    # the running case is where it was and still runs on the deployed version
    review = world.task(case_id, "legality_review")
    world.complete("reviewer", review.id, {"review_decision": "approve", "review_opinion": "事实清楚。"})
    assert world.task(case_id, "leader_approval")
    _, new_case = world.open_record(subject=1)
    with session_factory() as session:
        versions = session.scalars(select(ProcessDefinition.version)
                                   .join(Case, Case.definition_id == ProcessDefinition.id)
                                   .where(Case.id.in_([case_id, new_case]))).all()
    assert versions == [1, 1]

    # and the guard is real: the same routes deploy when the diagram is valid
    good = edit(('name="最终审核"', 'name="最终审核（复核）"')).encode()
    response = manager.post("/admin/upload", {"bpmn": (BytesIO(good), FILE)}, content_type="multipart/form-data")
    assert response.status_code == 200, Page(response).alerts
    edited = edit(('name="最终审核"', 'name="最终审核（再次复核）"'))
    answer = manager.client.post(f"/admin/processes/{KEY}/deploy", json={"bpmn_xml": edited, "forms": forms},
                                 headers={"X-CSRFToken": manager.token})
    assert answer.status_code == 200 and answer.get_json()["version"] == 3, answer.get_data(as_text=True)
    with session_factory() as session:
        assert session.scalar(select(func.max(ProcessDefinition.version)).where(ProcessDefinition.key == KEY)) == 3
