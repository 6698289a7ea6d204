"""The staff's list of cases (/cases): every case of every process, newest first, with the record
and subject it concerns and the steps waiting in it; filtered by process, status and a typed
number or name. Case staff read every case (workflows/access.py); nobody else lists them."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from .access import reads_every_case
from .case_errors import Forbidden
from .messages import N_
from .models import Case, HumanTask, Record, Subject
from .numbers import parse_number

STATUSES = ("running", "completed", "error")


@dataclass
class CaseQuery:
    process: str | None = None
    status: str | None = None
    search: str | None = None      # a case or record number, or part of the subject's name or its code
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class CaseRow:
    id: int
    process_key: str
    status: str
    outcome: str | None
    record_id: int | None
    subject_name: str
    created_at: object
    updated_at: object
    completed_at: object
    steps: tuple[str, ...]       # the names of the tasks waiting in it (for a running case)


@dataclass
class CasePage:
    rows: list[CaseRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _query(actor, q: CaseQuery):
    if not reads_every_case(actor):
        raise Forbidden(N_("您的角色不能查看案件列表"))
    # the subject a case is about: its party (an accountability case's person), else its record's
    party, subject = aliased(Subject), aliased(Subject)
    name = func.coalesce(party.name, subject.name, "")
    query = (select(Case.id, Case.process_key, Case.status, Case.outcome, Case.record_id, name, Case.created_at,
                    Case.updated_at, Case.completed_at)
             .outerjoin(Record, Record.id == Case.record_id)
             .outerjoin(party, party.id == Case.party_id)
             .outerjoin(subject, subject.id == Record.subject_id))
    if q.process:
        query = query.where(Case.process_key == q.process)
    if q.status in STATUSES:
        query = query.where(Case.status == q.status)
    text = (q.search or "").strip()[:100]
    if text:
        conditions = [party.name.contains(text, autoescape=True), subject.name.contains(text, autoescape=True),
                      party.code == text.upper(), subject.code == text.upper()]
        number = parse_number(text)
        if number is not None:
            if number.case_id is not None:
                conditions.append(Case.id == number.case_id)
            if number.record_id is not None:
                conditions.append(Case.record_id == number.record_id)
        query = query.where(or_(*conditions))
    return query.order_by(Case.id.desc())


def _rows(session, found) -> list[CaseRow]:
    ids = [r[0] for r in found]
    steps: dict[int, list[str]] = {}
    if ids:
        for case_id, step in session.execute(select(HumanTask.case_id, HumanTask.name)
                                             .where(HumanTask.case_id.in_(ids)).order_by(HumanTask.id)):
            steps.setdefault(case_id, []).append(step)
    return [CaseRow(*r, steps=tuple(dict.fromkeys(steps.get(r[0], ())))) for r in found]


def list_cases(session, actor, q: CaseQuery) -> CasePage:
    query = _query(actor, q)
    page, per_page = max(1, q.page), min(max(1, q.per_page), 100)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    found = session.execute(query.offset((page - 1) * per_page).limit(per_page)).all()
    return CasePage(_rows(session, found), total, page, per_page)


def every_case(session, actor, q: CaseQuery, limit: int):
    """Every case (up to `limit`) `list_cases` pages through, in its order: the whole list, for
    its export, in chunks of a thousand."""
    result = session.execute(_query(actor, q).limit(limit).execution_options(yield_per=1000))
    for chunk in result.partitions():
        yield from _rows(session, chunk)
