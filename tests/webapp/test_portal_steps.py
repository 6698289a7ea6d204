"""Each application's page shows its steps so far with their dates, in words its subject reads:
filed, accepted (or not, with the reason), asked to supplement, handed in, being verified, decided
with the decision document. The office's internal opinions are not among them."""
from __future__ import annotations

from credflow_web import Page
from test_portal import A, minimum_period_passed, publish
from workflows.applications import file_credit_repair, file_objection


def steps(page: Page) -> list[tuple[str, str, str]]:
    """(kind, title, date) of each step listed on an application page."""
    return [(li.get("data-step"), li.xpath('.//*[@data-step-title]')[0].text_content().strip(),
             li.xpath('.//*[@data-step-date]')[0].text_content().strip())
            for li in page.xpath('//ol[@id="application-steps"]/li')]


def test_an_objection_page_lists_its_steps_with_dates_after_acceptance_and_after_the_decision(web, world, clock):
    record_id, _ = publish(world, A)
    objection = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])  # 06-01 09:00
    a = web("subject")
    url = f"/portal/applications/{objection.id}"
    assert steps(a.page(url)) == [("filed", "申请已提交", "2026-06-01 09:00"), ("checking", "受理审查中", "进行中")]

    clock.advance(days=1, hours=1)
    world.complete("clerk", world.task(objection.id, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "内部意见：材料齐全"})
    page = a.page(url)
    assert steps(page) == [("filed", "申请已提交", "2026-06-01 09:00"), ("accepted", "已受理", "2026-06-02 10:00"),
                           ("marked", "记录已作异议标注", "2026-06-02 10:00"), ("verifying", "核查中", "进行中")]
    receipt = page.xpath('//li[@data-step="accepted"]//a[@data-step-document]')
    assert len(receipt) == 1 and receipt[0].text_content().startswith("受理回执")
    assert a.get(receipt[0].get("href")).mimetype == "application/pdf"
    assert "内部意见" not in page.text
    assert not page.xpath('//li[contains(., "核查 · 办理中")]')        # staff tasks are not listed as such

    clock.advance(days=3)
    world.complete("reviewer", world.task(objection.id, "verification").id,
                   {"verification_outcome": "keep", "verification_reason": "内部意见：无误"})
    world.complete("leader", world.task(objection.id, "leader_approval").id,
                   {"final_outcome": "keep", "decision_reason": "认定事实清楚，予以维持。"})
    page = a.page(url)
    assert [s[0] for s in steps(page)] == ["filed", "accepted", "marked", "decided"]
    assert steps(page)[-1] == ("decided", "作出决定：维持记录", "2026-06-05 10:00")
    decided = page.xpath('//li[@data-step="decided"]')[0].text_content()
    assert "理由：认定事实清楚，予以维持。" in decided
    assert page.xpath('//li[@data-step="decided"]//a[@data-step-document]')[0].text_content().startswith("异议处理决定书")
    assert "内部意见" not in page.text

    english = [title for _, title, _ in steps(a.page(url + "?lang=en"))]
    assert english[:3] == ["Application filed", "Accepted", "The record was marked as under objection"]
    assert english[3] == "Decided: Record kept"


def test_a_repair_page_shows_the_request_to_supplement_and_what_the_subject_handed_in(web, world, clock):
    record_id, _ = publish(world, A)
    minimum_period_passed(world)                         # 100 days on: 2026-09-09 09:00
    repair = world.run("subject", file_credit_repair, record_id, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "内部意见：缺件"})
    a = web("subject")
    url = f"/portal/applications/{repair.id}"
    page = a.page(url)
    assert [s[0] for s in steps(page)] == ["filed", "supplement"]          # now it is the subject's turn
    supplement = page.xpath('//li[@data-step="supplement"]')[0].text_content()
    assert "需补正：缴款凭证原件" in supplement and "请于 2026-09-16 前提交" in supplement
    task = world.task(repair.id, "supplement")
    assert page.xpath(f'//a[@href="/portal/tasks/{task.id}"]')              # the task to do, listed apart

    clock.advance(days=1)
    world.complete("subject", task.id, {"supplement_statement": "已补交缴款凭证。"})
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "complete", "completeness_reason": "内部意见：齐全"})
    page = a.page(url)
    assert steps(page) == [("filed", "申请已提交", "2026-09-09 09:00"), ("supplement", "要求补正材料", "2026-09-09 09:00"),
                           ("handed_in", "您已提交：补正材料", "2026-09-10 09:00"), ("accepted", "已受理", "2026-09-10 09:00"),
                           ("verifying", "核查中", "进行中")]
    accepted = page.xpath('//li[@data-step="accepted"]')[0].text_content()
    assert "将于 2026-09-23 前作出决定" in accepted
    assert "内部意见" not in page.text
