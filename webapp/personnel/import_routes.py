"""A roster import's page: its progress while the worker reads it, then what was added or why
nothing was (every problem by row and column). Only its uploader sees it, while they are personnel
staff. Also the import template (.xlsx or .csv), headers in the page's language."""
from __future__ import annotations

import io

from flask import abort, render_template, send_file, url_for
from flask_babel import get_locale, gettext

from workflows.accountability import roster_template

from ..context import db
from ..import_views import job_status, visible_job
from .routes import bp

TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


@bp.get("/roster/imports/<int:job_id>")
def roster_import(job_id):
    job = visible_job("roster", job_id)
    return render_template("personnel/roster_import.html", job=job,
                           status_url=url_for("personnel.roster_import_status", job_id=job.id))


@bp.get("/roster/imports/<int:job_id>.json")
def roster_import_status(job_id):
    return job_status("roster", job_id)


@bp.get("/roster/template.<kind>")
def roster_template_file(kind):
    """The template to fill in: the headers, an example row (a department registered here) and,
    in the .xlsx, a second sheet saying what each column holds and the date format."""
    if kind not in TYPES:
        abort(404)
    english = str(get_locale() or "zh").startswith("en")
    data = roster_template(db(), kind, gettext, english)
    name = ("credflow-roster" if english else "任职名册导入模板") + f".{kind}"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=TYPES[kind])
