"""The yearly integrity evaluation (政务诚信评价) end to end through the services, with the clock
moved: three departments with hand-counted records, objections, repairs, commitments and look-ups;
the survey imported from .xlsx; the scores computed and checked against the formula by hand;
reviewed (once recomputed after a survey correction), approved; one department objects within the
window, another too late; the timer closes the window; the objection upheld changes the score and
the ranking (a tie shares its rank); the leader confirms; a signed report per department (pdfsig),
the published summary."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from workflows.case_errors import CaseError, Forbidden
from workflows.cases import complete_task, fire_due_timers
from workflows.clock import CST
from workflows.commitments.model import Commitment
from workflows.definitions import latest_definition
from workflows.demo import SUBJECTS
from workflows.evaluation.model import EvaluationRound, EvaluationScore
from workflows.evaluation.scoring import ranking
from workflows.evaluation.service import (EvaluationRefused, decide_objection, file_objection, open_round,
                                          own_report, own_results, published_round, start_round)
from workflows.evaluation.survey import SurveyInvalid, import_survey, survey_template
from workflows.lookups.model import Lookup
from workflows.models import Case, Document, Notification, Record, Subject, User

HAS_PDFSIG = shutil.which("pdfsig") is not None
A, B, C, P1 = 0, 1, 2, 3


def at(world, text):
    world.clock.at = datetime.fromisoformat(text).replace(tzinfo=CST)


def sheet(rows, header=("统一社会信用代码", "部门名称", "评估得分")) -> bytes:
    book = Workbook()
    book.active.append(list(header))
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def populate(world):
    """A: records general + serious (its own), minor (its civil servant P1), minor revoked on an
    upheld objection, an objection kept on the general one, a repair approved; 4 look-ups.
    B: no records; commitments fulfilled + partly; 12 look-ups. C: a 2025 record (another year),
    a failed commitment."""
    s = world.subjects
    now = datetime(2026, 10, 1, 10, tzinfo=CST)
    with world.factory() as session:
        session.get(Subject, s[P1]).department_id = s[A]
        clerk = session.scalar(select(User).where(User.username == "clerk"))

        def record(subject, severity, status, decided):
            r = Record(subject_id=s[subject], severity=severity, status=status, decision_date=decided,
                       source="administrative_penalty", field="other", facts="测试", publication_rule="r2025",
                       rule_snapshot={}, created_at=now, updated_at=now)
            session.add(r)
            session.flush()
            return r

        def case(process, rec, outcome):
            definition = latest_definition(session, process)
            session.add(Case(definition_id=definition.id, process_key=process, record_id=rec.id, status="completed",
                             state="{}", outcome=outcome, started_by="test", created_at=now, updated_at=now,
                             completed_at=now))

        general = record(A, "general", "published", date(2026, 3, 2))
        record(A, "serious", "published", date(2026, 4, 8))
        record(P1, "minor", "published", date(2026, 5, 6))
        revoked = record(A, "minor", "revoked", date(2026, 2, 3))
        record(C, "serious", "published", date(2025, 11, 3))
        case("objection", revoked, "revoke")
        case("objection", general, "keep")
        case("credit_repair", general, "approved")
        for subject, status in ((B, "fulfilled"), (B, "partly"), (C, "failed")):
            session.add(Commitment(subject_id=s[subject], content="承诺", deadline=date(2026, 9, 1), responsible_name="某",
                                   responsible_post="镇长", status=status, registered_by="clerk", created_at=now,
                                   concluded_at=now))
        for subject, count in ((A, 4), (B, 12)):
            for n in range(count):
                session.add(Lookup(user_id=clerk.id, username="clerk", checker_name="clerk", department_id=s[subject],
                                   key_kind="name", query="某", deal_kind="procurement", deal_ref=f"D{n}", hit=False,
                                   result={}, created_at=now))
        session.commit()


def task(world, case_id, bpmn_id):
    return world.task(case_id, bpmn_id)


def rows(world, round_id):
    with world.factory() as session:
        return [(r["subject"].id, r["rank"], r["final"], r["grade"]) for r in ranking(session, round_id)]


@pytest.fixture
def evaluated(world):
    populate(world)
    at(world, "2026-12-01T09:00:00")
    return world


def test_a_round_end_to_end(evaluated, tmp_path, database_url):
    world, s = evaluated, evaluated.subjects
    with pytest.raises(Forbidden):
        world.run("reviewer", open_round, "2026")
    evaluation = world.run("leader", open_round, "2026")
    assert world.run("leader", open_round, "2026").id == evaluation.id        # a double submit: the same round
    # no survey yet: refused, nothing started
    with pytest.raises(EvaluationRefused, match="第三方评估"):
        world.run("leader", start_round, evaluation.id)
    with world.factory() as session:
        template = survey_template(session)
    assert template[:2] == b"PK"
    codes = {}
    with world.factory() as session:
        for i in (A, B, C):
            subject = session.get(Subject, s[i])
            codes[i] = (subject.code, subject.name)
    names = {i: name for i, (_, name) in codes.items()}
    # one bad row refuses the whole sheet; every problem named by row and column
    bad = sheet([(codes[A][0], codes[A][1], 80), (codes[B][0], "别的名称", 70), ("11XXXXXXXXXXXXXXXX", "", 101),
                 (codes[A][0], "", 60)])
    with pytest.raises(SurveyInvalid) as refused:
        world.run("leader", import_survey, evaluation.id, "survey.xlsx", bad)
    problems = [str(p) for p in refused.value.problems]
    assert problems == ["第 3 行 · 部门名称：“别的名称”与该代码登记的名称“%s”不一致" % codes[B][1],
                        "第 4 行 · 统一社会信用代码：“11XXXXXXXXXXXXXXXX”不是已登记部门的代码",
                        "第 4 行 · 评估得分：“101”不是 0 到 100 之间的得分（最多两位小数）",
                        "第 5 行 · 统一社会信用代码：与第 2 行重复"]
    with pytest.raises(EvaluationRefused):     # still nothing imported
        world.run("leader", start_round, evaluation.id)
    # C's survey first entered wrong (50), corrected during the review below
    good = sheet([(codes[A][0], codes[A][1], 80), (codes[B][0], "", 70), (codes[C][0], codes[C][1], 50)])
    assert world.run("leader", import_survey, evaluation.id, "survey.xlsx", good) == 3
    evaluation = world.run("leader", start_round, evaluation.id)
    case_id = evaluation.case_id
    # computed by hand (indicators.py): A records 100-10-20-5=65, objections 1/2=50, repairs 1/3=33.33,
    # commitments none=100, look-ups 4/10=40, survey 80 -> (65*40+50*10+33.33*10+100*15+40*5+80*20)/100
    # B 100,100,100,(1+0.5)/2=75,100,70 -> 90.25; C 100,100,100,0,0,50 -> 70.00
    assert rows(world, evaluation.id) == [(s[B], 1, 90.25, "excellent"), (s[C], 2, 70.0, "fair"),
                                          (s[A], 3, 67.33, "fair")]
    with world.factory() as session:
        a = session.scalars(select(EvaluationScore).where(EvaluationScore.subject_id == s[A])).one()
    assert a.details["scores"] == {"records": 65.0, "objections": 50.0, "repairs": 33.33, "commitments": 100.0,
                                   "lookups": 40.0, "survey": 80.0}
    # the reviewer finds C's survey score wrong: corrected, recomputed
    fixed = sheet([(codes[A][0], "", 80), (codes[B][0], "", 70), (codes[C][0], "", 90)])
    world.run("leader", import_survey, evaluation.id, "survey.xlsx", fixed)
    world.run("reviewer", complete_task, task(world, case_id, "review").id,
              {"review_decision": "recompute", "review_opinion": "某镇评估得分录入有误，已更正。"})
    assert rows(world, evaluation.id)[1] == (s[C], 2, 78.0, "good")
    world.run("reviewer", complete_task, task(world, case_id, "review").id,
              {"review_decision": "approve", "review_opinion": "排名无误。"})
    with pytest.raises(EvaluationRefused, match="已报领导审批"):   # the survey is frozen now
        world.run("leader", import_survey, evaluation.id, "survey.xlsx", fixed)
    world.run("leader", complete_task, task(world, case_id, "approve").id,
              {"approval_decision": "approve", "approval_opinion": "同意。"})
    with world.factory() as session:
        evaluation = session.get(EvaluationRound, evaluation.id)
        told = session.scalars(select(Notification).where(Notification.kind == "evaluation_result")).all()
    # 5 working days from Tuesday 2026-12-01
    assert evaluation.status == "objection"
    assert evaluation.objection_deadline.astimezone(CST).isoformat() == "2026-12-08T23:59:59+08:00"
    assert len(told) == 2 and all("2026-12-08" in n.text for n in told)     # subject_a (A), subject_b (B)
    # the departments see their own row only
    with world.uow("subject_a") as uow:
        mine = [(r.year, row["rank"], row["final"]) for r, row, _ in own_results(uow.session, uow.actor)]
    assert mine == [(2026, 3, 67.33)]
    # A objects in time; a double submit is one objection
    at(world, "2026-12-08T18:00:00")
    objection = world.run("subject_a", file_objection, evaluation.id, "逢办必查次数漏计 6 次，附系统截图。")
    assert world.run("subject_a", file_objection, evaluation.id, "逢办必查次数漏计 6 次，附系统截图。").id == objection.id
    with world.uow("reviewer") as uow:
        assert fire_due_timers(uow)["fired"] == []
    # B too late, before the timer even fired: refused, clearly
    at(world, "2026-12-09T00:00:01")
    with pytest.raises(EvaluationRefused, match="异议期已于 2026-12-08 23:59 结束"):
        world.run("subject_b", file_objection, evaluation.id, "不服。")
    with world.uow() as uow:
        assert fire_due_timers(uow)["fired"] == [case_id]
        uow.commit()
    handle = task(world, case_id, "handle_objections")
    # the reviewer cannot pass the task with the objection unanswered
    with pytest.raises(CaseError, match="还有 1 件评价异议没有处理"):
        world.run("reviewer", complete_task, handle.id, {"handling_opinion": "已处理。"})
    with pytest.raises(CaseError, match="调整后的得分"):
        world.run("reviewer", decide_objection, objection.id, "upheld", "", "漏计属实。")
    world.run("reviewer", decide_objection, objection.id, "upheld", "78", "经核对系统日志，漏计 6 次属实，逢办必查得分改为 100。")
    # A moves from 3rd to share 2nd with C (equal scores share the rank)
    assert rows(world, evaluation.id) == [(s[B], 1, 90.25, "excellent"), (s[C], 2, 78.0, "good"),
                                          (s[A], 2, 78.0, "good")]    # a tie: by name
    world.run("reviewer", complete_task, task(world, case_id, "handle_objections").id, {"handling_opinion": "已处理 1 件。"})
    with pytest.raises(CaseError):       # not published before the leader confirms
        with world.factory() as session:
            published_round(session, 2026)
    world.run("leader", complete_task, task(world, case_id, "confirm").id, {"confirm_opinion": "同意公布。"})
    with world.factory() as session:
        evaluation = session.get(EvaluationRound, evaluation.id)
        case = session.get(Case, case_id)
        documents = session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)).all()
        assert published_round(session, 2026).id == evaluation.id
    assert evaluation.status == "final" and case.status == "completed"
    assert [d.number for d in documents] == ["榆信评〔2026〕1号", "榆信评〔2026〕2号", "榆信评〔2026〕3号"]
    assert [d.subject_id for d in documents] == [s[B], s[C], s[A]]
    with world.uow("subject_a") as uow:
        report = own_report(uow.session, uow.actor, evaluation.id)
        uow.session.expunge(report)
    with world.uow("subject_b") as uow, pytest.raises(CaseError):
        own_report(uow.session, uow.actor, -1)
    assert report.number == "榆信评〔2026〕3号" and report.title == "政务诚信评价结果通知书"
    # the code printed on it verifies on the public page; so does the file uploaded there
    from webapp import create_app
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "CLOCK": world.clock, "SECRET_KEY": "test"})
    client = app.test_client()
    page = client.get(f"/public/verify/{report.verification_code}", follow_redirects=True).get_data(as_text=True)
    assert report.number in page and "政务诚信评价结果通知书" in page
    summary = client.get("/evaluations/public/2026").get_data(as_text=True)
    assert all(name in summary for name in names.values()) and "78.00" in summary
    assert SUBJECTS[P1][1] not in summary and SUBJECTS[P1][2] not in summary      # no person, no ID number
    app.extensions["credflow.session_factory"].kw["bind"].dispose()
    if HAS_PDFSIG:
        path = tmp_path / "report.pdf"
        path.write_bytes(report.pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
        flat = "".join(text.split())
        assert "排名第2位" in flat and "由计算得分67.33分调整为78.00分" in flat and "异议成立" in flat, flat
        signature = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
        assert "Signature is Valid" in signature, signature


def test_recomputing_is_bounded_and_weights_freeze_once_computed(world):
    from workflows.evaluation.indicators import default_indicators
    from workflows.evaluation.service import edit_indicators
    evaluation = world.run("leader", open_round, "2026")
    weights = {f"weight_{i['code']}": str(i["weight"]) for i in default_indicators()}
    world.run("leader", edit_indicators, evaluation.id, {**weights, "weight_survey": "0", "weight_records": "60"})
    case_id = world.run("leader", start_round, evaluation.id).case_id     # no survey needed at weight 0
    assert world.run("leader", start_round, evaluation.id).case_id == case_id     # a second start: nothing new
    with pytest.raises(EvaluationRefused, match="不能再修改"):
        world.run("leader", edit_indicators, evaluation.id, weights)
    recompute = {"review_decision": "recompute", "review_opinion": "再算一次。"}
    for _ in range(3):              # the setting: 3 recomputations
        world.run("reviewer", complete_task, task(world, case_id, "review").id, recompute)
    with pytest.raises(CaseError, match="得分已重新计算 3 次，达到上限"):
        world.run("reviewer", complete_task, task(world, case_id, "review").id, recompute)
    with world.factory() as session:
        assert session.get(EvaluationRound, evaluation.id).computations == 4
    # the leader sends it back once; it comes to the reviewer again
    world.run("reviewer", complete_task, task(world, case_id, "review").id,
              {"review_decision": "approve", "review_opinion": "无误。"})
    world.run("leader", complete_task, task(world, case_id, "approve").id,
              {"approval_decision": "return", "approval_opinion": "请核对承诺履行数据。"})
    with world.factory() as session:
        assert session.get(EvaluationRound, evaluation.id).status == "review"
    assert task(world, case_id, "review")
