"""The look-ups (逢办必查) routes: the look-up form and list, a look-up's result with its outcome
and signed extract, the monthly report per department, and a staff member's department (admin)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.access import may_administer_system
from workflows.case_errors import CaseError, Conflict
from workflows.lookups.access import may_look_up, may_record_outcome, sees_every_lookup
from workflows.lookups.report import monthly_report
from workflows.lookups.search import DEAL_KINDS, KEY_KINDS, LookupInvalid, shown_query
from workflows.lookups.service import (department_names, issue_extract, look_up, lookup_for, record_outcome,
                                       set_department, visible_lookups)
from workflows.models import Document, Subject, User

from ..context import actor, clock, db, db_int, page_arg, unit_of_work
from ..exports import wants_xlsx
from .sheet import lookups_sheet, report_sheet
from ..translate import translated

bp = Blueprint("lookups", __name__, url_prefix="/lookups")
PER_PAGE = 25
DEAL = {"procurement": _l("政府采购"), "bidding": _l("招标投标"), "funding": _l("资金安排"),
        "honours": _l("评优评先/表彰"), "appointment": _l("任用")}
KEY = {"code": _l("统一社会信用代码"), "citizen_id": _l("公民身份号码"), "name": _l("名称/姓名")}
OUTCOME = {"proceeded": _l("继续办理"), "dropped": _l("未办理")}


@bp.app_context_processor
def _links():
    def may_look_up_here() -> bool:
        return current_user.is_authenticated and may_look_up(current_user.actor)

    def lookup_departments():
        return db().execute(select(Subject.id, Subject.name).where(Subject.kind == "department")
                            .order_by(Subject.name)).all()
    return {"may_look_up_here": may_look_up_here, "lookup_departments": lookup_departments}


@bp.before_request
@login_required
def _checkers_only():
    if request.endpoint == "lookups.user_department":
        if not may_administer_system(actor()):
            abort(403)
    elif not may_look_up(actor()):
        abort(403)


def _words() -> dict:
    return {"deal_names": DEAL, "key_names": KEY, "outcome_names": OUTCOME, "deal_kinds": DEAL_KINDS,
            "key_kinds": KEY_KINDS}


def _index_page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    page = page_arg()
    rows, total = visible_lookups(db(), actor(), page, PER_PAGE)
    return render_template("lookups/index.html", rows=rows, total=total, page=page, per_page=PER_PAGE,
                           departments=department_names(db(), [r.department_id for r in rows]),
                           sees_all=sees_every_lookup(actor()), errors=errors or {}, typed=typed or {},
                           shown_query=shown_query, month=clock().today().strftime("%Y-%m"), **_words()), status


@bp.get("/")
def index():
    if wants_xlsx():
        return lookups_sheet(DEAL, OUTCOME)
    return _index_page()


@bp.post("/")
def make():
    form = request.form
    typed = {k: form.get(k, "") for k in ("key_kind", "value", "deal_kind", "deal_ref")}
    try:
        with unit_of_work() as uow:
            lookup = look_up(uow, typed["key_kind"], typed["value"], typed["deal_kind"], typed["deal_ref"])
            uow.commit()
    except LookupInvalid as exc:
        return _index_page({k: translated(v) for k, v in exc.fields.items()}, typed, 422)
    return redirect(url_for("lookups.lookup", lookup_id=lookup.id), 303)


def _lookup_page(lookup_id: int, errors: dict | None = None, typed: dict | None = None, status: int = 200):
    lookup = lookup_for(db(), actor(), lookup_id)
    document = db().get(Document, lookup.document_id) if lookup.document_id else None
    department = db().get(Subject, lookup.department_id) if lookup.department_id else None
    return render_template("lookups/lookup.html", lookup=lookup, document=document, department=department,
                           may_record=may_record_outcome(db(), actor(), lookup), errors=errors or {},
                           typed=typed or {}, shown_query=shown_query, **_words()), status


@bp.get("/<int:lookup_id>")
def lookup(lookup_id):
    return _lookup_page(lookup_id)


@bp.post("/<int:lookup_id>/outcome")
def outcome(lookup_id):
    typed = {"outcome": request.form.get("outcome", ""), "reason": request.form.get("reason", "")}
    try:
        with unit_of_work() as uow:
            record_outcome(uow, lookup_id, typed["outcome"], typed["reason"])
            uow.commit()
    except LookupInvalid as exc:
        return _lookup_page(lookup_id, {k: translated(v) for k, v in exc.fields.items()}, typed, 422)
    except Conflict as exc:
        flash(translated(exc), "error")
        return redirect(url_for("lookups.lookup", lookup_id=lookup_id), 303)
    flash(_("办理结果已登记。"), "success")
    return redirect(url_for("lookups.lookup", lookup_id=lookup_id), 303)


def _pdf(document: Document):
    return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.number}.pdf")


@bp.post("/<int:lookup_id>/extract")
def extract(lookup_id):
    with unit_of_work() as uow:
        document = issue_extract(uow, lookup_id)
        uow.commit()
    return _pdf(document)


@bp.get("/<int:lookup_id>/extract.pdf")
def extract_pdf(lookup_id):
    lookup = lookup_for(db(), actor(), lookup_id)
    if lookup.document_id is None:      # not issued yet: the page has the button
        return redirect(url_for("lookups.lookup", lookup_id=lookup.id))
    return _pdf(db().get(Document, lookup.document_id))


@bp.get("/report")
def report():
    month = (request.args.get("month") or clock().today().strftime("%Y-%m")).strip()[:7]
    rows = monthly_report(db(), actor(), month)
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("made", "hits", "proceeded", "dropped", "open")}
    if wants_xlsx():
        return report_sheet(rows, totals, month)
    return render_template("lookups/report.html", rows=rows, month=month, totals=totals,
                           sees_all=sees_every_lookup(actor()), **_words())


@bp.post("/users/<int:user_id>/department")
def user_department(user_id):
    if db().get(User, user_id) is None:
        abort(404)
    raw = request.form.get("department_id", "")
    try:
        department_id = db_int(raw) if raw else None
    except ValueError:
        department_id = 0          # not an id: no such department, which the service refuses
    try:
        with unit_of_work() as uow:
            set_department(uow, user_id, department_id)
            uow.commit()
        flash(_("所属部门已保存。"), "success")
    except CaseError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("system.user", user_id=user_id) + "#department")
