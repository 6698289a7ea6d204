"""The dossier (审批单) on task pages: each step's page, as that step's user, shows what was filed and
every earlier decision and opinion a decision needs, with who and when, options in words (never a
raw key); the leader's page shows the proposal it approves, in the order declared with the task.
What a task shows is declared next to its form (`dossierFields`) and checked on deploy."""
from __future__ import annotations

import copy
import re
from io import BytesIO
from pathlib import Path

import pytest

from credflow_web import CAPTURE, Page
from test_personnel import P1_CODE, P1_NAME, people, sanctioned  # noqa: F401  (people: a fixture)
from workflows.dossier import dossier_for
from workflows.identifiers import mask_citizen_id
from workflows.engine.bundle import DOSSIER_PROPERTY, InvalidBundle, declared_dossier_fields, parse_bundle, read_folder
from workflows.models import HumanTask
from workflows.operations import MESSAGES, OPERATIONS
from workflows.paths import bundled_dir
from in_english import english

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FACTS = "失信事实-7f3a：逾期未支付中小企业账款。"
REVIEW = "合法性审核意见-7f3a"
LEADER = "领导审批意见-7f3a"
STATEMENT = "异议陈述-7f3a：欠款已于认定前结清。"
ACCEPT = "受理意见-7f3a"
VERIFY = "核查意见-7f3a"
CORRECTED = "更正事实-7f3a"


def dossier(page: Page):
    """[(step, who, when, {field: text})] as the task page shows its dossier."""
    found = []
    for li in page.xpath('//section[@id="dossier"]//li[@data-dossier-section]'):
        step = li.xpath('.//*[contains(@class, "cf-step")]')[0].text_content().strip()
        who = li.xpath('.//*[contains(@class, "cf-who")]')[0].text_content().strip()
        when = "".join(t.text_content().strip() for t in li.xpath('.//time[contains(@class, "cf-when")]'))
        values = {dd.get("data-dossier-field"): value_text(dd) for dd in li.xpath(".//dd[@data-dossier-field]")}
        found.append((step, who, when, values))
    return found


def value_text(dd) -> str:
    """A value as it reads, without the file previews' controls."""
    dd = copy.deepcopy(dd)
    for panel in dd.xpath('.//details[contains(@class, "cf-preview")]'):
        panel.getparent().remove(panel)
    return " ".join(dd.text_content().split())


def section(page: Page, step: str) -> tuple[str, str, dict]:
    matches = [(who, when, values) for s, who, when, values in dossier(page) if s == step]
    assert matches, f"no section {step!r} in {[s for s, *_ in dossier(page)]}"
    return matches[-1]


def own_form_after_dossier(page: Page) -> bool:
    """The dossier stands above the box for one's own opinion."""
    return bool(page.xpath('//section[@id="dossier"]/following::form[@id="task-form"]'))


def test_record_lifecycle_each_step_sees_the_earlier_ones_and_the_leader_the_proposal(web, world, clock):
    record_id, case_id = world.open_record(facts=FACTS)          # 张承办 captures at 2026-06-01 09:00
    review = world.task(case_id, "legality_review")
    reviewer = web("reviewer")
    page = reviewer.page(f"/tasks/{review.id}")
    who, when, values = section(page, "录入失信记录")
    assert (who, when) == ("张承办", "2026-06-01 09:00")
    assert values["facts"] == FACTS
    assert values["severity"] == "一般" and values["field"] == "政府采购" and values["source"] == "行政处罚"
    assert own_form_after_dossier(page)

    clock.advance(hours=2)
    reviewer.post(f"/tasks/{review.id}", {"task_id": review.task_id, "review_decision": "approve",
                                          "review_opinion": REVIEW, "action": "complete"})
    leader_task = world.task(case_id, "leader_approval")
    page = web("leader").page(f"/tasks/{leader_task.id}")
    steps = dossier(page)
    # declared order: the facts, the review, then the rule table's proposal
    assert [s for s, *_ in steps] == ["录入失信记录", "合法性审核", "拟定惩戒措施"]
    assert section(page, "录入失信记录")[2] == {"facts": FACTS, "legal_basis": "《保障中小企业款项支付条例》第八条"}
    who, when, values = section(page, "合法性审核")
    assert (who, when) == ("李审核", "2026-06-01 11:00")
    assert values == {"review_decision": "通过", "review_opinion": REVIEW}
    who, when, proposal = section(page, "拟定惩戒措施")
    assert who == "系统" and when == "2026-06-01 11:00"
    assert proposal["sanctions"] and set(proposal) >= {"sanctions", "publish", "min_months", "max_months"}
    assert proposal["min_months"] == "3"
    assert "approve" not in page.text_of("dossier")


def test_objection_each_step_sees_the_filing_and_every_earlier_opinion(web, world, clock):
    record_id, lifecycle_id = world.open_record(facts=FACTS)
    world.complete("reviewer", world.task(lifecycle_id, "legality_review").id,
                   {"review_decision": "approve", "review_opinion": REVIEW})
    world.complete("leader", world.task(lifecycle_id, "leader_approval").id,
                   {"leader_decision": "approve", "leader_opinion": LEADER})
    clock.advance(days=1)                                        # 2026-06-02 09:00
    subject = web("subject")
    subject.get(f"/portal/records/{record_id}/objection")
    response = subject.post(f"/portal/records/{record_id}/objection",
                            [("grounds", "factual_error"), ("statement", STATEMENT),
                             ("evidence", (BytesIO(PDF), "结清凭证.pdf"))], content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with world.factory() as session:
        case_id = session.query(HumanTask).filter_by(bpmn_id="acceptance_check").one().case_id
    subject_name = world.subject_names[0]

    # the clerk accepting it: the objection as filed, and the record's own steps (the case that opened it)
    acceptance = world.task(case_id, "acceptance_check")
    clerk = web("clerk")
    page = clerk.page(f"/tasks/{acceptance.id}")
    who, when, filed = section(page, "提出异议")
    assert (who, when) == (subject_name, "2026-06-02 09:00")
    assert filed["grounds"] == "事实错误" and filed["statement"] == STATEMENT
    assert "结清凭证.pdf" in filed["evidence"]
    link = page.xpath('//section[@id="dossier"]//a[@data-attachment]')[0]
    assert link.get("target") == "_blank"
    download = clerk.get(link.get("href"))
    assert download.status_code == 200 and download.data == PDF
    assert section(page, "领导审批")[:2] == ("王领导", "2026-06-01 09:00")
    assert section(page, "领导审批")[2]["leader_opinion"] == LEADER
    origin = page.xpath('//section[@id="dossier"]//li[@data-dossier-section="step"]//span[contains(@class, "badge")]')
    assert any(f"C-{lifecycle_id:06d}" in b.text_content() for b in origin)

    clock.advance(hours=1)                                       # 10:00
    clerk.post(f"/tasks/{acceptance.id}", {"task_id": acceptance.task_id, "acceptance": "accept",
                                           "acceptance_reason": ACCEPT, "action": "complete"})
    verification = world.task(case_id, "verification")
    reviewer = web("reviewer")
    page = reviewer.page(f"/tasks/{verification.id}")
    assert section(page, "提出异议")[2]["statement"] == STATEMENT
    who, when, values = section(page, "受理审查")
    assert (who, when, values) == ("张承办", "2026-06-02 10:00", {"acceptance": "受理", "acceptance_reason": ACCEPT})

    clock.advance(hours=3)                                       # 13:00
    reviewer.post(f"/tasks/{verification.id}", {"task_id": verification.task_id, "verification_outcome": "correct",
                                                "verification_reason": VERIFY, "corrected_facts": CORRECTED,
                                                "action": "complete"})
    approval = world.task(case_id, "leader_approval")
    page = web("leader").page(f"/tasks/{approval.id}")
    own = [(s, who, when, values) for s, who, when, values in dossier(page)
           if s in ("提出异议", "受理审查", "核查")]
    # declared: the objection first, the clerk's acceptance reason, then the verification it approves
    # (reasons and corrected facts)
    assert own == [("提出异议", subject_name, "2026-06-02 09:00",
                    {"grounds": "事实错误", "statement": STATEMENT, "evidence": "结清凭证.pdf"}),
                   ("受理审查", "张承办", "2026-06-02 10:00", {"acceptance_reason": ACCEPT}),
                   ("核查", "李审核", "2026-06-02 13:00",
                    {"verification_outcome": "更正", "verification_reason": VERIFY, "corrected_facts": CORRECTED})]
    text = page.text_of("dossier")
    assert not re.search(r"\b(correct|factual_error|accept)\b", text)
    assert own_form_after_dossier(page)


def test_the_default_is_every_earlier_step_with_all_its_fields(world, clock):
    """A task without `dossierFields` (legality review) shows every completed step, every field."""
    assert declared_dossier_fields(None) is None and declared_dossier_fields("  ") is None
    assert declared_dossier_fields("b, a，b,") == ["b", "a"]
    record_id, case_id = world.open_record(facts=FACTS)
    with world.factory() as session:
        row = session.get(HumanTask, world.task(case_id, "legality_review").id)
        sections = dossier_for(session, row)
    assert [(s.kind, s.title, s.who) for s in sections] == [("step", "录入失信记录", "张承办")]
    assert [i.name for i in sections[0].items] == ["source", "field", "severity", "facts", "legal_basis",
                                                   "decision_date"]


def shipped(key: str):
    return next(b for b in read_folder(bundled_dir("bpmn"), bundled_dir("forms")) if b.key == key)


def test_shipped_leader_tasks_declare_their_dossier():
    text = shipped("objection").bpmn_files["objection.bpmn"]
    assert f'name="{DOSSIER_PROPERTY}" value="grounds,statement,evidence,acceptance_reason,verification_outcome' in text


@pytest.mark.parametrize("task, fields, culprit", [
    ("leader_approval", "grounds,no_such_field", "no_such_field"),
    # a field of a later form is not an earlier one: the acceptance check cannot show the leader's decision
    ("acceptance_check", "grounds,final_outcome", "final_outcome"),
])
def test_a_dossier_naming_a_field_no_earlier_form_has_is_refused(task, fields, culprit):
    bundle = shipped("objection")
    name = "objection.bpmn"
    declared = 'value="grounds,statement,evidence,acceptance_reason,verification_outcome,verification_reason,corrected_facts"'
    line = '<spiffworkflow:property name="formJsonSchemaFilename" value="acceptance_check.json" />'
    text = bundle.bpmn_files[name]
    assert declared in text and line in text
    if task == "leader_approval":
        text = text.replace(declared, f'value="{fields}"')
    else:
        text = text.replace(line, line + f'<spiffworkflow:property name="{DOSSIER_PROPERTY}" value="{fields}" />')
    bundle.bpmn_files[name] = text
    with pytest.raises(InvalidBundle) as info:
        parse_bundle(bundle, set(OPERATIONS), messages=set(MESSAGES))
    problems = [p for p in info.value.problems if culprit in str(p)]
    assert len(problems) == 1 and problems[0].element == task
    assert "earlier form" in english(problems[0].reason) and "此前" in str(problems[0].reason)


def test_accountability_names_the_person_and_each_step_sees_the_statement_and_the_proposal(web, world, people,
                                                                                            clock):
    case_id = sanctioned(world, people).p1_case        # opened by the leader's approval of the record
    confirm = world.task(case_id, "confirm_person")
    clerk = web("clerk")
    page = clerk.page(f"/tasks/{confirm.id}")
    who, _, person = section(page, "责任人")
    assert person == {"person_name": P1_NAME, "person_code": mask_citizen_id(P1_CODE), "post": "主要负责人"}
    assert who == "系统" and P1_CODE not in page.text     # named from the roster, not by the leader
    # the record's case that opened it: its facts and its approval
    assert section(page, "录入失信记录")[2]["facts"] == CAPTURE["facts"]
    assert section(page, "领导审批")[0] == "王领导"

    clock.advance(hours=1)                                                       # 10:00
    world.complete("clerk", confirm.id, {"person_confirmed": "confirm", "confirm_reason": "核实意见-7f3a"})
    statement = world.task(case_id, "statement")
    p1 = web("p1")
    portal = p1.page(f"/portal/tasks/{statement.id}")
    # the person: the record's facts and themself named, not the office's internal opinions
    assert section(portal, "失信记录")[2]["facts"] == CAPTURE["facts"]
    assert section(portal, "责任人")[2]["person_name"] == P1_NAME
    assert "核实意见-7f3a" not in portal.text
    clock.advance(hours=1)                                                       # 11:00
    response = p1.post(f"/portal/tasks/{statement.id}", {"statement_text": "陈述申辩-7f3a"},
                       content_type="multipart/form-data")
    assert response.status_code == 302

    consider = world.task(case_id, "consider_self_correction")
    reviewer = web("reviewer")
    page = reviewer.page(f"/tasks/{consider.id}")
    assert section(page, "确认责任人") == ("张承办", "2026-06-01 10:00",
                                          {"person_confirmed": "确认", "confirm_reason": "核实意见-7f3a"})
    assert section(page, "陈述申辩") == (P1_NAME, "2026-06-01 11:00", {"statement_text": "陈述申辩-7f3a"})
    world.complete("reviewer", consider.id, {"self_correction": "lighter", "self_correction_reason": "认定意见-7f3a"})
    world.complete("reviewer", world.task(case_id, "propose_measure").id,
                   {"measure": "admonition", "measure_reason": "拟定理由-7f3a"})
    page = web("leader").page(f"/tasks/{world.task(case_id, 'leader_decision').id}")
    own = [(s, values) for s, _, _, values in dossier(page) if s in ("陈述申辩", "自我纠错情况认定", "拟定问责措施")]
    assert own == [("陈述申辩", {"statement_text": "陈述申辩-7f3a"}),
                   ("自我纠错情况认定", {"self_correction": "从轻", "self_correction_reason": "认定意见-7f3a"}),
                   ("拟定问责措施", {"measure": "诫勉", "measure_reason": "拟定理由-7f3a"})]
