"""The sharing upward page (/sharing), for the credit office's case workers and the system
administrators (workflows.sharing.access): each item's state, platform, change and deadline, the
overdue ones marked; retry a rejected item; export a batch and download it; upload an ack file.
Thin: parse, call workflows.sharing with the current user, render."""
from __future__ import annotations

import io
from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.sharing.access import SharingError, may_use_sharing
from workflows.sharing.changes import CHANGES
from workflows.sharing.exchange import FILE_FORMATS, MAX_ACK_BYTES, export_batch, file_bytes, import_ack
from workflows.sharing.model import STATES
from workflows.sharing.service import Filters, batch_file, overview, retry_item

from ..context import clock, db, db_int, page_arg, unit_of_work
from ..exports import wants_xlsx
from .sheet import sharing_sheet
from ..translate import translated

bp = Blueprint("sharing", __name__, url_prefix="/sharing")
TYPES = {"json": "application/json", "csv": "text/csv"}


def sharing_staff(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not may_use_sharing(current_user.actor):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _platforms():
    return tuple(current_app.config["SETTINGS"].sharing_platforms)


def _page(problems=(), status: int = 200):
    filters = Filters.parse(request.args, _platforms())
    view = overview(db(), current_user.actor, clock().now(), filters, page_arg())
    return render_template("sharing/index.html", view=view, filters=filters, platforms=_platforms(),
                           states=STATES, changes=CHANGES, formats=FILE_FORMATS, problems=problems), status


@bp.get("")
@sharing_staff
def index():
    if wants_xlsx():
        return sharing_sheet(Filters.parse(request.args, _platforms()))
    return _page()


@bp.post("/retry")
@sharing_staff
def retry():
    item_id = request.form.get("item_id", type=db_int)
    if item_id is None:
        abort(400)
    try:
        with unit_of_work() as uow:
            item = retry_item(uow, item_id)
            uow.commit()
    except SharingError as exc:
        flash(translated(exc), "danger")
    else:
        flash(_("条目 %(item)s 已重新排队，将随下一批次报送（第 %(n)s 次）。", item=item.id, n=item.attempts), "success")
    return redirect(url_for("sharing.index"))


@bp.post("/export")
@sharing_staff
def export():
    platform, file_format = request.form.get("platform", ""), request.form.get("format", "json")
    if platform not in _platforms() or file_format not in FILE_FORMATS:
        abort(400)
    with unit_of_work() as uow:
        batch = export_batch(uow, platform, file_format)
        uow.commit()
    if batch is None:
        flash(_("没有待报送的条目。"), "info")
        return redirect(url_for("sharing.index"))
    flash(_("已生成批次 %(batch)s（%(count)s 条）。", batch=batch.number, count=batch.item_count), "success")
    return redirect(url_for("sharing.index", _anchor=f"batch-{batch.id}"))


@bp.get("/batches/<int:batch_id>")
@sharing_staff
def batch_download(batch_id):
    batch = batch_file(db(), current_user.actor, batch_id)
    if batch is None:
        abort(404)
    with unit_of_work() as uow:    # the file carries personal data: who took it is kept
        uow.audit("sharing.downloaded", batch=batch.number)
        uow.commit()
    return send_file(io.BytesIO(file_bytes(batch)), mimetype=TYPES[batch.file_format], as_attachment=True,
                     download_name=batch.file_name)


@bp.post("/ack")
@sharing_staff
def ack():
    upload = request.files.get("file")
    data = upload.read(MAX_ACK_BYTES + 1) if upload else b""
    if not data:
        return _page([_("请选择确认文件。")], 400)
    try:
        with unit_of_work() as uow:
            result = import_ack(uow, data)
            uow.commit()
    except SharingError as exc:
        return _page([translated(exc), *(translated(p) for p in exc.problems[:50])], 422)   # the first 50
    flash(_("批次 %(batch)s 的确认已导入：接收 %(accepted)s 条，退回 %(rejected)s 条，已导入过 %(unchanged)s 条。",
            batch=result.batch, accepted=result.accepted, rejected=result.rejected, unchanged=result.unchanged),
          "success")
    return redirect(url_for("sharing.index"))
