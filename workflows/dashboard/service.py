"""The dashboard's two calls: every chart's figures for a viewer and the filters on screen, and
the list behind one chart's bar. Each checks who asks (scope.py) and the filters (filters.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..clock import CST
from . import figures, lists
from .filters import Filters, parse_filters
from .scope import Scope, scope_of


@dataclass
class Dashboard:
    scope: Scope
    filters: Filters
    now: datetime
    charts: dict = field(default_factory=dict)     # chart id -> [figures.Bar]
    open_cases: int = 0


def dashboard(session, actor, args, now: datetime) -> Dashboard:
    """Every chart's figures. Raises Forbidden (who) or FilterInvalid (what)."""
    scope = scope_of(session, actor)
    filters = parse_filters(session, scope, args, now.astimezone(CST).date())
    board = Dashboard(scope, filters, now)
    board.charts["by_department"] = figures.records_by_department(session, filters, scope)
    for dimension, bars in figures.records_by(session, filters, scope).items():
        board.charts[f"by_{dimension}"] = bars
    board.charts["steps_by_step"] = figures.steps_by_step(session, filters, scope, now)
    if scope.city_wide:
        board.charts["steps_by_person"] = figures.steps_by_person(session, filters, scope, now)
    board.charts["applications"] = figures.applications_by_outcome(session, filters, scope)
    board.charts["decision_times"] = figures.decision_times(session, filters, scope)
    board.open_cases = figures.open_cases(session, filters, scope)
    return board


@dataclass
class DrillList:
    scope: Scope
    filters: Filters
    kind: str                  # records, steps, applications
    rows: list
    total: int
    with_days: bool = False


def drill_list(session, actor, kind: str, args, now: datetime, offset: int, limit: int) -> DrillList:
    """The list behind a bar: `kind` and the chart's key come from the click-through's query string."""
    scope = scope_of(session, actor)
    filters = parse_filters(session, scope, args, now.astimezone(CST).date())
    if kind == "records":
        by = (args.get("by") or "").strip() or None
        rows, total, with_days = lists.records_page(session, filters, scope, by, (args.get("key") or "").strip(),
                                                    offset, limit)
        return DrillList(scope, filters, kind, rows, total, with_days)
    if kind == "steps":
        rows, total = lists.steps_page(session, filters, scope, (args.get("step") or "").strip(),
                                       (args.get("person") or "").strip(), args.get("overdue") == "1", now,
                                       offset, limit)
        return DrillList(scope, filters, kind, rows, total)
    rows, total = lists.applications_page(session, filters, scope, (args.get("key") or "").strip(), offset, limit)
    return DrillList(scope, filters, kind, rows, total)
