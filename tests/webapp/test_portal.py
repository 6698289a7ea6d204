"""The subjects' portal and the public disclosure pages, through the Flask test client: a subject
reaches only its own records, applications, files and tasks; the public sees published records
only, with civil servants' IDs masked; the portal's refusals (too early, already open, bad file)
are shown on the page and file nothing."""
from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from credflow_web import CAPTURE, Page, location, password
from workflows.accounts import create_user
from workflows.applications import file_credit_repair, file_objection
from workflows.cases import send_message
from workflows.demo import SUBJECTS
from workflows.models import Attachment, Case, Record
from workflows.worker import run_once

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
A, B, CIVIL_SERVANT = 0, 1, 3          # indexes into SUBJECTS; the "subject" account belongs to A
# a general record decided on CAPTURE's date (2026-05-29): its minimum period ends three months later
MIN_END = "2026-08-29"
assert (CAPTURE["severity"], CAPTURE["decision_date"]) == ("general", "2026-05-29")


# -- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def subject_b(world):
    """A second subject account, for SUBJECTS[1]; logs in with credflow_web.password('subject_b')."""
    with world.uow() as uow:
        user = create_user(uow, "subject_b", password("subject_b"), SUBJECTS[B][1], ["subject"],
                           subject_id=world.subjects[B])
        uow.commit()
        world.user_ids["subject_b"] = user.id
    return "subject_b"


def publish(world, subject: int, **capture) -> tuple[int, int]:
    """A record taken through legality review and the leader's approval: (record id, lifecycle case id)."""
    record_id, case_id = world.open_record(subject, **capture)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    assert record_status(world, record_id) == "published"
    return record_id, case_id


def record_status(world, record_id: int) -> str:
    with world.factory() as session:
        return session.get(Record, record_id).status


def count(world, model, *where) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def applications(world, process: str | None = None) -> int:
    where = [Case.process_key == process] if process else [Case.process_key.in_(
        ("objection", "self_correction", "credit_repair"))]
    return count(world, Case, *where)


def objection_form(statement="认定金额有误，实际欠款已于认定前结清。", grounds="factual_error", files=()):
    data = [("grounds", grounds), ("statement", statement)]
    data += [("evidence", (BytesIO(body), name)) for body, name in files]
    return data


def public_rows(page: Page) -> list[int]:
    return [int(v) for v in page.xpath("//tr[@data-public-record]/@data-public-record")]


def minimum_period_passed(world) -> None:
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)


# -- one subject cannot reach another's ---------------------------------------------------------

def test_a_subject_reaches_only_its_own_records_applications_files_and_tasks_and_search(web, world, subject_b):
    a_record, a_lifecycle = publish(world, A)
    b_record, _ = publish(world, B, facts="招商引资奖励资金未兑现。")
    minimum_period_passed(world)                      # so that A can apply for credit repair

    # A objects through the portal, with a PDF: the application page lists the file
    a = web("subject")
    a.get(f"/portal/records/{a_record}/objection")
    response = a.post(f"/portal/records/{a_record}/objection", objection_form(files=[(PDF, "缴款凭证.pdf")]),
                      content_type="multipart/form-data")
    assert response.status_code == 302
    objection_path = location(response)
    assert objection_path.startswith("/portal/applications/")
    objection_id = int(objection_path.rsplit("/", 1)[1])
    page = a.page(objection_path)
    links = page.xpath('//a[starts-with(@href, "/portal/attachments/")]')
    assert [link.text_content() for link in links] == ["缴款凭证.pdf"]
    attachment_url = links[0].get("href")
    assert a.get(attachment_url).data == PDF
    # the record's lifecycle case is the authority's, not an application: not in the portal
    assert a.get(f"/portal/applications/{a_lifecycle}").status_code == 404
    assert a.get(f"/cases/{a_lifecycle}").status_code == 403

    # A's credit repair is sent back for a supplement: a task in the subject's lane
    repair = world.run("subject", file_credit_repair, a_record, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件"})
    supplement = world.task(repair.id, "supplement")
    assert (supplement.lane, supplement.subject_id) == ("subject", world.subjects[A])
    task_url = f"/portal/tasks/{supplement.id}"
    assert a.get(task_url).status_code == 200
    a_index = a.page("/portal/")
    assert a_index.xpath(f'//div[@id="portal-tasks"]//a[@href="{task_url}"]')

    # what A reaches, B does not even see exists
    b = web(subject_b)
    b_index = b.page("/portal/")
    assert b_index.status == 200
    assert [int(v) for v in b_index.xpath("//tr[@data-record]/@data-record")] == [b_record]
    assert b_index.xpath("//tr[@data-application]") == []
    assert not b_index.xpath('//div[@id="portal-tasks"]')
    for url in (f"/portal/records/{a_record}", objection_path, f"/portal/applications/{repair.id}",
                attachment_url, task_url, f"/portal/records/{a_record}/objection",
                f"/portal/records/{a_record}/self_correction", f"/portal/records/{a_record}/credit_repair"):
        assert b.get(url).status_code == 404, url
    assert b.get(f"/portal/records/{b_record}").status_code == 200     # B's own record is there
    before = applications(world), count(world, Attachment)
    b.get("/portal/")                                                  # a fresh token from B's own page
    refused = b.post(f"/portal/records/{a_record}/objection", objection_form(files=[(PDF, "b.pdf")]),
                     content_type="multipart/form-data")
    assert refused.status_code == 404
    assert b.post(f"/portal/records/{a_record}/credit_repair",
                  {"obligations_fulfilled": "on", "statement": "x"}).status_code == 404
    assert b.post(task_url, {"supplement_statement": "不是我的任务"}).status_code == 404
    assert (applications(world), count(world, Attachment)) == before
    assert world.task(repair.id, "supplement").id == supplement.id     # still open, untouched
    # unknown ids are the same 'not found'
    assert b.get("/portal/applications/99999").status_code == 404
    assert b.get("/portal/attachments/99999").status_code == 404

    # the public: everything published; a search by B's name or code lists B's record only
    anonymous = web()
    assert set(public_rows(anonymous.page("/public/"))) == {a_record, b_record}
    found = anonymous.page("/public/?q=" + SUBJECTS[B][1])
    assert found.status == 200
    assert public_rows(found) == [b_record]
    assert SUBJECTS[A][1] not in found.text
    assert public_rows(anonymous.page("/public/?q=" + SUBJECTS[B][2])) == [b_record]


# -- what the public does not see ---------------------------------------------------------------

def test_public_page_is_404_unless_the_record_is_published(web, world):
    under_review, _ = world.open_record(2)
    revoked, revoked_case = publish(world, B)
    repaired, _ = publish(world, A)
    expiring, _ = publish(world, 4)
    anonymous = web()
    assert anonymous.get(f"/public/records/{expiring}").status_code == 200   # published: shown

    with world.uow() as uow:   # the lifecycle told that its record was revoked (as an objection would)
        send_message(uow, revoked_case, "record_revoked", {"reason": "认定主体不当"})
        uow.commit()
    minimum_period_passed(world)
    repair = world.run("subject", file_credit_repair, repaired, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "complete", "completeness_reason": "齐全"})
    world.complete("reviewer", world.task(repair.id, "review").id,
                   {"recommendation": "approve", "review_reason": "符合条件"})
    world.complete("leader", world.task(repair.id, "leader_decision").id,
              {"repair_decision": "approve", "decision_reason": "同意修复"})
    world.clock.advance(days=400)                     # past the one-year maximum of a general record
    run_once(world.factory, world.clock)

    expected = {under_review: "under_review", revoked: "revoked", repaired: "repaired", expiring: "expired"}
    assert {rid: record_status(world, rid) for rid in expected} == expected
    listed = public_rows(anonymous.page("/public/"))
    for record_id in expected:
        assert anonymous.get(f"/public/records/{record_id}").status_code == 404, expected[record_id]
        assert record_id not in listed
    assert anonymous.get("/public/records/99999").status_code == 404


def test_a_civil_servants_citizen_id_is_shown_masked_only(web, world):
    record_id, _ = publish(world, CIVIL_SERVANT)
    _, name, citizen_id = SUBJECTS[CIVIL_SERVANT]
    masked = citizen_id[:6] + "*" * 10 + citizen_id[16:]
    anonymous = web()
    for url in ("/public/", f"/public/records/{record_id}", "/public/?q=" + name):
        page = anonymous.page(url)
        assert page.status == 200, url
        assert name in page.text
        assert masked in page.text, url
        assert citizen_id not in page.text, url
        assert citizen_id[6:14] not in page.text, url          # the birth date in the middle
    # searchable by the whole number only, never by a part of it
    assert public_rows(anonymous.page("/public/?q=" + citizen_id)) == [record_id]
    assert public_rows(anonymous.page("/public/?q=" + citizen_id[:14])) == []
    assert public_rows(anonymous.page("/public/?q=" + citizen_id[6:14])) == []


# -- who may enter -----------------------------------------------------------------------------

def test_staff_are_refused_the_portal_and_subjects_the_inbox(web, world):
    for role in ("clerk", "reviewer", "leader", "manager"):
        assert web(role).get("/portal/").status_code == 403, role
    subject = web("subject")
    assert subject.get("/portal/").status_code == 200
    assert subject.get("/inbox").status_code == 403
    anonymous = web().get("/portal/")
    assert anonymous.status_code == 302 and location(anonymous).startswith("/login")
    assert web().get("/public/").status_code == 200                  # no login for the public


# -- refusals on the portal's own pages ----------------------------------------------------------

def test_credit_repair_too_early_names_the_earliest_date(web, world):
    record_id, _ = publish(world, A)
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.status == 200
    assert not page.xpath('//*[@id="apply-credit_repair"]')
    eligibility = page.text_of("repair-eligibility")
    assert "最早可申请日期" in eligibility and MIN_END in eligibility

    form = a.page(f"/portal/records/{record_id}/credit_repair")
    assert form.status == 200
    response = a.post(f"/portal/records/{record_id}/credit_repair",
                      [("obligations_fulfilled", "on"), ("statement", "已全额支付欠款。"),
                       ("commitment", (BytesIO(PDF), "承诺书.pdf"))], content_type="multipart/form-data")
    refused = Page(response)
    assert refused.status == 422
    message = refused.text_of("form-error")
    assert "暂不能申请信用修复" in message and f"最早可于 {MIN_END} 申请" in message
    assert refused.value_of("statement") == "已全额支付欠款。"
    assert applications(world, "credit_repair") == 0


def test_a_second_objection_while_one_is_open_is_refused(web, world):
    record_id, _ = publish(world, A)
    first = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert not page.xpath('//*[@id="apply-objection"]')
    assert page.xpath(f'//ul[@id="actions"]//a[@href="/portal/applications/{first.id}"]')

    a.get(f"/portal/records/{record_id}/objection")
    refused = Page(a.post(f"/portal/records/{record_id}/objection",
                          objection_form(statement="再次提出异议。", grounds="duplicate"),
                          content_type="multipart/form-data"))
    assert refused.status == 422
    message = refused.text_of("form-error")
    assert "该记录已有异议正在处理" in message and f"A-{first.id:06d}" in message
    assert refused.value_of("statement") == "再次提出异议。"
    assert refused.value_of("grounds") == "duplicate"
    assert applications(world, "objection") == 1


def test_a_forbidden_file_type_is_shown_beside_the_field_and_nothing_is_filed(web, world):
    record_id, _ = publish(world, A)
    a = web("subject")
    a.get(f"/portal/records/{record_id}/objection")
    refused = Page(a.post(f"/portal/records/{record_id}/objection",
                          objection_form(statement="请核实。", files=[(EXE, "证明.pdf")]),
                          content_type="multipart/form-data"))
    assert refused.status == 422
    error = refused.error_for("evidence")
    assert error is not None and "证明.pdf" in error and "类型不允许" in error
    assert refused.xpath('//input[@id="f_evidence"][contains(@class, "is-invalid")]')
    assert refused.value_of("statement") == "请核实。"
    assert refused.value_of("grounds") == "factual_error"
    assert applications(world) == 0
    assert count(world, Attachment) == 0
    with world.factory() as session:
        assert not session.get(Record, record_id).under_objection


def test_another_subjects_completed_task_is_not_found_either(web, world, subject_b):
    """Regression (found at 79cafe2, fixed in 45a9a20): _my_task() answered a gone task row with
    task_gone_error(), before the lane and subject check, so a subject probing /portal/tasks/<id> got 409
    '该任务已由 <name> 于 <time> 完成' for another subject's completed task and for staff tasks, naming that
    subject or the official."""
    a_record, lifecycle_id = world.open_record(A)
    review = world.task(lifecycle_id, "legality_review")
    world.complete("reviewer", review.id, APPROVE)
    world.complete("leader", world.task(lifecycle_id, "leader_approval").id, LEADER_OK)
    minimum_period_passed(world)
    repair = world.run("subject", file_credit_repair, a_record, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件"})
    supplement = world.task(repair.id, "supplement")
    world.complete("subject", supplement.id, {"supplement_statement": "已补充缴款凭证。"})
    b = web(subject_b)
    for row_id, who in ((supplement.id, SUBJECTS[A][1]), (review.id, "李审核")):
        page = b.page(f"/portal/tasks/{row_id}")
        assert (page.status, who in page.text) == (404, False), page.text_of("error-message")


# -- ids and page numbers out of the database's range --------------------------------------------

HUGE = "99999999999999999999"      # matches <int:...> and type=int, but overflows a database integer


def test_an_out_of_range_id_or_page_on_the_public_pages_is_not_a_server_error(web, world):
    """Regression (found at 79cafe2, fixed in 45a9a20): <int:record_id> and ?page= went unchecked into the
    query; a number beyond the database's integer range (OverflowError on SQLite, NumericValueOutOfRange on
    PostgreSQL) answered 500, with an error logged, to anonymous visitors."""
    anonymous = web()
    assert anonymous.get(f"/public/records/{HUGE}").status_code == 404
    assert anonymous.get(f"/public/?page={HUGE}").status_code in (200, 404)


def test_an_out_of_range_id_in_the_portal_is_not_found(web, world):
    """Regression (found at 79cafe2, fixed in 45a9a20): ids out of the database's integer range answered 500
    on the portal; on PostgreSQL the 500 page itself then failed (errors.server_error rendered base.html, whose
    unread count queried through the session still in the aborted transaction: InFailedSqlTransaction)."""
    subject = web("subject")
    for url in (f"/portal/records/{HUGE}", f"/portal/applications/{HUGE}", f"/portal/attachments/{HUGE}",
                f"/portal/tasks/{HUGE}"):
        assert subject.get(url).status_code == 404, url
