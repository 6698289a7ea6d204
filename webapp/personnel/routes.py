"""Personnel staff: the post roster, opening accountability cases by hand, integrity files and
the credit check for appointment. Integrity files are for `personnel` only (and the person)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from workflows.access import in_personnel_charge
from workflows.accountability import (ENTRY_KINDS, POSTS, ROSTER_LIMITS, ROSTER_SHEET, add_entry, add_holding,
                                      credit_check_extract, integrity_file, open_accountability_by_hand,
                                      own_published_records)
from workflows.accountability_rule import records_of_persons_departments
from workflows.cases import CaseError
from workflows.dates import as_date
from workflows.models import Case, PostHolding, Subject
from workflows.numbers import case_no, parse_number, subjects_numbered
from workflows.sheet_reader import SheetError

from ..context import actor, clock, db, db_int, page_arg, unit_of_work
from ..translate import translated
from ..import_views import start_import

bp = Blueprint("personnel", __name__, url_prefix="/personnel")


@bp.before_request
@login_required
def _personnel_only():
    if not current_user.has_role("personnel"):
        abort(403)


@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()[:100]
    query = select(Subject).where(Subject.kind == "civil_servant")
    if q:
        number = parse_number(q)    # a record's or an accountability case's number finds its people
        query = query.where(or_(Subject.name.contains(q, autoescape=True), Subject.code == q.upper(),
                                *([subjects_numbered(number)] if number else [])))
    people = db().scalars(query.order_by(Subject.name).offset((page_arg() - 1) * 50).limit(50)).all()
    return render_template("personnel/index.html", people=people, q=q)


def _named(names: dict[str, str]) -> dict[str, str]:
    """The domain's names of its codes (catalog ids) in the page's language."""
    return {code: _(name) for code, name in names.items()}


def _person(person_id: int) -> Subject:
    person = db().get(Subject, person_id)
    if not in_personnel_charge(actor(), person):
        abort(404)
    return person


@bp.route("/people/<int:person_id>", methods=["GET", "POST"])
def person(person_id):
    person = _person(person_id)
    if request.method == "POST":
        form = request.form
        try:
            with unit_of_work() as uow:
                add_entry(uow, person.id, form.get("kind", ""), form.get("summary", ""), form.get("source", ""),
                          as_date(form.get("entry_date") or clock().today()))
                uow.commit()
            flash(_("已记入诚信档案。"), "success")
        except (CaseError, ValueError) as exc:
            flash(translated(exc), "error")
        return redirect(url_for("personnel.person", person_id=person.id))
    return _person_page(person)


def _person_page(person: Subject, refused: str | None = None, chosen: dict | None = None):
    """The person's page; `refused`: why the accountability case asked for was not opened, shown
    over the picker, which keeps what was chosen (`chosen`: record_id, post)."""
    entries = integrity_file(db(), person.id, _settings(), clock().today())
    cases = db().scalars(select(Case).where(Case.party_id == person.id).order_by(Case.id.desc())).all()
    holdings = db().scalars(select(PostHolding).where(PostHolding.person_id == person.id)
                            .order_by(PostHolding.start_date.desc())).all()
    records = records_of_persons_departments(db(), person.id)
    return render_template("personnel/person.html", person=person, entries=entries, cases=cases,
                           own_records=own_published_records(db(), person.id),
                           holdings=holdings, kinds=_named(ENTRY_KINDS), posts=_named(POSTS), names=_department_names(holdings),
                           records=records, refused=refused, chosen=chosen or {}), (422 if refused else 200)


def _department_names(holdings) -> dict:
    ids = {h.department_id for h in holdings}
    return {s.id: s.name for s in db().scalars(select(Subject).where(Subject.id.in_(ids)))} if ids else {}


def _settings():
    from flask import current_app
    return current_app.config["SETTINGS"]


@bp.post("/people/<int:person_id>/credit-check")
def credit_check(person_id):
    person = _person(person_id)
    with unit_of_work() as uow:
        document = credit_check_extract(uow, person.id, request.form.get("purpose", ""))
        uow.commit()
    return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.number}.pdf")


@bp.route("/roster", methods=["GET", "POST"])
def roster():
    errors = []
    sheet = request.files.get("sheet") if request.method == "POST" else None
    if sheet is not None and sheet.filename:   # stored with a job that a worker runs (import_routes.py)
        try:
            return redirect(url_for("personnel.roster_import", job_id=start_import("roster", sheet)), 303)
        except SheetError as exc:
            errors = [translated(exc)]
    elif request.method == "POST":
        form = request.form
        with unit_of_work() as uow:
            try:
                from workflows.accountability import civil_servant_by_id_number as person_by_id_number
                from workflows.identifiers import check_uscc
                department = db().scalars(select(Subject).where(
                    Subject.code == check_uscc(form.get("department_code", "")))).first()
                if department is None:
                    raise CaseError(_("部门未登记"))
                person = person_by_id_number(uow.session, form.get("person_id_number", ""),
                                             form.get("person_name", ""), department.id)
                add_holding(uow, department.id, person, form.get("post", ""), as_date(form.get("start_date")),
                            as_date(form["end_date"]) if form.get("end_date") else None, form.get("title", ""),
                            form.get("project") or None, form.get("project_phase") or None)
                flash(_("已添加任职记录。"), "success")
                uow.commit()
            except (CaseError, ValueError) as exc:
                errors = [translated(exc)]
    holdings = db().scalars(select(PostHolding).order_by(PostHolding.department_id, PostHolding.start_date.desc())
                            .limit(500)).all()
    people = {s.id: s for s in db().scalars(select(Subject).where(
        Subject.id.in_({h.person_id for h in holdings} | {h.department_id for h in holdings})))} if holdings else {}
    return render_template("personnel/roster.html", holdings=holdings, people=people, posts=_named(POSTS), errors=errors,
                           columns=ROSTER_SHEET, limits=ROSTER_LIMITS), (422 if errors else 200)


@bp.post("/accountability")
def open_case():
    """Open an accountability case by hand: a department's record and a person with their post
    (workflows.accountability keeps the rule; a refusal is shown on the person's page)."""
    person = _person(request.form.get("person_id", type=db_int) or 0)
    record_id, post = request.form.get("record_id", type=db_int), request.form.get("post", "")
    try:
        with unit_of_work() as uow:
            case = open_accountability_by_hand(uow, record_id, person.id, post)
            uow.commit()
    except CaseError as exc:
        return _person_page(person, refused=translated(exc), chosen={"record_id": record_id, "post": post})
    flash(_("已启动问责案件 %(number)s。", number=case_no(case)), "success")
    return redirect(url_for("personnel.person", person_id=person.id))
