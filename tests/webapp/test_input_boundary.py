"""One input boundary for the web (issue 15, finding 3): what a request may carry is checked once,
before any view reads it (webapp/input_guard.py). NUL, lone surrogates, over-long values, too many
fields, JSON that is malformed or nests too deeply: a 400 that names the field, a page in the
visitor's language or JSON for the API and the editor. A path parameter wins over a query argument
of the same name; a `next=`/`back=` that is no local path falls back; an uploaded file's name is
cleaned so the file can always be downloaded again."""
from __future__ import annotations

import time
from io import BytesIO
from urllib.parse import quote, urlsplit

import pytest

from credflow_web import Page, location
from workflows.models import Attachment

QUERY_LIMIT, FORM_LIMIT = 400, 20_000      # webapp/input_limits.py: a query argument, a form field
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def message(response) -> str:
    return Page(response).text_of("error-message")


def published_record(world) -> int:
    record_id, case_id = world.open_record()
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    return record_id


# -- text a database cannot store --------------------------------------------------------------------

def test_nul_in_the_public_search_and_verification_is_a_400_naming_the_field(web):
    anonymous = web()
    response = anonymous.get("/public/?q=%00")
    assert response.status_code == 400
    assert message(response) == "输入项“q”有误：文本不能含 NUL 字符"
    response = anonymous.get("/public/verify?code=a%00b&lang=en")
    assert response.status_code == 400
    assert message(response) == "Field “code” is invalid: text must not contain NUL characters"
    response = anonymous.get("/public/verify/ab%00cd")          # a path parameter too
    assert response.status_code == 400 and "“code”" in message(response)
    assert anonymous.get("/public/?q=" + quote("国有企业")).status_code == 200   # ordinary text passes


def test_nul_in_a_posted_form_field_or_its_name_is_a_400_naming_it(web, world):
    _, case_id = world.open_record()
    clerk = web("clerk")
    clerk.get(f"/cases/{case_id}")
    response = clerk.post(f"/cases/{case_id}/comments", {"body": "请补充\x00证据"})
    assert response.status_code == 400 and "“body”" in message(response)
    response = clerk.post(f"/cases/{case_id}/comments", {"body": "请补充证据", "x\x00y": "1"})
    assert response.status_code == 400 and "“x\\x00y”" in message(response)


def test_a_lone_surrogate_in_json_to_the_editor_is_a_json_400_naming_the_field(web):
    manager = web("manager")
    manager.get("/admin/")
    body = '{"bpmn_xml": "<x/>", "forms": {"a.json": {"type": "object", "title": "\\ud800"}}}'
    response = manager.client.post("/admin/processes/record_lifecycle/validate", data=body,
                                   content_type="application/json", headers={"X-CSRFToken": manager.token})
    assert response.status_code == 400 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["ok"] is False and answer["fields"] == {"title": "文本不是有效的 Unicode"}
    assert "“title”" in answer["error"]


# -- lengths and counts -----------------------------------------------------------------------------

def test_over_long_query_argument_and_form_field_are_a_400_naming_the_field(web, world):
    clerk = web("clerk")
    response = clerk.get("/records?status=" + "x" * (QUERY_LIMIT + 1))
    assert response.status_code == 400
    assert message(response) == f"输入项“status”有误：最多 {QUERY_LIMIT} 个字符"
    assert clerk.get("/records?status=" + "x" * 20).status_code == 200
    _, case_id = world.open_record()
    clerk.get(f"/cases/{case_id}")
    response = clerk.post(f"/cases/{case_id}/comments", {"body": "长" * (FORM_LIMIT + 1)})
    assert response.status_code == 400 and message(response) == f"输入项“body”有误：最多 {FORM_LIMIT:,} 个字符"


def test_a_megabyte_search_is_refused_before_the_database_sees_it(web):
    response = web().get("/public/?q=" + "x" * (1024 * 1024))
    assert response.status_code == 400 and "“q”" in message(response)


def test_too_many_fields_are_a_400(web):
    response = web().get("/public/?" + "&".join(f"f{i}=1" for i in range(501)))
    assert response.status_code == 400 and "字段过多" in message(response)


def test_a_session_cookie_with_nul_is_a_400_naming_the_cookie(app):
    client = app.test_client()
    client.set_cookie("session", "e30.\x00.x")
    response = client.get("/public/")
    assert response.status_code == 400 and "“session”" in message(response)


# -- JSON -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["draft", "validate", "deploy"])
def test_json_nested_100k_deep_to_the_editor_is_a_quick_json_400(web, endpoint):
    manager = web("manager")
    manager.get("/admin/")
    for body in ("[" * 100_000 + "]" * 100_000, '{"bpmn_xml": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001):
        started = time.monotonic()
        response = manager.client.post(f"/admin/processes/record_lifecycle/{endpoint}", data=body,
                                       content_type="application/json", headers={"X-CSRFToken": manager.token})
        assert response.status_code == 400 and response.mimetype == "application/json"
        assert response.get_json()["fields"] == {"body": "JSON 嵌套过深"}
        assert time.monotonic() - started < 1.0
    response = manager.client.post("/admin/api/check", data='{"source": "1 +", "mode": NaN}',
                                   content_type="application/json", headers={"X-CSRFToken": manager.token})
    assert response.status_code == 400 and response.get_json()["fields"] == {
        "body": "请求体不是有效的 JSON"}


def test_the_editors_own_checks_still_say_where_the_nul_is(web):
    """bpmn_xml and a script's source are checked by rules that say more than the boundary could:
    the boundary leaves their text to them (tests/webapp/test_deploy_corpus.py has the rest)."""
    manager = web("manager")
    manager.get("/admin/")
    response = manager.client.post("/admin/api/check", json={"source": "x\x00", "mode": "eval"},
                                   headers={"X-CSRFToken": manager.token})
    assert response.status_code == 200 and response.get_json()["ok"] is False


# -- path parameters win over query arguments ---------------------------------------------------------

def test_a_query_argument_named_like_a_path_parameter_does_not_move_the_page(web, world):
    record_id = published_record(world)
    page = web().page(f"/public/records/{record_id}?record_id=999&page=2")
    assert page.status == 200
    english = [a.get("href") for a in page.xpath('//a[text()="English"]')]
    assert english and all(urlsplit(h).path == f"/public/records/{record_id}" for h in english), english
    assert all("record_id" not in urlsplit(h).query and "page=2" in h for h in english)
    clerk = web("clerk")
    assert clerk.get(f"/records?q=x&_scheme=https&_anchor=y").status_code == 200   # url_for's own options


# -- next= and back= --------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["/inbox\r\nX-Injected: 1", "/inbox\n", "/\x00", "//evil.example/x",
                                    "/\\evil.example", "https://evil.example/", "/in\tbox", "javascript:alert(1)"])
def test_a_next_that_is_no_local_path_falls_back_to_the_start_page(web, target):
    browser = web()
    response = browser.login("clerk", next=target) if "\x00" not in target else None
    if response is None:   # NUL: refused at the boundary, naming the field
        response = browser.get("/login?next=%2F%00")
        assert response.status_code == 400 and "“next”" in message(response)
        return
    assert response.status_code == 302 and location(response) == "/inbox"
    response = browser.get("/login?next=" + quote(target, safe=""))        # already logged in
    assert response.status_code == 302 and location(response) == "/inbox"


def test_a_back_with_a_newline_falls_back_to_the_inbox(web, world):
    _, case_id = world.open_record()
    row = world.task(case_id, "legality_review")
    leader = web("leader")
    leader.get(f"/tasks/{row.id}")
    response = leader.post(f"/tasks/{row.id}/assign", {"user_id": world.user_ids["reviewer"],
                                                       "back": f"/tasks/{row.id}\r\nX-Injected: 1"})
    assert response.status_code == 302 and location(response) == "/inbox?tab=all"
    assert "X-Injected" not in response.headers


# -- ids beyond the database's integers ---------------------------------------------------------------

def test_a_token_id_beyond_the_database_integer_range_revokes_nothing_and_is_no_500(web):
    clerk = web("clerk")
    clerk.get("/account/")
    for value in (str(2 ** 63), "-1", "²", "1e309"):
        response = clerk.post("/account/tokens/revoke", {"token_id": value})
        assert response.status_code < 500, (value, response.status_code)


# -- uploaded file names ------------------------------------------------------------------------------

def test_a_file_named_with_nul_is_stored_cleaned_and_downloads_again(web, world):
    record_id = published_record(world)
    subject = web("subject")
    subject.get(f"/portal/records/{record_id}/objection")
    response = subject.post(f"/portal/records/{record_id}/objection",
                            [("grounds", "factual_error"), ("statement", "欠款已结清。"),
                             ("evidence", (BytesIO(PDF), "a\x00b.pdf"))], content_type="multipart/form-data")
    assert response.status_code == 302, Page(response).alerts
    page = subject.page(location(response))
    links = page.xpath('//a[starts-with(@href, "/portal/attachments/")]')
    assert [link.text_content().strip() for link in links] == ["ab.pdf"]
    download = subject.get(links[0].get("href"))
    assert download.status_code == 200 and download.data == PDF
    assert "ab.pdf" in download.headers["Content-Disposition"]


def test_an_attachment_stored_with_a_control_character_before_the_fix_still_downloads(web, world):
    """SQLite kept such names before the boundary cleaned them: the download cleans the name it sends."""
    from sqlalchemy import select
    record_id = published_record(world)
    subject = web("subject")
    subject.get(f"/portal/records/{record_id}/objection")
    response = subject.post(f"/portal/records/{record_id}/objection",
                            [("grounds", "factual_error"), ("statement", "欠款已结清。"),
                             ("evidence", (BytesIO(PDF), "old.pdf"))], content_type="multipart/form-data")
    assert response.status_code == 302
    with world.factory() as session:
        attachment = session.scalars(select(Attachment)).one()
        attachment.filename = "a\r\nb\u202e.pdf"
        session.commit()
        attachment_id = attachment.id
    download = subject.get(f"/portal/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == PDF
    assert "\r" not in download.headers["Content-Disposition"]


def test_file_names_are_cleaned_with_their_extension_kept():
    from webapp.input_limits import clean_file_name
    assert clean_file_name("a\x00b.pdf") == "ab.pdf"
    assert clean_file_name("\u202efdp.exe") == "fdp.exe"
    assert clean_file_name("C:\\scans\\证据.PDF") == "证据.PDF"
    assert clean_file_name("../../etc/passwd") == "passwd"
    long = clean_file_name("长" * 1000 + ".pdf")
    assert len(long) == 200 and long.endswith(".pdf")
    assert clean_file_name("") == "file" and clean_file_name(".pdf") == "file.pdf"


def test_no_route_reads_an_id_with_plain_int():
    """A posted id read with `type=int` turns 2**63 into a database error (a 500 on PostgreSQL);
    every route reads ids with `db_int`, which reads an out-of-range number as absent."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "webapp"
    plain = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if not path.name.startswith("cli")
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\.get\([^)]*type=int\b", line) and "MAX_PAGE" not in line]   # page_arg clamps its number
    assert plain == []
