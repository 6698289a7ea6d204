"""Capturing a record through /records/new, the record list and the case page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from credflow_web import CAPTURE, Page, location
from workflows.demo import make_uscc
from workflows.models import Record, Subject

INVALID_USCC = "91610800MA00000000"   # 18 characters, wrong check characters


def _new_subject_form(**changes):
    form = {**CAPTURE, "subject_mode": "new", "kind": "department", "name": "榆林市某新登记单位",
            "code": INVALID_USCC}
    form.update(changes)
    return form


def _count(world, model) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_invalid_uscc_for_a_new_subject_is_shown_beside_the_code_and_values_are_kept(web, world):
    b = web("clerk")
    b.get("/records/new")
    form = _new_subject_form(facts="第一行事实\n第二行 <b>不是标签</b>", severity="serious", field="bidding")
    page = Page(b.post("/records/new", form))
    assert page.status == 422
    error = page.error_for("subject")
    assert error and "校验位错误" in error
    assert "is-invalid" in page.one("code").get("class")
    # what the clerk typed is all still there
    assert page.value_of("subject_mode") == "new"
    assert page.value_of("kind") == "department"
    assert page.value_of("name") == "榆林市某新登记单位"
    assert page.value_of("code") == INVALID_USCC
    assert page.value_of("source") == "administrative_penalty"
    assert page.value_of("field") == "bidding"
    assert page.value_of("severity") == "serious"
    assert page.value_of("facts") == "第一行事实\n第二行 <b>不是标签</b>"
    assert page.value_of("legal_basis") == CAPTURE["legal_basis"]
    assert page.value_of("decision_date") == "2026-05-29"
    assert "<b>不是标签</b>" not in page.text   # escaped in the textarea
    # nothing was saved
    assert _count(world, Record) == 0
    assert _count(world, Subject) == len(world.subjects)


def test_subject_code_is_checked_together_with_the_other_fields(web, world):
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", _new_subject_form(facts="", decision_date="")))
    assert page.status == 422
    assert "校验位错误" in page.error_for("subject")
    assert page.error_for("facts") == "必填"
    assert page.error_for("decision_date") == "必填"


def test_citizen_id_with_a_wrong_check_digit_is_refused(web, world):
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", _new_subject_form(kind="civil_servant", name="张某",
                                                         code="610802198001011230")))
    assert page.status == 422
    assert "公民身份号码校验位错误" in page.error_for("subject")
    assert page.value_of("kind") == "civil_servant"


def test_a_code_already_registered_is_refused(web, world):
    b = web("clerk")
    b.get("/records/new")
    from workflows.demo import SUBJECTS
    page = Page(b.post("/records/new", _new_subject_form(code=SUBJECTS[0][2])))
    assert page.status == 422
    assert "该代码已登记" in page.error_for("subject")
    assert _count(world, Record) == 0


def test_missing_required_fields_are_reported_per_field(web, world):
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", {"subject_mode": "existing", "source": "court_judgment",
                                        "facts": "   ", "legal_basis": "某条例"}))
    assert page.status == 422
    for name in ("field", "severity", "facts", "decision_date"):
        assert page.error_for(name) == "必填", name
    assert page.error_for("source") is None and page.error_for("legal_basis") is None
    # the subject choice is reported too, beside its select
    feedback = page.xpath('//select[@id="subject_id"]/following-sibling::div[@class="invalid-feedback"]')
    assert [f.text_content().strip() for f in feedback] == ["请选择信用主体"]
    assert page.value_of("source") == "court_judgment"
    assert page.value_of("legal_basis") == "某条例"
    assert _count(world, Record) == 0


def test_bad_choice_and_bad_date_are_reported(web, world):
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", {**CAPTURE, "subject_mode": "existing", "subject_id": world.subjects[0],
                                        "severity": "catastrophic", "decision_date": "2026-13-45"}))
    assert page.status == 422
    assert page.error_for("severity") == "请从选项中选择"
    assert "格式不正确" in page.error_for("decision_date")
    assert page.value_of("decision_date") == "2026-13-45"
    assert page.value_of("subject_id") == str(world.subjects[0])


def test_valid_capture_for_an_existing_subject_opens_the_case(web, world):
    b = web("clerk")
    b.get("/records/new")
    response = b.post("/records/new", {**CAPTURE, "subject_mode": "existing", "subject_id": world.subjects[2],
                                       "severity": "serious"})
    assert response.status_code == 302
    match = re.fullmatch(r"/cases/(\d+)", location(response))
    assert match
    case_id = int(match.group(1))
    page = Page(b.get(location(response)))
    assert page.status == 200
    assert any(re.search(r"记录 R-\d{6} 已录入，已提交合法性审核。", a) for a in page.alerts)
    assert page.text_of("case-status") == "办理中"
    summary = page.one("record-summary").text_content()
    assert world.subject_names[2] in summary
    assert "严重" in summary and "行政处罚" in summary and "政府采购" in summary
    assert CAPTURE["facts"] in summary and "2026-05-29" in summary
    assert page.text_of("record-status") == "审核中"
    # the open task is listed; a reviewer's step, so for the clerk named, not linked (its page would
    # refuse the clerk), and for a reviewer a link to it
    row = world.task(case_id, "legality_review")
    listed = page.xpath(f'//li[@data-case-task="{row.id}"]')[0]
    assert "合法性审核" in listed.text_content() and "审核人" in listed.text_content() and not listed.xpath(".//a")
    reviewer_view = Page(web("reviewer").get(f"/cases/{case_id}"))
    assert reviewer_view.xpath(f'//a[@href="/tasks/{row.id}"]')[0].text_content() == "合法性审核"

    inbox = Page(web("reviewer").get("/inbox?tab=group"))
    assert inbox.task_rows == [row.id]
    assert inbox.counts["group"] == 1
    cells = inbox.xpath(f'//tr[@data-task-row="{row.id}"]/td')
    assert cells[0].xpath(".//a")[0].text_content() == "合法性审核"
    assert cells[1].text_content().strip() == world.subject_names[2]
    assert cells[3].text_content().strip() == "严重"


def test_valid_capture_with_a_new_subject_registers_it(web, world):
    b = web("clerk")
    b.get("/records/new")
    code = make_uscc("11610800MB999999")
    response = b.post("/records/new", _new_subject_form(code=code.lower()))
    assert response.status_code == 302
    page = Page(b.get(location(response)))
    assert "榆林市某新登记单位" in page.text_of("record-summary")
    with world.factory() as session:
        subject = session.scalars(select(Subject).where(Subject.name == "榆林市某新登记单位")).one()
        assert subject.code == code   # normalised to upper case
    records = Page(b.get("/records"))
    assert "榆林市某新登记单位" in records.one("record-table").text_content()


def test_record_list_links_to_the_case_and_searches(web, world):
    record_id, case_id = world.open_record(subject=1)
    world.open_record(subject=3)
    b = web("reviewer")
    page = Page(b.get("/records"))
    assert page.status == 200
    rows = page.xpath('//table[@id="record-table"]/tbody/tr')
    assert len(rows) == 2
    link = page.xpath(f'//table[@id="record-table"]//a[@href="/cases/{case_id}"]')[0]
    assert link.text_content() == f"R-{record_id:06d}"
    found = Page(b.get("/records?q=招商"))
    rows = found.xpath('//table[@id="record-table"]/tbody/tr')
    assert len(rows) == 1 and world.subject_names[1] in rows[0].text_content()
    # a civil servant's ID is masked in the list
    assert world.subjects and "*" in Page(b.get("/records?q=刘某某")).one("record-table").text_content()


def test_too_long_a_subject_name_is_reported_beside_the_field(web, world):
    b = web("clerk")
    b.get("/records/new")
    page = Page(b.post("/records/new", _new_subject_form(name="某" * 201, code=make_uscc("11610800MB777777"))))
    assert page.status == 422
    assert page.error_for("subject")
