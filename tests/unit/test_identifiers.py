"""Identifier checks: unified social credit code (GB 32100) and citizen ID (GB 11643).

The reference values and the check-character arithmetic below are written from the standards
(see notes/domain.md, "Identifiers"), independently of workflows.identifiers.
"""
from __future__ import annotations

import random

import pytest

from workflows.demo import SUBJECTS, make_citizen_id, make_uscc
from workflows.identifiers import (InvalidIdentifier, check_citizen_id, check_subject_code, check_uscc,
                                   mask_citizen_id)

VALID_USCC = "91350100M000100Y43"
VALID_ID = "11010519491231002X"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _uscc_check_char(first17: str) -> str:
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, weights))
    return ALPHABET[(31 - total % 31) % 31]


# ------------------------------------------------------------------ unified social credit code

def test_valid_uscc_is_accepted_unchanged():
    assert check_uscc(VALID_USCC) == VALID_USCC


def test_uscc_in_lower_case_with_spaces_is_normalised():
    assert check_uscc("  91350100m000100y43 ") == VALID_USCC


@pytest.mark.parametrize("code", [VALID_USCC[:-1], VALID_USCC + "0", "", None])
def test_uscc_of_wrong_length_is_refused(code):
    with pytest.raises(InvalidIdentifier, match="18"):
        check_uscc(code)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_uscc_with_a_letter_outside_the_alphabet_is_refused(letter):
    code = VALID_USCC[:8] + letter + VALID_USCC[9:]
    with pytest.raises(InvalidIdentifier, match=f"统一社会信用代码含非法字符 '{letter}'"):
        check_uscc(code)


@pytest.mark.parametrize("wrong", [c for c in ALPHABET if c != VALID_USCC[-1]])
def test_uscc_with_a_wrong_check_character_is_refused(wrong):
    with pytest.raises(InvalidIdentifier, match="统一社会信用代码校验位错误"):
        check_uscc(VALID_USCC[:17] + wrong)


def test_uscc_with_a_wrong_organisation_code_check_is_refused_even_if_the_final_check_fits():
    # Position 17 carries the organisation code's own check ('4' in M000100Y4). Put another
    # check value there and recompute the final character, so only the inner check is wrong.
    first16 = VALID_USCC[:16]
    for inner in "0123456789X":
        if inner == VALID_USCC[16]:
            continue
        code = first16 + inner + _uscc_check_char(first16 + inner)
        with pytest.raises(InvalidIdentifier, match="组织机构代码校验位错误"):
            check_uscc(code)


def test_every_single_character_change_of_a_valid_uscc_is_caught():
    for i in range(18):
        for c in ALPHABET:
            if c == VALID_USCC[i]:
                continue
            with pytest.raises(InvalidIdentifier):
                check_uscc(VALID_USCC[:i] + c + VALID_USCC[i + 1:])


# ------------------------------------------------------------------ citizen ID

def test_valid_citizen_id_is_accepted():
    assert check_citizen_id(VALID_ID) == VALID_ID


def test_citizen_id_with_lower_case_x_is_accepted_and_normalised():
    assert check_citizen_id("11010519491231002x") == VALID_ID


@pytest.mark.parametrize("wrong", [c for c in "0123456789X" if c != VALID_ID[-1]])
def test_citizen_id_with_a_wrong_check_character_is_refused(wrong):
    with pytest.raises(InvalidIdentifier, match="公民身份号码校验位错误"):
        check_citizen_id(VALID_ID[:17] + wrong)


@pytest.mark.parametrize("number", [
    "1101051949123100AX",      # a letter among the 17 digits
    "110105-9491231002X",      # punctuation
    "X1010519491231002X",      # X is only allowed last
    "110105194912310",         # the old 15-digit form
    "11010519491231002X0",     # too long
    "",
    None,
])
def test_citizen_id_that_is_not_17_digits_and_a_check_is_refused(number):
    with pytest.raises(InvalidIdentifier, match="17"):
        check_citizen_id(number)


def test_every_single_digit_change_of_a_valid_citizen_id_is_caught():
    for i in range(17):
        for c in "0123456789":
            if c != VALID_ID[i]:
                with pytest.raises(InvalidIdentifier):
                    check_citizen_id(VALID_ID[:i] + c + VALID_ID[i + 1:])


@pytest.mark.parametrize("number", [
    "１1010519491231002X",      # full-width 1 (IME in full-width mode)
    "١1010519491231002X",       # Arabic-Indic 1
])
def test_citizen_id_with_non_ascii_digits_is_refused_or_normalised(number):
    try:
        result = check_citizen_id(number)
    except InvalidIdentifier:
        return
    assert result == VALID_ID


def test_citizen_id_with_a_superscript_digit_gives_a_proper_identifier_error():
    with pytest.raises(InvalidIdentifier):
        check_citizen_id("²1010519491231002X")


# ------------------------------------------------------------------ masking

def _ids_with_various_birth_dates():
    rng = random.Random(11643)
    for _ in range(50):
        birth = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        yield make_citizen_id(f"{rng.randint(110000, 659999)}{birth}{rng.randint(0, 999):03d}")
    yield VALID_ID


@pytest.mark.parametrize("number", list(_ids_with_various_birth_dates()))
def test_masked_citizen_id_never_shows_the_birth_date(number):
    masked = mask_citizen_id(number)
    birth = number[6:14]
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8
    assert birth not in masked
    assert masked[:6] == number[:6] and masked[-1] == number[-1]


def test_masked_citizen_id_example():
    assert mask_citizen_id(VALID_ID) == "110105**********2X"


@pytest.mark.parametrize("number", ["110105491231002", "11010519491231002", "11010519491231002X "])
def test_masking_something_that_is_not_18_characters_hides_everything(number):
    # the old 15-digit form carries the birth date at positions 7-12 (YYMMDD)
    assert mask_citizen_id(number) == "*" * len(number)


# ------------------------------------------------------------------ by subject kind

def test_subject_code_checked_by_kind():
    assert check_subject_code("department", VALID_USCC.lower()) == VALID_USCC
    assert check_subject_code("civil_servant", VALID_ID.lower()) == VALID_ID


def test_subject_code_of_the_other_kind_is_refused():
    with pytest.raises(InvalidIdentifier):
        check_subject_code("department", VALID_ID)
    with pytest.raises(InvalidIdentifier):
        check_subject_code("civil_servant", VALID_USCC)


def test_unknown_subject_kind_is_refused_by_name():
    with pytest.raises(InvalidIdentifier, match="请选择主体类型"):
        check_subject_code("company", VALID_USCC)


# ------------------------------------------------------------------ demo code generators

def test_make_uscc_completes_the_reference_code():
    assert make_uscc(VALID_USCC[:16]) == VALID_USCC


def test_make_uscc_always_produces_valid_codes():
    rng = random.Random(32100)
    inner_checks = set()
    for _ in range(300):
        body = "".join(rng.choice(ALPHABET) for _ in range(16))
        code = make_uscc(body)
        assert code.startswith(body)
        assert check_uscc(code) == code
        inner_checks.add(code[16])
    # the loop went through the special cases of the organisation-code check (10 -> X, 11 -> 0)
    assert {"X", "0"} <= inner_checks


def test_make_citizen_id_always_produces_valid_numbers():
    rng = random.Random(11643)
    checks = set()
    for _ in range(300):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        number = make_citizen_id(first17)
        assert number.startswith(first17)
        assert check_citizen_id(number) == number
        checks.add(number[-1])
    assert "X" in checks


def test_make_citizen_id_completes_the_reference_number():
    assert make_citizen_id(VALID_ID[:17]) == VALID_ID


def test_demo_subjects_have_valid_codes():
    for kind, _name, code in SUBJECTS:
        assert check_subject_code(kind, code) == code
