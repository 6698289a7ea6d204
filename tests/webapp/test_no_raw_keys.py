"""No page shows a raw code (the crawl itself runs in test_one_language, which checks each page for
both): every GET route of the app (the route matrix's URL arguments) and every
case and application page, as every caller, in Chinese and in English, is searched in its visible
text (not its attributes, scripts or styles) for an audit action, a process key, a status, an
outcome, a form option's value, a BPMN message or a system actor's name such as `timer-worker`.

The world: department A's record sanctioned and published (its decision), its objection accepted,
verified and decided, P1's accountability case waiting for P1's statement (route matrix's build),
a second record whose accountability case is decided and whose credit repair is sent back for a
supplement, a self-correction application on a third record, and the timer worker run once."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from credflow_web import CAPTURE, WebWorld, world_template
from test_route_matrix import APPROVE, CONFIRM, LEADER_OK, USERNAMES, build, matrix_rules, url_for_rule
from webapp.labels import ACTION, ACTOR, CASE_STATUS, MESSAGE, OUTCOME, PROCESS, STATUS
from workflows.applications import file_credit_repair, file_self_correction
from workflows.models import Case
from workflows.records import open_record
from workflows.worker import run_once

REPO = Path(__file__).resolve().parents[2]
CALLERS = ("anonymous", "clerk", "reviewer", "leader", "manager", "personnel", "admin", "subject", "civil_servant")
A = 0


def form_values() -> set[str]:
    """Every option value of the shipped forms (what a raw answer would show)."""
    values = set()
    for path in (REPO / "forms").glob("*/*.json"):
        for prop in json.loads(path.read_text(encoding="utf-8")).get("properties", {}).values():
            source = prop.get("items", prop)
            values |= {o["const"] for o in source.get("oneOf", []) if isinstance(o.get("const"), str)}
    return values


CODES = set(ACTION) | set(PROCESS) | set(STATUS) | set(CASE_STATUS) | set(OUTCOME) | set(ACTOR) | set(MESSAGE) \
    | form_values()
# a code of one plain word ("published", "keep", "system") is an English word too: looked for on the
# Chinese pages only; a compound code ("task.completed", "self_correction", "timer-worker") everywhere
COMPOUND = sorted(c for c in CODES if re.search(r"[._-]", c))
WORDS = sorted(c for c in CODES if c not in COMPOUND)


def _pattern(codes) -> re.Pattern:
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_.\-/])(?:{alternatives})(?![A-Za-z0-9_\-/]|\.[A-Za-z])")


ANY_LANGUAGE, CHINESE_ONLY = _pattern(COMPOUND), _pattern(WORDS)


def visible_text(body: str) -> str:
    doc = lxml_html.fromstring(body)
    for element in doc.xpath("//script | //style | //template"):
        element.drop_tree()
    return " ".join(doc.text_content().split())


def raw_keys(text: str, language: str) -> list[str]:
    patterns = [ANY_LANGUAGE] + ([CHINESE_ONLY] if language == "zh" else [])
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            found.append(f"{match.group(0)!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…")
    return found


def enrich(world: WebWorld, o) -> None:
    """What build() leaves open, taken further, so that every kind of event is on some page."""
    world.complete("clerk", world.task(o.objection_case, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "材料齐全，予以受理。"})
    world.complete("reviewer", world.task(o.objection_case, "verification").id,
                   {"verification_outcome": "keep", "verification_reason": "经核查，认定事实无误。"})
    world.complete("leader", world.task(o.objection_case, "leader_approval").id,
                   {"final_outcome": "keep", "decision_reason": "维持原记录。"})
    # a second record of A: P1's accountability case for it decided; later a repair sent back
    record, lifecycle = world.run("clerk", open_record, world.subjects[A], {**CAPTURE, "conduct_date": "2026-02-10"})
    world.complete("reviewer", world.task(lifecycle.id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(lifecycle.id, "leader_approval").id, LEADER_OK)
    with world.factory() as session:
        accountability = session.scalars(select(Case.id).where(
            Case.process_key == "accountability", Case.record_id == record.id)).one()
    world.complete("clerk", world.task(accountability, "confirm_person").id, CONFIRM)
    world.complete("p1", world.task(accountability, "statement").id, {"statement_text": "本人已整改。"})
    world.complete("reviewer", world.task(accountability, "consider_self_correction").id,
                   {"self_correction": "none", "self_correction_reason": "未主动纠错。"})
    world.complete("reviewer", world.task(accountability, "propose_measure").id,
                   {"measure": "admonition", "measure_reason": "负有领导责任。"})
    world.complete("leader", world.task(accountability, "leader_decision").id,
                   {"final_measure": "admonition", "decision_reason": "予以诫勉谈话。"})
    # a third record, confirmed (A is told of it), the sanction pending: A claims self-correction
    third, third_case = world.run("clerk", open_record, world.subjects[A], CAPTURE)
    world.complete("reviewer", world.task(third_case.id, "legality_review").id, APPROVE)
    world.run("subject", file_self_correction, third.id, ["recovered_loss"], "已挽回全部损失。", [])
    # the minimum period passes (the timer worker), A applies for repair and is asked for more
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair = world.run("subject", file_credit_repair, record.id, "已全额支付。", True, [o.attachment], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件。"})


def make_objects(world: WebWorld):
    o = build(world)
    enrich(world, o)
    with world.factory() as session:
        o.cases = session.execute(select(Case.id, Case.process_key)).all()
    return o


_TEMPLATE = {}
NOT_PAGES = {"inbox.claim_next", "cases.attachment", "portal.attachment", "cases.document", "portal.document",
             "cases.diagram", "admin.download", "admin.form_template", "system.user_template"}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    """The seeded database with the world above, built once for the module (copied per test)."""
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "raw-keys", make_objects)
    return path


@pytest.fixture
def objects(database_url, world):
    if database_url.startswith("sqlite"):
        world.clock.advance(days=100)      # the template's clock moved on while it was built
        return _TEMPLATE["objects"]
    return make_objects(world)


def urls(app, objects) -> list[str]:
    """Every page (not the JSON API, files or downloads; not /tasks/next, which claims a task)."""
    found = [url_for_rule(app, rule, objects) for rule in matrix_rules(app)
             if "GET" in rule.methods and rule.endpoint not in NOT_PAGES and not rule.endpoint.startswith("api.")]
    for case_id, process in objects.cases:
        found.append(f"/cases/{case_id}")
        if process != "record_lifecycle":
            found.append(f"/portal/applications/{case_id}")
    return list(dict.fromkeys(found))


def test_the_crawl_would_see_a_raw_code():
    """The search itself: a code in the text is found, the same word in an attribute is not."""
    assert raw_keys(visible_text('<p>完成 <b>task.completed</b> 由 timer-worker</p>'), "en") \
        and len(raw_keys(visible_text('<p>公示中 published</p>'), "zh")) == 1
    assert raw_keys(visible_text('<p data-status="published" title="timer-worker">公示中</p>'), "zh") == []
    assert raw_keys(visible_text('<p>Published on the public pages</p>'), "en") == []
