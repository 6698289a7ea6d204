"""Decision pages say what each choice will do and forbid up front what the rules forbid; a refusal
after submit, or a task completed meanwhile by someone else, never loses what was typed."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from credflow_web import CAPTURE, Page
from test_personnel import people  # noqa: F401  (a fixture: the department's roster, two people)
from workflows.applications import file_objection, file_self_correction
from workflows.choices import Preview, decisions_at, enum_fields, script_engine
from workflows.engine.bundle import FORM_PROPERTY
from workflows.definitions import specs_for
from workflows.models import Case, Document, HumanTask, ProcessDefinition, Record
from workflows.numbers import case_no
from workflows.settings import Settings
from workflows.workdays import WorkdayCalendar

OPINION = "领导审批意见-c41d：同意按拟定措施惩戒。"
DATES = re.compile(r"公示至 (\d{4}-\d\d-\d\d)，最短公示期至 (\d{4}-\d\d-\d\d)")


def radio(page: Page, name: str, value: str):
    found = page.xpath(f'//input[@type="radio"][@name="{name}"][@value="{value}"]')
    assert len(found) == 1, f"no radio {name}={value}"
    return found[0]


def line(page: Page, value: str) -> str:
    found = page.xpath(f'//*[@data-choice-effect="{value}"]')
    assert len(found) == 1, f"no line for {value}"
    return " ".join(found[0].text_content().split())


def self_correction_pending(world, record_id: int) -> int:
    return world.run("subject", file_self_correction, record_id, ["recovered_loss"], "已挽回全部损失。", []).id


def decide_self_correction(world, case_id: int, **decision):
    world.complete("reviewer", world.task(case_id, "assessment").id,
                   {"proposal": "lighter", "assessment_reason": "已主动挽回损失。"})
    world.complete("leader", world.task(case_id, "leader_decision").id,
                   {"mitigation_decision": "lighter", "decision_reason": "主动挽回损失，从轻惩戒。", **decision})


def test_sanction_approval_waits_for_the_self_correction_application_and_then_says_its_dates(web, world):
    task = world.leader_task()
    pending = self_correction_pending(world, task.record_id)
    leader = web("leader")
    page = leader.page(f"/tasks/{task.id}")
    # on top: why 批准 cannot be chosen, with a link to the application
    warning = page.one("blocked-leader_decision")
    text = " ".join(warning.text_content().split())
    reason = f"该记录的主动自新申请（案件 {case_no(pending, 'self_correction')}）尚未决定，请先办结"
    assert "「批准」目前不可选" in text and reason in text
    assert warning.xpath(".//a[@data-blocking-case]/@href") == [f"/cases/{pending}"]
    assert leader.get(f"/cases/{pending}").status_code == 200
    # the choice itself: 批准 disabled with the reason beside it; 不予批准 open, each saying what it does
    assert radio(page, "leader_decision", "approve").get("disabled") is not None
    assert radio(page, "leader_decision", "reject").get("disabled") is None
    assert reason in " ".join(page.xpath('//*[@data-choice-blocked="approve"]')[0].text_content().split())
    assert line(page, "reject") == "不予批准后：记录不予认定；办结（不予批准）"
    assert line(page, "approve").startswith("批准后：实施惩戒措施：")

    # posting 批准 anyway: refused with the same sentence, the opinion typed still in the form
    response = leader.post(f"/tasks/{task.id}", {"task_id": task.task_id, "leader_decision": "approve",
                                                 "leader_opinion": OPINION, "action": "complete"})
    refused = Page(response)
    assert refused.status == 400
    assert refused.text_of("refusal-text") == reason
    assert refused.value_of("leader_opinion") == OPINION
    assert refused.xpath('//a[@id="refusal-link"]/@href') == [f"/cases/{pending}"]
    assert not refused.xpath('//*[@data-blocked-decision]')     # the refusal says it: not twice
    assert radio(refused, "leader_decision", "approve").get("disabled") is not None
    assert world.task(task.case_id, "leader_approval").id == task.id          # nothing happened

    # the application decided (lighter: at most 6 months), 批准 is open and its line reads the period
    decide_self_correction(world, pending, mitigated_severity="general", mitigated_max_months=6)
    page = leader.page(f"/tasks/{task.id}")
    assert not page.xpath('//*[@data-blocked-decision]')
    assert radio(page, "leader_decision", "approve").get("disabled") is None
    said = line(page, "approve")
    assert f"按主动自新决定（案件 {case_no(pending, 'self_correction')}）从轻惩戒" in said
    assert "出具《失信惩戒决定书》" in said
    max_end, min_end = DATES.search(said).groups()
    assert (min_end, max_end) == ("2026-08-29", "2026-11-29")     # decided 2026-05-29: 3 and (lighter) 6 months
    response = leader.post(f"/tasks/{task.id}", {"task_id": task.task_id, "leader_decision": "approve",
                                                 "leader_opinion": OPINION, "action": "complete"})
    assert response.status_code == 302
    with world.factory() as session:
        record = session.get(Record, task.record_id)
        assert (record.publication_min_end.isoformat(), record.publication_max_end.isoformat()) == (min_end, max_end)
        titles = session.scalars(select(Document.title).where(Document.case_id == task.case_id)).all()
    assert titles == ["失信惩戒决定书"]


def test_an_open_objection_holds_the_sanction_and_the_english_page_says_so(web, world):
    task = world.leader_task()
    objection = world.run("subject", file_objection, task.record_id, "factual_error", "金额有误。", []).id
    page = web("leader").page(f"/tasks/{task.id}?lang=en")
    assert radio(page, "leader_decision", "approve").get("disabled") is not None
    warning = " ".join(page.text_of("blocked-leader_decision").split())
    assert f"The objection to this record (case {case_no(objection, 'objection')}) is not decided yet" in warning
    assert "异议申请" not in warning
    assert "cannot be chosen now" in warning
    assert line(page, "reject").startswith("If Not approved: ")    # the form's option in English too


def test_the_leader_sees_the_responsible_people_the_approval_will_reach(web, world, people):  # noqa: F811
    record, lifecycle = world.open_record(**{"conduct_date": "2026-02-10"})
    world.complete("reviewer", world.task(lifecycle, "legality_review").id,
                   {"review_decision": "approve", "review_opinion": "事实清楚。"})
    task = world.task(lifecycle, "leader_approval")
    said = line(web("leader").page(f"/tasks/{task.id}"), "approve")
    assert said == ("批准后：实施惩戒措施：限期作出书面说明并整改、取消参加荣誉评选资格、通报批评；出具《失信惩戒决定书》；"
                    "对 2 名责任人启动问责；公示至 2027-05-29，最短公示期至 2026-08-29；进入「公示期」")


def test_a_refusal_by_an_operation_keeps_what_was_typed(web, world, people):  # noqa: F811
    from test_personnel import sanctioned
    case_id = sanctioned(world, people).p1_case
    confirm = world.task(case_id, "confirm_person")
    clerk = web("clerk")
    clerk.get(f"/tasks/{confirm.id}")
    reason = "经核实，责任人应为他人-c41d。"
    page = Page(clerk.post(f"/tasks/{confirm.id}", {"task_id": confirm.task_id, "person_confirmed": "replace",
                                                     "replacement_code": "110105194912310021",
                                                     "confirm_reason": reason, "action": "complete"}))
    assert page.status == 400
    assert page.text_of("refusal-text") == "公民身份号码校验位错误"
    assert page.value_of("confirm_reason") == reason
    assert page.value_of("replacement_code") == "110105194912310021"
    assert page.value_of("person_confirmed") == "replace"
    assert world.task(case_id, "confirm_person").id == confirm.id


def test_a_task_completed_meanwhile_says_who_and_when_and_gives_back_the_text(web, world, clock):
    record_id, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    late = web("reviewer2")
    late.get(f"/tasks/{review.id}")                         # 周审核 opens the page and starts typing
    clock.advance(minutes=30)
    world.complete("reviewer", review.id, {"review_decision": "approve", "review_opinion": "事实清楚。"})
    typed = "周审核的审核意见-c41d：证据链完整，\n建议通过。"
    page = Page(late.post(f"/tasks/{review.id}", {"task_id": review.task_id, "review_decision": "return",
                                                  "review_opinion": typed, "action": "complete"}))
    assert page.status == 409
    assert page.text_of("error-message").startswith("该任务已由 李审核 于 2026-06-01 09:30 完成")
    shown = {dt.text_content().strip(): dd for dt, dd in zip(page.xpath('//dl[@id="typed-input"]/dt'),
                                                              page.xpath('//dl[@id="typed-input"]/dd'))}
    assert shown["审核意见"].xpath(".//textarea")[0].text == typed
    assert shown["审核结论"].xpath(".//input/@value") == ["退回补正"]
    assert page.xpath('//a[@id="gone-case"]/@href') == [f"/cases/{case_id}"]
    with world.factory() as session:   # nothing of the late submit landed
        assert session.scalar(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id)) == "leader_approval"


def test_a_statement_whose_deadline_passed_while_typing_gives_the_text_back(web, world, clock, people):  # noqa: F811
    from test_personnel import confirm, sanctioned
    from workflows.worker import run_once
    case_id = sanctioned(world, people).p1_case
    statement = confirm(world, case_id)
    p1 = web("p1")
    assert p1.get(f"/portal/tasks/{statement.id}").status_code == 200
    clock.advance(days=10)                                   # past the 5 working days: the timer ends the task
    run_once(world.factory, clock)
    assert [t.bpmn_id for t in world.tasks(case_id)] == ["consider_self_correction"]
    typed = "本人陈述申辩-c41d：欠款已结清。"
    page = Page(p1.post(f"/portal/tasks/{statement.id}", {"statement_text": typed}))
    assert page.status == 404
    assert "此任务已结束" in page.text_of("error-message")
    # the timer left no trace of which form it was: the text comes back under a plain heading
    assert page.xpath('//dl[@id="typed-input"]/dt')[0].text_content().strip() == "您填写的内容"
    assert page.xpath('//dl[@id="typed-input"]//textarea')[0].text == typed


def test_a_task_claimed_meanwhile_refuses_the_draft_and_keeps_the_text(web, world):
    from workflows.cases import claim_task
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    b = web("reviewer")
    b.get(f"/tasks/{review.id}")
    world.run("reviewer2", claim_task, review.id)
    typed = "草稿意见-c41d"
    for action in ("draft", "complete"):
        page = Page(b.post(f"/tasks/{review.id}", {"task_id": review.task_id, "review_decision": "approve",
                                                   "review_opinion": typed, "action": action}))
        assert page.status == 403, action
        assert page.text_of("refusal-text") in ("您不能办理此任务",       # the draft
                                                "此任务已由他人认领")
        assert page.value_of("review_opinion") == typed and page.value_of("review_decision") == "approve"


# -- every shipped decision says what each choice does ----------------------------------------------

DECISION_TASKS = {
    "record_lifecycle": {"legality_review", "final_review", "leader_approval"},
    "objection": {"acceptance_check", "verification", "leader_approval"},
    "self_correction": {"leader_decision"},
    "credit_repair": {"completeness_check", "leader_decision"},
    "accountability": {"confirm_person", "consider_self_correction", "leader_decision"},
    "complaint": {"registration", "leader_outcome"},
    "commitment": {"review", "leader_confirm"},
    "integrity_evaluation": {"review", "approve"},
}
# what a case holds by the time its decisions are taken (the counters the gateways read, the proposal)
CASE_DATA = {"return_count": 0, "extensions": 0, "supplement_rounds": 0, "review_of": None, "statement_days": 5,
             "severity": "general", "subject_kind": "department", "publication_rule": "ndrc_2025_36",
             "sanctions": ["通报批评"], "publish": True, "min_months": 3, "max_months": 12}


def test_every_decision_of_every_shipped_process_says_what_each_choice_will_do(world, clock):
    record_id, lifecycle_id = world.open_record()
    found = {}
    with world.factory() as session:
        engine = script_engine(WorkdayCalendar.from_session(session), clock)
        for definition in session.scalars(select(ProcessDefinition)):
            parsed = specs_for(session, definition.id)
            case = SimpleNamespace(id=lifecycle_id, record_id=record_id, party_id=None, outcome=None,
                                   process_key=definition.key)
            for process_spec in [parsed.spec, *parsed.subprocess_specs.values()]:
                for spec in process_spec.task_specs.values():
                    form = (getattr(spec, "extensions", {}) or {}).get("properties", {}).get(FORM_PROPERTY)
                    schema = parsed.forms.get(form or "")
                    if not isinstance(schema, dict) or not enum_fields(schema):
                        continue
                    decisions = decisions_at(spec, schema, dict(CASE_DATA),
                                             lambda data: Preview(session, case, data, clock, Settings()), engine)
                    if decisions:
                        found.setdefault(definition.key, {})[spec.bpmn_id] = decisions
    assert {key: set(tasks) for key, tasks in found.items()} == DECISION_TASKS
    for key, tasks in found.items():
        for task, decisions in tasks.items():
            for decision in decisions.values():
                effects = [str(c.effect) for c in decision.choices]   # as a Chinese page reads them
                assert all(effects), f"{key}.{task}: a choice with nothing to say: {effects}"
                assert not any(re.search(r"[a-z_]{3,}", e) for e in effects), f"{key}.{task}: a raw key in {effects}"
                assert not any(c.blocked for c in decision.choices), f"{key}.{task}: nothing blocks here"
    lifecycle = found["record_lifecycle"]
    assert [str(c.effect) for c in lifecycle["legality_review"]["review_decision"].choices] == [
        "认定记录；转分管领导「领导审批」", "退回补正；转承办人「录入失信记录」", "记录不予认定；办结（不予认定）"]
    assert [str(c.effect) for c in found["objection"]["leader_approval"]["final_outcome"].choices] == [
        "更正记录；出具《异议处理决定书》；办结（异议处理完毕）", "撤销记录；出具《异议处理决定书》；办结（异议处理完毕）",
        "维持记录；出具《异议处理决定书》；办结（异议处理完毕）"]
    assert [str(c.effect) for c in found["credit_repair"]["leader_decision"]["repair_decision"].choices] == [
        "准予信用修复：终止公示，解除惩戒措施，3 个工作日内共享修复结果；出具《信用修复决定书》；办结（已修复）",
        "出具《不予信用修复决定书》；办结（不予修复）"]
