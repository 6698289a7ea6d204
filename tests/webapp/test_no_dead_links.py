"""No dead ends: every role, starting from its home page, follows every link it is shown (every
internal `a[href]`, breadth-first, each page once, at most MAX_PAGES) and none of them answers
403, 404 or 500, or sends a logged-in user back to the login page. A link is shown only where the
viewer may open its target, by the same rule the target checks (workflows/access.py).

The world: the route matrix's (department A's record sanctioned and published, its objection,
P1's accountability case) taken further (further(): the objection decided, a second
accountability case decided and under 复核, a record under review, the worker run 100 days on,
which sends overdue reminders, a repair asked for a supplement), then P1 as a record subject with
one record published and one published and since repaired, and reminded tasks finished
afterwards, so the notifications page holds reminders about finished tasks. It is built once per
database and every role crawls it in turn."""
from __future__ import annotations

import hashlib
from collections import deque
from datetime import date, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from credflow_web import CAPTURE, WebWorld, world_template
from test_route_matrix import A, APPROVE, C, CONFIRM, LEADER_OK, PDF, P1, USERNAMES, build
from workflows.accountability import add_holding, open_accountability, request_review
from workflows.applications import file_credit_repair
from workflows.cases import assign_task
from workflows.models import Attachment, Case, HumanTask, Record, Subject
from workflows.records import open_record
from workflows.reminders import send_deadline_reminders
from workflows.worker import run_once

MAX_PAGES = 400
CALLERS = ("anonymous", "clerk", "reviewer", "leader", "manager", "personnel", "admin", "subject", "civil_servant")
DEAD = (403, 404)


def published_record(world: WebWorld, subject_index: int) -> int:
    """A record of the subject taken through review and approval: published."""
    record, lifecycle = world.run("clerk", open_record, world.subjects[subject_index], CAPTURE)
    world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    return record.id


def repair(world: WebWorld, username: str, record_id: int) -> int:
    """The subject applies for credit repair with a signed commitment, and the office approves."""
    with world.uow(username) as uow:
        commitment = Attachment(case_id=None, uploaded_by_id=world.user_ids[username], filename="信用承诺书.pdf",
                                content_type="application/pdf", size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(),
                                created_at=world.clock.now())
        uow.session.add(commitment)
        uow.session.flush()
        case = file_credit_repair(uow, record_id, "已履行全部义务。", True, [commitment.id], [])
        commitment.case_id = case.id
        uow.commit()
    world.complete("clerk", world.task(case.id, "completeness_check").id,
                   {"completeness": "complete", "completeness_reason": "材料齐全。"})
    world.complete("reviewer", world.task(case.id, "review").id,
                   {"recommendation": "approve", "review_reason": "已履行义务。"})
    world.complete("leader", world.task(case.id, "leader_decision").id,
                   {"repair_decision": "approve", "decision_reason": "准予修复。"})
    return case.id


def decide_accountability(world: WebWorld, case_id: int) -> None:
    world.complete("clerk", world.task(case_id, "confirm_person").id, CONFIRM)
    world.complete("p1", world.task(case_id, "statement").id, {"statement_text": "本人已整改。"})
    world.complete("reviewer", world.task(case_id, "consider_self_correction").id,
                   {"self_correction": "none", "self_correction_reason": "未主动纠错。"})
    world.complete("reviewer", world.task(case_id, "propose_measure").id,
                   {"measure": "admonition", "measure_reason": "负有领导责任。"})
    world.complete("leader", world.task(case_id, "leader_decision").id,
                   {"final_measure": "admonition", "decision_reason": "予以诫勉谈话。"})


def further(world: WebWorld, o) -> None:
    """What build() leaves open, taken further: A's objection decided; a second record of A whose
    accountability case for P1 is decided and under 复核; a third record still under review; 100
    days on (the worker fires the timers and reminds of every overdue task) A applies for repair
    of the second record and is asked for a supplement."""
    world.complete("clerk", world.task(o.objection_case, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "材料齐全，予以受理。"})
    world.complete("reviewer", world.task(o.objection_case, "verification").id,
                   {"verification_outcome": "keep", "verification_reason": "经核查，认定事实无误。"})
    world.complete("leader", world.task(o.objection_case, "leader_approval").id,
                   {"final_outcome": "keep", "decision_reason": "维持原记录。"})
    record, lifecycle = world.run("clerk", open_record, world.subjects[A], {**CAPTURE, "conduct_date": "2026-02-10"})
    world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    with world.factory() as session:
        decided = session.scalars(select(Case.id).where(Case.process_key == "accountability",
                                                        Case.record_id == record.id)).one()
    decide_accountability(world, decided)
    o.review_case = world.run("p1", request_review, decided).id
    world.run("clerk", open_record, world.subjects[A], CAPTURE)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair = world.run("subject", file_credit_repair, record.id, "已全额支付。", True, [o.attachment], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件。"})


def make_objects(world: WebWorld) -> SimpleNamespace:
    o = build(world)
    o.p1_repaired = published_record(world, P1)
    o.p1_published = published_record(world, P1)
    further(world, o)
    o.p1_repair = repair(world, "p1", o.p1_repaired)
    # reminders about tasks finished afterwards: A's supplement (due soon) and a legality review
    # (overdue, reminded by the worker), and a task the leader handed to reviewer2
    supplement = [t for t in world.tasks() if t.bpmn_id == "supplement"][0]
    world.clock.at = supplement.due_at - timedelta(hours=1)
    world.run(None, send_deadline_reminders)
    world.complete("subject", supplement.id, {"supplement_statement": "已补交缴款凭证原件。"})
    with world.factory() as session:
        confirmed = session.get(HumanTask, o.task_view).record_id     # C's record, confirmed next
    world.complete("reviewer", o.task_view, APPROVE)
    world.run("leader", assign_task, o.task_assign, world.user_ids["reviewer2"])
    world.complete("reviewer2", o.task_assign, APPROVE)
    # personnel open a case by hand and P1 is asked for a statement: a portal task with its dossier
    # (P1, named to C's roster only now, on C's record the reviewer confirmed: one case per person
    # and record, and A's record has P1's case from the roster already)
    with world.uow("manager") as uow:
        add_holding(uow, world.subjects[C], uow.session.get(Subject, o.p1), "official_in_charge", date(2026, 1, 1))
        uow.commit()
    with world.uow("personnel") as uow:
        by_hand = open_accountability(uow, uow.session.get(Record, confirmed), o.p1, "official_in_charge").id
        uow.commit()
    world.complete("clerk", world.task(by_hand, "confirm_person").id, CONFIRM)
    o.review_statement = world.task(by_hand, "statement").id
    o.now = world.clock.now()
    with world.factory() as session:
        o.accountability_cases = session.scalars(select(Case.id).where(Case.process_key == "accountability")).all()
        assert session.get(Record, o.p1_repaired).status == "repaired"
    return o


_TEMPLATE = {}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    """The seeded database with the world above, built once for the module (copied per test)."""
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "dead-links", make_objects)
    return path


@pytest.fixture
def objects(database_url, world, app):
    if database_url.startswith("sqlite"):
        world.clock.at = _TEMPLATE["objects"].now      # the template's clock moved on while it was built
        o = _TEMPLATE["objects"]
    else:
        o = make_objects(world)
    digest = hashlib.sha256(PDF).hexdigest()      # the files themselves, where the app keeps uploads
    path = app.config["UPLOAD_FOLDER"]
    from pathlib import Path
    target = Path(path) / digest[:2] / digest
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PDF)
    return o


# -- the crawl ------------------------------------------------------------------------------------

def links_of(response) -> list[str]:
    """The internal links of an HTML page: a[href] on this site, without fragments, not the
    language switch."""
    if response.mimetype != "text/html" or response.status_code != 200:
        return []
    body = response.get_data(as_text=True)
    if not body.strip():
        return []
    found = []
    for href in lxml_html.fromstring(body).xpath("//a[@href]/@href"):
        href = href.split("#", 1)[0]
        if not href.startswith("/") or href.startswith("//") or "lang=" in href or "/logout" in href:
            continue
        found.append(href)
    return found


def visit_key(url: str) -> tuple[str, bool]:
    """A page once, and of its query-string variants (a list's pages, filters, sorts) only the first."""
    parts = urlsplit(url)
    return parts.path, bool(parts.query)


def crawl(browser, start: str = "/", limit: int = MAX_PAGES):
    """Breadth-first from `start`: (visited urls, problems as 'url (linked from page): status')."""
    queue, linked_from = deque([start]), {start: "(home)"}
    keys, visited, problems = {visit_key(start)}, [], []
    while queue and len(visited) < limit:
        url = queue.popleft()
        response = browser.get(url, follow_redirects=True)
        visited.append(url)
        landed = response.request.path
        status = response.status_code
        if status in DEAD or status >= 500:
            problems.append(f"{url} (linked from {linked_from[url]}): {status}")
        elif landed == "/login" and urlsplit(url).path not in ("/", "/login"):
            problems.append(f"{url} (linked from {linked_from[url]}): sent to the login page")
        for href in links_of(response):
            key = visit_key(href)
            if key in keys:
                continue
            keys.add(key)
            linked_from[href] = url
            queue.append(href)
    return visited, problems


def must_reach(o) -> dict[str, set[str]]:
    """Pages each role reaches by links alone (so the crawl is known to have gone somewhere)."""
    case_pages = {f"/cases/{o.lifecycle_case}", f"/cases/{o.objection_case}", f"/cases/{o.accountability_case}"}
    return {
        "anonymous": {f"/public/records/{o.p1_published}"},
        "clerk": case_pages | {f"/documents/{o.document}", f"/attachments/{o.attachment}"},
        "reviewer": case_pages | {"/inbox"},
        "leader": case_pages | {"/inbox"},
        "manager": case_pages | {"/admin/"},
        # the accountability cases of the people in their charge, and those cases' decisions
        "personnel": {f"/personnel/people/{o.p1}"} | {f"/cases/{c}" for c in o.accountability_cases},
        "admin": {"/system/users", "/system/calendar"},
        "subject": {f"/portal/records/{o.record}", f"/portal/applications/{o.objection_case}"},
        "civil_servant": {"/portal/integrity", f"/portal/records/{o.p1_repaired}", f"/portal/records/{o.p1_published}",
                          f"/portal/applications/{o.accountability_case}", f"/portal/tasks/{o.review_statement}"},
    }


def test_every_link_every_role_is_shown_opens(web, objects):
    """One world per database, crawled as every role in turn, each with its own browser. A crawl
    only reads: the pages and statuses each role sees are the same as on a world of its own (in
    either order of the roles; its logins add sessions, which no crawled page links to)."""
    reach, failures = must_reach(objects), []
    for caller in CALLERS:
        browser = web(USERNAMES[caller]) if caller != "anonymous" else web()
        visited, problems = crawl(browser)
        if problems:
            failures.append(f"{len(problems)} dead links for {caller} ({len(visited)} pages):\n" + "\n".join(problems))
        missed = reach[caller] - set(visited)
        if missed:
            failures.append(f"{caller} reached {sorted(visited)} by links, not {sorted(missed)}")
    assert not failures, "\n\n".join(failures)


def test_the_crawl_would_see_a_dead_link(web):
    """The crawl itself: a page the role may not open, linked, is reported (here the clerk's
    start page is taken as a link to the process managers' area)."""
    visited, problems = crawl(web("clerk"), start="/admin/", limit=1)
    assert visited == ["/admin/"] and problems == ["/admin/ (linked from (home)): 403"]

