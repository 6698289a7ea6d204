"""The complaints pages: the public form and status page (no login), and the complaint panels of
the staff's task and case pages. The rules are workflows/complaints's."""
from __future__ import annotations

import io
from datetime import timedelta

from flask import (Blueprint, current_app, redirect, render_template, request, send_file, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.complaints.guard import make_challenge, take_turn
from workflows.complaints.service import (ComplaintForm, ComplaintInvalid, check_form, complaint_no,
                                          complaint_of_record, file_complaint, identity_panel,
                                          letter_by_code, public_uploader, status_by_code)
from workflows.runtime import Actor, UnitOfWork

from ..context import clock, db
from ..translate import translated
from ..uploads import UploadRefused, store_upload

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
MAX_FILES = 10
# the stages of workflows/complaints/model.STAGES as the complainant and the staff read them
STAGE = {"registering": _l("已收到，待登记"), "refused": _l("不予受理"), "verifying": _l("已受理，核查中"),
         "deciding": _l("核查完毕，待决定"), "unfounded": _l("已办结：投诉不属实"),
         "founded": _l("已办结：投诉属实，已启动失信记录认定")}


def _settings():
    return current_app.config["SETTINGS"]


def _turn(kind: str, limit: int) -> bool:
    """Whether this address may make one more public request of `kind` in the window."""
    settings = _settings()
    return take_turn(current_app.extensions["credflow.session_factory"], kind, request.remote_addr or "",
                     clock().now(), limit, timedelta(hours=settings.complaint_window_hours))


def _limited():
    return render_template("complaints/limited.html"), 429


def _render_form(form: ComplaintForm, errors: dict, status: int = 200):
    challenge = make_challenge(current_app.config["SECRET_KEY"], clock().now(), _settings().complaint_challenge_minutes)
    shown = {name: (message if isinstance(message, str) else translated(message)) for name, message in errors.items()}
    return render_template("complaints/new.html", form=form, errors=shown, challenge=challenge,
                           max_mb=round(current_app.config["MAX_UPLOAD_BYTES"] / 1048576, 1),
                           max_files=MAX_FILES), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _render_form(ComplaintForm(), {})
    if not _turn("post", _settings().complaint_posts_per_address):
        return _limited()
    values = request.form
    form = ComplaintForm(concerned=values.get("concerned", ""), facts=values.get("facts", ""),
                         happened_on=values.get("happened_on", ""), anonymous=values.get("anonymous") == "yes",
                         contact_name=values.get("contact_name", ""), contact_phone=values.get("contact_phone", ""),
                         contact_email=values.get("contact_email", ""),
                         challenge_token=values.get("challenge_token", ""),
                         challenge_answer=values.get("challenge_answer", ""))
    files = [f for f in request.files.getlist("evidence") if f and f.filename]
    errors: dict = {}
    uow = UnitOfWork(current_app.extensions["credflow.session_factory"], Actor.system("public"), clock(), _settings())
    with uow:
        ids = []
        if len(files) > MAX_FILES:
            errors["evidence"] = _("最多上传 %(count)s 个文件", count=MAX_FILES)
        else:
            try:
                uploader = public_uploader(uow) if files else None
                ids = [store_upload(uow.session, f, None, uploader, uow.clock.now()).id for f in files]
            except UploadRefused as exc:
                errors["evidence"] = str(exc)
        if errors:   # the other fields' problems are said at the same time
            errors = {**check_form(form.clean(), uow.clock.today(), current_app.config["SECRET_KEY"], uow.clock.now()),
                      **errors}
        else:
            try:
                complaint, code = file_complaint(uow, form, ids, current_app.config["SECRET_KEY"])
                uow.commit()
            except ComplaintInvalid as exc:
                errors = exc.errors
            else:
                session["complaint_filed"] = {"code": code, "number": complaint_no(complaint)}
                return redirect(url_for("complaints.done"))
    return _render_form(form.clean(), errors, 422)


@bp.get("/done")
def done():
    """The query code, shown once: after this page it is nowhere but with the complainant."""
    filed = session.pop("complaint_filed", None)
    if not filed:
        return redirect(url_for("complaints.status"))
    return render_template("complaints/done.html", code=filed["code"], number=filed["number"])


@bp.route("/status", methods=["GET", "POST"])
def status():
    if request.method == "GET":
        return render_template("complaints/status.html", result=None, asked=False)
    if not _turn("status", _settings().complaint_status_lookups_per_address):
        return _limited()
    result = status_by_code(db(), request.form.get("code", ""))
    return render_template("complaints/status.html", result=result, asked=True,
                           code=request.form.get("code", "") if result else "")


@bp.post("/status/letter")
def letter():
    """The signed reply letter, for the query code posted (never in a URL)."""
    if not _turn("status", _settings().complaint_status_lookups_per_address):
        return _limited()
    document = letter_by_code(db(), request.form.get("code", ""))
    if document is None:   # a wrong code: the same answer as the status page's, nothing told
        return render_template("complaints/status.html", result=None, asked=True)
    return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{document.number}.pdf")


# -- on the staff's pages ----------------------------------------------------------------------

@bp.app_template_global()
def complaint_panel(case_id: int):
    """The complaint panel of a task or case page (None for a case that is no complaint)."""
    actor = current_user.actor if current_user.is_authenticated else None
    return identity_panel(db(), actor, case_id)


@bp.app_template_global()
def complaint_source(record_id: int | None):
    """The complaint a record came from: (number, its case id), or None."""
    complaint = complaint_of_record(db(), record_id)
    return (complaint_no(complaint), complaint.case_id) if complaint else None


@bp.app_template_global()
def complaint_stage_label(stage: str) -> str:
    return str(STAGE.get(stage, stage))
