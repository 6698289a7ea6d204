"""A roster import's page: its progress while the worker reads it, then what was added or why
nothing was (every bad row named). Only its uploader sees it, while they are personnel staff."""
from __future__ import annotations

from flask import render_template, url_for

from ..import_views import job_status, visible_job
from .routes import bp


@bp.get("/roster/imports/<int:job_id>")
def roster_import(job_id):
    job = visible_job("roster", job_id)
    return render_template("personnel/roster_import.html", job=job,
                           status_url=url_for("personnel.roster_import_status", job_id=job.id))


@bp.get("/roster/imports/<int:job_id>.json")
def roster_import_status(job_id):
    return job_status("roster", job_id)
