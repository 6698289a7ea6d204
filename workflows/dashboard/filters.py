"""The dashboard's filters, the same for every chart: a period (from, to: dates in China time,
both included), a department and a field (领域). Bad input is refused with a message; nothing is
guessed."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..case_errors import CaseError
from ..clock import CST
from ..messages import N_
from ..models import Subject
from .scope import Scope

FIELDS = ("government_procurement", "ppp", "bidding", "investment_promotion", "government_debt",
          "township_commitment", "other")
MAX_DAYS = 366 * 10     # a period longer than ten years is a typing error


class FilterInvalid(CaseError):
    pass


@dataclass(frozen=True)
class Filters:
    start: date                  # first day included
    end: date                    # last day included
    department_id: int | None = None
    field: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), CST)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), CST)

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (the click-throughs carry it)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.department_id is not None:
            args["department"] = str(self.department_id)
        if self.field:
            args["field"] = self.field
        return args


def default_period(today: date) -> tuple[date, date]:
    """The twelve months up to today: from the first day of the month eleven months back."""
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def _day(text: str, message: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterInvalid(message, value=text[:20]) from None


def parse_filters(session, scope: Scope, args, today: date) -> Filters:
    """Filters from a query string (`from`, `to`, `department`, `field`); a department account's
    department is always its own."""
    start, end = default_period(today)
    if (args.get("from") or "").strip():
        start = _day(args["from"].strip(), N_("起始日期“%(value)s”无效，应为 YYYY-MM-DD"))
    if (args.get("to") or "").strip():
        end = _day(args["to"].strip(), N_("截止日期“%(value)s”无效，应为 YYYY-MM-DD"))
    if end < start:
        raise FilterInvalid(N_("截止日期不能早于起始日期"))
    if (end - start).days > MAX_DAYS:
        raise FilterInvalid(N_("统计期间不能超过十年"))
    field = (args.get("field") or "").strip() or None
    if field is not None and field not in FIELDS:
        raise FilterInvalid(N_("没有这个领域"))
    department = (args.get("department") or "").strip() or None
    department_id = None
    if department is not None:
        if not (department.isascii() and department.isdigit() and len(department) <= 10):
            raise FilterInvalid(N_("没有这个部门"))
        department_id = int(department)
        if session.scalar(select(Subject.id).where(Subject.id == department_id, Subject.kind == "department")) is None:
            raise FilterInvalid(N_("没有这个部门"))
    filters = Filters(start, end, department_id, field)
    if not scope.city_wide:
        filters = replace(filters, department_id=scope.department_id)
    return filters
