"""Identifier checks: unified social credit code (GB 32100) and citizen ID (GB 11643)."""
from __future__ import annotations
from .messages import N_, UserError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class InvalidIdentifier(UserError, ValueError):
    pass


def _org_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    raise InvalidIdentifier(N_("组织机构代码含非法字符 %(char)s"), char=repr(ch))


def check_uscc(code: str) -> str:
    """Return the normalised code or raise InvalidIdentifier saying what is wrong."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        raise InvalidIdentifier(N_("统一社会信用代码应为18位"))
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        raise InvalidIdentifier(N_("统一社会信用代码含非法字符 %(char)s"), char=repr(bad[0]))
    org = code[8:17]
    total = sum(_org_value(c) * w for c, w in zip(org[:8], _ORG_WEIGHTS))
    org_check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    if org[8] != org_check:
        raise InvalidIdentifier(N_("组织机构代码校验位错误"))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS))
    check = (31 - total % 31) % 31
    if code[17] != USCC_ALPHABET[check]:
        raise InvalidIdentifier(N_("统一社会信用代码校验位错误"))
    return code


def check_citizen_id(number: str) -> str:
    number = (number or "").strip().upper()
    if len(number) != 18 or any(c not in "0123456789" for c in number[:17]):
        raise InvalidIdentifier(N_("公民身份号码应为17位数字加1位校验码"))
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    if number[17] != _ID_CHECK[total % 11]:
        raise InvalidIdentifier(N_("公民身份号码校验位错误"))
    return number


def check_subject_code(kind: str, code: str) -> str:
    if kind == "department":
        return check_uscc(code)
    if kind == "civil_servant":
        return check_citizen_id(code)
    raise InvalidIdentifier(N_("请选择主体类型（部门或公务员）"))



def mask_citizen_id(number: str) -> str:
    """Show the region and the check character only: 110105********002X -> 110105**********2X."""
    if len(number) != 18:
        return "*" * len(number)
    return number[:6] + "*" * 10 + number[16:]
