"""The integrity evaluation through the Flask test client: a leader opens a year, bad weights come
back with their errors and nothing saved, the survey template lists every department and a bad
sheet is refused row by row with nothing imported; started, the reviewer's task page shows the
ranking with each indicator; the results list exports to .xlsx (read back); department A objects
in the window, a late objection is refused with the date; the English pages are English; access."""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from credflow_web import location
from workflows.cases import fire_due_timers
from workflows.clock import CST
from workflows.evaluation.model import EvaluationObjection, EvaluationRound, EvaluationSurvey
from workflows.models import Subject


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_round_through_the_pages(web, world):
    leader, reviewer, subject = web("leader"), web("reviewer"), web("subject")
    assert web("clerk").get("/evaluations/").status_code == 403
    assert web().get("/evaluations/public/2026").status_code == 404         # nothing published
    leader.page("/evaluations/")
    response = leader.post("/evaluations/", {"year": "2026"})
    with world.factory() as session:
        evaluation = session.scalars(select(EvaluationRound)).one()
        departments = session.scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.id)).all()
        codes = [(d.code, d.name) for d in departments]
    assert location(response) == f"/evaluations/{evaluation.id}"
    base = f"/evaluations/{evaluation.id}"
    # weights: a sum other than 100 and a word are refused, nothing saved
    leader.page(base + "/indicators")
    form = {f"weight_{i['code']}": str(i["weight"]) for i in evaluation.indicators}
    page = leader.post(base + "/indicators", {**form, "weight_records": "50"})
    assert page.status_code == 422 and "各项权重之和须为 100，现在是 110" in page.get_data(as_text=True)
    page = leader.post(base + "/indicators", {**form, "weight_lookups": "五"})
    assert page.status_code == 422 and "权重须为 0 到 100 的整数" in page.get_data(as_text=True)
    edited = leader.post(base + "/indicators", {**form, "weight_records": "35", "weight_lookups": "10"})
    assert edited.status_code == 302
    # the template lists every department; a bad sheet imports nothing and names the row
    template = load_workbook(io.BytesIO(leader.get(base + "/survey-template.xlsx").data)).active
    assert sorted(r[0] for r in template.iter_rows(min_row=2, values_only=True)) == sorted(c for c, _ in codes)
    leader.page(base)
    bad = xlsx([("统一社会信用代码", "部门名称", "评估得分"), (codes[0][0], "", "八十")])
    page = leader.post(base + "/survey", {"file": (io.BytesIO(bad), "survey.xlsx")}, content_type="multipart/form-data")
    assert page.status_code == 422 and "第 2 行 · 评估得分：“八十”不是 0 到 100 之间的得分" in page.get_data(as_text=True)
    with world.factory() as session:
        assert session.scalars(select(EvaluationSurvey)).all() == []
    good = xlsx([("统一社会信用代码", "部门名称", "评估得分")] + [(c, n, 80 + i) for i, (c, n) in enumerate(codes)])
    assert leader.post(base + "/survey", {"file": (io.BytesIO(good), "survey.xlsx")},
                       content_type="multipart/form-data").status_code == 302
    assert leader.post(base + "/start").status_code == 302
    # no more weight changes
    assert leader.post(base + "/indicators", form).status_code == 422
    # the reviewer's task page shows the ranking, each indicator a column
    row = world.task(_case(world), "review")
    page = reviewer.page(f"/tasks/{row.id}")
    ranked = page.xpath('//*[@id="evaluation-panel"]//tbody/tr')
    assert len(ranked) == len(codes) and page.xpath('//*[@id="evaluation-panel"]//td[@data-indicator="survey"]')
    # the results list as .xlsx
    sheet = load_workbook(io.BytesIO(reviewer.get(base + "/results?format=xlsx").data)).active
    values = [r for r in sheet.iter_rows(values_only=True) if r and r[0] is not None]
    assert any(r[:2] == ("排名", "部门") for r in values)
    assert sorted(r[1] for r in values if isinstance(r[0], int)) == sorted(n for _, n in codes)
    world.complete("reviewer", row.id, {"review_decision": "approve", "review_opinion": "无误。"})
    world.complete("leader", world.task(row.case_id, "approve").id, {"approval_decision": "approve",
                                                                       "approval_opinion": "同意。"})
    # department A sees its score and objects; a late objection is refused with the date
    mine = subject.page("/evaluations/mine")
    assert mine.status == 200 and mine.xpath(f'//*[@id="my-score-{evaluation.id}"]')
    empty = subject.post(f"/evaluations/mine/{evaluation.id}/objection", {"text": "  "})
    assert empty.status_code == 422 and "请写明异议的事实和理由" in empty.get_data(as_text=True)
    filed = subject.post(f"/evaluations/mine/{evaluation.id}/objection",
                         {"text": "漏计查询次数。", "evidence": (io.BytesIO(PNG), "截图.png")},
                         content_type="multipart/form-data")
    assert filed.status_code == 302
    with world.factory() as session:
        [objection] = session.scalars(select(EvaluationObjection)).all()
        assert objection.subject_id == world.subjects[0] and len(objection.evidence) == 1
    world.clock.at = datetime(2026, 6, 9, 0, 0, 1, tzinfo=CST)      # past the window (5 working days)
    subject.page("/evaluations/mine")
    late = subject.post(f"/evaluations/mine/{evaluation.id}/objection", {"text": "另一条异议。"})
    assert late.status_code == 409
    assert "异议期已于 2026-06-08 23:59 结束" in late.get_data(as_text=True)
    with world.factory() as session:
        assert len(session.scalars(select(EvaluationObjection)).all()) == 1
    with world.uow() as uow:
        fire_due_timers(uow)
        uow.commit()
    # the reviewer answers it on the round page: a bad score is refused, nothing changed; then upheld
    round_page = reviewer.page(base)
    assert round_page.xpath(f'//*[@data-decide="{objection.id}"]')
    refused = reviewer.post(f"/evaluations/objections/{objection.id}", {"outcome": "upheld", "score": "120",
                                                                         "reason": "漏计属实。"})
    assert "调整后的得分（0 到 100）" in " ".join(reviewer.page(location(refused)).alerts)
    before = {r["subject"].id: r["final"] for r in _ranking(world)}
    # answered on the handling task's own page, which it returns to
    handle = world.task(_case(world), "handle_objections")
    task_page = reviewer.page(f"/tasks/{handle.id}")
    assert task_page.xpath(f'//*[@id="evaluation-panel"]//*[@data-decide="{objection.id}"]')
    done = reviewer.post(f"/evaluations/objections/{objection.id}", {"outcome": "upheld", "score": "99.5",
                                                                      "reason": "漏计属实。", "back": f"/tasks/{handle.id}"})
    assert location(done) == f"/tasks/{handle.id}"
    after = {r["subject"].id: r["final"] for r in _ranking(world)}
    assert after[world.subjects[0]] == 99.5 and before[world.subjects[0]] != 99.5
    english = subject.get("/evaluations/mine?lang=en").get_data(as_text=True)
    assert "Integrity evaluation results" in english and "Total score" in english and "综合得分" not in english
    assert web("clerk").get(f"/evaluations/mine").status_code == 403


def _ranking(world):
    from workflows.evaluation.scoring import ranking
    with world.factory() as session:
        return ranking(session, session.scalars(select(EvaluationRound.id)).one())


def _case(world):
    with world.factory() as session:
        return session.scalars(select(EvaluationRound.case_id)).one()
