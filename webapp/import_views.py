"""What the import pages share (workflows.import_jobs runs the imports): the upload is stored
with a queued job and the page of the job answers at once; its bar polls the job's JSON status
(static/import_progress.js) and the page shows the outcome once the worker is done."""
from __future__ import annotations

from flask import abort, jsonify

from workflows.case_errors import NotFound
from workflows.import_jobs import ImportJob, enqueue_import, job_for, max_upload_bytes, status_of

from .context import actor, db, unit_of_work


def start_import(kind: str, storage) -> int:
    """The upload stored with a queued job: its id. A file over the size bound is a SheetError."""
    data = storage.stream.read(max_upload_bytes(kind) + 1)     # one byte more than the kind takes says "too large"
    with unit_of_work() as uow:
        job = enqueue_import(uow, kind, storage.filename, data)
        uow.commit()
    return job.id


def visible_job(kind: str, job_id: int) -> ImportJob:
    """The job as it is now, for its uploader; 404 for anyone else."""
    db().expire_all()
    try:
        return job_for(db(), actor(), kind, job_id)
    except NotFound:
        abort(404)


def job_status(kind: str, job_id: int):
    response = jsonify(status_of(visible_job(kind, job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
