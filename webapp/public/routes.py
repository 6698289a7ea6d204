"""Public disclosure (信用公示): published records, no login. Revoked, repaired and expired
records are gone; records under objection carry the mark; civil servants' IDs are masked."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import func, select

from workflows import access
from workflows.documents import find_by_code, verify_pdf
from workflows.models import Document, Record, Subject
from workflows.numbers import record_search

from ..context import db, page_arg

bp = Blueprint("public", __name__, url_prefix="/public")
PUBLIC_STATUSES = access.PUBLIC_STATUSES     # the rule pages that link here ask too (access.is_public)
PER_PAGE = 20
MAX_VERIFY_BYTES = 20 * 1024 * 1024


def _published():
    return select(Record).join(Subject).where(Record.status.in_(PUBLIC_STATUSES))


@bp.get("/")
def index():
    q = (request.args.get("q") or "").strip()[:100]
    field = request.args.get("field") or None
    page = page_arg()
    query = _published()
    if q:
        # a citizen ID is searchable only as a whole number, never by parts; a record by its
        # number (the public knows no case numbers)
        query = query.where(record_search(q, cases=False))
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


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Check a decision document: by its verification code, or by uploading the PDF itself."""
    result, document, code = None, None, (request.values.get("code") or "").strip()
    if request.method == "POST" and request.files.get("pdf"):
        data = request.files["pdf"].stream.read(MAX_VERIFY_BYTES + 1)
        if len(data) > MAX_VERIFY_BYTES:
            abort(413)
        result = verify_pdf(db(), data, current_app.config["SETTINGS"].office_name)
        document = result.document
    elif code:
        document = find_by_code(db(), code)
    return render_template("public/verify.html", result=result, document=document, code=code,
                           superseded_by=db().get(Document, document.superseded_by_id)
                           if document is not None and document.superseded_by_id else None)


@bp.get("/verify/<code>")
def verify_code(code):
    return redirect(url_for("public.verify", code=code))
