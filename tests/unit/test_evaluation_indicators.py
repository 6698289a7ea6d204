"""The evaluation's formula and its editor's checks (workflows/evaluation/indicators.py), without a
database: each indicator's score at its edges, the weighted total, ranks with ties, the grades'
borders, and the weights form refused field by field."""
from __future__ import annotations

import pytest

from workflows.evaluation.indicators import (CODES, IndicatorsInvalid, default_indicators, grade, indicator_score,
                                             parse_indicators, ranks, total_score)

NONE = {"minor": 0, "general": 0, "serious": 0, "records": 0, "upheld": 0, "decided": 0, "repaired": 0,
        "fulfilled": 0, "partly": 0, "concluded": 0, "lookups": 0, "survey": 0.0}
POINTS = {"minor": 5, "general": 10, "serious": 20}


def form(**weights) -> dict:
    values = {f"weight_{i['code']}": str(i["weight"]) for i in default_indicators()}
    values.update({f"weight_{k}": v for k, v in weights.items()})
    return values


def test_the_defaults_follow_the_plan_and_add_up_to_100():
    indicators = default_indicators()
    assert [i["code"] for i in indicators] == list(CODES)
    assert sum(i["weight"] for i in indicators) == 100
    assert parse_indicators(form()) == indicators


def test_each_indicator_at_its_edges():
    assert indicator_score("records", {**NONE, "serious": 5, "general": 1}, POINTS) == 0.0     # never below 0
    assert indicator_score("records", {**NONE, "minor": 2}, POINTS) == 90.0
    assert indicator_score("objections", NONE, {}) == 100.0                                   # none decided
    assert indicator_score("objections", {**NONE, "upheld": 1, "decided": 4}, {}) == 25.0
    assert indicator_score("repairs", {**NONE, "repaired": 1, "records": 2}, {}) == 50.0
    assert indicator_score("commitments", {**NONE, "fulfilled": 1, "partly": 1, "concluded": 4}, {}) == 37.5
    assert indicator_score("lookups", {**NONE, "lookups": 25}, {"target": 10}) == 100.0          # capped
    assert indicator_score("lookups", {**NONE, "lookups": 3}, {"target": 10}) == 30.0


def test_the_total_is_the_weighted_mean_rounded_to_two_decimals():
    indicators = default_indicators()
    total, scores = total_score(indicators, {**NONE, "minor": 1, "lookups": 3, "survey": 77.77})
    # 95*40 + 100*10 + 100*10 + 100*15 + 30*5 + 77.77*20 = 9005.4 -> 90.05
    assert scores["records"] == 95.0 and scores["survey"] == 77.77
    assert total == 90.05


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    assert ranks([90.0, 80.0, 80.0, 70.0]) == [1, 2, 2, 4]
    assert ranks([]) == []


@pytest.mark.parametrize("score, expected", [(100, "excellent"), (90, "excellent"), (89.99, "good"), (75, "good"),
                                             (74.99, "fair"), (60, "fair"), (59.99, "poor"), (0, "poor")])
def test_grades_at_their_borders(score, expected):
    assert grade(score) == expected


def test_the_weights_form_is_refused_field_by_field():
    with pytest.raises(IndicatorsInvalid) as refused:
        parse_indicators(form(records="50"))
    assert str(refused.value.errors["weights"]) == "各项权重之和须为 100，现在是 110"
    with pytest.raises(IndicatorsInvalid) as refused:
        parse_indicators(form(lookups="2.5", survey="-1", repairs=""))
    assert set(refused.value.errors) == {"weight_lookups", "weight_survey", "weight_repairs"}
    with pytest.raises(IndicatorsInvalid) as refused:
        parse_indicators({**form(), "param_records_serious": "101", "param_lookups_target": "0"})
    assert set(refused.value.errors) == {"param_records_serious", "param_lookups_target"}
    edited = parse_indicators({**form(records="30", survey="30"), "param_records_minor": "3"})
    assert [i["weight"] for i in edited if i["code"] in ("records", "survey")] == [30, 30]
    assert edited[0]["params"] == {"minor": 3, "general": 10, "serious": 20}
