"""Importing records from an .xlsx sheet (workflows/record_import): the upload page with its
template, and an import job's page (progress, then what was imported or every problem by row and
column). Clerks only; a job is seen by its uploader alone (webapp/import_views.py)."""
from __future__ import annotations

import io

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import select

from workflows.case_errors import CaseError
from workflows.import_jobs import ImportJob, max_upload_bytes
from workflows.numbers import record_no
from workflows.record_import.save import IMPORT_KIND, describe
from workflows.record_import.sheet import NOTES, RECORD_LIMITS, RECORD_SHEET, records_template
from workflows.sheet_reader import SheetError

from ..context import db
from ..import_views import job_status, start_import, visible_job
from ..translate import translated
from .routes import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _clerk_only() -> None:
    if not current_user.has_role("clerk"):
        abort(403)


def _upload_page(errors: list, status: int = 200):
    jobs = db().scalars(select(ImportJob).where(ImportJob.kind == IMPORT_KIND, ImportJob.created_by == current_user.id)
                        .order_by(ImportJob.id.desc()).limit(10)).all()
    return render_template("cases/record_import.html", errors=errors, columns=RECORD_SHEET, notes=NOTES, jobs=jobs,
                           max_rows=RECORD_LIMITS.max_rows, max_kb=max_upload_bytes(IMPORT_KIND) // 1024), status


@bp.route("/records/import", methods=["GET", "POST"])
def record_import():
    """The upload form; a posted sheet is stored with a job that a worker runs."""
    _clerk_only()
    if request.method == "GET":
        return _upload_page([])
    storage = request.files.get("sheet")
    if storage is None or not storage.filename:
        return _upload_page([_("请选择要导入的 .xlsx 文件。")], 422)
    try:
        job_id = start_import(IMPORT_KIND, storage)
    except (SheetError, CaseError) as exc:
        return _upload_page([translated(exc)], 422)
    return redirect(url_for("cases.record_import_job", job_id=job_id), 303)


@bp.get("/records/imports/<int:job_id>")
def record_import_job(job_id):
    _clerk_only()      # another clerk's job: 404 (visible_job)
    job = visible_job(IMPORT_KIND, job_id)
    result = job.result or {}
    numbers = [record_no(result[k]) for k in ("first_record", "last_record")] if result.get("first_record") else []
    return render_template("cases/record_import_job.html", job=job, numbers=numbers,
                           outcome=describe(result) if job.status == "done" else None,
                           status_url=url_for("cases.record_import_status", job_id=job.id))


@bp.get("/records/imports/<int:job_id>.json")
def record_import_status(job_id):
    _clerk_only()
    return job_status(IMPORT_KIND, job_id)


@bp.get("/records/import/template.xlsx")
def record_import_template():
    """The template to fill in, in the page's language: headers, two example rows, a notes sheet."""
    _clerk_only()
    english = str(get_locale() or "zh").startswith("en")
    data = records_template(db(), _, english)
    name = "credflow-records.xlsx" if english else "失信记录导入模板.xlsx"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=XLSX)
