"""The portal tells the truth about what a subject may ask for: every application it does not
offer says why and from when, and the server, asked straight at the application's URL, refuses it
with that same sentence and files nothing."""
from __future__ import annotations

from io import BytesIO

import pytest

from credflow_web import Page
from test_portal import (MIN_END, PDF, A, APPROVE, LEADER_OK, applications, minimum_period_passed, objection_form,
                         publish, record_status)
from workflows.applications import APPLICATION_PROCESSES, file_credit_repair, file_objection, file_self_correction
from workflows.cases import send_message
from workflows.worker import run_once

FORMS = {   # a form each application's own checks accept, so only the availability can refuse it
    "objection": objection_form(),
    "self_correction": [("measures", "recovered_loss"), ("statement", "已挽回全部损失。")],
    "credit_repair": [("obligations_fulfilled", "on"), ("statement", "已全额支付欠款。"),
                      ("commitment", (BytesIO(PDF), "承诺书.pdf"))],
}


def form(process):
    return [(k, (BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v) for k, v in FORMS[process]]


def greyed_out(page: Page) -> dict[str, str]:
    """process -> the reason the record page gives, for every application it does not offer."""
    found = {}
    for item in page.xpath('//ul[@id="actions"]/li[@data-option]'):
        process = item.get("data-option")
        if item.xpath(f'.//a[@id="apply-{process}"]'):
            continue
        found[process] = " ".join(item.text_content().split())
    return found


def refused_straight(browser, world, record_id: int, process: str) -> str:
    """Post straight to the application's URL: refused (422), nothing filed; the refusal's sentence."""
    url = f"/portal/records/{record_id}/{process}"
    before = applications(world, process)
    apply_page = browser.page(url)
    assert apply_page.xpath('//button[@id="submit-application"][@disabled]'), process
    shown = apply_page.text_of("unavailable")
    refused = Page(browser.post(url, form(process), content_type="multipart/form-data"))
    assert refused.status == 422, (process, refused.status)
    assert refused.text_of("form-error") == shown
    assert applications(world, process) == before
    return shown


def test_a_published_record_says_why_and_from_when_and_the_server_refuses_the_same(web, world):
    record_id, _ = publish(world, A)
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.xpath('//a[@id="apply-objection"]')          # offered: an objection
    reasons = greyed_out(page)
    assert set(reasons) == {"self_correction", "credit_repair"}
    assert "惩戒决定作出前申请" in reasons["self_correction"]
    assert page.text_of("credit_repair-from") == f"{MIN_END} 起可申请"

    assert "惩戒决定作出前申请" in refused_straight(a, world, record_id, "self_correction")
    repair = refused_straight(a, world, record_id, "credit_repair")
    assert "暂不能申请信用修复" in repair and MIN_END in repair

    english = a.page(f"/portal/records/{record_id}?lang=en")
    assert english.text_of("credit_repair-from") == f"possible from {MIN_END}"


def test_a_confirmed_record_offers_objection_and_self_correction(web, world):
    # the subject learns of a record at its confirmation (a record under review is not shown at all:
    # test_portal_visibility.py); from then until the sanction it may claim self-correction
    record_id = confirmed(world)
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.xpath('//a[@id="apply-objection"]') and page.xpath('//a[@id="apply-self_correction"]')
    assert set(greyed_out(page)) == {"credit_repair"}
    assert "只有公示中的记录可以申请信用修复" in refused_straight(a, world, record_id, "credit_repair")


def test_an_open_objection_links_to_itself_and_a_second_is_refused_with_its_number(web, world):
    record_id, _ = publish(world, A)
    first = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.xpath(f'//li[@data-option="objection"]//a[@href="/portal/applications/{first.id}"]')
    shown = refused_straight(a, world, record_id, "objection")
    assert "该记录已有异议正在处理" in shown and f"A-{first.id:06d}" in shown


# -- every state a subject can see ----------------------------------------------------------------

def _confirmed(world, **capture) -> tuple[int, int]:
    """A record past legality review: confirmed, the subject notified, the sanction not decided yet."""
    record_id, case_id = world.open_record(A, **capture)
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    assert record_status(world, record_id) == "confirmed"
    return record_id, case_id


def confirmed(world) -> int:
    return _confirmed(world)[0]


def self_correction_open(world) -> int:
    record_id, _ = _confirmed(world)
    world.run("subject", file_self_correction, record_id, ["recovered_loss"], "已挽回全部损失。", [])
    return record_id


def exempted(world) -> int:
    record_id, case_id = _confirmed(world)
    claim = world.run("subject", file_self_correction, record_id, ["recovered_loss"], "已挽回全部损失。", [])
    world.complete("reviewer", world.task(claim.id, "assessment").id,
                   {"proposal": "exempt", "assessment_reason": "已挽回全部损失"})
    world.complete("leader", world.task(claim.id, "leader_decision").id,
                   {"mitigation_decision": "exempt", "decision_reason": "免予惩戒"})
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    assert record_status(world, record_id) == "exempted"
    return record_id


def sanctioned_not_published(world) -> int:
    record_id, case_id = _confirmed(world, severity="minor")      # a minor record is not published
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER_OK)
    assert record_status(world, record_id) == "sanctioned"
    return record_id


def published_before_minimum(world) -> int:
    return publish(world, A)[0]


def published_after_minimum(world) -> int:
    record_id, _ = publish(world, A)
    minimum_period_passed(world)
    return record_id


def under_objection(world) -> int:
    record_id, _ = publish(world, A)
    objection = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])
    world.complete("clerk", world.task(objection.id, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "材料齐全"})
    return record_id


def repaired(world) -> int:
    record_id = published_after_minimum(world)
    repair = world.run("subject", file_credit_repair, record_id, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "complete", "completeness_reason": "齐全"})
    world.complete("reviewer", world.task(repair.id, "review").id,
                   {"recommendation": "approve", "review_reason": "符合条件"})
    world.complete("leader", world.task(repair.id, "leader_decision").id,
                   {"repair_decision": "approve", "decision_reason": "同意修复"})
    assert record_status(world, record_id) == "repaired"
    return record_id


def revoked(world) -> int:
    record_id, case_id = publish(world, A)
    with world.uow() as uow:        # the lifecycle told that its record was revoked (as an objection would)
        send_message(uow, case_id, "record_revoked", {"reason": "认定主体不当"})
        uow.commit()
    assert record_status(world, record_id) == "revoked"
    return record_id


def expired(world) -> int:
    record_id, _ = publish(world, A)
    world.clock.advance(days=400)          # past the one-year maximum of a general record
    run_once(world.factory, world.clock)
    assert record_status(world, record_id) == "expired"
    return record_id


STATES = {   # the state a subject sees its record in -> the applications the record page offers
    "confirmed": (confirmed, {"objection", "self_correction"}),
    "confirmed, self-correction being handled": (self_correction_open, {"objection"}),
    "exempted": (exempted, {"objection"}),
    "sanctioned, not published": (sanctioned_not_published, {"objection"}),
    "published, minimum period running": (published_before_minimum, {"objection"}),
    "published, minimum period passed": (published_after_minimum, {"objection", "credit_repair"}),
    "under objection": (under_objection, set()),
    "repaired": (repaired, set()),
    "revoked": (revoked, set()),
    "expired": (expired, set()),
}


def sentence_on_the_record_page(page: Page, process: str) -> list[str]:
    """What the record page says about an application it does not offer: its reason, the
    reasons a repair is not possible yet and its date, or the number of the case already open."""
    item = page.xpath(f'//ul[@id="actions"]/li[@data-option="{process}"]')[0]
    open_case = item.xpath('./a[starts-with(@href, "/portal/applications/")]')
    if open_case:
        return [open_case[0].text_content().strip().split("（")[-1].rstrip("）")]
    if process == "credit_repair":
        lines = [d.text_content().strip() for d in item.xpath('.//div[@id="repair-eligibility"]/div')]
        when = item.xpath('.//strong[@id="credit_repair-from"]')
        return [line for line in lines if not line.startswith("最早可申请日期")] + \
            ([MIN_END] if when and MIN_END in when[0].text_content() else [])
    return [page.text_of(f"why-{process}")]


@pytest.mark.parametrize("state", list(STATES))
def test_in_every_state_what_the_page_greys_out_is_refused_straight_with_its_sentence(web, world, state):
    build, offered = STATES[state]
    record_id = build(world)
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.status == 200
    for process in offered:
        assert page.xpath(f'//a[@id="apply-{process}"]'), (state, process)
    reasons = greyed_out(page)
    assert set(reasons) == set(APPLICATION_PROCESSES) - offered, state
    for process in reasons:
        refusal = refused_straight(a, world, record_id, process)
        said = sentence_on_the_record_page(page, process)
        assert said and all(part in refusal for part in said), (state, process, said, refusal)
