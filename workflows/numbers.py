"""The numbers people read and type: a record is R-000012, an application case (objection,
self-correction, credit repair) A-000007, every other case (a record's lifecycle, an
accountability case ...) C-000007. The database ids stay plain integers (URLs, the JSON API);
these are only how they are written, and what a search box accepts back."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import or_, select

from .models import Case, HumanTask, Record, Subject

RECORD, CASE, APPLICATION = "R", "C", "A"
DIGITS = 6          # zero-padded to at least this many digits; larger ids simply grow longer
MAX_DIGITS = 9      # what a search box takes as a number (fits every integer column)
KINDS = {RECORD: "record", CASE: "case", APPLICATION: "application"}
# the words people may type instead of the letter
_WORDS = {"记录": RECORD, "案件": CASE, "申请": APPLICATION}
_TYPED = re.compile(r"(r|c|a|记录|案件|申请)?\s*[-_#:：\u2010-\u2015]?\s*(\d+)", re.IGNORECASE)


def _application_processes() -> tuple[str, ...]:
    # imported here: applications imports the case services, which write these numbers
    from .applications import APPLICATION_PROCESSES
    return APPLICATION_PROCESSES


def _id_of(value) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return getattr(value, "id", None)


def _format(prefix: str, number: int | None) -> str:
    return "" if number is None else f"{prefix}-{int(number):0{DIGITS}d}"


def record_no(record) -> str:
    """`R-000012` for a record or a record id ('' for none)."""
    return _format(RECORD, _id_of(record))


def case_prefix(process_key: str | None) -> str:
    return APPLICATION if process_key in _application_processes() else CASE


def case_no(case, process_key: str | None = None) -> str:
    """`A-000007` for an application case, `C-000007` for any other: a case, or a case id with
    its process key (a task row's `case_id` and `process_key`). '' for none."""
    if case is None:
        return ""
    if not isinstance(case, int):
        process_key = process_key or getattr(case, "process_key", None)
    return _format(case_prefix(process_key), _id_of(case))


@dataclass(frozen=True)
class TypedNumber:
    """What a person typed into a search box: a record number, a case number (C or A) or a bare
    number that may be either."""
    prefix: str | None
    id: int

    @property
    def record_id(self) -> int | None:
        return self.id if self.prefix in (RECORD, None) else None

    @property
    def case_id(self) -> int | None:
        # C-7 and A-7 name the same case: a wrong letter still finds it
        return self.id if self.prefix in (CASE, APPLICATION, None) else None


def parse_number(text: str | None) -> TypedNumber | None:
    """`R-12`, `r12`, `R-000012`, `Ｒ－１２`, `记录 12` -> a record number; `C-7`, `A-7`, `案件7` -> a
    case number; `12` or `#12` -> either. None when the text is not a number at all."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).strip()
    match = _TYPED.fullmatch(text)
    if match is None:
        return None
    word, digits = match.groups()
    digits = digits.lstrip("0")
    if not digits or len(digits) > MAX_DIGITS:
        return None
    if word is None and text[0] not in "#0123456789":
        return None   # a separator without a prefix ("-12") is not a number someone was given
    prefix = _WORDS.get(word, word.upper()) if word else None
    return TypedNumber(prefix, int(digits))


# -- search boxes: what a typed number finds -------------------------------------------------------

def _case_records(case_id: int):
    return select(Case.record_id).where(Case.id == case_id).scalar_subquery()


def records_numbered(number: TypedNumber, cases: bool = True):
    """SQL condition on Record: the typed record, or the record of the typed case (unless `cases`
    is False: the public site knows no case numbers)."""
    conditions = []
    if number.record_id is not None:
        conditions.append(Record.id == number.record_id)
    if cases and number.case_id is not None:
        conditions.append(Record.id == _case_records(number.case_id))
    return or_(*conditions) if conditions else Record.id.is_(None)


def record_search(text: str, cases: bool = True):
    """SQL condition on Record joined to Subject: the subject's name contains the text, its code
    is the text, or the text is the record's number (or a case's of it)."""
    conditions = [Subject.name.contains(text, autoescape=True), Subject.code == text.upper()]
    number = parse_number(text)
    if number is not None:
        conditions.append(records_numbered(number, cases))
    return or_(*conditions)


def tasks_numbered(number: TypedNumber):
    """SQL condition on HumanTask: the tasks of the typed case, or of the typed record's cases."""
    conditions = []
    if number.record_id is not None:
        conditions.append(HumanTask.record_id == number.record_id)
    if number.case_id is not None:
        conditions.append(HumanTask.case_id == number.case_id)
    return or_(*conditions)


def subjects_numbered(number: TypedNumber):
    """SQL condition on Subject: the subject of the typed record, or the party or record subject
    of the typed case (a person looked up by an accountability case's number)."""
    conditions = []
    if number.record_id is not None:
        conditions.append(Subject.id.in_(select(Record.subject_id).where(Record.id == number.record_id)))
        conditions.append(Subject.id.in_(select(Case.party_id).where(Case.record_id == number.record_id)))
    if number.case_id is not None:
        conditions.append(Subject.id.in_(select(Case.party_id).where(Case.id == number.case_id)))
        conditions.append(Subject.id.in_(select(Record.subject_id).where(Record.id == _case_records(number.case_id))))
    return or_(*conditions)
