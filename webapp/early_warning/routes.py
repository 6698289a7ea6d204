"""The early-warning routes: the list (/warnings, with its filters, export and print), acknowledging
a warning with a note, and "evaluate now". The rules and who may do what are workflows/early_warning's."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from workflows.case_errors import CaseError, NotFound
from workflows.early_warning.rules import RULE_NAMES
from workflows.early_warning.service import (STATES, Filters, NoteRequired, acknowledge, evaluate_now,
                                             list_warnings, may_evaluate, may_see_warnings, rules_in_force,
                                             warning_departments)
from workflows.models import Subject

from ..context import actor, db, unit_of_work
from ..exports import wants_xlsx
from ..translate import translated
from .sheet import warnings_sheet

bp = Blueprint("early_warning", __name__, url_prefix="/warnings")
FILTERS = ("rule", "state", "department")


@bp.app_template_global()
def may_see_early_warnings() -> bool:
    """For the navigation and the dashboard's panel."""
    return current_user.is_authenticated and may_see_warnings(actor())


def _filters() -> Filters:
    rule = request.args.get("rule") or None
    state = request.args.get("state") or None
    department = request.args.get("department", "")
    return Filters(rule if rule in RULE_NAMES else None, state if state in (*STATES, "all") else None,
                   int(department) if department.isdigit() and len(department) < 10 else None)


def _filters_shown(filters: Filters) -> list[tuple[str, str]]:
    department = db().get(Subject, filters.department_id) if filters.department_id else None
    state = _("全部") if filters.state == "all" else _(STATES[filters.state]) if filters.state else _("未解除")
    return [(_("规则"), _(RULE_NAMES[filters.rule]) if filters.rule else None), (_("状态"), state),
            (_("部门"), department.name if department else None)]


def _page(errors: dict | None = None, notes: dict | None = None, status: int = 200):
    filters = _filters()
    rows = list_warnings(db(), actor(), filters)
    if wants_xlsx():
        return warnings_sheet(rows, _filters_shown(filters))
    return render_template("early_warning/index.html", rows=rows, filters=filters, shown=_filters_shown(filters),
                           rule_names=RULE_NAMES, states=STATES, departments=warning_departments(db()),
                           rules=rules_in_force(current_app.config["SETTINGS"]), errors=errors or {}, notes=notes or {},
                           may_evaluate=may_evaluate(actor())), status


@bp.get("")
@login_required
def index():
    if not may_see_warnings(actor()):
        abort(403)
    return _page()


def _back():
    """The list as it was filtered (the form carries the query string it was posted from; only the
    filters are kept from it)."""
    kept = [(k, v) for k, v in parse_qsl(request.form.get("back", "")[:500]) if k in FILTERS and v.isprintable()]
    return url_for("early_warning.index") + ("?" + urlencode(kept) if kept else "")


@bp.post("/<int:warning_id>/acknowledge")
@login_required
def acknowledge_warning(warning_id):
    if not may_see_warnings(actor()):
        abort(403)
    note = request.form.get("note", "")[:5000]
    try:
        with unit_of_work() as uow:
            warning = acknowledge(uow, warning_id, note)
            uow.commit()
    except NotFound:
        abort(404)
    except NoteRequired as exc:
        return _page({warning_id: translated(exc)}, {warning_id: note}, 422)
    if warning.acknowledged_by != current_user.username or warning.acknowledgement_note != note.strip():
        flash(_("该预警已由 %(name)s 确认，未作更改。", name=warning.acknowledged_by_name or warning.acknowledged_by), "info")
    else:
        flash(_("预警已确认。"), "success")
    return redirect(_back(), 303)


@bp.post("/evaluate")
@login_required
def evaluate():
    if not may_evaluate(actor()):
        abort(403)
    try:
        with unit_of_work() as uow:
            result = evaluate_now(uow)
            uow.commit()
    except IntegrityError:
        flash(_("另一次预警评估正在进行，请稍后再试。"), "warning")
        return redirect(_back(), 303)
    except CaseError as exc:
        flash(translated(exc), "danger")
        return redirect(_back(), 303)
    flash(_("预警评估完成：新增 %(raised)s 条，解除 %(resolved)s 条。", raised=len(result.raised),
            resolved=result.resolved), "success")
    if result.skipped:
        flash(_("以下规则未评估（已关闭，或工作日历未覆盖所需日期）：%(rules)s",
                rules=_("、").join(_(RULE_NAMES[name]) for name in result.skipped)), "warning")
    return redirect(_back(), 303)
