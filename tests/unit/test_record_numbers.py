"""How record and case numbers are written (R-000012, C-000007, A-000007) and what a search box
accepts back as one."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from workflows.applications import APPLICATION_PROCESSES
from workflows.numbers import TypedNumber, case_no, parse_number, record_no


def test_a_record_number_is_r_and_six_digits():
    assert record_no(12) == "R-000012"
    assert record_no(SimpleNamespace(id=7)) == "R-000007"
    assert record_no(1234567) == "R-1234567"         # past six digits it simply grows
    assert record_no(None) == ""


@pytest.mark.parametrize("process", APPLICATION_PROCESSES)
def test_an_application_case_is_an_a_number(process):
    assert case_no(SimpleNamespace(id=7, process_key=process)) == "A-000007"
    assert case_no(7, process) == "A-000007"           # a task row's case_id and process_key


@pytest.mark.parametrize("process", ["record_lifecycle", "accountability", None])
def test_every_other_case_is_a_c_number(process):
    assert case_no(SimpleNamespace(id=7, process_key=process)) == "C-000007"
    assert case_no(7, process) == "C-000007"


def test_the_three_kinds_never_read_alike():
    numbers = {record_no(5), case_no(5, "record_lifecycle"), case_no(5, "objection")}
    assert numbers == {"R-000005", "C-000005", "A-000005"}
    assert case_no(None) == ""


@pytest.mark.parametrize("typed", ["R-12", "r12", "R-000012", "R 12", " r-12 ", "Ｒ－１２", "R—12", "记录12",
                                   "记录 12"])
def test_what_a_person_types_for_a_record(typed):
    number = parse_number(typed)
    assert number == TypedNumber("R", 12)
    assert (number.record_id, number.case_id) == (12, None)


@pytest.mark.parametrize("typed, prefix", [("C-7", "C"), ("c7", "C"), ("C-000007", "C"), ("案件 7", "C"),
                                           ("A-7", "A"), ("a-000007", "A"), ("申请7", "A")])
def test_what_a_person_types_for_a_case(typed, prefix):
    number = parse_number(typed)
    assert number == TypedNumber(prefix, 7)
    assert (number.record_id, number.case_id) == (None, 7)   # C-7 and A-7 both find case 7


@pytest.mark.parametrize("typed", ["12", "#12", "000012"])
def test_a_bare_number_may_be_either(typed):
    number = parse_number(typed)
    assert number == TypedNumber(None, 12)
    assert (number.record_id, number.case_id) == (12, 12)


@pytest.mark.parametrize("typed", ["", None, "   ", "R-", "R-0", "0", "-12", "X-12", "R-12a", "某镇人民政府",
                                   "1234567890", "110105194912310021", "11010519491231002X", "R-1-2"])
def test_text_that_is_no_number(typed):
    assert parse_number(typed) is None


def test_a_written_number_parses_back():
    for written, expected in [(record_no(42), TypedNumber("R", 42)),
                              (case_no(42, "credit_repair"), TypedNumber("A", 42)),
                              (case_no(42, "record_lifecycle"), TypedNumber("C", 42))]:
        assert parse_number(written) == expected
