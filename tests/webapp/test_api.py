"""The JSON API (/api/v1/) through the Flask test client: bearer-token authentication, role and
subject boundaries, a record captured and taken to publication through the API alone, double
completion and invalid data, errors that are always JSON, and a schemathesis run against the
app's own OpenAPI document that must find no server error."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from credflow_web import CAPTURE
from workflows.accounts import create_api_token, create_user
from workflows.applications import file_objection
from workflows.demo import SUBJECTS, make_citizen_id
from workflows.lookups.service import look_up
from workflows.runtime import Actor
from workflows.models import ApiToken, Case, Record, Subject, User

try:
    import schemathesis
except ImportError:   # the test extra is not installed: only the schemathesis run is skipped
    schemathesis = None

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, CIVIL_SERVANT = 0, 1, 3          # indexes into SUBJECTS; the "subject" account belongs to A
JSON = "application/json"


@pytest.fixture
def tokens(world):
    """A token for every seeded account: tokens['clerk'], tokens['subject'], ..."""
    with world.uow() as uow:
        result = {name: create_api_token(uow, user_id, "test") for name, user_id in world.user_ids.items()}
        uow.commit()
    return result


class Api:
    def __init__(self, app, tokens):
        self.client, self.tokens = app.test_client(), tokens

    def call(self, method: str, url: str, who: str | None = None, token: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            token = self.tokens[who]
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def get(self, url, who=None, **kwargs):
        return self.call("GET", url, who, **kwargs)

    def post(self, url, who=None, **kwargs):
        return self.call("POST", url, who, **kwargs)

    def ok(self, method, url, who, status=200, **kwargs):
        response = self.call(method, url, who, **kwargs)
        assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
        assert response.mimetype == JSON
        return response.get_json()


@pytest.fixture
def api(app, tokens):
    return Api(app, tokens)


def _json_error(response, status: int) -> dict:
    """An error answer: the status, JSON {"error": ...}, no HTML, no traceback."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == JSON
    body = response.get_json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert set(body) <= {"error", "fields"}
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def _count(world, model) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def _record_status(world, record_id: int) -> str:
    with world.factory() as session:
        return session.get(Record, record_id).status


def _publish(world, subject: int) -> int:
    record_id, case_id = world.open_record(subject)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    assert _record_status(world, record_id) == "published"
    return record_id


def _task_in(page: dict, case_id: int, bpmn_id: str) -> dict:
    found = [t for t in page["tasks"] if t["case_id"] == case_id and t["bpmn_id"] == bpmn_id]
    assert len(found) == 1, [(t["case_id"], t["bpmn_id"]) for t in page["tasks"]]
    return found[0]


# -- authentication -------------------------------------------------------------------------------

def test_requests_without_a_good_token_are_401_with_a_bearer_challenge(api, world, tokens, web):
    for response in (api.get("/api/v1/records"),                                          # no token
                     api.get("/api/v1/records", token="cf_not-a-token"),                  # unknown token
                     api.get("/api/v1/records", headers={"Authorization": "Basic Y2xlcms6cHc="}),
                     api.get("/api/v1/records", headers={"Authorization": "Bearer "}),
                     api.get("/api/v1/records", token="x" * 5000),
                     api.post("/api/v1/tasks/1/complete", json={"data": {}})):
        _json_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in api.get("/api/v1/records", token="cf_nope").headers["WWW-Authenticate"]
    assert api.get("/api/v1/records", who="clerk").status_code == 200
    # a logged-in browser's session cookie is not a credential for the API
    browser = web("clerk")
    _json_error(browser.client.get("/api/v1/records"), 401)


def test_a_revoked_token_and_a_deactivated_users_token_are_401(api, world, tokens):
    assert api.get("/api/v1/records", who="reviewer").status_code == 200
    assert api.get("/api/v1/records", who="leader").status_code == 200
    with world.factory() as session:
        token = session.scalars(select(ApiToken).where(ApiToken.user_id == world.user_ids["reviewer"])).one()
        token.revoked_at = world.clock.now()
        session.get(User, world.user_ids["leader"]).active = False
        session.commit()
    _json_error(api.get("/api/v1/records", who="reviewer"), 401)
    _json_error(api.get("/api/v1/records", who="leader"), 401)
    assert api.get("/api/v1/records", who="clerk").status_code == 200   # others are unaffected


def test_the_openapi_document_is_public_and_describes_the_api(api):
    doc = api.ok("GET", "/api/v1/openapi.json", None)
    assert doc["openapi"].startswith("3.1")
    bearer = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert doc["security"] == [{"bearerAuth": []}]
    assert set(doc["paths"]) == {"/api/v1/records", "/api/v1/records/{record_id}", "/api/v1/cases/{case_id}",
                                 "/api/v1/tasks", "/api/v1/tasks/next", "/api/v1/tasks/{task_id}",
                                 "/api/v1/tasks/{task_id}/claim", "/api/v1/tasks/{task_id}/unclaim", "/api/v1/tasks/{task_id}/complete",
                                 "/api/v1/openapi.json", "/api/v1/tasks/{task_id}/actions",
                                 "/api/v1/tasks/{task_id}/actions/{action}", "/api/v1/cases/{case_id}/withdraw",
                                 "/api/v1/cases/{case_id}/opinions", "/api/v1/cases/{case_id}/copies",
                                 "/api/v1/lookups", "/api/v1/lookups/{lookup_id}", "/api/v1/lookups/{lookup_id}/extract"}
    task_id = doc["paths"]["/api/v1/tasks/{task_id}"]["get"]["parameters"][0]["schema"]
    assert task_id == {"type": "integer", "minimum": 1, "maximum": 2147483647}
    tab = next(p for p in doc["paths"]["/api/v1/tasks"]["get"]["parameters"] if p["name"] == "tab")
    assert tab["schema"]["enum"] == ["mine", "group", "all"]
    # the capture form is the deployed one
    capture = doc["components"]["schemas"]["CaptureForm"]
    assert capture["additionalProperties"] is False and "facts" in capture["required"]


def test_errors_are_json_never_html(api, world):
    _json_error(api.get("/api/v1/nothing-here", who="clerk"), 404)
    _json_error(api.get("/api/v1/records/0", who="clerk"), 404)
    _json_error(api.get("/api/v1/records/2147483648", who="clerk"), 404)          # beyond the integer range
    _json_error(api.get("/api/v1/tasks/99999999999999999999", who="clerk"), 404)
    _json_error(api.get("/api/v1/cases/2147483647", who="clerk"), 404)
    _json_error(api.get("/api/v1/records/abc", who="clerk"), 404)
    response = api.call("DELETE", "/api/v1/records", "clerk")
    _json_error(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    for bad in ("page=0", "page=abc", "page=100001", "per_page=101", "status=nope", "q=%00", "q=" + "x" * 201):
        body = _json_error(api.get(f"/api/v1/records?{bad}", who="clerk"), 400)
        assert set(body["fields"]) == {bad.split("=")[0]}
    for bad in ("tab=other", "sort=x", "overdue=maybe", "severity=huge", "subject=%00"):
        _json_error(api.get(f"/api/v1/tasks?{bad}", who="reviewer"), 400)
    for body in (b"", b"not json", b"[1, 2]", b'{"capture": NaN}', b"[" * 5000, b'{"a":' * 100 + b"1" + b"}" * 100):
        _json_error(api.post("/api/v1/records", "clerk", data=body, content_type=JSON), 400)
    # text that cannot be stored, numbers beyond a float: beside the field
    for body, field in ((b'{"capture": {"facts": "\\u0000"}}', "facts"),
                        (b'{"capture": {"facts": "\\ud800"}}', "facts"),
                        (b'{"subject_id": 1e999}', "subject_id"), (b'{"capture": {"\\u0000": 1}}', "capture")):
        body = _json_error(api.post("/api/v1/records", "clerk", data=body, content_type=JSON), 422)
        assert set(body["fields"]) == {field}
    assert _count(world, Record) == 0


CJK = "[\u4e00-\u9fff]"


def test_errors_speak_one_language_chinese_by_default_english_when_asked(api, world):
    """The same refusals in Chinese (no preference, or Accept-Language preferring Chinese) and in
    English (`?lang=en`, or Accept-Language preferring en): each answer in one language only."""
    import re
    asks = [("GET", "/api/v1/records?page=0", "clerk", {}), ("GET", "/api/v1/records/0", "clerk", {}),
            ("GET", "/api/v1/tasks/1", None, {}),
            ("POST", "/api/v1/records", "clerk", {"json": {"capture": {}, "color": "red"}})]
    for method, url, who, kwargs in asks:
        for headers, lang in (({}, "zh"), ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "zh"),
                              ({"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"}, "en"), ({}, "en?")):
            target = url + ("&" if "?" in url else "?") + "lang=en" if lang == "en?" else url
            response = api.call(method, target, who, headers=headers, **kwargs)
            body = response.get_json()
            texts = [body["error"], *body.get("fields", {}).values()]
            for text in texts:
                if lang == "zh":
                    assert re.search(CJK, text) and " / " not in text, (url, headers, body)
                else:
                    assert not re.search(CJK, text) and re.search("[a-z]{3}", text), (url, lang, headers, body)
    chinese = api.call("GET", "/api/v1/records/0", "clerk").get_json()
    english = api.call("GET", "/api/v1/records/0?lang=en", "clerk").get_json()
    assert (chinese["error"], english["error"]) == ("记录不存在", "No such record.")
    english = api.call("GET", "/api/v1/records?page=0", "clerk", headers={"Accept-Language": "en"}).get_json()
    assert english == {"error": "invalid page", "fields": {"page": "an integer from 1 to 100000"}}
    # no session is kept: the next call without a preference is Chinese again
    assert api.call("GET", "/api/v1/records/0", "clerk").get_json()["error"] == "记录不存在"


def test_an_unexpected_failure_is_a_json_500_without_details(api, monkeypatch, caplog):
    import webapp.api.tasks

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: secret-marker-9c1e")
    monkeypatch.setattr(webapp.api.tasks, "list_tasks", broken)
    response = api.get("/api/v1/tasks", who="reviewer")
    body = _json_error(response, 500)
    assert "secret-marker" not in response.get_data(as_text=True) and body == {"error": body["error"]}
    assert "secret-marker-9c1e" in caplog.text          # logged for the operators


# -- roles and subjects ---------------------------------------------------------------------------

def test_staff_see_every_record_and_a_subject_only_its_own(api, world):
    own, own_case = world.open_record(A)
    world.complete("reviewer", world.task(own_case, "legality_review").id, APPROVE)   # confirmed: A is told
    other, other_case = world.open_record(B)
    servant, _ = world.open_record(CIVIL_SERVANT)
    not_told, _ = world.open_record(A)                 # under review: not A's to see yet
    with world.uow() as uow:
        user = create_user(uow, "personnel", "pw-personnel", "钱人事", ["personnel"])
        api.tokens["personnel"] = create_api_token(uow, user.id, "test")
        uow.commit()
    for who in ("clerk", "reviewer", "leader", "manager"):
        page = api.ok("GET", "/api/v1/records", who)
        assert [r["id"] for r in page["records"]] == [not_told, servant, other, own]
        assert page["total"] == 4 and page["pages"] == 1
    # personnel read accountability cases, not records: refused, as the web's record list refuses them
    _json_error(api.get("/api/v1/records", who="personnel"), 403)
    _json_error(api.get(f"/api/v1/records/{own}", who="personnel"), 403)
    page = api.ok("GET", "/api/v1/records", "subject")
    assert [r["id"] for r in page["records"]] == [own] and page["records"][0]["case_id"] is None
    assert api.ok("GET", f"/api/v1/records/{own}", "subject")["subject"]["name"] == SUBJECTS[A][1]
    _json_error(api.get(f"/api/v1/records/{other}", who="subject"), 404)      # not "forbidden": no probing
    _json_error(api.get(f"/api/v1/records/{not_told}", who="subject"), 404)   # not notified: not there either
    assert api.ok("GET", f"/api/v1/records/{other}", "reviewer")["case_id"] == other_case
    # filters
    assert api.ok("GET", "/api/v1/records?q=" + SUBJECTS[B][1][3:7], "clerk")["total"] == 1
    assert api.ok("GET", "/api/v1/records?q=" + SUBJECTS[B][2].lower(), "clerk")["records"][0]["id"] == other
    assert api.ok("GET", "/api/v1/records?status=under_review&per_page=2", "clerk")["pages"] == 2
    assert api.ok("GET", "/api/v1/records?status=published", "clerk")["total"] == 0
    # a civil servant's ID is masked, for staff too
    code = api.ok("GET", f"/api/v1/records/{servant}", "leader")["subject"]["code"]
    assert code != SUBJECTS[CIVIL_SERVANT][2] and code.startswith(SUBJECTS[CIVIL_SERVANT][2][:6]) and "*" in code


def test_only_clerks_capture_and_subjects_see_no_staff_case_or_task(api, world):
    _, case_id = world.open_record(A)
    body = {"subject_id": world.subjects[A], "capture": CAPTURE}
    for who in ("reviewer", "leader", "manager", "subject"):
        _json_error(api.post("/api/v1/records", who, json=body), 403)
    assert _count(world, Record) == 1
    review = world.task(case_id, "legality_review")
    # the subject's own record's lifecycle case and its staff tasks are not the subject's to see
    _json_error(api.get(f"/api/v1/cases/{case_id}", who="subject"), 404)
    for url in (f"/api/v1/tasks/{review.id}", f"/api/v1/tasks/{review.id}/claim",
                f"/api/v1/tasks/{review.id}/complete"):
        _json_error(api.call("GET" if url.endswith(str(review.id)) else "POST", url, "subject",
                             json={"data": APPROVE}), 404)
    assert api.ok("GET", "/api/v1/tasks", "subject")["tasks"] == []
    # staff whose lanes do not cover the task
    _json_error(api.get(f"/api/v1/tasks/{review.id}", who="clerk"), 403)
    _json_error(api.post(f"/api/v1/tasks/{review.id}/claim", who="clerk"), 403)
    _json_error(api.post(f"/api/v1/tasks/{review.id}/complete", who="clerk", json={"data": APPROVE}), 403)
    _json_error(api.get("/api/v1/tasks", who="manager"), 403)
    _json_error(api.get("/api/v1/tasks?tab=all", who="reviewer"), 403)
    assert world.task(case_id, "legality_review").id == review.id      # nothing happened
    # the inbox tabs
    assert _task_in(api.ok("GET", "/api/v1/tasks?tab=group", "reviewer"), case_id, "legality_review")["id"] == review.id
    assert api.ok("GET", "/api/v1/tasks?tab=group", "clerk")["tasks"] == []
    assert api.ok("GET", "/api/v1/tasks?tab=all", "leader")["total"] == 1
    case = api.ok("GET", f"/api/v1/cases/{case_id}", "manager")
    assert (case["status"], case["process"], case["version"]) == ("running", "record_lifecycle", 1)
    assert [t["bpmn_id"] for t in case["tasks"]] == ["legality_review"]


def test_a_subject_sees_its_own_application_case(api, world):
    own, other = _publish(world, A), _publish(world, B)
    case = world.run("subject", file_objection, own, "factual_error", "认定金额有误。", [])
    body = api.ok("GET", f"/api/v1/cases/{case.id}", "subject")
    assert body["process"] == "objection" and body["record_id"] == own
    assert all(t["assignee"] is None for t in body["tasks"])
    with world.factory() as session:
        other_case = session.scalars(select(Case.id).where(Case.record_id == other)).first()
    _json_error(api.get(f"/api/v1/cases/{other_case}", who="subject"), 404)


def test_a_subject_works_the_task_addressed_to_it_and_no_other_subject_can(api, world):
    from workflows.applications import file_credit_repair
    from workflows.worker import run_once
    own = _publish(world, A)
    world.clock.advance(days=100)                  # the minimum publication period has passed
    run_once(world.factory, world.clock)
    with world.uow() as uow:                       # the tokens made 100 days ago expired after 90
        api.tokens.update({name: create_api_token(uow, world.user_ids[name], "test") for name in ("subject", "clerk")})
        uow.commit()
    repair = world.run("subject", file_credit_repair, own, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件"})
    supplement = world.task(repair.id, "supplement")
    with world.uow() as uow:                       # a second subject account, for SUBJECTS[B]
        user = create_user(uow, "subject_b", "pw-subject_b", SUBJECTS[B][1], ["subject"],
                           subject_id=world.subjects[B])
        api.tokens["subject_b"] = create_api_token(uow, user.id, "test")
        uow.commit()

    mine = api.ok("GET", "/api/v1/tasks", "subject")
    assert (mine["tab"], [t["id"] for t in mine["tasks"]]) == ("mine", [supplement.id])
    assert api.ok("GET", "/api/v1/tasks", "subject_b")["tasks"] == []
    assert api.ok("GET", f"/api/v1/tasks/{supplement.id}", "subject")["form"]["required"] == ["supplement_statement"]
    case = api.ok("GET", f"/api/v1/cases/{repair.id}", "subject")
    assert [t["bpmn_id"] for t in case["tasks"]] == ["supplement"]
    for url in (f"/api/v1/tasks/{supplement.id}", f"/api/v1/cases/{repair.id}", f"/api/v1/records/{own}"):
        _json_error(api.get(url, who="subject_b"), 404)
    _json_error(api.post(f"/api/v1/tasks/{supplement.id}/complete", "subject_b",
                         json={"data": {"supplement_statement": "不是我的任务"}}), 404)
    _json_error(api.get(f"/api/v1/tasks/{supplement.id}", who="clerk"), 403)     # not a staff lane
    body = _json_error(api.post(f"/api/v1/tasks/{supplement.id}/complete", "subject",
                                json={"data": {"supplement_files": [1]}}), 422)
    assert set(body["fields"]) == {"supplement_statement", "supplement_files"}  # file 1 is not this case's
    done = api.ok("POST", f"/api/v1/tasks/{supplement.id}/complete", "subject",
                  json={"data": {"supplement_statement": "已补充缴款凭证。"}})
    assert (done["case_id"], done["case_status"]) == (repair.id, "running")
    after = api.ok("GET", f"/api/v1/cases/{repair.id}", "subject")["tasks"]
    assert [(t["lane"], t["assignee"]) for t in after] == [("clerk", None)], after


# -- a record from capture to publication, through the API alone ----------------------------------

def test_a_record_is_captured_reviewed_approved_and_published_through_the_api(api, world):
    created = api.ok("POST", "/api/v1/records", "clerk", status=201,
                     json={"subject_id": world.subjects[A], "capture": CAPTURE})
    record, case_id = created["record"], created["case_id"]
    assert record["status"] == "under_review" and record["case_id"] == case_id
    assert record["subject"]["name"] == SUBJECTS[A][1] and record["facts"] == CAPTURE["facts"]
    assert api.ok("GET", f"/api/v1/records/{record['id']}", "clerk") == record

    # the reviewer finds it in the group tab, reads the form, claims and completes it
    task = _task_in(api.ok("GET", "/api/v1/tasks?tab=group", "reviewer"), case_id, "legality_review")
    detail = api.ok("GET", f"/api/v1/tasks/{task['id']}", "reviewer")
    assert detail["form"]["required"] == ["review_decision", "review_opinion"] and detail["assignee"] is None
    claimed = api.ok("POST", f"/api/v1/tasks/{task['id']}/claim", "reviewer")
    assert claimed["assignee"] == {"id": world.user_ids["reviewer"], "name": "李审核"}
    assert _task_in(api.ok("GET", "/api/v1/tasks?tab=mine", "reviewer"), case_id, "legality_review")
    done = api.ok("POST", f"/api/v1/tasks/{task['id']}/complete", "reviewer", json={"data": APPROVE})
    assert done == {"task_id": task["id"], "case_id": case_id, "case_status": "running",
                    "record_id": record["id"], "record_status": "confirmed"}

    # the leader approves: the record is published
    leader_task = _task_in(api.ok("GET", "/api/v1/tasks", "leader"), case_id, "leader_approval")
    done = api.ok("POST", f"/api/v1/tasks/{leader_task['id']}/complete", "leader", json={"data": LEADER_OK})
    assert (done["case_status"], done["record_status"]) == ("running", "published")
    published = api.ok("GET", f"/api/v1/records/{record['id']}", "subject")
    assert published["status"] == "published" and published["publication_start"] == CAPTURE["decision_date"]
    assert published["sanctions"]
    assert api.ok("GET", f"/api/v1/cases/{case_id}", "reviewer")["tasks"] == []
    assert _record_status(world, record["id"]) == "published"


def test_a_record_for_a_new_subject(api, world):
    code = make_citizen_id("61080219900101456")
    created = api.ok("POST", "/api/v1/records", "clerk", status=201, json={
        "subject": {"kind": "civil_servant", "name": "王某某", "code": code}, "capture": CAPTURE})
    assert created["record"]["subject"]["code"] == code[:6] + "*" * 10 + code[16:]
    assert created["record"]["subject"]["kind"] == "civil_servant"
    # the same code again is refused beside the subject, and nothing is saved
    subjects = _count(world, Subject)
    body = _json_error(api.post("/api/v1/records", "clerk", json={
        "subject": {"kind": "civil_servant", "name": "王某某", "code": code}, "capture": CAPTURE}), 422)
    assert set(body["fields"]) == {"subject"}
    assert (_count(world, Subject), _count(world, Record)) == (subjects, 1)


# -- conflicts and invalid data ---------------------------------------------------------------------

def test_completing_a_task_twice_is_409_naming_who_completed_it(api, world):
    _, case_id = world.open_record(A)
    review = world.task(case_id, "legality_review")
    api.ok("POST", f"/api/v1/tasks/{review.id}/complete", "reviewer", json={"data": APPROVE})
    world.clock.advance(minutes=5)
    for who in ("reviewer2", "reviewer"):
        body = _json_error(api.post(f"/api/v1/tasks/{review.id}/complete", who, json={"data": APPROVE}), 409)
        assert "李审核" in body["error"] and "2026-06-01 09:00" in body["error"]
    _json_error(api.get(f"/api/v1/tasks/{review.id}", who="reviewer2"), 409)
    _json_error(api.post(f"/api/v1/tasks/{review.id}/claim", who="reviewer2"), 409)
    # a subject is not told who worked on staff tasks
    _json_error(api.get(f"/api/v1/tasks/{review.id}", who="subject"), 404)
    _json_error(api.get("/api/v1/tasks/2147483647", who="reviewer"), 404)        # never existed


def test_a_task_claimed_by_someone_else(api, world):
    _, case_id = world.open_record(A)
    review = world.task(case_id, "legality_review")
    api.ok("POST", f"/api/v1/tasks/{review.id}/claim", "reviewer")
    assert "李审核" in _json_error(api.post(f"/api/v1/tasks/{review.id}/claim", "reviewer2"), 409)["error"]
    _json_error(api.post(f"/api/v1/tasks/{review.id}/complete", "reviewer2", json={"data": APPROVE}), 403)
    _json_error(api.post(f"/api/v1/tasks/{review.id}/unclaim", "reviewer2"), 403)
    assert api.ok("GET", "/api/v1/tasks?tab=group", "reviewer2")["tasks"] == []
    released = api.ok("POST", f"/api/v1/tasks/{review.id}/unclaim", "leader")   # leaders release any task
    assert released["assignee"] is None
    assert api.ok("POST", f"/api/v1/tasks/{review.id}/claim", "reviewer2")["assignee"]["name"] == "周审核"


def test_invalid_task_data_is_422_with_the_fields(api, world):
    _, case_id = world.open_record(A)
    review = world.task(case_id, "legality_review")
    url = f"/api/v1/tasks/{review.id}/complete"
    body = _json_error(api.post(url, "reviewer", json={"data": {"review_decision": "maybe",
                                                                  "review_opinion": "  "}}), 422)
    assert set(body["fields"]) == {"review_decision", "review_opinion"}
    body = _json_error(api.post(url, "reviewer", json={"data": {"review_opinion": "好。"}}), 422)
    assert body["fields"] == {"review_decision": "必填"}

    body = _json_error(api.post(url, "reviewer", json={"data": {**APPROVE, "reviw_opinion": "typo"}}), 422)
    assert set(body["fields"]) == {"reviw_opinion"}
    assert set(_json_error(api.post(url, "reviewer", json={"data": [1]}), 422)["fields"]) == {"data"}
    assert set(_json_error(api.post(url, "reviewer", json={"data": {}, "x": 1}), 422)["fields"]) == {"x"}
    _json_error(api.post(url, "reviewer", json=APPROVE), 422)
    assert world.task(case_id, "legality_review").id == review.id        # still open


def test_an_invalid_capture_is_422_with_the_fields_and_saves_nothing(api, world):
    bad = {k: v for k, v in CAPTURE.items() if k != "facts"}
    body = _json_error(api.post("/api/v1/records", "clerk", json={
        "subject_id": 2147483647, "capture": {**bad, "severity": "huge", "decision_date": "2026-02-30",
                                              "evidence": [1], "colour": "red"}}), 422)
    assert set(body["fields"]) == {"subject_id", "facts", "severity", "decision_date", "evidence", "colour"}
    for json_body, fields in (
            ({"capture": CAPTURE}, {"subject_id"}),
            ({"subject_id": 1, "subject": {}, "capture": CAPTURE}, {"subject_id"}),
            ({"subject_id": 10 ** 30, "capture": CAPTURE}, {"subject_id"}),
            ({"subject_id": True, "capture": CAPTURE}, {"subject_id"}),
            ({"subject_id": world.subjects[A]}, {"capture"}),
            ({"subject": {"kind": "department", "name": "某局", "code": "123"}, "capture": CAPTURE}, {"subject"}),
            ({"subject": {"kind": "company", "name": "某局", "code": "123"}, "capture": CAPTURE}, {"subject"}),
            ({"subject_id": world.subjects[A], "capture": {**CAPTURE, "evidence": [10 ** 20]}}, {"evidence"})):
        assert set(_json_error(api.post("/api/v1/records", "clerk", json=json_body), 422)["fields"]) == fields
    assert (_count(world, Record), _count(world, Subject)) == (0, len(SUBJECTS))


# -- schemathesis: the app against its own description ----------------------------------------------

@pytest.fixture
def fuzz_token(world):
    """A staff account holding every lane (so claims and completions get past the role checks),
    and a few records in review and one waiting for the leader, so that ids 1, 2, ... exist."""
    with world.uow() as uow:
        user = create_user(uow, "api-fuzz", "pw-api-fuzz", "接口测试", ["clerk", "reviewer", "leader"])
        token = create_api_token(uow, user.id, "schemathesis")
        uow.commit()
    world.open_record(A)
    world.open_record(CIVIL_SERVANT)
    world.leader_task()
    return token


@pytest.mark.skipif(schemathesis is None, reason="schemathesis is not installed (pip install -e '.[test]')")
def test_schemathesis_finds_no_server_error(app, world, fuzz_token):
    """Every operation of the app's own OpenAPI document, through schemathesis' WSGI integration,
    with valid (positive) and invalid (negative) requests, and again with the ids of the records,
    cases and open tasks that exist: 25 derandomized examples each, and not one server error.
    (`schemathesis.pytest.from_fixture` does not run under pytest 9, hence Hypothesis' `given`.)"""
    import re

    from hypothesis import HealthCheck, given, settings, strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    # the token is sent with every request: negative cases mutate parameters and bodies, not it
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    # (schemathesis leaves out the document's own URL)
    assert {o.label for o in operations} >= {
        "GET /api/v1/records", "POST /api/v1/records", "GET /api/v1/records/{record_id}", "GET /api/v1/cases/{case_id}",
        "GET /api/v1/tasks", "GET /api/v1/tasks/{task_id}", "POST /api/v1/tasks/{task_id}/claim",
        "POST /api/v1/tasks/{task_id}/unclaim", "POST /api/v1/tasks/{task_id}/complete"}
    with world.factory() as session:
        known = {"record_id": session.scalars(select(Record.id)).all(),
                 "case_id": session.scalars(select(Case.id)).all()}
    known["task_id"] = [t.id for t in world.tasks()]
    known["action"] = ["transfer", "copy", "urge"]      # approval actions: bodies of every shape, no server error
    with world.factory() as session:                    # 逢办必查: a look-up to read and to sign an extract of
        fuzz = Actor.of(session.scalars(select(User).where(User.username == "api-fuzz")).one())
    with world.uow(fuzz) as uow:
        known["lookup_id"] = [look_up(uow, "name", SUBJECTS[A][1], "procurement", "CG-1").id]
        uow.commit()
    headers = {"Authorization": f"Bearer {fuzz_token}"}

    def strategies(operation):
        yield "positive", operation.as_strategy(GenerationMode.POSITIVE)
        yield "negative", operation.as_strategy(GenerationMode.NEGATIVE)
        for name in re.findall(r"{(\w+)}", operation.path):
            yield f"existing {name}", st.sampled_from(known[name]).flatmap(
                lambda value, name=name: operation.as_strategy(GenerationMode.POSITIVE, path_parameters={name: value}))

    failures = []
    for operation in operations:
        for kind, strategy in strategies(operation):
            @settings(max_examples=25, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 -- to report every failing operation
                failures.append(f"{operation.label} ({kind}): {exc}")
    assert not failures, "\n\n".join(failures)


def test_claim_next_takes_the_first_task_of_my_group_queue_with_the_inbox_filters(api, world):
    first_case = world.open_record()[1]
    second_case = world.open_record(subject=1)[1]
    first, second = world.task(first_case, "legality_review"), world.task(second_case, "legality_review")
    subject_name = world.subject_names[1]
    response = api.post(f"/api/v1/tasks/next?subject={subject_name}", "reviewer")
    assert response.status_code == 200
    assert response.get_json()["id"] == second.id and response.get_json()["assignee"]["name"] == "李审核"
    taken = api.post("/api/v1/tasks/next", "reviewer2").get_json()
    assert taken["id"] == first.id and taken["assignee"]["name"] == "周审核"
    empty = api.post("/api/v1/tasks/next", "reviewer")
    assert empty.status_code == 204 and empty.data == b""
    assert api.post("/api/v1/tasks/next", "subject").status_code == 403
    assert api.post("/api/v1/tasks/next", "manager").status_code == 403
