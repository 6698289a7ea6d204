"""The few expressions SQLite and PostgreSQL spell differently, and the filters every figure and
list shares. Months and days are China time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, literal, or_, select, union_all

from ..clock import CST
from ..models import Case, Document, HumanTask, Record, Subject, UTCDateTime
from .filters import Filters
from .scope import Scope

APPLICATIONS = ("objection", "self_correction", "credit_repair")
SANCTION = "sanction"      # the decision (处理决定书 or 免予惩戒决定书) that ends the capture-to-decision time


def dialect(session) -> str:
    return session.get_bind().dialect.name


def days_between(session, start, end):
    """`end - start` in days, with fractions."""
    if dialect(session) == "sqlite":
        return func.julianday(end) - func.julianday(start)
    return func.date_part("epoch", end - start) / literal(86400.0)    # double precision, not numeric


def month_of(session, column):
    """The month (China time) of a stored timestamp: 'YYYY-MM' text on SQLite, the month's first
    instant on PostgreSQL (month_label reads either). For the rows of one period's range only."""
    if dialect(session) == "sqlite":
        return func.strftime("%Y-%m", column, "+8 hours")
    return func.date_trunc("month", func.timezone("Asia/Shanghai", column))


def month_label(value) -> str:
    return value if isinstance(value, str) else value.strftime("%Y-%m")


def month_buckets(filters: Filters):
    """The period's months (China time) as rows (month 'YYYY-MM', since, until), clipped to the
    period: joined by range to a timestamp, they give its month through an index, where a month
    computed per row would cost a function call for each of a million rows."""
    rows, year, month = [], filters.start.year, filters.start.month
    while (year, month) <= (filters.end.year, filters.end.month):
        start = datetime(year, month, 1, tzinfo=CST)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        end = datetime(year, month, 1, tzinfo=CST)
        rows.append(select(literal(start.strftime("%Y-%m")).label("month"),
                           literal(max(start, filters.since), UTCDateTime).label("since"),
                           literal(min(end, filters.until), UTCDateTime).label("until")))
    return union_all(*rows).subquery("months") if len(rows) > 1 else rows[0].subquery("months")


def department_of_subject():
    """A record's department: the subject itself when a department, else the civil servant's."""
    return case((Subject.kind == "department", Subject.id), else_=Subject.department_id)


def record_conditions(filters: Filters, scope: Scope, dated: bool = True) -> list:
    """The conditions on `record` for these filters and this viewer; `dated`: the period applies to
    the record's capture (its created_at)."""
    conditions = []
    if dated:
        conditions += [Record.created_at >= filters.since, Record.created_at < filters.until]
    if filters.field:
        conditions.append(Record.field == filters.field)
    if not scope.city_wide:
        conditions += [Record.subject_id == scope.department_id, Record.notified_at.is_not(None)]
    elif filters.department_id is not None:
        d = filters.department_id
        conditions.append(Record.subject_id.in_(select(Subject.id).where(or_(Subject.id == d, Subject.department_id == d))))
    return conditions


def through_record(record_id, filters: Filters, scope: Scope) -> list:
    """The conditions on a step's or a case's record (`record_id` its column) for the field and
    department filters and a department account's view. The field by a subquery on the record's
    primary key, run for the (few) steps or cases of the period; a department by the set of its
    records (a few hundred): either way the database never joins them to the whole record table."""
    conditions = []
    if filters.field:
        conditions.append(select(Record.field).where(Record.id == record_id).scalar_subquery() == filters.field)
    if not scope.city_wide:
        conditions.append(record_id.in_(select(Record.id).where(Record.subject_id == scope.department_id,
                                                                Record.notified_at.is_not(None))))
    elif filters.department_id is not None:
        d = filters.department_id
        conditions.append(record_id.in_(select(Record.id).where(Record.subject_id.in_(
            select(Subject.id).where(or_(Subject.id == d, Subject.department_id == d))))))
    return conditions


def step_query(query, filters: Filters, scope: Scope):
    """Open steps (human_task rows) started in the period, narrowed by their records' field and department."""
    return query.where(HumanTask.created_at >= filters.since, HumanTask.created_at < filters.until,
                       *through_record(HumanTask.record_id, filters, scope))


def application_query(query, filters: Filters, scope: Scope):
    """Objections, self-correction requests and repair applications filed in the period."""
    return query.where(Case.process_key.in_(APPLICATIONS), Case.created_at >= filters.since,
                       Case.created_at < filters.until, *through_record(Case.record_id, filters, scope))


def decision_query(query, filters: Filters, scope: Scope):
    """Records decided in the period: their first sanction decision (a later correction of the
    decision supersedes it and is not counted), issued in the period; joined to the record."""
    return query.join(Record, Record.id == Document.record_id).where(
        Document.kind == SANCTION, Document.supersedes_id.is_(None), Document.issued_at >= filters.since,
        Document.issued_at < filters.until, *record_conditions(filters, scope, dated=False))


def outcome_key():
    """An application's outcome, or 'pending' while it runs ('closed' if it ended without one)."""
    return func.coalesce(Case.outcome, case((Case.status == "running", literal("pending")), else_=literal("closed")))

