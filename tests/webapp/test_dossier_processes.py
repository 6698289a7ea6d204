"""Every shipped process, every step: each step is completed with a text of its own (`<step>意见-7f3a`),
and each later step's page, opened as that step's user, shows every earlier text its decision needs
with who and when; each leader's page shows the proposal it approves. Files filed in the portal
are there as links with a preview; the record's earlier decisions and applications are listed,
and each of their links opens for the viewer."""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from sqlalchemy import select

from credflow_web import CAPTURE, Page, location
from test_dossier import PDF, dossier
from test_personnel import P1_CODE, P1_NAME, people  # noqa: F401  (people: a fixture)
from workflows.identifiers import mask_citizen_id
from workflows.models import Case, Record
from workflows.worker import run_once

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CLERK, REVIEWER, LEADER = "张承办", "李审核", "王领导"


@dataclass
class Seen:
    """A dossier section as a page should show it: the step, who, when, and (some of) its values."""
    step: str
    who: str
    when: str
    values: dict


def sees(page: Page, *expected: Seen) -> None:
    assert page.status == 200, page.text[:300]
    shown = dossier(page)
    for e in expected:
        assert any(step == e.step and who == e.who and when == e.when
                   and all(values.get(k) == v for k, v in e.values.items())
                   for step, who, when, values in shown), f"{e} is not among {shown}"


def now(clock) -> str:
    return clock.now().strftime("%Y-%m-%d %H:%M")


def later(clock, minutes: int = 30) -> str:
    clock.advance(minutes=minutes)
    return now(clock)


def history(page: Page) -> dict[str, list[str]]:
    """The record history's links: {'documents': [...], 'verify': [...], 'cases': [...]}."""
    box = '//*[@id="record-history"]'
    return {"documents": page.xpath(f"{box}//a[@data-document-link]/@href"),
            "verify": page.xpath(f"{box}//a[@data-verify-link]/@href"),
            "cases": page.xpath(f"{box}//a[@data-case-link]/@href")}


def history_text(page: Page) -> str:
    found = page.xpath('//*[@id="record-history"]')
    return " ".join(found[0].text_content().split()) if found else ""


def every_link_opens(browser, links: dict[str, list[str]]) -> None:
    for url in [u for urls in links.values() for u in urls]:
        response = browser.get(url)
        assert response.status_code == 200, url


def publish(world, clock, subject: int = 0, **capture) -> tuple[int, int, list[Seen]]:
    """A record captured, reviewed and approved with texts of its own: (record, lifecycle case, what
    its steps show on a later page)."""
    start = now(clock)
    record_id, case_id = world.open_record(subject, facts="录入意见-7f3a：逾期未支付中小企业账款。", **capture)
    at_review = later(clock)
    world.complete("reviewer", world.task(case_id, "legality_review").id,
                   {"review_decision": "approve", "review_opinion": "合法性审核意见-7f3a"})
    at_leader = later(clock)
    world.complete("leader", world.task(case_id, "leader_approval").id,
                   {"leader_decision": "approve", "leader_opinion": "领导审批意见-7f3a"})
    return record_id, case_id, [
        Seen("录入失信记录", CLERK, start, {"facts": "录入意见-7f3a：逾期未支付中小企业账款。"}),
        Seen("合法性审核", REVIEWER, at_review, {"review_decision": "通过", "review_opinion": "合法性审核意见-7f3a"}),
        Seen("领导审批", LEADER, at_leader, {"leader_decision": "批准", "leader_opinion": "领导审批意见-7f3a"})]


def apply_in_portal(browser, record_id: int, process: str, fields: list) -> int:
    url = f"/portal/records/{record_id}/{process}"
    browser.get(url)
    response = browser.post(url, fields, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(location(response).rsplit("/", 1)[1])


def record_of(world, record_id: int) -> Record:
    with world.factory() as session:
        return session.get(Record, record_id)


# -- the record's own process ---------------------------------------------------------------------

def test_record_lifecycle_returned_three_times_then_finally_reviewed_and_approved(web, world, clock):
    facts = [f"录入意见-7f3a-{i}：逾期未支付中小企业账款。" for i in range(4)]
    record_id, case_id = world.open_record(facts=facts[0])
    earlier = [Seen("录入失信记录", CLERK, now(clock), {"facts": facts[0], "severity": "一般", "source": "行政处罚"})]
    reviewer, clerk = web("reviewer"), web("clerk")
    for round_ in range(1, 5):       # three returns go back to the clerk; the fourth goes to the final review
        review = world.task(case_id, "legality_review")
        sees(reviewer.page(f"/tasks/{review.id}"), *earlier)
        opinion, at = f"合法性审核意见-7f3a-{round_}", later(clock)
        world.complete("reviewer", review.id, {"review_decision": "return", "review_opinion": opinion})
        earlier.append(Seen("合法性审核", REVIEWER, at, {"review_decision": "退回补正", "review_opinion": opinion}))
        if round_ == 4:
            break
        capture = world.task(case_id, "capture")
        sees(clerk.page(f"/tasks/{capture.id}"), *earlier)     # why it came back, and every earlier round
        at = later(clock)
        world.complete("clerk", capture.id, {**CAPTURE, "facts": facts[round_]})
        earlier.append(Seen("录入失信记录", CLERK, at, {"facts": facts[round_]}))

    final = world.task(case_id, "final_review")
    sees(reviewer.page(f"/tasks/{final.id}"), *earlier)
    at_final = later(clock)
    world.complete("reviewer", final.id, {"review_decision": "approve", "review_opinion": "最终审核意见-7f3a"})

    approval = world.task(case_id, "leader_approval")
    page = web("leader").page(f"/tasks/{approval.id}")
    # declared: the facts as last captured, the final review, and the rule table's proposal
    sees(page, Seen("录入失信记录", CLERK, earlier[-2].when, {"facts": facts[3]}),
         Seen("最终审核", REVIEWER, at_final, {"review_decision": "通过", "review_opinion": "最终审核意见-7f3a"}),
         Seen("拟定惩戒措施", "系统", at_final, {"publish": "是", "min_months": "3", "max_months": "12"}))
    proposal = [values for step, *_, values in dossier(page) if step == "拟定惩戒措施"][0]
    assert proposal["sanctions"]
    assert facts[0] not in page.text_of("dossier")       # the declared fields: the latest capture only
    assert history(page) == {"documents": [], "verify": [], "cases": []}    # nothing issued yet
    world.complete("leader", approval.id, {"leader_decision": "approve", "leader_opinion": "领导审批意见-7f3a"})
    assert record_of(world, record_id).status == "published"


# -- objection: extended, extended again, overdue, escalated ---------------------------------------

def test_objection_through_every_verification_step(web, world, clock):
    record_id, lifecycle_id, lifecycle = publish(world, clock)
    subject = web("subject")
    filed_at = later(clock, 60 * 24)
    case_id = apply_in_portal(subject, record_id, "objection", [
        ("grounds", "factual_error"), ("statement", "异议陈述-7f3a"),
        ("evidence", (BytesIO(PDF), "结清凭证.pdf")), ("evidence", (BytesIO(PNG), "回单照片.png"))])
    filing = Seen("提出异议", world.subject_names[0], filed_at,
                  {"grounds": "事实错误", "statement": "异议陈述-7f3a", "evidence": "结清凭证.pdf 回单照片.png"})

    clerk = web("clerk")
    acceptance = world.task(case_id, "acceptance_check")
    page = clerk.page(f"/tasks/{acceptance.id}")
    sees(page, filing, *lifecycle)                     # and the record's own steps, from the case that opened it
    assert len(page.xpath('//section[@id="dossier"]//details[contains(@class, "cf-preview")]')) == 2
    assert "失信惩戒决定书" in history_text(page)
    every_link_opens(clerk, history(page))
    at = later(clock)
    world.complete("clerk", acceptance.id, {"acceptance": "accept", "acceptance_reason": "受理审查意见-7f3a"})
    steps = [filing, Seen("受理审查", CLERK, at, {"acceptance": "受理", "acceptance_reason": "受理审查意见-7f3a"})]

    reviewer = web("reviewer")
    for round_ in (1, 2):                              # extended once; asked again, it goes to the final verification
        verification = world.task(case_id, "verification")
        sees(reviewer.page(f"/tasks/{verification.id}"), *steps, *lifecycle)
        at = later(clock)
        world.complete("reviewer", verification.id, {"verification_outcome": "extend",
                                                     "verification_reason": f"核查意见-7f3a-{round_}"})
        steps.append(Seen("核查", REVIEWER, at, {"verification_outcome": "延期核查（仅一次）",
                                                "verification_reason": f"核查意见-7f3a-{round_}"}))
    final = world.task(case_id, "verification_final")
    sees(reviewer.page(f"/tasks/{final.id}"), *steps)

    clock.advance(days=40)                             # the final verification's deadline passes
    run_once(world.factory, clock)
    leader = web("leader")
    escalated = world.task(case_id, "escalated_verification")
    page = leader.page(f"/tasks/{escalated.id}")
    sees(page, *steps, *lifecycle)
    at_escalated = later(clock)
    world.complete("leader", escalated.id, {"verification_outcome": "correct", "verification_reason": "逾期督办核查意见-7f3a",
                                            "corrected_facts": "更正后的失信事实-7f3a"})

    approval = world.task(case_id, "leader_approval")
    page = leader.page(f"/tasks/{approval.id}")
    # what it approves: the objection, and the verification that stands (the escalated one)
    sees(page, filing, Seen("受理审查", CLERK, steps[1].when, {"acceptance_reason": "受理审查意见-7f3a"}),
         Seen("逾期督办核查", LEADER, at_escalated,
                            {"verification_outcome": "更正", "verification_reason": "逾期督办核查意见-7f3a",
                             "corrected_facts": "更正后的失信事实-7f3a"}))
    assert "核查意见-7f3a-1" not in page.text_of("dossier")    # declared: the verification that stands
    text = history_text(page)
    assert "失信惩戒决定书" in text and "受理回执" in text
    every_link_opens(leader, history(page))
    world.complete("leader", approval.id, {"final_outcome": "correct", "decision_reason": "领导审批意见-7f3a-2"})
    assert record_of(world, record_id).facts == "更正后的失信事实-7f3a"


# -- self-correction: decided before the sanction, seen by the leader who approves it ---------------

def test_self_correction_and_the_sanction_it_lightens(web, world, clock):
    """Claimed once the record is confirmed (past the legality review), decided before the sanction."""
    record_id, lifecycle_id = world.open_record(severity="serious", facts="录入意见-7f3a")
    lifecycle = [Seen("录入失信记录", CLERK, now(clock), {"facts": "录入意见-7f3a", "severity": "严重"})]
    at = later(clock)
    world.complete("reviewer", world.task(lifecycle_id, "legality_review").id,
                   {"review_decision": "approve", "review_opinion": "合法性审核意见-7f3a"})
    lifecycle.append(Seen("合法性审核", REVIEWER, at, {"review_opinion": "合法性审核意见-7f3a"}))
    subject = web("subject")
    filed_at = later(clock)
    case_id = apply_in_portal(subject, record_id, "self_correction", [
        ("measures", "recovered_loss"), ("measures", "removed_effect"), ("statement", "自新情况说明-7f3a"),
        ("evidence", (BytesIO(PDF), "退赔凭证.pdf"))])
    filing = Seen("申请从轻或免予惩戒（主动自新）", world.subject_names[0], filed_at,
                  {"measures": "主动挽回损失、消除不良影响", "statement": "自新情况说明-7f3a", "evidence": "退赔凭证.pdf"})

    reviewer = web("reviewer")
    assessment = world.task(case_id, "assessment")
    sees(reviewer.page(f"/tasks/{assessment.id}"), filing, *lifecycle)
    at_assessment = later(clock)
    world.complete("reviewer", assessment.id, {"proposal": "lighter", "proposed_severity": "general",
                                               "proposed_max_months": 6, "assessment_reason": "自新情况评估意见-7f3a"})
    leader = web("leader")
    decision = world.task(case_id, "leader_decision")
    page = leader.page(f"/tasks/{decision.id}")
    sees(page, filing, Seen("自新情况评估", REVIEWER, at_assessment,
                            {"proposal": "从轻", "proposed_severity": "一般", "proposed_max_months": "6",
                             "assessment_reason": "自新情况评估意见-7f3a"}))
    at_decision = later(clock)
    world.complete("leader", decision.id, {"mitigation_decision": "lighter", "mitigated_severity": "general",
                                           "mitigated_max_months": 6, "decision_reason": "领导决定意见-7f3a"})

    # the record's sanction: the leader sees the proposal it approves, and in the record's history
    # the application, decided lighter, with its decision document
    page = leader.page(f"/tasks/{world.task(lifecycle_id, 'leader_approval').id}")
    sees(page, lifecycle[1], Seen("拟定惩戒措施", "系统", lifecycle[1].when, {"min_months": "12", "max_months": "36"}))
    links = history(page)
    assert links["cases"] == [f"/cases/{case_id}"] and len(links["documents"]) == 1
    text = history_text(page)
    assert "主动自新申请" in text and "从轻惩戒" in text and f"办结 {at_decision}" in text
    every_link_opens(leader, links)


# -- credit repair: sent back for a supplement, then complete, reviewed, decided --------------------

def test_credit_repair_with_a_supplement(web, world, clock):
    record_id, lifecycle_id, lifecycle = publish(world, clock)
    clock.advance(days=100)                            # past the minimum publication period
    run_once(world.factory, clock)
    subject = web("subject")
    filed_at = later(clock)
    case_id = apply_in_portal(subject, record_id, "credit_repair", [
        ("obligations_fulfilled", "on"), ("statement", "修复申请说明-7f3a"),
        ("commitment", (BytesIO(PDF), "信用承诺书.pdf")), ("evidence", (BytesIO(PNG), "缴款回单.png"))])
    name = world.subject_names[0]
    filing = Seen("申请信用修复", name, filed_at, {"obligations_fulfilled": "是", "statement": "修复申请说明-7f3a",
                                                  "commitment": "信用承诺书.pdf", "evidence": "缴款回单.png"})
    clerk = web("clerk")
    check = world.task(case_id, "completeness_check")
    page = clerk.page(f"/tasks/{check.id}")
    sees(page, filing, *lifecycle)
    at = later(clock)
    world.complete("clerk", check.id, {"completeness": "supplement", "missing_items": "需补正的材料-7f3a",
                                       "supplement_days": 5, "completeness_reason": "材料完整性审查意见-7f3a-1"})
    steps = [filing, Seen("材料完整性审查", CLERK, at, {"completeness": "需补正", "missing_items": "需补正的材料-7f3a",
                                                       "completeness_reason": "材料完整性审查意见-7f3a-1"})]

    # the subject: the record and what they filed, the notice asking for the supplement; no internal opinion
    supplement = world.task(case_id, "supplement")
    page = subject.page(f"/portal/tasks/{supplement.id}")
    sees(page, Seen("申请信用修复", name, filed_at, {"statement": "修复申请说明-7f3a"}))
    assert "材料完整性审查意见-7f3a-1" not in page.text and "合法性审核意见-7f3a" not in page.text
    assert "补正材料通知书" in history_text(page)
    links = history(page)
    assert links["documents"] and all(u.startswith("/portal/documents/") for u in links["documents"])
    every_link_opens(subject, links)
    at = later(clock)
    response = subject.post(f"/portal/tasks/{supplement.id}", [("supplement_statement", "补正材料意见-7f3a"),
                                                               ("supplement_files", (BytesIO(PDF), "补正凭证.pdf"))],
                            content_type="multipart/form-data")
    assert response.status_code == 302
    steps.append(Seen("补正材料", name, at, {"supplement_statement": "补正材料意见-7f3a", "supplement_files": "补正凭证.pdf"}))

    check = world.task(case_id, "completeness_check")
    sees(clerk.page(f"/tasks/{check.id}"), *steps)
    at = later(clock)
    world.complete("clerk", check.id, {"completeness": "complete", "completeness_reason": "材料完整性审查意见-7f3a-2"})
    steps.append(Seen("材料完整性审查", CLERK, at, {"completeness": "材料齐全", "completeness_reason": "材料完整性审查意见-7f3a-2"}))

    review = world.task(case_id, "review")
    sees(web("reviewer").page(f"/tasks/{review.id}"), *steps, *lifecycle)
    at = later(clock)
    world.complete("reviewer", review.id, {"recommendation": "approve", "review_reason": "审核意见-7f3a"})
    steps.append(Seen("审核", REVIEWER, at, {"recommendation": "建议修复", "review_reason": "审核意见-7f3a"}))

    leader = web("leader")
    decision = world.task(case_id, "leader_decision")
    page = leader.page(f"/tasks/{decision.id}")
    sees(page, *steps)                                 # the review's recommendation is what it approves
    every_link_opens(leader, history(page))
    world.complete("leader", decision.id, {"repair_decision": "approve", "decision_reason": "领导决定意见-7f3a"})
    assert record_of(world, record_id).status == "repaired"


# -- accountability: the person's case, then their request for review (复核) -------------------------

def test_accountability_and_its_review(web, world, people, clock):
    record_id, lifecycle_id, lifecycle = publish(world, clock, conduct_date="2026-02-10")
    with world.factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.process_key == "accountability",
                                                       Case.party_id == people.p1))
    clerk, reviewer, leader, p1 = web("clerk"), web("reviewer"), web("leader"), web("p1")
    confirm = world.task(case_id, "confirm_person")
    page = clerk.page(f"/tasks/{confirm.id}")
    sees(page, Seen("责任人", "系统", lifecycle[-1].when,      # named from the roster
                    {"person_name": P1_NAME, "person_code": mask_citizen_id(P1_CODE), "post": "主要负责人"}),
         *lifecycle)
    at = later(clock)
    world.complete("clerk", confirm.id, {"person_confirmed": "confirm", "confirm_reason": "确认责任人意见-7f3a"})
    steps = [Seen("确认责任人", CLERK, at, {"person_confirmed": "确认", "confirm_reason": "确认责任人意见-7f3a"})]

    statement = world.task(case_id, "statement")
    page = p1.page(f"/portal/tasks/{statement.id}")
    assert [step for step, *_ in dossier(page)] == ["失信记录", "责任人"]
    assert "确认责任人意见-7f3a" not in page.text and "领导审批意见-7f3a" not in page.text
    assert history(page) == {"documents": [], "verify": [], "cases": []}   # the department's documents are not theirs
    at = later(clock)
    response = p1.post(f"/portal/tasks/{statement.id}", [("statement_text", "陈述申辩意见-7f3a"),
                                                          ("statement_files", (BytesIO(PDF), "说明材料.pdf"))],
                       content_type="multipart/form-data")
    assert response.status_code == 302
    steps.append(Seen("陈述申辩", P1_NAME, at, {"statement_text": "陈述申辩意见-7f3a", "statement_files": "说明材料.pdf"}))

    for bpmn_id, step, data, shown in (
            ("consider_self_correction", "自我纠错情况认定",
             {"self_correction": "lighter", "self_correction_reason": "自我纠错情况认定意见-7f3a"},
             {"self_correction": "从轻", "self_correction_reason": "自我纠错情况认定意见-7f3a"}),
            ("propose_measure", "拟定问责措施", {"measure": "admonition", "measure_reason": "拟定问责措施意见-7f3a"},
             {"measure": "诫勉", "measure_reason": "拟定问责措施意见-7f3a"})):
        task = world.task(case_id, bpmn_id)
        sees(reviewer.page(f"/tasks/{task.id}"), *steps, *lifecycle)
        at = later(clock)
        world.complete("reviewer", task.id, data)
        steps.append(Seen(step, REVIEWER, at, shown))

    decision = world.task(case_id, "leader_decision")
    sees(leader.page(f"/tasks/{decision.id}"), *steps[1:])     # declared: the statement, the finding, the proposal
    at_decision = later(clock)
    world.complete("leader", decision.id, {"final_measure": "admonition", "decision_reason": "领导决定意见-7f3a"})

    # 复核: the person asks for a review; the new case goes straight to a new proposal, whose page
    # shows the first case's steps and its decision, and lists the first case in the record's history
    p1.get(f"/portal/applications/{case_id}")
    response = p1.post(f"/portal/applications/{case_id}/review")
    review_id = int(location(response).rsplit("/", 1)[1])
    proposal = world.task(review_id, "propose_measure")
    page = reviewer.page(f"/tasks/{proposal.id}")
    sees(page, *steps, Seen("领导决定", LEADER, at_decision, {"final_measure": "诫勉", "decision_reason": "领导决定意见-7f3a"}))
    links = history(page)
    assert f"/cases/{case_id}" in links["cases"] and "诫勉" in history_text(page)
    assert "问责处理决定书" in history_text(page) and P1_NAME in history_text(page)   # whose case it was
    every_link_opens(reviewer, links)
