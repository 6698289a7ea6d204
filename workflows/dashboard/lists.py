"""The lists behind the charts (the click-throughs): the records, open steps and applications a
bar or slice counts, with the same filters, so a list's total is the bar's number."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, or_, select

from ..clock import CST
from ..messages import N_
from ..models import Case, Document, HumanTask, Record, Subject
from .filters import FIELDS, FilterInvalid, Filters
from .scope import Scope
from .sql import (APPLICATIONS, application_query, days_between, decision_query, outcome_key,
                  record_conditions, step_query)

MONTH = re.compile(r"\d{4}-\d{2}")
RECORD_KEYS = ("department", "field", "severity", "month", "decided")
SEVERITIES = ("minor", "general", "serious")


def _bad():
    return FilterInvalid(N_("图表项无效，请从看板重新进入"))


def _record_key_condition(session, by: str, key: str):
    if by == "field":
        if key not in (*FIELDS, ""):
            raise _bad()
        return Record.field == key if key else Record.field.is_(None)
    if by == "severity":
        if key not in (*SEVERITIES, ""):
            raise _bad()
        return Record.severity == key if key else Record.severity.is_(None)
    if by == "month":
        return _in_month(Record.created_at, key)
    if by == "department":
        if key == "none":
            return Record.subject_id.in_(select(Subject.id).where(Subject.kind != "department",
                                                                  Subject.department_id.is_(None)))
        if not (key.isascii() and key.isdigit() and len(key) <= 10):
            raise _bad()
        d = int(key)
        return Record.subject_id.in_(select(Subject.id).where(or_(Subject.id == d, Subject.department_id == d)))
    raise _bad()


def _in_month(column, key: str):
    """`column` within the month `key` ('YYYY-MM', China time)."""
    if not MONTH.fullmatch(key) or not 1 <= int(key[5:]) <= 12:
        raise _bad()
    year, month = int(key[:4]), int(key[5:])
    start = datetime(year, month, 1, tzinfo=CST)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=CST)
    return (column >= start) & (column < end)


def records_query(session, filters: Filters, scope: Scope, by: str | None, key: str):
    """(query, extra columns) of the records behind a bar: `by` a dimension of the record charts,
    or 'decided' (the month of decision, in the decision-time chart, with the days it took)."""
    if by == "decided":
        days = days_between(session, Record.created_at, Document.issued_at).label("days")
        query = decision_query(select(Record, Document.issued_at, days).select_from(Document), filters, scope).where(
            _in_month(Document.issued_at, key))
        return query.order_by(days.desc(), Record.id), True
    query = select(Record).where(*record_conditions(filters, scope))
    if by:
        query = query.where(_record_key_condition(session, by, key))
    return query.order_by(Record.id.desc()), False


def records_page(session, filters: Filters, scope: Scope, by: str | None, key: str, offset: int, limit: int):
    """(rows, total, with_days): rows are (record, decided_at, days) when `by` is 'decided', else (record,)."""
    if by is not None and by not in RECORD_KEYS:
        raise _bad()
    query, with_days = records_query(session, filters, scope, by, key)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return session.execute(query.offset(offset).limit(limit)).all(), total, with_days


def steps_page(session, filters: Filters, scope: Scope, step: str, person: str, late: bool, now,
               offset: int, limit: int):
    """Open steps behind a bar: of one step ('process:bpmn_id'), or one holder (a user id, or
    'lane:<lane>' for the unclaimed ones), only the overdue ones if `late`; oldest deadline first."""
    query = step_query(select(HumanTask), filters, scope)
    if step:
        process, _, bpmn_id = step.partition(":")
        if not bpmn_id:
            raise _bad()
        query = query.where(HumanTask.process_key == process, HumanTask.bpmn_id == bpmn_id)
    if person:
        if person.startswith("lane:"):
            query = query.where(HumanTask.assignee_id.is_(None), HumanTask.lane == (person[5:] or None))
        elif person.isascii() and person.isdigit() and len(person) <= 10:
            if not scope.city_wide:
                raise _bad()       # the office's workload per person is not a department's to see
            query = query.where(HumanTask.assignee_id == int(person))
        else:
            raise _bad()
    if late:
        query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < now)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
                           .offset(offset).limit(limit)).all()
    return rows, total


def applications_page(session, filters: Filters, scope: Scope, kind: str, offset: int, limit: int):
    """The applications behind a slice: 'process' or 'process:outcome'; newest first."""
    process, _, outcome = kind.partition(":")
    if process and process not in APPLICATIONS:
        raise _bad()
    query = application_query(select(Case), filters, scope)
    if process:
        query = query.where(Case.process_key == process)
    if outcome:
        query = query.where(outcome_key() == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Case.id.desc()).offset(offset).limit(limit)).all()
    return rows, total

