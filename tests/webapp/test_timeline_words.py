"""The case page's timeline in words: each completed step shows its answers as its form names them
(the option's title, the opinion's text), and the system's own actors are named in words, in
Chinese and in English."""
from __future__ import annotations

from credflow_web import CAPTURE
from workflows.worker import run_once

REVIEW = {"review_decision": "approve", "review_opinion": "事实清楚-7f3a，依据充分。"}
LEADER = {"leader_decision": "approve", "leader_opinion": "同意公示-9b2c。"}
assert CAPTURE["severity"] == "general"


def entries(page) -> list[str]:
    return [" ".join(li.text_content().split()) for li in page.xpath('//ul[@id="timeline"]/li')]


def test_each_completed_step_shows_its_decision_and_opinion_in_words(web, world):
    _, case_id = world.open_record()
    world.complete("reviewer", world.task(case_id, "legality_review").id, REVIEW)
    world.complete("leader", world.task(case_id, "leader_approval").id, LEADER)
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)        # the minimum period ends: the timer worker's event

    clerk = web("clerk")
    lines = entries(clerk.page(f"/cases/{case_id}"))
    review = next(line for line in lines if "「合法性审核」" in line)
    assert "李审核" in review and "完成任务" in review
    assert "审核结论：通过" in review and "审核意见：事实清楚-7f3a，依据充分。" in review
    leader = next(line for line in lines if "「惩戒审批」" in line or "同意公示-9b2c" in line)
    assert "王领导" in leader and "同意公示-9b2c" in leader and "：同意" in leader
    assert any("系统（定时任务）" in line and "最短公示期满" in line for line in lines), "\n".join(lines)
    assert any("出具文书" in line for line in lines), "\n".join(lines)
    assert not [line for line in lines if "approve" in line or "timer-worker" in line or "document.issued" in line]

    english = entries(clerk.page(f"/cases/{case_id}?lang=en"))
    assert any("System (scheduled tasks)" in line for line in english), english
    assert any("Document issued" in line for line in english), english
    assert any("事实清楚-7f3a" in line for line in english)
