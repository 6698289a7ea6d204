"""Form data checked against the shipped record_lifecycle forms: errors come back per field."""
from __future__ import annotations

import json

import pytest

from workflows.forms import FormInvalid, validate_form
from workflows.paths import bundled_dir

FORMS = bundled_dir("forms") / "record_lifecycle"
REQUIRED_MESSAGE = "必填"
CHOOSE_MESSAGE = "请从选项中选择"


def _schema(name: str) -> dict:
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def capture():
    return _schema("capture.json")


@pytest.fixture(scope="module")
def legality_review():
    return _schema("legality_review.json")


@pytest.fixture
def capture_data():
    return {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
            "facts": "未按合同约定支付中小企业账款，逾期超过180日。",
            "legal_basis": "《保障中小企业款项支付条例》第八条", "decision_date": "2026-03-16"}


def _errors(schema, data) -> dict[str, str]:
    """The errors by field, as a Chinese page reads them (each is a Message)."""
    with pytest.raises(FormInvalid) as info:
        validate_form(schema, data)
    return {name: str(message) for name, message in info.value.errors.items()}


# ------------------------------------------------------------------ valid data

def test_valid_capture_passes_unchanged(capture, capture_data):
    assert validate_form(capture, capture_data) == capture_data


def test_valid_review_passes(legality_review):
    data = {"review_decision": "return", "review_opinion": "请补充处罚决定书文号。"}
    assert validate_form(legality_review, data) == data


def test_unknown_keys_are_dropped_when_the_form_allows_extra_keys(capture, capture_data):
    lenient = {k: v for k, v in capture.items() if k != "additionalProperties"}
    clean = validate_form(lenient, {**capture_data, "csrf_token": "abc", "submit": "提交"})
    assert clean == capture_data


def test_keys_outside_the_shipped_form_never_reach_the_task_data(capture, capture_data):
    # a posted CSRF token or a forged engine variable (return_count) is dropped, not stored
    clean = validate_form(capture, {**capture_data, "csrf_token": "abc", "return_count": -100})
    assert clean == capture_data


# ------------------------------------------------------------------ required fields

def test_every_missing_required_capture_field_is_reported_by_name(capture):
    errors = _errors(capture, {})
    assert errors == {name: REQUIRED_MESSAGE for name in
                      ("source", "field", "severity", "facts", "legal_basis", "decision_date")}


def test_only_the_missing_fields_are_reported(capture, capture_data):
    del capture_data["facts"], capture_data["decision_date"]
    assert _errors(capture, capture_data) == {"facts": REQUIRED_MESSAGE, "decision_date": REQUIRED_MESSAGE}


def test_every_missing_review_field_is_reported_by_name(legality_review):
    assert _errors(legality_review, {}) == {"review_decision": REQUIRED_MESSAGE,
                                            "review_opinion": REQUIRED_MESSAGE}


def test_an_empty_text_counts_as_missing(capture, capture_data):
    assert _errors(capture, {**capture_data, "legal_basis": ""}) == {"legal_basis": REQUIRED_MESSAGE}


def test_a_blank_text_is_refused(capture, capture_data):
    errors = _errors(capture, {**capture_data, "facts": "   \n "})
    assert list(errors) == ["facts"]


def test_a_blank_text_is_reported_like_a_missing_one(capture, capture_data):
    assert _errors(capture, {**capture_data, "facts": "   "}) == {"facts": REQUIRED_MESSAGE}


# ------------------------------------------------------------------ options, lengths, dates

def test_a_severity_outside_the_options_is_refused(capture, capture_data):
    assert _errors(capture, {**capture_data, "severity": "catastrophic"}) == {"severity": CHOOSE_MESSAGE}


def test_a_review_decision_outside_the_options_is_refused(legality_review):
    errors = _errors(legality_review, {"review_decision": "maybe", "review_opinion": "?"})
    assert errors == {"review_decision": CHOOSE_MESSAGE}


def test_final_review_cannot_return_the_record_again():
    final_review = _schema("final_review.json")
    errors = _errors(final_review, {"review_decision": "return", "review_opinion": "再退回一次"})
    assert errors == {"review_decision": CHOOSE_MESSAGE}


def test_a_wrong_type_is_reported_on_its_field(capture, capture_data):
    errors = _errors(capture, {**capture_data, "severity": None})
    assert list(errors) == ["severity"]


def test_facts_of_5000_characters_pass_and_5001_are_refused(capture, capture_data):
    assert validate_form(capture, {**capture_data, "facts": "事" * 5000})["facts"] == "事" * 5000
    errors = _errors(capture, {**capture_data, "facts": "事" * 5001})
    assert list(errors) == ["facts"]
    assert "5000" in errors["facts"]


@pytest.mark.parametrize("bad", ["2026-02-30", "2026/03/16", "16.03.2026", "20260316", "2026-3-16", "yesterday"])
def test_a_bad_decision_date_is_refused(capture, capture_data, bad):
    assert _errors(capture, {**capture_data, "decision_date": bad}) == {
        "decision_date": "格式不正确（date）"}


def test_several_problems_are_all_reported_at_once(capture):
    errors = _errors(capture, {"source": "rumour", "severity": "general", "facts": "x" * 5001,
                               "legal_basis": "某条例", "decision_date": "2026-13-01"})
    assert set(errors) == {"source", "field", "facts", "decision_date"}
    assert errors["field"] == REQUIRED_MESSAGE
    assert errors["source"] == CHOOSE_MESSAGE


def test_the_error_text_names_every_field(capture):
    with pytest.raises(FormInvalid) as info:
        validate_form(capture, {})
    for name in ("source", "field", "severity", "facts", "legal_basis", "decision_date"):
        assert name in str(info.value)
