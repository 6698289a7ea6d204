"""追究责任，惩戒到人: the post roster, the accountability cases a sanctioned department record opens
for the people who held its posts when the conduct happened, their statement (陈述申辩), the
exempt and measure paths with the signed decision and the integrity file, the 复核 request, the
roster import and the integrity file's view period, driven through the services with the clock moved."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import time
from dataclasses import replace
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from workflows.accountability import (ROSTER_COLUMNS, add_entry, add_holding, import_roster, integrity_file,
                                      request_review, responsible_on)
from workflows.accounts import create_user
from workflows.audit import verify_chain
from workflows.cases import CaseError, Forbidden, NotFound, complete_task
from workflows.clock import CST
from workflows.demo import SUBJECTS, make_citizen_id
from workflows.models import (AuditEvent, Case, Document, IntegrityEntry, Notification, PostHolding,
                              Record, Subject)
from workflows.records import open_record, register_subject
from workflows.runtime import Actor
from workflows.settings import Settings
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
CONFIRM = {"person_confirmed": "confirm", "confirm_reason": "经核对任职文件，失信行为发生时在岗。"}
STATEMENT = {"statement_text": "本人已督促财务科于 2026 年 5 月结清欠款。"}
DEPARTMENT_CODE = SUBJECTS[0][2]          # the World's subjects[0], a department: "D"
PROJECT, PHASE = "榆阳区污水处理厂PPP项目", "建设期"

# name, the first 17 digits of the citizen ID
PEOPLE = {
    "P1": ("王主任", "61080219700101001"),   # principal until 2026-03-31
    "P2": ("李局长", "61080219720202002"),   # principal from 2026-04-01
    "O1": ("赵副局长", "61080219750303003"),  # official in charge throughout
    "L1": ("孙工", "61080219800404004"),     # lead of PROJECT in PHASE
    "L2": ("周工", "61080219810505005"),     # lead of PROJECT in another phase
    "L3": ("吴工", "61080219820606006"),     # lead of PROJECT, all phases
    "L4": ("郑工", "61080219830707007"),     # lead of another project
}


# -- helpers ------------------------------------------------------------------------------------

def get(world, model, id_):
    with world.factory() as session:
        return session.get(model, id_)


def open_tasks(world, case_id):
    return [t.bpmn_id for t in world.tasks(case_id)]


def count(world, model, *where):
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def actions(world) -> list[AuditEvent]:
    with world.factory() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


@pytest.fixture
def roster(world):
    """The people, D's roster and a portal account for P1 ('p1') and O1 ('o1')."""
    d = world.subjects[0]
    with world.uow("manager") as uow:
        ids = {key: register_subject(uow, "civil_servant", name, make_citizen_id(first17)).id
               for key, (name, first17) in PEOPLE.items()}
        person = {key: uow.session.get(Subject, i) for key, i in ids.items()}
        add_holding(uow, d, person["P1"], "principal", date(2023, 1, 1), date(2026, 3, 31), "局长")
        add_holding(uow, d, person["P2"], "principal", date(2026, 4, 1), None, "局长")
        add_holding(uow, d, person["O1"], "official_in_charge", date(2022, 6, 1), None, "副局长")
        add_holding(uow, d, person["L1"], "project_lead", date(2025, 1, 1), None, project=PROJECT, phase=PHASE)
        add_holding(uow, d, person["L2"], "project_lead", date(2025, 1, 1), None, project=PROJECT, phase="运营期")
        add_holding(uow, d, person["L3"], "project_lead", date(2025, 1, 1), None, project=PROJECT)
        add_holding(uow, d, person["L4"], "project_lead", date(2025, 1, 1), None, project="另一项目", phase=PHASE)
        for username, key in (("p1", "P1"), ("o1", "O1")):
            world.actors[username] = Actor.of(create_user(uow, username, "pw", PEOPLE[key][0], ["subject"],
                                                          subject_id=ids[key]))
        uow.commit()
    return SimpleNamespace(department=d, **ids)


def sanctioned(world, capture, **extra) -> tuple[int, dict[int, int]]:
    """D's record captured (with a conduct date, a project...), approved and sanctioned by the
    lifecycle, which opens the accountability cases: (record id, {person id: case id})."""
    record, lifecycle = world.run("clerk", open_record, world.subjects[0], {**capture, **extra})
    world.run("reviewer", complete_task, world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    assert get(world, Record, record.id).status == "published"
    with world.factory() as session:
        cases = session.scalars(select(Case).where(Case.process_key == "accountability",
                                                   Case.record_id == record.id)).all()
    return record.id, {c.party_id: c.id for c in cases}


def opened(world, capture, **extra) -> tuple[int, dict[int, int]]:
    """D's record captured and confirmed by the legality review (a decided record: the rule of
    ACCOUNTABILITY_RULE), and its cases opened by open_cases_for_record, the service the
    lifecycle's open_accountability_task calls: cheaper than a sanction, which signs a decision
    (test_sanction_opens_cases... takes the whole way once)."""
    from workflows.accountability import open_cases_for_record
    record, lifecycle = world.run("clerk", open_record, world.subjects[0], {**capture, **extra})
    world.run("reviewer", complete_task, world.task(lifecycle.id, "legality_review").id, APPROVE)
    assert get(world, Record, record.id).status == "confirmed"

    def open_cases(uow):
        return {c.party_id: c.id for c in open_cases_for_record(uow, uow.session.get(Record, record.id))}
    return record.id, world.run("leader", open_cases)


def to_statement(world, case_id):
    world.run("clerk", complete_task, world.task(case_id, "confirm_person").id, CONFIRM)
    return world.task(case_id, "statement")


def decide(world, case_id, person="p1", measure="admonition", final="admonition"):
    """Confirmed, stated by the person, no self-correction, proposed and decided by the leader."""
    statement = to_statement(world, case_id)
    world.run(person, complete_task, statement.id, STATEMENT)
    world.run("reviewer", complete_task, world.task(case_id, "consider_self_correction").id,
              {"self_correction": "none", "self_correction_reason": "未主动纠错。"})
    world.run("reviewer", complete_task, world.task(case_id, "propose_measure").id,
              {"measure": measure, "measure_reason": "拖欠账款，负有领导责任。"})
    world.run("leader", complete_task, world.task(case_id, "leader_decision").id,
              {"final_measure": final, "decision_reason": "予以诫勉谈话。"})
    case = get(world, Case, case_id)
    assert case.status == "completed"
    return case


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def sheet_csv(rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(ROSTER_COLUMNS)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def sheet_xlsx(rows) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(list(ROSTER_COLUMNS))
    for row in rows:
        book.active.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def import_like_the_page(world, filename, data):
    """import_roster as /personnel/roster runs it: committed only when the sheet had no errors."""
    with world.uow("manager") as uow:
        result = import_roster(uow, filename, data)
        if not result.errors:
            uow.commit()
    return result


# -- the roster ---------------------------------------------------------------------------------

def test_responsible_on_reads_the_roster_on_the_day(world, roster):
    def who(day, project=None, phase=None):
        with world.factory() as session:
            return sorted((h.post, h.person_id) for h in
                          responsible_on(session, roster.department, day, project, phase))
    assert who(date(2026, 3, 31)) == [("official_in_charge", roster.O1), ("principal", roster.P1)]
    assert who(date(2026, 4, 1)) == [("official_in_charge", roster.O1), ("principal", roster.P2)]
    assert who(date(2022, 5, 31)) == []                              # before anyone held a post
    assert who(date(2022, 6, 1)) == [("official_in_charge", roster.O1)]  # O1's first day, before P1's
    # project leads only for that project, in that phase (or for all its phases)
    assert who(date(2026, 4, 1), PROJECT, PHASE) == sorted([
        ("official_in_charge", roster.O1), ("principal", roster.P2),
        ("project_lead", roster.L1), ("project_lead", roster.L3)])
    assert ("project_lead", roster.L2) in who(date(2026, 4, 1), PROJECT, "运营期")
    # another department's roster is empty
    with world.factory() as session:
        assert responsible_on(session, world.subjects[1], date(2026, 4, 1)) == []


def test_add_holding_refuses_an_unknown_post_and_an_end_before_the_start(world, roster):
    with pytest.raises(CaseError, match="未知职务类型"):
        world.run("manager", lambda uow: add_holding(uow, roster.department, uow.session.get(Subject, roster.P1),
                                                     "boss", date(2026, 1, 1)))
    with pytest.raises(CaseError, match="结束日期早于开始日期"):
        world.run("manager", lambda uow: add_holding(uow, roster.department, uow.session.get(Subject, roster.P1),
                                                     "principal", date(2026, 5, 1), date(2026, 4, 1)))
    assert count(world, PostHolding) == 7


# -- opening the cases --------------------------------------------------------------------------

def test_sanction_opens_cases_for_who_held_the_posts_on_the_conduct_date(world, roster, capture):
    record_id, cases = sanctioned(world, capture, conduct_date="2026-02-10")
    assert get(world, Record, record_id).conduct_date == date(2026, 2, 10)
    # P1 has left the post since but held it then; P2 holds it today but did not then; no project named
    assert set(cases) == {roster.P1, roster.O1}
    for person_id, case_id in cases.items():
        case = get(world, Case, case_id)
        assert (case.status, case.record_id, case.parent_case_id) == ("running", record_id, None)
        task = world.task(case_id, "confirm_person")
        assert (task.lane, task.subject_id) == ("clerk", person_id)
    opened = {e.data["person_id"]: e.data["post"] for e in actions(world) if e.action == "accountability.opened"}
    assert opened == {roster.P1: "principal", roster.O1: "official_in_charge"}


def test_project_leads_only_for_the_record_naming_the_project_and_phase(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-05-10", project=PROJECT, project_phase=PHASE)
    assert set(cases) == {roster.P2, roster.O1, roster.L1, roster.L3}
    posts = {e.data["person_id"]: e.data["post"] for e in actions(world) if e.action == "accountability.opened"}
    assert posts[roster.L1] == posts[roster.L3] == "project_lead"
    # the capture form's optional project fields reached the record
    with world.factory() as session:
        record = session.get(Record, get(world, Case, cases[roster.L1]).record_id)
        assert (record.project, record.project_phase, record.conduct_date) == (PROJECT, PHASE, date(2026, 5, 10))


def test_a_record_without_a_conduct_date_uses_the_decision_date(world, roster, capture):
    _, cases = opened(world, capture)           # decided 2026-05-29: P2's time
    assert set(cases) == {roster.P2, roster.O1}


# -- the statement ------------------------------------------------------------------------------

def test_a_lapsed_statement_deadline_lets_the_case_proceed(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    statement = to_statement(world, case_id)
    assert (statement.lane, statement.subject_id) == ("subject", roster.P1)
    # 5 working days after Monday 2026-06-01
    assert statement.due_at == datetime(2026, 6, 8, 23, 59, 59, tzinfo=CST)
    world.clock.at = datetime(2026, 6, 8, 22, 0, tzinfo=CST)
    run_once(world.factory, world.clock)
    assert open_tasks(world, case_id) == ["statement"]
    world.clock.at = datetime(2026, 6, 9, 0, 5, tzinfo=CST)
    assert run_once(world.factory, world.clock)["fired"] >= 1
    assert open_tasks(world, case_id) == ["consider_self_correction"]
    assert get(world, Case, case_id).status == "running"
    # the other person's case is untouched
    assert open_tasks(world, cases[roster.O1]) == ["confirm_person"]


def test_only_the_persons_own_account_files_the_statement(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    statement = to_statement(world, case_id)
    for other in ("o1", "subject_c", "subject_a", "clerk", "reviewer"):   # another person, D's own account, staff
        with pytest.raises(Forbidden):
            world.run(other, complete_task, statement.id, {"statement_text": "代为陈述"})
    assert open_tasks(world, case_id) == ["statement"]
    world.run("p1", complete_task, statement.id, STATEMENT)
    assert open_tasks(world, case_id) == ["consider_self_correction"]
    done = [e for e in actions(world) if e.action == "task.completed" and e.case_id == case_id
            and e.data["task"] == "statement"]
    assert [(e.actor, e.data["data"]["statement_text"]) for e in done] == [("p1", STATEMENT["statement_text"])]


def test_the_person_is_told_of_the_statement_deadline(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    to_statement(world, case_id)
    with world.factory() as session:
        told = {n.user_id for n in session.scalars(select(Notification).where(
            Notification.kind == "statement", Notification.case_id == case_id))}
    assert told == {world.actors["p1"].user_id}


# -- the decision -------------------------------------------------------------------------------

def test_exempt_for_self_correction_issues_an_exemption_and_files_it(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    world.run("p1", complete_task, to_statement(world, case_id).id, STATEMENT)
    world.run("reviewer", complete_task, world.task(case_id, "consider_self_correction").id,
              {"self_correction": "exempt", "self_correction_reason": "主动督促结清欠款，消除了影响。"})
    case = get(world, Case, case_id)
    assert (case.status, case.outcome, case.outcome_reason) == ("completed", "exempt", "主动督促结清欠款，消除了影响。")
    assert open_tasks(world, case_id) == []
    with world.factory() as session:
        document = session.scalars(select(Document).where(Document.case_id == case_id)).one()
        entry = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == roster.P1)).one()
    assert (document.kind, document.title, document.subject_id) == ("accountability", "免予问责决定书", roster.P1)
    assert (entry.kind, entry.case_id, entry.document_id) == ("accountability", case_id, document.id)
    assert document.number in entry.source
    text = pdf_text(document.pdf)
    assert PEOPLE["P1"][0] in text and "免予问责" in text
    # an exemption is no measure: there is nothing to review
    with pytest.raises(CaseError, match="只能对已作出的问责决定申请复核"):
        world.run("p1", request_review, case_id)


def test_the_exemption_entry_says_exempted_in_words(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    world.run("p1", complete_task, to_statement(world, case_id).id, STATEMENT)
    world.run("reviewer", complete_task, world.task(case_id, "consider_self_correction").id,
              {"self_correction": "exempt", "self_correction_reason": "已主动纠错。"})
    with world.factory() as session:
        entry = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == roster.P1)).one()
    assert "exempt" not in entry.summary and "免予问责" in entry.summary


def test_a_measure_is_decided_signed_and_filed_for_the_person(world, roster, capture):
    record_id, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    case = decide(world, case_id)
    assert (case.outcome, case.outcome_reason, case.party_id) == ("admonition", "予以诫勉谈话。", roster.P1)
    with world.factory() as session:
        document = session.scalars(select(Document).where(Document.case_id == case_id)).one()
        entries = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == roster.P1)).all()
        decision_notes = session.scalars(select(Notification).where(Notification.kind == "decision",
                                                                    Notification.case_id == case_id)).all()
    assert (document.kind, document.title, document.subject_id, document.record_id) == (
        "accountability", "问责处理决定书", roster.P1, record_id)
    assert document.number.startswith("榆信问决〔2026〕")
    flat = "".join(pdf_text(document.pdf).split())
    assert f"{PEOPLE['P1'][0]}：" in flat                       # addressed to the person
    assert "对你予以诫勉" in flat and "主要负责人" in flat
    assert "本人已督促财务科" in flat                            # the statement is quoted
    assert "30日内向原处理机关申请复核" in flat and "15日内提出申诉" in flat   # the civil servant's remedies
    assert "行政复议" not in flat                                 # not a department's remedies
    [entry] = entries
    assert (entry.kind, entry.case_id, entry.document_id, entry.entry_date) == (
        "accountability", case_id, document.id, date(2026, 6, 1))
    assert "诫勉" in entry.summary and document.number in entry.source
    assert [n.user_id for n in decision_notes] == [world.actors["p1"].user_id]
    # O1's case is separate and still waits
    assert open_tasks(world, cases[roster.O1]) == ["confirm_person"]
    # 复核 is asked within 30 days: on day 31 it is refused, and nothing is opened
    world.clock.advance(days=31)
    with pytest.raises(CaseError, match="30 日复核期限"):
        world.run("p1", request_review, case_id)
    assert count(world, Case, Case.parent_case_id == case_id) == 0


def test_the_decision_document_is_announced_to_the_person_not_the_department(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    decide(world, case_id)
    with world.factory() as session:
        told = {n.user_id for n in session.scalars(select(Notification).where(
            Notification.kind == "document", Notification.case_id == case_id))}
    assert world.actors["subject_a"].user_id not in told
    assert world.actors["p1"].user_id in told


def test_a_review_request_opens_a_linked_case_at_propose_measure(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    first = cases[roster.P1]
    decide(world, first)
    # staff cannot ask on the person's behalf; another person cannot reach the case
    with pytest.raises(Forbidden):
        world.run("leader", request_review, first)
    with pytest.raises(NotFound):
        world.run("o1", request_review, first)
    with pytest.raises(NotFound):
        world.run("subject_a", request_review, first)
    world.clock.advance(days=30)                     # the last day of the period
    review = world.run("p1", request_review, first)
    case = get(world, Case, review.id)
    assert (case.process_key, case.parent_case_id, case.party_id, case.status) == (
        "accountability", first, roster.P1, "running")
    assert open_tasks(world, review.id) == ["propose_measure"]     # no confirmation, no second statement
    assert world.task(review.id, "propose_measure").lane == "reviewer"
    # a second request while the first is open is refused
    with pytest.raises(CaseError, match=f"复核已在办理（案件 C-{review.id:06d}）"):
        world.run("p1", request_review, first)
    assert count(world, Case, Case.parent_case_id == first) == 1
    # the review is decided: a lighter measure, its own document and integrity entry
    world.run("reviewer", complete_task, world.task(review.id, "propose_measure").id,
              {"measure": "notice", "measure_reason": "复核认为诫勉过重。"})
    world.run("leader", complete_task, world.task(review.id, "leader_decision").id,
              {"final_measure": "notice", "decision_reason": "改为通报。"})
    case = get(world, Case, review.id)
    assert (case.status, case.outcome) == ("completed", "notice")
    with world.factory() as session:
        entries = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == roster.P1)
                                  .order_by(IntegrityEntry.id)).all()
        documents = session.scalars(select(Document).where(Document.kind == "accountability")
                                    .order_by(Document.id)).all()
    assert [e.case_id for e in entries] == [first, review.id]
    assert [(d.case_id, d.subject_id) for d in documents] == [(first, roster.P1), (review.id, roster.P1)]
    assert "通报" in pdf_text(documents[1].pdf)


def test_every_accountability_step_is_in_the_audit_chain(world, roster, capture):
    _, cases = opened(world, capture, conduct_date="2026-02-10")
    case_id = cases[roster.P1]
    decide(world, case_id)
    review = world.run("p1", request_review, case_id)
    world.run("manager", add_entry, roster.O1,
              "appraisal", "2025 年度考核：优秀。", "年度考核", date(2026, 1, 20))
    with world.factory() as session:
        report = verify_chain(session)
    assert report.ok, report.reason
    events = actions(world)
    assert report.checked == len(events)
    done = {(e.action, e.case_id) for e in events}
    roster_added = [e.data["person_id"] for e in events if e.action == "roster.added"]
    assert sorted(roster_added) == sorted([roster.P1, roster.P2, roster.O1, roster.L1, roster.L2, roster.L3, roster.L4])
    for action in ("accountability.opened", "case.started", "accountability.decided", "document.issued",
                   "integrity.entry_added", "case.completed"):
        assert (action, case_id) in done, action
    assert ("accountability.opened", review.id) in done
    steps = [e.data["task"] for e in events if e.action == "task.completed" and e.case_id == case_id]
    assert steps == ["confirm_person", "statement", "consider_self_correction", "propose_measure", "leader_decision"]
    decided = [e for e in events if e.action == "accountability.decided" and e.case_id == case_id]
    assert decided[0].data["measure"] == "admonition"
    opened_review = [e for e in events if e.action == "accountability.opened" and e.data.get("review_of") == case_id]
    assert [e.case_id for e in opened_review] == [review.id]
    entries = [e.data for e in events if e.action == "integrity.entry_added"]
    assert [(d["person_id"], d["kind"]) for d in entries] == [(roster.P1, "accountability"), (roster.O1, "appraisal")]


# -- the roster import --------------------------------------------------------------------------

def rows_for(*people, start="2026-01-01", end=""):
    return [(DEPARTMENT_CODE, id_number, name, post, "", "", "", start, end) for id_number, name, post in people]


def test_import_roster_from_csv_and_xlsx(world):
    a, b, c = (make_citizen_id(x) for x in ("61080219900101011", "61080219900202022", "61080219900303033"))
    csv_rows = [(DEPARTMENT_CODE, a, "甲某", "principal", "局长", "", "", "2025-01-01", "2026-03-31"),
                (DEPARTMENT_CODE, b, "乙某", "project_lead", "", PROJECT, PHASE, "2025-06-01", "")]
    result = import_like_the_page(world, "名册.csv", sheet_csv(csv_rows))
    assert (result.added, result.errors) == (2, [])
    xlsx_rows = [(DEPARTMENT_CODE, c, "丙某", "official_in_charge", "副局长", None, None, date(2026, 4, 1), None),
                 (DEPARTMENT_CODE, a, "甲某", "official_in_charge", "", None, None, "2026-04-01", "2026-12-31")]
    result = import_like_the_page(world, "名册.XLSX", sheet_xlsx(xlsx_rows))
    assert (result.added, result.errors) == (2, [])
    with world.factory() as session:
        holdings = session.scalars(select(PostHolding).order_by(PostHolding.id)).all()
        people = {s.code: s for s in session.scalars(select(Subject).where(Subject.kind == "civil_servant"))}
        got = [(people_by_id(people, h.person_id), h.post, h.project, h.project_phase, h.start_date, h.end_date,
                h.department_id) for h in holdings]
    assert got == [
        ("甲某", "principal", None, None, date(2025, 1, 1), date(2026, 3, 31), world.subjects[0]),
        ("乙某", "project_lead", PROJECT, PHASE, date(2025, 6, 1), None, world.subjects[0]),
        ("丙某", "official_in_charge", None, None, date(2026, 4, 1), None, world.subjects[0]),
        ("甲某", "official_in_charge", None, None, date(2026, 4, 1), date(2026, 12, 31), world.subjects[0])]
    assert people[a].department_id == world.subjects[0]       # registered once, on first sight
    assert count(world, AuditEvent, AuditEvent.action == "roster.added") == 4


def people_by_id(people, person_id):
    return next(p.name for p in people.values() if p.id == person_id)


def test_a_sheet_with_one_bad_citizen_id_adds_nothing_and_names_the_row(world):
    good1, good2 = make_citizen_id("61080219900101011"), make_citizen_id("61080219900404044")
    bad = make_citizen_id("61080219900202022")
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")            # the wrong check character
    rows = rows_for((good1, "甲某", "principal"), (bad, "乙某", "official_in_charge"), (good2, "丁某", "主要负责人"))
    people_before = count(world, Subject, Subject.kind == "civil_servant")
    for filename, data in (("名册.csv", sheet_csv(rows)), ("名册.xlsx", sheet_xlsx(rows))):
        result = import_like_the_page(world, filename, data)
        assert result.added == 0
        assert [str(e) for e in result.errors] == ["第 3 行 · 公民身份号码：公民身份号码校验位错误"]
    assert count(world, PostHolding) == 0
    assert count(world, Subject, Subject.kind == "civil_servant") == people_before
    assert count(world, AuditEvent, AuditEvent.action == "roster.added") == 0


def test_a_sheet_with_an_unknown_department_names_the_row(world):
    from workflows.demo import make_uscc
    rows = rows_for((make_citizen_id("61080219900101011"), "甲某", "principal"))
    rows.append((make_uscc("11610800MB999999"), make_citizen_id("61080219900404044"), "丁某", "principal", "", "", "",
                 "2026-01-01", ""))
    result = import_like_the_page(world, "名册.csv", sheet_csv(rows))
    assert result.added == 0 and [str(e) for e in result.errors] == ["第 3 行 · 部门统一社会信用代码：部门未登记"]


def test_a_sheet_with_an_unknown_post_names_the_row(world):
    rows = rows_for((make_citizen_id("61080219900101011"), "甲某", "principal"),
                    (make_citizen_id("61080219900404044"), "丁某", "局长"))
    result = import_like_the_page(world, "名册.csv", sheet_csv(rows))
    assert result.added == 0 and count(world, PostHolding) == 0
    assert [str(e) for e in result.errors] == [
        "第 3 行 · 职务类型：未知职务类型“局长”，应为 主要负责人、分管负责人、项目负责人"]


def test_xlsx_date_cells_are_calendar_dates_whatever_the_servers_time_zone(world):
    rows = [(DEPARTMENT_CODE, make_citizen_id("61080219900101011"), "甲某", "principal", "", None, None,
             datetime(2026, 4, 1), datetime(2026, 6, 30))]
    data = sheet_xlsx(rows)
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"                 # this process only (an xdist worker of its own)
    time.tzset()
    try:
        result = import_like_the_page(world, "名册.xlsx", data)
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert result.errors == []
    with world.factory() as session:
        holding = session.scalars(select(PostHolding)).one()
    assert (holding.start_date, holding.end_date) == (date(2026, 4, 1), date(2026, 6, 30))


# -- the integrity file -------------------------------------------------------------------------

def test_the_integrity_file_hides_entries_past_their_view_period(world, roster):
    def entry(kind, day, summary):
        return world.run("manager", add_entry, roster.P2, kind, summary, "组织部", day).id
    old_report = entry("personal_report", date(2021, 5, 31), "2021 年个人有关事项报告")     # 60 months + 1 day ago
    edge_report = entry("personal_report", date(2021, 6, 1), "2021 年 6 月个人有关事项报告")  # exactly 60 months
    appraisal = entry("appraisal", date(2025, 5, 1), "2024 年度考核：称职")
    commendation = entry("commendation", date(2026, 3, 1), "2025 年度优秀公务员")
    other = world.run("manager", add_entry, roster.P1, "violation", "他人的记录", "纪委", date(2026, 1, 1)).id
    today = world.clock.today()
    with world.factory() as session:
        shown = [e.id for e in integrity_file(session, roster.P2, Settings(), today)]
        assert shown == [commendation, appraisal, edge_report]           # newest first; never another's
        short = replace(Settings(), integrity_view_months={**Settings().integrity_view_months, "appraisal": 12})
        assert [e.id for e in integrity_file(session, roster.P2, short, today)] == [commendation, edge_report]
        assert [e.id for e in integrity_file(session, roster.P2, Settings(), date(2026, 6, 2))] == [
            commendation, appraisal]
        # a kind the setting does not name stays in view 60 months
        unnamed = replace(Settings(), integrity_view_months={})
        assert [e.id for e in integrity_file(session, roster.P2, unnamed, today)] == [
            commendation, appraisal, edge_report]
        assert old_report not in shown and other not in shown
    with pytest.raises(CaseError):
        world.run("manager", add_entry, roster.P2, "gossip", "x", "y", today)
    with pytest.raises(CaseError):
        world.run("manager", add_entry, roster.P2, "integrity", "   ", "y", today)
