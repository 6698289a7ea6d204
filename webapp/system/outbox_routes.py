"""The outbox (邮件发送), for admins: how many messages wait, are being sent, were sent or failed;
failed messages with the server's last answer, and a retry. Thin: workflows.outbox.admin."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.outbox.admin import OutboxError, outbox_overview, retry_message

from ..context import clock, db, db_int, unit_of_work
from ..translate import translated
from . import bp
from .user_routes import admin_only


@bp.get("/outbox")
@admin_only
def outbox():
    return render_template("system/outbox.html", view=outbox_overview(db(), clock().now()))


@bp.post("/outbox/retry")
@admin_only
def outbox_retry():
    message_id = request.form.get("message_id", type=db_int)
    if message_id is None:
        abort(400)
    try:
        with unit_of_work() as uow:
            retry_message(uow, message_id)
            uow.commit()
    except OutboxError as exc:
        flash(translated(exc), "danger")
    else:
        flash(_("已重新排队，稍后由后台发送。"), "success")
    return redirect(url_for("system.outbox"))
