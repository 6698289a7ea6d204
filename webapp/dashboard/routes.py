"""The dashboard routes: the page of charts (with the early-warning panel), its figures as JSON,
and the lists behind the charts (each with its .xlsx export)."""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from workflows.access import may_open
from workflows.dashboard.filters import FIELDS, FilterInvalid, default_period
from workflows.dashboard.scope import may_see_dashboard, scope_of
from workflows.dashboard.service import dashboard, drill_list
from workflows.early_warning.service import open_warnings
from workflows.models import Case, Subject
from workflows.numbers import record_no
from workflows.records import LIFECYCLE
from workflows.sheet_export import MAX_ROWS

from ..context import actor, clock, db, page_arg
from ..exports import wants_xlsx, xlsx_download
from ..labels import label, named
from ..translate import translated
from .charts import build_charts, outcome_name

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
PER_PAGE = 25
XLSX_LIMIT = MAX_ROWS + 1      # one more than an export holds: the sheet then says it was cut


@bp.app_context_processor
def _links():
    def may_see_dashboard_here() -> bool:
        return not g.get("database_down") and current_user.is_authenticated and \
            may_see_dashboard(db(), current_user.actor)
    return {"may_see_dashboard": may_see_dashboard_here}


@bp.before_request
@login_required
def _viewers_only():
    if not may_see_dashboard(db(), actor()):
        abort(403)


def _departments(scope):
    """The department filter's choices: none for a department's own account (its own is given)."""
    if not scope.city_wide:
        return []
    return db().execute(select(Subject.id, Subject.name).where(Subject.kind == "department").order_by(Subject.name)).all()


def _typed() -> dict:
    start, end = default_period(clock().today())
    return {"from": request.args.get("from", start.isoformat())[:20], "to": request.args.get("to", end.isoformat())[:20],
            "department": request.args.get("department", "")[:12], "field": request.args.get("field", "")[:40]}


def _filter_words(filters) -> list[tuple[str, str]]:
    department = db().get(Subject, filters.department_id) if filters.department_id else None
    return [(_("起始日期"), filters.start.isoformat()), (_("截止日期"), filters.end.isoformat()),
            (_("部门"), department.name if department else ""), (_("领域"), label("field", filters.field) if filters.field else "")]


@bp.get("/")
def index():
    try:
        board = dashboard(db(), actor(), request.args, clock().now())
    except FilterInvalid as exc:       # the form again, as typed, with what is wrong
        return render_template("dashboard/index.html", board=None, charts=[], error=translated(exc), typed=_typed(),
                               departments=_departments(scope_of(db(), actor())), fields=FIELDS, warnings=[]), 400
    charts = build_charts(board)
    return render_template("dashboard/index.html", board=board, charts=charts, error=None, typed=_typed(),
                           departments=_departments(board.scope), fields=FIELDS,
                           warnings=open_warnings(db(), actor(), limit=10))


@bp.get("/data.json")
def data():
    try:
        board = dashboard(db(), actor(), request.args, clock().now())
    except FilterInvalid as exc:
        return jsonify({"error": translated(exc)}), 400
    return jsonify({"filters": board.filters.as_args(), "open_cases": board.open_cases,
                    "department_only": not board.scope.city_wide, "charts": build_charts(board)})


def _drill(kind: str):
    xlsx = wants_xlsx()
    page = 1 if xlsx else page_arg()
    limit = XLSX_LIMIT if xlsx else PER_PAGE
    found = drill_list(db(), actor(), kind, request.args, clock().now(), (page - 1) * PER_PAGE, limit)
    return found, page


def _lifecycle_cases(record_ids) -> dict:
    return dict(db().execute(select(Case.record_id, func.max(Case.id)).where(
        Case.record_id.in_(record_ids), Case.process_key == LIFECYCLE).group_by(Case.record_id)).all())


def _list_page(template: str, found, page: int, title: str, **extra):
    return render_template(template, found=found, page=page, pages=max(1, -(-found.total // PER_PAGE)), title=title,
                           filter_words=_filter_words(found.filters), may_open_case=may_open(db(), actor(), "records"),
                           back=found.filters.as_args(), **extra)


@bp.get("/records")
def records():
    found, page = _drill("records")
    title = _("从录入到决定的记录") if found.with_days else _("看板：失信记录")
    if wants_xlsx():
        headers = [_("记录编号"), _("信用主体"), _("领域"), _("严重程度"), _("状态"), _("录入时间")]
        if found.with_days:
            headers += [_("决定时间"), _("天数")]
        rows = []
        for row in found.rows:
            r = row[0]
            cells = [record_no(r), r.subject.name, label("field", r.field), label("severity", r.severity),
                     label("status", r.status), r.created_at]
            if found.with_days:
                cells += [row[1], round(float(row[2]), 1)]
            rows.append(cells)
        return xlsx_download("dashboard-records", title, headers, rows, _filter_words(found.filters))
    return _list_page("dashboard/records.html", found, page, title,
                      cases=_lifecycle_cases([row[0].id for row in found.rows]))


@bp.get("/steps")
def steps():
    found, page = _drill("steps")
    title = _("看板：在办环节")
    now = clock().now()
    if wants_xlsx():
        headers = [_("环节"), _("流程"), _("案件"), _("信用主体"), _("办理人"), _("期限"), _("是否超期")]
        rows = [[named(t.name), label("process", t.process_key), t.case_id, t.subject_name or "",
                 _holder(t), t.due_at, _("已超期") if t.due_at and t.due_at < now else ""] for t in found.rows]
        return xlsx_download("dashboard-steps", title, headers, rows, _filter_words(found.filters))
    return _list_page("dashboard/steps.html", found, page, title, now=now, holder=_holder)


def _holder(task) -> str:
    from workflows.models import User
    if task.assignee_id is None:
        return _("待认领：%(group)s", group=label("role", task.lane) or "—")
    user = db().get(User, task.assignee_id)
    return user.display_name if user else ""


@bp.get("/applications")
def applications():
    found, page = _drill("applications")
    title = _("看板：异议、主动自新与信用修复")
    if wants_xlsx():
        headers = [_("案件"), _("类别"), _("记录"), _("提交时间"), _("结果")]
        rows = [[c.id, label("process", c.process_key), c.record_id or "", c.created_at, _case_outcome(c)]
                for c in found.rows]
        return xlsx_download("dashboard-applications", title, headers, rows, _filter_words(found.filters))
    return _list_page("dashboard/applications.html", found, page, title, outcome_of=_case_outcome)


def _case_outcome(case) -> str:
    if case.outcome:
        return label("outcome", case.outcome)
    return outcome_name("pending" if case.status == "running" else "closed")
