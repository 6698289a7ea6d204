"""Who may use which route: one authorization matrix over EVERY route of the app (read from
`app.url_map`) and every caller -- anonymous, each role, the civil servant behind an accountability
case -- through the browser session and, for /api/v1/, through a bearer token (and a browser
session without one, which the API must ignore).

How to add a route
------------------
`test_every_route_is_in_the_policy` fails for a route that is not in POLICY below. Add its
endpoint to POLICY with who may use it (per method, when GET and POST differ): PUBLIC,
LOGGED_IN, `only(...)` with callers, or `owned_by(...)` for a subject's own things (other
subjects get 404, not 403: no probing which ids exist). If the URL has an argument that is not in
ARGS (or needs a different object for this endpoint: ARG_OVERRIDES), create the object in
`build()` and name it there; if a POST needs a body to get past its input checks without doing
harm, add it to BODIES. The matrix then checks, for every caller: an allowed caller is not
refused (no 401/403/404, no redirect to the login page, no server error, a GET answers 2xx/3xx);
a refused anonymous visitor is sent to the login page (the API: 401); a refused user gets 403
(or the 404 the policy names) and a refused POST changes nothing in the database.

Where the code's behaviour is questionable, the entry says so (QUESTION) rather than pretending
it is obviously right.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from credflow_web import CAPTURE, Browser, WebWorld, password, world_template
from webapp import create_app
from workflows.accountability import add_holding, credit_check_extract
from workflows.accounts import create_api_token, create_user
from workflows.applications import file_objection
from workflows.approvals.leave import set_leave
from workflows.cases import claim_task
from workflows.definitions import latest_definition
from workflows.demo import SUBJECTS
from workflows.import_jobs import enqueue_import
from workflows.lookups.service import look_up
from workflows.commitments.service import Draft as CommitmentDraft, register_commitment
from workflows.early_warning.model import EarlyWarning
from workflows.migration import start_job
from workflows.models import ROLES as MODEL_ROLES
from workflows.models import (Attachment, Base, Case, Document, HumanTask, Notification, ProcessDefinition,
                              ProcessDraft, Subject)
from workflows.records import LIFECYCLE, open_record
from workflows.sharing.exchange import export_batch
from workflows.runtime import Actor

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
CONFIRM = {"person_confirmed": "confirm", "confirm_reason": "经核对任职文件，失信行为发生时在岗。"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
A, B, C, P1 = 0, 1, 2, 3          # indexes into SUBJECTS; the seeded "subject" account is A's (a department)
assert SUBJECTS[P1][0] == "civil_servant"

# -- the callers ----------------------------------------------------------------------------------

ROLES = ("clerk", "reviewer", "leader", "manager", "personnel", "admin", "checker")
SUBJECT_CALLERS = ("subject", "civil_servant")
CALLERS = ("anonymous", *ROLES, *SUBJECT_CALLERS)
LOGGED_IN_CALLERS = CALLERS[1:]
# "subject": the department A's account (its record, its objection, its decision document);
# "civil_servant": P1, principal of A when the conduct happened (its accountability case, its file)
USERNAMES = {**{r: r for r in ROLES}, "subject": "subject", "civil_servant": "p1"}


@dataclass(frozen=True)
class Access:
    allowed: frozenset[str]
    not_found: frozenset[str] = frozenset()   # refused callers answered 404 (rather than 403)


def only(*callers: str, not_found: tuple[str, ...] = ()) -> Access:
    unknown = set(callers) - set(CALLERS)
    assert not unknown, unknown
    return Access(frozenset(callers), frozenset(not_found))


def owned_by(owner: str) -> Access:
    """A subject's own thing: the other subject account is told it does not exist."""
    return only(owner, not_found=tuple(c for c in SUBJECT_CALLERS if c != owner))


PUBLIC = only(*CALLERS)
LOGGED_IN = only(*LOGGED_IN_CALLERS)
TASK_WORKERS = ("clerk", "reviewer", "leader")          # the inbox
CASE_READERS = ("clerk", "reviewer", "leader", "manager")   # records and case pages
MANAGER = only("manager")
PERSONNEL = only("personnel")
ADMIN = only("admin")

# The task behind <row_id>/<task_id> is a legality review: the reviewer's lane. Leaders see every
# staff task and may release and reassign, but complete only their own lanes' tasks.
POLICY: dict[str, Access | dict[str, Access]] = {
    # -- auth: the login page is everyone's; the rest needs a login ---------------------------
    "auth.home": PUBLIC,                    # a redirect to the caller's start page (anonymous: the login page)
    "auth.login": PUBLIC,
    "auth.logout": LOGGED_IN,
    "auth.notifications": LOGGED_IN,        # one's own notifications only
    "auth.notifications_read": LOGGED_IN,
    "health": PUBLIC,                       # for the load balancer; says "ok" and nothing else
    # -- inbox: the staff who work tasks --------------------------------------------------------
    "inbox.index": only(*TASK_WORKERS),
    "inbox.task": only("reviewer", "leader"),            # the lane's, and leaders
    "inbox.submit": only("reviewer"),                    # the lane's only: a leader sees, cannot complete
    "inbox.claim": only("reviewer"),
    "inbox.claim_next": only(*TASK_WORKERS),             # the first of one's group tab (/tasks/next: sent last)
    "inbox.unclaim": only("reviewer", "leader"),         # the assignee (the reviewer) or a leader
    "inbox.assign": only("leader"),
    # approval actions on the pages (转办 of the unclaimed review: its lane's holder; the leader holds it not)
    "approvals.task_action": only("reviewer"),
    "approvals.withdraw_step": only(*TASK_WORKERS),      # nothing to withdraw in this case: 409/400, not refused
    "approvals.copied_to_me": only(*TASK_WORKERS),       # 抄送我的: one's own copies
    # -- records and cases: staff who work or run the cases --------------------------------------
    # `personnel` read (only) the accountability cases of the people in their charge, here and
    # through the API (workflows/access.py; tests/webapp/test_personnel_cases.py): the cases below
    # are a record's lifecycle and an objection, so they are refused; the API's records are the
    # record list's, refused to them too (tests/webapp/test_api_matches_web.py).
    "cases.records": only(*CASE_READERS),
    "cases.case_list": only(*CASE_READERS),        # the case list (webapp/cases/list_routes.py)
    "cases.new_record": only("clerk"),
    "cases.case": only(*CASE_READERS),
    "cases.diagram": only(*CASE_READERS),
    # a process manager reads cases to run the processes; the opinions are the case workers'
    "cases.comment": only("clerk", "reviewer", "leader"),
    "cases.attachment": only(*CASE_READERS),
    "cases.document": only(*CASE_READERS),     # a case's decision; a credit-check extract is 404 (test below)
    "cases.correct": only("leader"),
    # bulk import of records (webapp/cases/import_routes.py): clerks; a job's page is its uploader's
    # (another clerk: 404, tests/webapp/test_record_import_pages.py)
    "cases.record_import": only("clerk"),
    "cases.record_import_template": only("clerk"),
    "cases.record_import_job": only("clerk"),
    "cases.record_import_status": only("clerk"),
    # -- the subjects' portal: their own things; staff are refused ------------------------------
    "portal.index": only(*SUBJECT_CALLERS),
    "portal.record": owned_by("subject"),
    "portal.apply": owned_by("subject"),
    "portal.application": owned_by("subject"),             # A's objection
    "portal.attachment": owned_by("subject"),              # a file of A's objection
    "portal.document": owned_by("subject"),                # A's sanction decision
    "portal.task": owned_by("civil_servant"),              # P1's statement (陈述申辩)
    "portal.request_review": owned_by("civil_servant"),    # P1's accountability case
    "portal.integrity": owned_by("civil_servant"),         # a department has no integrity file: 404
    # -- public disclosure and verification -----------------------------------------------------
    "public.index": PUBLIC,
    "public.record": PUBLIC,
    "public.verify": PUBLIC,
    "public.verify_code": PUBLIC,
    # -- process managers -----------------------------------------------------------------------
    **{f"admin.{name}": MANAGER for name in (
        "index", "definition", "download", "upload", "upload_draft", "diff", "migrate", "migration", "migration_progress",
        "editor", "draft", "save", "discard", "validate", "deploy", "check", "operations", "form_template",
        "form_preview", "approval_policy")},
    # -- personnel: rosters, integrity files, credit checks --------------------------------------
    **{f"personnel.{name}": PERSONNEL for name in ("index", "person", "credit_check", "roster", "open_case")},
    # a roster import's page and status: its uploader's (another personnel clerk: 404, test_import_jobs.py)
    "personnel.roster_import": PERSONNEL,
    "personnel.roster_template_file": PERSONNEL,
    "personnel.roster_import_status": PERSONNEL,
    # -- system administration: the working-day calendar ----------------------------------------
    "system.calendar": ADMIN,
    "system.calendar_day": ADMIN,        # a holiday or make-up day (moving deadlines: a preview first)
    "system.calendar_import": ADMIN,     # a year's file: always previewed
    "system.calendar_apply": ADMIN,      # the confirmed preview, checked again
    "system.calendar_coverage": ADMIN,   # mark a year covered (only with its holidays entered) or take it back
    # -- system administration: accounts ----------------------------------------------------------
    **{f"system.{name}": ADMIN for name in (
        "users", "user", "user_add", "user_invite", "user_import", "user_template", "user_edit", "user_roles",
        "user_deactivate", "user_reactivate", "user_reset", "user_revoke_token")},
    "system.outbox": ADMIN,              # counts, failed messages with the server's answer
    "system.user_import_job": ADMIN,     # a users import's page: its uploader's (another admin: 404)
    "system.user_import_status": ADMIN,
    "system.outbox_retry": ADMIN,        # a failed message queued again (its id in the body)
    # -- one's own account ----------------------------------------------------------------------
    "account.index": LOGGED_IN,
    "account.password": LOGGED_IN,           # one's own: needs the current password
    "account.set_password": LOGGED_IN,       # the forced first password; others are sent to account.index
    "account.revoke": LOGGED_IN,             # one's own tokens only (the token id is in the body)
    "account.logout_everywhere": LOGGED_IN,
    "account.activate": PUBLIC,              # a one-time code and the user name are the credentials
    # one's leave and deputy (休假委托): task workers; someone else's leave is refused by the service (a redirect)
    "account.leave": only(*TASK_WORKERS),
    "account.leave_add": only(*TASK_WORKERS),
    "account.leave_cancel": only(*TASK_WORKERS),
    # -- the JSON API: bearer tokens; subjects are told "not found" about what is not theirs -----
    "api.openapi_document": PUBLIC,
    "api.list_records": only(*CASE_READERS, *SUBJECT_CALLERS),       # a subject: its own records only
    "api.get_record": only(*CASE_READERS, "subject", not_found=("civil_servant",)),
    "api.create_record": only("clerk"),
    # A's objection: personnel read accountability cases only
    "api.get_case": only(*CASE_READERS, "subject", not_found=("civil_servant",)),
    "api.list_open_tasks": only(*TASK_WORKERS, *SUBJECT_CALLERS),
    "api.get_task": only("reviewer", "leader", not_found=SUBJECT_CALLERS),
    "api.claim": only("reviewer", not_found=SUBJECT_CALLERS),
    "api.claim_next": only(*TASK_WORKERS),                  # the first of one's group queue (204: none)
    "api.unclaim": only("reviewer", "leader", not_found=SUBJECT_CALLERS),
    "api.complete": only("reviewer", not_found=SUBJECT_CALLERS),
    # approval actions: the choices, as the task; the action (转办 of the unclaimed review: its lane's holder)
    "api.task_actions": only("reviewer", "leader", not_found=SUBJECT_CALLERS),
    "api.task_action": only("reviewer", not_found=SUBJECT_CALLERS),
    "api.withdraw_step": only(*TASK_WORKERS, not_found=SUBJECT_CALLERS),   # nothing to withdraw here: 409
    "api.case_opinions": only(*CASE_READERS, not_found=SUBJECT_CALLERS),
    "api.case_copies": only(*CASE_READERS, not_found=SUBJECT_CALLERS),
    # -- 逢办必查 look-ups: checkers (their department's look-ups) and the credit office's staff ----
    **{f"lookups.{name}": only("checker", *TASK_WORKERS) for name in (
        "index", "make", "lookup", "outcome", "extract", "extract_pdf", "report")},
    "lookups.user_department": ADMIN,       # a staff member's department, on the account's page
    # -- township commitments (公开承诺): the public list, the staff list, a township's own pages --
    "commitments.public_list": PUBLIC,
    "commitments.staff_list": only(*CASE_READERS),
    "commitments.new": only("clerk"),                      # a clerk registers for any department
    "commitments.portal_list": owned_by("subject"),        # a department's account; a civil servant has none: 404
    "commitments.portal_new": owned_by("subject"),
    "commitments.portal_detail": owned_by("subject"),      # A's commitment (its report, once due)
    # -- complaints (投诉举报): the public form and status page need no login; the query code is the key
    "complaints.new": PUBLIC,                # a POST without the challenge's answer stores nothing (422)
    "complaints.done": PUBLIC,               # the query code once, from the filer's own session
    "complaints.status": PUBLIC,             # a wrong code: 404, nothing told
    "complaints.letter": PUBLIC,             # the reply letter for the code posted
    **{f"api.{name}": only("checker", *TASK_WORKERS) for name in ("create_lookup", "get_lookup", "lookup_extract")},
    # -- sharing upward (数据报送): the credit office's case workers and the system administrators --
    **{f"sharing.{name}": only(*TASK_WORKERS, "admin") for name in (
        "index", "export", "batch_download", "ack", "retry")},    # POSTs without a body: 400
    # -- early warning (监测预警): leaders and system administrators; acknowledging without a note: 422
    **{f"early_warning.{name}": only("leader", "admin") for name in ("index", "acknowledge_warning", "evaluate")},
    # -- the dashboard (监测看板): the city for leaders and admins, its own for a department's account
    # ("subject" is department A's); a civil servant's account has none (workflows/dashboard/scope.py)
    **{f"dashboard.{name}": only("leader", "admin", "subject") for name in (
        "index", "data", "records", "steps", "applications")},
    # -- the yearly integrity evaluation (政务诚信评价): leaders and admins run a round, reviewers
    # read it and answer objections; a department's account sees its own results; the summary is public
    **{f"evaluation.{name}": only("reviewer", "leader", "admin") for name in (
        "rounds", "round_page", "survey_file", "results")},
    **{f"evaluation.{name}": only("leader", "admin") for name in (
        "open_year", "indicators", "survey_import", "start")},   # POSTs without a body: 422 / a redirect
    "evaluation.decide": only("reviewer"),             # not in the handling stage: a redirect with the reason
    "evaluation.mine": owned_by("subject"),            # a civil servant's account has none: 404
    "evaluation.object_to": owned_by("subject"),       # an empty objection: 422
    "evaluation.my_report": owned_by("subject"),       # A's report in the published round
    "evaluation.public_summary": PUBLIC,               # a published year
}

# URL arguments: the name of an attribute of build()'s objects, by argument name ...
ARGS = {
    "record_id": "record", "case_id": "lifecycle_case", "row_id": "task_view", "task_id": "task_view",
    "attachment_id": "attachment", "document_id": "document", "person_id": "p1",
    "definition_id": "definition", "job_id": "job", "key": "process_key", "process": "application_kind",
    "code": "verification_code", "user_id": "reviewer2", "action": "approval_action",
    "lookup_id": "lookup", "commitment_id": "commitment",
    "batch_id": "sharing_batch", "warning_id": "warning",
    "round_id": "evaluation_round", "objection_id": "evaluation_objection", "year": "evaluation_year",
}
# ... or by endpoint, where one needs another object than the rest
ARG_OVERRIDES = {
    ("account.leave_cancel", "leave_id"): "leave",
    ("portal.application", "case_id"): "objection_case",
    ("portal.request_review", "case_id"): "accountability_case",
    ("api.get_case", "case_id"): "objection_case",
    ("portal.task", "row_id"): "task_statement",
    ("inbox.claim", "row_id"): "task_claim",
    ("api.claim", "task_id"): "task_claim",
    ("inbox.assign", "row_id"): "task_assign",
    ("inbox.unclaim", "row_id"): "task_unclaim_web",
    ("api.unclaim", "task_id"): "task_unclaim_api",
    ("personnel.roster_import", "job_id"): "roster_import_job",
    ("personnel.roster_template_file", "kind"): "sheet_kind",
    ("personnel.roster_import_status", "job_id"): "roster_import_job",
    ("system.user_import_job", "job_id"): "users_import_job",
    ("system.user_import_status", "job_id"): "users_import_job",
    ("cases.record_import_job", "job_id"): "records_import_job",
    ("cases.record_import_status", "job_id"): "records_import_job",
    ("evaluation.my_report", "round_id"): "evaluation_published",
}
# POST bodies: ("form" | "json", callable(objects) -> data). The default is an empty form: for an
# allowed caller most routes then refuse the input (400/422), which is still "not refused access".
BODIES = {
    "auth.login": ("form", lambda o: {"username": "clerk", "password": password("clerk")}),
    "inbox.assign": ("form", lambda o: {"user_id": o.reviewer2}),
    "cases.comment": ("form", lambda o: {"body": "请补充证据。"}),
    "personnel.credit_check": ("form", lambda o: {"purpose": "拟任职务审查"}),
    "personnel.open_case": ("form", lambda o: {"record_id": o.record, "person_id": o.p1, "post": "principal"}),
    "public.verify": ("form", lambda o: {"code": o.verification_code}),
    "admin.save": ("json", lambda o: {"bpmn_xml": "", "forms": {}}),
    "admin.validate": ("json", lambda o: {"bpmn_xml": "", "forms": {}}),
    "admin.deploy": ("json", lambda o: {"bpmn_xml": "", "forms": {}}),
    "admin.discard": ("json", lambda o: {}),
    "admin.check": ("json", lambda o: {"source": "1 + 1", "mode": "eval"}),
    "admin.form_preview": ("json", lambda o: {"type": "object", "properties": {}}),
    "api.create_record": ("json", lambda o: {}),
    "api.complete": ("json", lambda o: {}),
    "lookups.outcome": ("form", lambda o: {"outcome": "dropped"}),
    "api.create_lookup": ("json", lambda o: {}),
}
# Requests that end or start a session run in a browser of their own (same caller), so the rest of
# the matrix keeps its session.
OWN_BROWSER = {"auth.login", "auth.logout", "account.logout_everywhere"}
# Requests that end ALL the caller's sessions: the caller logs in again afterwards.
ENDS_ALL_SESSIONS = {"account.logout_everywhere"}
# Routes outside the matrix: Flask's static files, and the failing route tests/webapp/conftest.py adds.
NOT_ROUTES = {"static"}
TEST_ONLY_PREFIX = "/__test__/"
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


# -- the world the URLs point into ----------------------------------------------------------------

def build(world: WebWorld) -> SimpleNamespace:
    """The objects the URL arguments name, through the services: department A's record sanctioned
    (its decision document; P1's accountability case waiting for P1's statement), A's objection
    with a file, five legality reviews for the task routes, a migration job, and a token per account."""
    o = SimpleNamespace(process_key=LIFECYCLE, application_kind="objection", sheet_kind="xlsx",
                        approval_action="transfer")
    with world.uow() as uow:
        p1 = uow.session.get(Subject, world.subjects[P1])
        add_holding(uow, world.subjects[A], p1, "principal", date(2023, 1, 1), date(2026, 3, 31), "局长")
        for username, display, roles, subject_id in (("p1", p1.name, ["subject"], p1.id),
                                                     ("personnel", "钱人事", ["personnel"], None),
                                                     ("checker", "周查询", ["checker"], None)):
            user = create_user(uow, username, password(username), display, roles, subject_id=subject_id)
            world.actors[username], world.user_ids[username] = Actor.of(user), user.id
        user.department_id = world.subjects[A]       # the checker works for department A
        uow.commit()
        o.p1 = p1.id
    o.reviewer2 = world.user_ids["reviewer2"]
    soon = world.clock.today() + timedelta(days=30)    # the clerk's leave, not yet in force: it routes nothing here
    o.leave = world.run("clerk", set_leave, world.user_ids["leader"], soon, soon + timedelta(days=2)).id

    record, lifecycle = world.run("clerk", open_record, world.subjects[A], {**CAPTURE, "conduct_date": "2026-02-10"})
    o.record, o.lifecycle_case = record.id, lifecycle.id
    world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    with world.factory() as session:
        o.accountability_case = session.scalars(select(Case.id).where(
            Case.process_key == "accountability", Case.record_id == record.id, Case.party_id == o.p1)).one()
        document = session.scalars(select(Document).where(Document.record_id == record.id)).one()
        o.document, o.verification_code = document.id, document.verification_code
        o.definition = latest_definition(session, LIFECYCLE).id
    world.complete("clerk", world.task(o.accountability_case, "confirm_person").id, CONFIRM)
    o.task_statement = world.task(o.accountability_case, "statement").id

    with world.uow("subject") as uow:
        att = Attachment(case_id=None, uploaded_by_id=world.user_ids["subject"], filename="缴款凭证.pdf",
                         content_type="application/pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
                         created_at=world.clock.now())
        uow.session.add(att)
        uow.session.flush()
        objection = file_objection(uow, record.id, "factual_error", "欠款已于认定前结清。", [att.id])
        att.case_id = objection.id
        uow.commit()
        o.objection_case, o.attachment = objection.id, att.id

    o.commitment = world.run("subject", register_commitment, CommitmentDraft(   # A's public commitment
        None, "年底前清偿拖欠中小企业账款。", (world.clock.today() + timedelta(days=60)).isoformat(), "张某", "局长")).id
    o.lookup = world.run("checker", look_up, "code", SUBJECTS[A][2], "procurement", "YLCG-2026-118").id   # 逢办必查
    o.sharing_batch = world.run("admin", export_batch, "provincial", "json").id    # A's publication, sent upward
    with world.uow() as uow:                 # a warning about department A (workflows/early_warning)
        warning = EarlyWarning(rule="department_records", key=f"department_records:{world.subjects[A]}",
                               about="department", about_id=world.subjects[A], department_id=world.subjects[A],
                               params={"department": "A", "months": 12, "count": 2, "threshold": 2},
                               raised_at=world.clock.now(), last_seen_at=world.clock.now())
        uow.session.add(warning)
        uow.commit()
        o.warning = warning.id
    build_evaluation(world, o)
    for name in ("task_view", "task_claim", "task_assign", "task_unclaim_web", "task_unclaim_api"):
        _, case_id = world.open_record(C)
        setattr(o, name, world.task(case_id, "legality_review").id)
    for name in ("task_unclaim_web", "task_unclaim_api"):     # claimed by the reviewer, to be released
        world.run("reviewer", claim_task, getattr(o, name))

    with world.uow("manager") as uow:
        definition = uow.session.get(ProcessDefinition, o.definition)
        o.job = start_job(uow, definition, definition).id
        o.tokens = {name: create_api_token(uow, user_id, "route matrix") for name, user_id in world.user_ids.items()}
        uow.commit()
    for uploader, kind, name in (("personnel", "roster", "roster_import_job"), ("admin", "users", "users_import_job"),
                                 ("clerk", "records", "records_import_job")):
        o.__dict__[name] = world.run(uploader, enqueue_import, kind, "sheet.csv", b"department_code\n").id
    return o


def build_evaluation(world: WebWorld, o: SimpleNamespace) -> None:
    """This year's evaluation in its objection window, department A's objection filed; last year's
    published, A's report in it (the decision document stands in for the report: its bytes are a
    signed PDF of A's)."""
    from workflows.evaluation.model import EvaluationRound, EvaluationScore
    from workflows.evaluation.service import edit_indicators, file_objection as object_to_score, open_round, start_round
    year = world.clock.today().year
    evaluation = world.run("leader", open_round, str(year))
    with world.uow("leader") as uow:
        weights = {"weight_" + i["code"]: i["weight"] for i in evaluation.indicators}
        weights.update(weight_records=weights["weight_records"] + weights.pop("weight_survey"), weight_survey=0)
        edit_indicators(uow, evaluation.id, weights)      # no survey this year
        uow.commit()
    case_id = world.run("leader", start_round, evaluation.id).case_id
    world.complete("reviewer", world.task(case_id, "review").id, {"review_decision": "approve", "review_opinion": "无误。"})
    world.complete("leader", world.task(case_id, "approve").id, {"approval_decision": "approve", "approval_opinion": "同意。"})
    o.evaluation_round = evaluation.id
    o.evaluation_objection = world.run("subject", object_to_score, evaluation.id, "逢办必查次数漏计。").id
    with world.uow() as uow:
        published = EvaluationRound(year=year - 1, status="final", indicators=evaluation.indicators, computations=1,
                                    created_by="leader", created_at=world.clock.now(), published_at=world.clock.now())
        uow.session.add(published)
        uow.session.flush()
        uow.session.add(EvaluationScore(round_id=published.id, subject_id=world.subjects[A], details={},
                                        computed_score=90.0, final_score=90.0, document_id=o.document))
        uow.commit()
        o.evaluation_published, o.evaluation_year = published.id, year - 1


_TEMPLATE = {}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    """Overrides tests/webapp/conftest.py's template for this module: the seeded database with
    build()'s objects (its ids are the same in every copy). On PostgreSQL every test builds anew."""
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "route-matrix", build)
    return path


@pytest.fixture
def world_seed():
    """On PostgreSQL the `world` fixture copies in the same objects, built once per worker."""
    return "route-matrix", lambda factory, clock: build(WebWorld(factory, clock))


@pytest.fixture
def objects(database_url, world, app, seeded):
    if database_url.startswith("sqlite"):
        o = _TEMPLATE["objects"]
    else:
        o = seeded.made if seeded.restored == "route-matrix" else build(world)
    digest = hashlib.sha256(PDF).hexdigest()      # the evidence file itself, where the app keeps uploads
    path = Path(app.config["UPLOAD_FOLDER"]) / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    return o


# -- requests and what they answer ----------------------------------------------------------------

def matrix_rules(app):
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint not in NOT_ROUTES and not r.rule.startswith(TEST_ONLY_PREFIX)]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def methods_of(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"}, key=lambda m: METHOD_ORDER.get(m, 9))


def access_for(endpoint: str, method: str) -> Access:
    if endpoint not in POLICY:
        pytest.fail(f"the route {endpoint!r} is not in the authorization matrix: add it to POLICY in "
                    f"tests/webapp/test_route_matrix.py (see the module docstring)")
    entry = POLICY[endpoint]
    if isinstance(entry, dict):
        assert method in entry, f"POLICY[{endpoint!r}] says nothing about {method}"
        return entry[method]
    return entry


def url_for_rule(app, rule, objects) -> str:
    values = {}
    for arg in sorted(rule.arguments):
        name = ARG_OVERRIDES.get((rule.endpoint, arg), ARGS.get(arg))
        if name is None or not hasattr(objects, name):
            pytest.fail(f"{rule.rule} ({rule.endpoint}) takes <{arg}>, which the route matrix has no value for: "
                        f"create the object in build() and name it in ARGS or ARG_OVERRIDES")
        values[arg] = getattr(objects, name)
    return app.url_map.bind("localhost").build(rule.endpoint, values)


def expected(access: Access, caller: str, channel: str) -> str:
    """'allowed', 'login' (sent to the login page), or the status a refusal answers."""
    if channel == "api-cookie":          # a browser session without a bearer token: the API knows nobody
        return "allowed" if "anonymous" in access.allowed else "401"
    if caller in access.allowed:
        return "allowed"
    if channel == "web":
        if caller == "anonymous":
            return "login"
        return "404" if caller in access.not_found else "403"
    if caller == "anonymous":
        return "401"
    return "404" if caller in access.not_found else "403"


def is_login_redirect(response) -> bool:
    """Sent to log in first, to come back afterwards (?next=); the logout's own redirect to the
    login page has no `next` and is no refusal."""
    parts = urlsplit(response.headers.get("Location", ""))
    return response.status_code in (301, 302, 303, 307, 308) and parts.path == "/login" and "next=" in parts.query


def outcome(response, api: bool) -> str:
    got = str(response.status_code)
    if response.status_code in (301, 302, 303, 307, 308):
        parts = urlsplit(response.headers.get("Location", ""))
        got += " -> " + parts.path + ("?next=..." if "next=" in parts.query else "")
    if api and response.mimetype != "application/json":
        got += f" ({response.mimetype}, not JSON)"
    return got


def matches(expect: str, response, method: str, api: bool) -> bool:
    status = response.status_code
    if api and response.mimetype != "application/json" and expect != "allowed":
        return False
    if expect == "allowed":
        if status in (401, 403, 404) or status >= 500 or is_login_redirect(response):
            return False
        return method != "GET" or status < 400
    if expect == "login":
        return is_login_redirect(response)
    return status == int(expect)


def fingerprint(world) -> dict:
    """What a refused request must leave alone: every table's row count, task assignments, case
    versions, unread notifications, process drafts, superseded documents."""
    with world.factory() as session:
        tables = Base.metadata.sorted_tables
        counts = session.execute(select(*(select(func.count()).select_from(t).scalar_subquery().label(t.name)
                                          for t in tables))).one()
        return {
            "rows": dict(zip([t.name for t in tables], counts)),
            "tasks": session.execute(select(HumanTask.id, HumanTask.assignee_id).order_by(HumanTask.id)).all(),
            "cases": session.execute(select(Case.id, Case.version).order_by(Case.id)).all(),
            "unread": session.scalar(select(func.count()).select_from(Notification)
                                     .where(Notification.read_at.is_(None))),
            "drafts": session.execute(select(ProcessDraft.key, ProcessDraft.saved_at)).all(),
            "superseded": session.execute(select(Document.id, Document.superseded_by_id)).all(),
        }


def changes(before: dict, after: dict) -> str:
    out = []
    for key in before:
        if key == "rows":
            out += [f"{t}: {n} -> {after['rows'][t]}" for t, n in before["rows"].items() if after["rows"][t] != n]
        elif before[key] != after[key]:
            out.append(key)
    return ", ".join(out)


class Caller:
    """One caller's ways in: a browser session (None: anonymous) and its API token."""

    def __init__(self, app, web, caller: str, objects):
        self.app, self.web, self.name = app, web, caller
        self.username = USERNAMES.get(caller)
        self.browser = self.new_browser()
        self.token = objects.tokens[self.username] if self.username else None

    def new_browser(self) -> Browser:
        if self.username is not None:
            return self.web(self.username)
        browser = self.web()
        browser.get("/login")                    # an anonymous session's CSRF token
        return browser

    def send(self, endpoint: str, method: str, url: str, body, channel: str):
        kind, data = body
        if channel == "web":
            browser = self.new_browser() if endpoint in OWN_BROWSER else self.browser
            if endpoint in ENDS_ALL_SESSIONS and self.username is not None:
                response = browser.post(url, data)
                self.browser = self.new_browser()
                return response
            if method == "GET":
                return browser.get(url)
            if kind == "json":
                return browser.client.open(url, method=method, json=data, headers={"X-CSRFToken": browser.token})
            if method == "POST":
                return browser.post(url, data)
            return browser.client.open(url, method=method, data={**data, "csrf_token": browser.token})
        headers = {"Authorization": f"Bearer {self.token}"} if channel == "api" and self.token else {}
        kwargs = {"json": data} if method != "GET" else {}
        return self.browser.client.open(url, method=method, headers=headers, **kwargs)


# -- the tests ------------------------------------------------------------------------------------

@pytest.fixture
def bare_app(instance_dir, tmp_path):
    """The app as production builds it (no test-only routes), on a database it never opens."""
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "SECRET_KEY": "test",
                       "TESTING": True})


def test_every_route_is_in_the_policy(bare_app):
    assert set(MODEL_ROLES) == {*ROLES, "subject"}, \
        f"the roles changed ({MODEL_ROLES}): give each a caller in tests/webapp/test_route_matrix.py"
    endpoints = {r.endpoint for r in matrix_rules(bare_app)}
    missing = sorted(endpoints - set(POLICY))
    stale = sorted(set(POLICY) - endpoints)
    assert not missing, ("routes missing from the authorization matrix -- add each to POLICY in "
                         f"tests/webapp/test_route_matrix.py (who may use it): {missing}")
    assert not stale, f"POLICY in tests/webapp/test_route_matrix.py names endpoints that no longer exist: {stale}"
    for rule in matrix_rules(bare_app):
        for method in methods_of(rule):
            access_for(rule.endpoint, method)
        for arg in rule.arguments:
            assert ARG_OVERRIDES.get((rule.endpoint, arg), ARGS.get(arg)), \
                f"{rule.rule} takes <{arg}>: name an object for it in ARGS or ARG_OVERRIDES"


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_answers_every_caller_as_the_policy_says(app, web, world, objects, caller):
    who = Caller(app, web, caller, objects)
    mismatches, sent = [], 0
    for rule in matrix_rules(app):
        url = url_for_rule(app, rule, objects)
        api = rule.endpoint.startswith("api.")
        if not api:
            channels = ["web"]
        else:   # the token; and for a logged-in caller the browser session alone, which the API ignores
            channels = ["api"] if caller == "anonymous" else ["api", "api-cookie"]
        for method in methods_of(rule):
            access = access_for(rule.endpoint, method)
            kind, make = BODIES.get(rule.endpoint, ("form", lambda o: {}))
            for channel in channels:
                expect = expected(access, caller, channel)
                changing = method != "GET" and expect != "allowed"
                before = fingerprint(world) if changing else None
                response = who.send(rule.endpoint, method, url, (kind, make(objects)), channel)
                sent += 1
                where = f"{method:5} {url:48} {caller}{'' if channel == 'web' else ' (' + channel + ')'}"
                if not matches(expect, response, method, api):
                    mismatches.append(f"{where}: expected {expect}, got {outcome(response, api)}")
                if changing:
                    changed = changes(before, fingerprint(world))
                    if changed:
                        mismatches.append(f"{where}: refused ({outcome(response, api)}) but changed {changed}")
    assert sent >= len(POLICY)
    assert not mismatches, (f"{len(mismatches)} of {sent} requests disagree with POLICY:\n"
                            + "\n".join(mismatches))


def test_every_account_lands_on_a_page_it_may_open(web, objects):
    """After logging in, '/' takes each account to its own start page, and that page opens."""
    for caller in LOGGED_IN_CALLERS:
        browser = web(USERNAMES[caller])
        response = browser.get("/", follow_redirects=True)
        assert response.status_code == 200, (caller, response.request.path, response.status_code)


def test_a_subject_cannot_reach_another_subjects_record_case_files_or_decision(app, web, world, objects):
    """Department B's account reaches for department A's record: the portal says 'not found', the
    staff pages 'forbidden', the API 'not found'; its POSTs change nothing. (B's own record opens,
    and A's account opens the same URLs, so the refusals are about whose they are.)"""
    with world.uow() as uow:
        user = create_user(uow, "subject_b", password("subject_b"), SUBJECTS[B][1], ["subject"],
                           subject_id=world.subjects[B])
        token_b = create_api_token(uow, user.id, "route matrix")
        uow.commit()
    own_record, own_case = world.open_record(B)
    world.complete("reviewer", world.task(own_case, "legality_review").id,     # confirmed: B is told of it
                   {"review_decision": "approve", "review_opinion": "事实清楚。"})
    a, b = web("subject"), web("subject_b")
    o = objects
    portal = [f"/portal/records/{o.record}", f"/portal/records/{o.record}/objection",
              f"/portal/records/{o.record}/self_correction", f"/portal/records/{o.record}/credit_repair",
              f"/portal/applications/{o.objection_case}", f"/portal/attachments/{o.attachment}",
              f"/portal/documents/{o.document}"]
    staff = [f"/cases/{o.lifecycle_case}", f"/cases/{o.objection_case}", f"/cases/{o.lifecycle_case}/diagram.bpmn",
             f"/attachments/{o.attachment}", f"/documents/{o.document}", "/records"]
    for url in portal:
        assert a.get(url).status_code == 200, url             # A's own
        assert b.get(url).status_code == 404, url
    assert b.get(f"/portal/records/{own_record}").status_code == 200
    for url in staff:
        assert b.get(url).status_code == 403, url
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token_b}"}
    for url in (f"/api/v1/records/{o.record}", f"/api/v1/cases/{o.objection_case}",
                f"/api/v1/cases/{o.lifecycle_case}"):
        assert client.get(url, headers=bearer).status_code == 404, url
    listed = client.get("/api/v1/records", headers=bearer).get_json()["records"]
    assert [r["id"] for r in listed] == [own_record]

    before = fingerprint(world)
    b.get("/portal/")
    assert b.post(f"/portal/records/{o.record}/objection",
                  {"grounds": "factual_error", "statement": "不是我的记录"}).status_code == 404
    assert b.post(f"/portal/applications/{o.objection_case}/review").status_code == 404
    assert b.post(f"/cases/{o.lifecycle_case}/comments", {"body": "我有异议"}).status_code == 403
    assert changes(before, fingerprint(world)) == ""


def test_a_credit_check_extract_is_for_personnel_and_the_person_only(web, world, objects):
    """The extract is the civil servant's integrity file as a PDF: personnel issue it and the person
    downloads it from the portal; the case staff get 'not found' at /documents/<id>, as for the
    file itself, and a leader cannot issue a 'correction' of it."""
    document = world.run("personnel", credit_check_extract, objects.p1, "拟任职务审查")
    p1 = web("p1")
    response = p1.get(f"/portal/documents/{document.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    for username in ("clerk", "reviewer", "leader", "manager"):
        browser = web(username)
        assert browser.get(f"/documents/{document.id}").status_code == 404, username
        assert browser.get(f"/documents/{objects.document}").status_code == 200, username   # a case's decision
    leader = web("leader")
    before = fingerprint(world)
    assert leader.post(f"/documents/{document.id}/correct", {"reason": "更正"}).status_code == 404
    assert changes(before, fingerprint(world)) == ""
