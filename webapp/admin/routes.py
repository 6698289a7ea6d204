"""Process managers: definitions and versions, the diagram of any version, upload, diff, migration."""
from __future__ import annotations

import threading

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.diff import diff_definitions
from workflows.engine.bundle import InvalidBundle
from workflows.migration import blocked_reason, fail_job, plan, run_job, start_job
from workflows.models import MigrationJob, ProcessDefinition, ProcessDraft
from workflows.numbers import case_no
from workflows.process_admin import (deploy_upload, draft_candidates, main_file, open_upload_as_draft,
                                     process_versions)

from ..context import actor, clock, db, db_int, unit_of_work
from ..input_guard import own_text_check
from ..input_limits import DIAGRAM_TEXT_LIMIT
from ..security_headers import stored_file
from ..translate import translated


bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _managers_only():
    if not current_user.has_role("manager"):
        abort(403)


def _definition(definition_id: int) -> ProcessDefinition:
    return db().get(ProcessDefinition, definition_id) or abort(404)


@bp.get("/")
def index():
    drafts = {d.key: d for d in db().scalars(select(ProcessDraft))}
    return render_template("admin/index.html", processes=process_versions(db()), drafts=drafts)


@bp.get("/definitions/<int:definition_id>")
def definition(definition_id):
    d = _definition(definition_id)
    return render_template("admin/definition.html", definition=d, file_name=main_file(d)[0])


@bp.get("/definitions/<int:definition_id>/diagram.bpmn")
def download(definition_id):
    d = _definition(definition_id)
    name, xml = main_file(d)
    # always a download (the viewer's fetch reads it all the same): stored XML may carry script
    return stored_file(xml, f"{d.key}-v{d.version}.bpmn", "application/xml")


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    problems, results, refused = [], [], None
    if request.method == "POST":
        storage = request.files.get("bpmn")
        if storage is None or not storage.filename:
            problems = [{"file": "", "element": "", "name": "", "reason": _("请选择 .bpmn 文件")}]
        else:
            data = storage.stream.read(2 * 1024 * 1024 + 1)
            with unit_of_work() as uow:
                try:
                    results = deploy_upload(uow, storage.filename, data)
                    uow.commit()
                except InvalidBundle as exc:
                    problems = [p.as_dict(translated) for p in exc.problems]
                    refused = _refused_upload(storage.filename, data)
    status = 422 if problems else 200
    return render_template("admin/upload.html", problems=problems, results=results, refused=refused), status


def _refused_upload(file_name: str, data: bytes) -> dict | None:
    """What the refused-upload page needs to show the diagram and offer it to the editor."""
    candidates = draft_candidates(file_name, data)
    if not candidates:
        return None
    drafts = {d.key: d for d in db().scalars(select(ProcessDraft).where(
        ProcessDraft.key.in_([key for key, _ in candidates])))}
    return {"file_name": file_name, "xml": data.decode("utf-8"), "candidates": candidates, "drafts": drafts}


@bp.post("/upload/draft")
@own_text_check(bpmn_xml=DIAGRAM_TEXT_LIMIT)   # the diagram's own check says on which line
def upload_draft():
    """A refused upload stored as the process's draft, then opened in the editor."""
    file_name, xml, key = (request.form.get(k, "") for k in ("file_name", "bpmn_xml", "key"))
    with unit_of_work() as uow:
        try:
            open_upload_as_draft(uow, file_name or f"{key}.bpmn", xml, key)
            uow.commit()
        except InvalidBundle as exc:
            problems = [p.as_dict(translated) for p in exc.problems]
            return render_template("admin/upload.html", problems=problems, results=[], refused=None), 422
    flash(_("已存为草稿：问题已标在流程图中，修改后即可部署。"), "success")
    return redirect(url_for("admin.editor", key=key))


@bp.get("/processes/<key>/diff")
def diff(key):
    versions = db().scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                            .order_by(ProcessDefinition.version)).all()
    if not versions:
        abort(404)
    by_id = {d.id: d for d in versions}
    a = by_id.get(request.args.get("a", type=db_int)) or (versions[-2] if len(versions) > 1 else versions[0])
    b = by_id.get(request.args.get("b", type=db_int)) or versions[-1]
    layout = request.args.get("layout") == "1"
    changes = diff_definitions(a, b, layout=layout)
    return render_template("admin/diff.html", key=key, versions=versions, a=a, b=b, changes=changes, layout=layout)


@bp.route("/processes/<key>/migrate", methods=["GET", "POST"])
def migrate(key):
    versions = db().scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                            .order_by(ProcessDefinition.version)).all()
    if not versions:
        abort(404)
    by_id = {d.id: d for d in versions}
    source = by_id.get(request.values.get("source", type=db_int)) or versions[0]
    target = by_id.get(request.values.get("target", type=db_int)) or versions[-1]
    if request.method == "POST":
        if source.id == target.id:
            flash(_("源版本与目标版本相同。"), "error")
            return redirect(url_for("admin.migrate", key=key))
        with unit_of_work() as uow:
            job = start_job(uow, source, target)
            uow.commit()
        _run_in_background(job.id)
        return redirect(url_for("admin.migration", job_id=job.id))
    movable, blocked = plan(db(), source, target)
    return render_template("admin/migrate.html", key=key, versions=versions, source=source, target=target,
                           movable=movable, blocked=blocked)


def _run_in_background(job_id: int) -> None:
    app = current_app._get_current_object()
    factory = app.extensions["credflow.session_factory"]
    who, when, settings = actor(), clock(), app.config["SETTINGS"]

    def work():
        try:
            run_job(factory, job_id, who, when, settings)
        except Exception as exc:  # noqa: BLE001 -- the job shows as failed; the log has the cause
            fail_job(factory, job_id, repr(exc))
    threading.Thread(target=work, name=f"migration-{job_id}", daemon=True).start()


@bp.get("/migrations/<int:job_id>")
def migration(job_id):
    job = db().get(MigrationJob, job_id) or abort(404)
    return render_template("admin/migration.html", job=job)


@bp.get("/migrations/<int:job_id>.json")
def migration_progress(job_id):
    db().expire_all()
    job = db().get(MigrationJob, job_id) or abort(404)
    blocked = [{"case_id": b["case_id"], "reason": translated(blocked_reason(b)), "number": case_no(b["case_id"], job.key)}
               for b in job.blocked]

    return jsonify(status=job.status, total=job.total, done=job.done, moved=job.moved, blocked=blocked)
