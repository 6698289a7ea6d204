"""Public disclosure (信用公示): published records, no login. Revoked, repaired and expired
records are gone; records under objection carry the mark; civil servants' IDs are masked."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, or_, select

from workflows.models import Record, Subject

from ..context import db, page_arg

bp = Blueprint("public", __name__, url_prefix="/public")
PUBLIC_STATUSES = ("published",)
PER_PAGE = 20


def _published():
    return select(Record).join(Subject).where(Record.status.in_(PUBLIC_STATUSES))


@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()[:100]
    field = request.args.get("field") or None
    page = page_arg()
    query = _published()
    if q:
        # a citizen ID is searchable only as a whole number, never by parts
        query = query.where(or_(Subject.name.contains(q, autoescape=True), Subject.code == q.upper()))
    if field:
        query = query.where(Record.field == field)
    total = db().scalar(select(func.count()).select_from(query.subquery()))
    rows = db().scalars(query.order_by(Record.publication_start.desc(), Record.id.desc())
                        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return render_template("public/index.html", rows=rows, total=total, page=page, q=q, field=field,
                           pages=max(1, -(-total // PER_PAGE)))


@bp.get("/records/<int:record_id>")
def record(record_id):
    record = db().scalars(_published().where(Record.id == record_id)).first()
    if record is None:
        abort(404)
    return render_template("public/record.html", record=record)
