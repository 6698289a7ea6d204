"""The figures behind the charts: each one SQL aggregate (GROUP BY) over the filtered rows; no
Python loop over records. Everything here returns codes and numbers; the web layer names them."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from ..models import Case, Document, HumanTask, Record, Subject, User
from .filters import Filters
from .scope import Scope
from .sql import (application_query, days_between, decision_query, department_of_subject, month_buckets,
                  month_label, month_of, outcome_key, record_conditions, step_query)

TOP_DEPARTMENTS = 15        # the department chart's bars; the rest are summed into one


@dataclass
class Bar:
    key: str                 # what the click-through filters on ('' for a bar that stands for many)
    label: str               # a code the web layer names, or a name as it stands
    values: dict = field(default_factory=dict)


def records_by(session, filters: Filters, scope: Scope) -> dict[str, list[Bar]]:
    """Records captured in the period, counted by 'field', 'severity' and 'month' (of capture):
    one pass over the period's records, counted by all three at once (at most months x 7 x 3
    rows), then summed up per chart."""
    months = month_buckets(filters)
    field, severity = func.coalesce(Record.field, "").label("field"), func.coalesce(Record.severity, "").label("severity")
    rows = session.execute(select(months.c.month, field, severity, func.count().label("n")).select_from(months).join(
        Record, (Record.created_at >= months.c.since) & (Record.created_at < months.c.until)).where(
        *record_conditions(filters, scope, dated=False)).group_by(months.c.month, field, severity)).all()
    totals: dict[str, dict[str, int]] = {"field": {}, "severity": {}, "month": {}}
    for r in rows:          # the groups the database counted, not records
        for dimension, key in (("field", r.field), ("severity", r.severity), ("month", r.month)):
            totals[dimension][key] = totals[dimension].get(key, 0) + r.n
    return {dimension: [Bar(key, key, {"records": n}) for key, n in sorted(counts.items())]
            for dimension, counts in totals.items()}


def records_by_department(session, filters: Filters, scope: Scope, top: int = TOP_DEPARTMENTS) -> list[Bar]:
    """Records by department (a civil servant's records count for their department), the `top`
    largest first; the rest summed into one bar. The database counts per subject, then per
    department (one row per department); the names are read for the bars shown."""
    per_subject = (select(Record.subject_id, func.count().label("n")).where(*record_conditions(filters, scope))
                   .group_by(Record.subject_id).subquery())
    department = department_of_subject().label("department")
    rows = session.execute(select(department, func.sum(per_subject.c.n).label("n"))
                           .join(Subject, Subject.id == per_subject.c.subject_id).group_by(department)
                           .order_by(func.sum(per_subject.c.n).desc(), department.is_(None), department)).all()
    names = dict(session.execute(select(Subject.id, Subject.name).where(
        Subject.id.in_([r.department for r in rows[:top] if r.department is not None]))).all())
    bars = [Bar(str(r.department) if r.department is not None else "none", names.get(r.department, ""),
                {"records": int(r.n)}) for r in rows[:top]]
    if len(rows) > top:
        bars.append(Bar("", "", {"records": sum(int(r.n) for r in rows[top:])}))    # per department, not per record
    return bars


def _late(now):
    return func.sum(case(((HumanTask.due_at.is_not(None)) & (HumanTask.due_at < now), 1), else_=0))


def steps_by_step(session, filters: Filters, scope: Scope, now) -> list[Bar]:
    """Open steps by process step: how many wait, how many are past their deadline (`now`)."""
    query = step_query(select(HumanTask.process_key, HumanTask.bpmn_id, func.min(HumanTask.name).label("name"),
                              func.count().label("n"), _late(now).label("late")), filters, scope)
    rows = session.execute(query.group_by(HumanTask.process_key, HumanTask.bpmn_id)
                           .order_by(func.count().desc(), HumanTask.process_key, HumanTask.bpmn_id)).all()
    return [Bar(f"{r.process_key}:{r.bpmn_id}", r.name, {"open": r.n, "overdue": int(r.late or 0), "process": r.process_key})
            for r in rows]


def steps_by_person(session, filters: Filters, scope: Scope, now) -> list[Bar]:
    """Open steps by who holds them: the assignee, or the lane's group while nobody has claimed it."""
    query = step_query(select(HumanTask.assignee_id, HumanTask.lane, func.count().label("n"), _late(now).label("late")),
                       filters, scope)
    rows = session.execute(query.group_by(HumanTask.assignee_id, HumanTask.lane)).all()
    people = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({r.assignee_id for r in rows if r.assignee_id is not None}))).all())
    bars: dict[str, Bar] = {}
    for r in rows:      # a handful of (person, lane) groups, already counted by the database
        key = str(r.assignee_id) if r.assignee_id is not None else f"lane:{r.lane or ''}"
        bar = bars.setdefault(key, Bar(key, people.get(r.assignee_id, "") if r.assignee_id is not None else r.lane or "",
                                       {"open": 0, "overdue": 0, "person": r.assignee_id is not None}))
        bar.values["open"] += r.n
        bar.values["overdue"] += int(r.late or 0)
    return sorted(bars.values(), key=lambda b: (-b.values["open"], not b.values["person"], b.key))


def open_cases(session, filters: Filters, scope: Scope) -> int:
    """Cases with at least one open step (among the steps the step charts count)."""
    return session.scalar(step_query(select(func.count(func.distinct(HumanTask.case_id))), filters, scope)) or 0


def applications_by_outcome(session, filters: Filters, scope: Scope) -> list[Bar]:
    """Objections, self-correction requests and repair applications filed in the period, by kind
    and outcome ('pending' while open)."""
    outcome = outcome_key().label("outcome")
    rows = session.execute(application_query(select(Case.process_key, outcome, func.count().label("n")), filters, scope)
                           .group_by(Case.process_key, outcome).order_by(Case.process_key, outcome)).all()
    return [Bar(f"{r.process_key}:{r.outcome}", r.outcome, {"process": r.process_key, "cases": r.n}) for r in rows]


def decision_times(session, filters: Filters, scope: Scope) -> list[Bar]:
    """Days from capture (the record's created_at) to decision (its first sanction decision
    document's issued_at), by month of decision: count, median and 90th percentile (nearest rank:
    the smallest value with at least half, or 90%, of the month's values at or below it), to a
    tenth of a day. The database counts the durations per month and tenth of a day; the
    percentiles are read off those counts (a few hundred rows a month, never the records)."""
    month = month_of(session, Document.issued_at).label("month")
    tenths = func.round(days_between(session, Record.created_at, Document.issued_at) * 10).label("tenths")
    query = decision_query(select(month, tenths, func.count().label("n")).select_from(Document), filters, scope)
    counts: dict[str, list] = {}
    for r in session.execute(query.group_by(month, tenths).order_by(month, tenths)):
        counts.setdefault(month_label(r.month), []).append((float(r.tenths) / 10, r.n))
    return [Bar(month, month, {"decided": sum(n for _, n in hist), "median": _rank(hist, 50), "p90": _rank(hist, 90)})
            for month, hist in counts.items()]


def _rank(histogram: list[tuple[float, int]], percent: int) -> float:
    """The nearest-rank percentile of sorted (value, count) pairs."""
    total = sum(n for _, n in histogram)
    wanted, seen = -(-total * percent // 100), 0      # ceil(total * percent / 100), in integers
    for value, n in histogram:
        seen += n
        if seen >= wanted:
            return round(value, 1)
    return round(histogram[-1][0], 1)
