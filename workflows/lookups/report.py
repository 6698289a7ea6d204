"""The monthly report per department: look-ups made, hits, and deals that went ahead despite a
hit with the reasons recorded. Months are China time."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..case_errors import CaseError, Forbidden
from ..clock import CST
from ..messages import N_
from .access import department_of, may_look_up, sees_every_lookup
from .model import Lookup
from .service import department_names

MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass
class DepartmentMonth:
    department_id: int | None
    name: str
    made: int = 0
    hits: int = 0
    proceeded: int = 0
    dropped: int = 0
    open: int = 0                   # hits whose outcome is not yet recorded
    reasons: list = field(default_factory=list)   # [{"lookup_id", "deal_kind", "deal_ref", "by", "reason"}]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    match = MONTH.fullmatch(month or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise CaseError(N_("月份格式应为 YYYY-MM，例如 2026-11"))
    year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=CST)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=CST)
    return start, end


def monthly_report(session, actor, month: str) -> list[DepartmentMonth]:
    """One row per department with look-ups in the month (a checker: their own department's)."""
    if not may_look_up(actor):
        raise Forbidden(N_("您的角色不能进行逢办必查查询"))
    start, end = month_bounds(month)
    query = select(Lookup.id, Lookup.department_id, Lookup.hit, Lookup.outcome, Lookup.outcome_reason,
                   Lookup.deal_kind, Lookup.deal_ref, Lookup.outcome_by).where(
        Lookup.created_at >= start, Lookup.created_at < end)
    if not sees_every_lookup(actor):
        department = department_of(session, actor)
        query = query.where(Lookup.department_id == department if department is not None
                            else Lookup.user_id == actor.user_id)
    rows: dict[int | None, DepartmentMonth] = {}
    found = session.execute(query.order_by(Lookup.id)).all()
    names = department_names(session, [r.department_id for r in found])
    for r in found:
        row = rows.setdefault(r.department_id, DepartmentMonth(r.department_id, names.get(r.department_id, "")))
        row.made += 1
        if r.hit:
            row.hits += 1
            if r.outcome == "proceeded":
                row.proceeded += 1
                row.reasons.append({"lookup_id": r.id, "deal_kind": r.deal_kind, "deal_ref": r.deal_ref,
                                    "by": r.outcome_by, "reason": r.outcome_reason or ""})
            elif r.outcome == "dropped":
                row.dropped += 1
            else:
                row.open += 1
    return sorted(rows.values(), key=lambda d: (d.department_id is None, d.name, d.department_id or 0))
