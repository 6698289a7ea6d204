"""Error pages in the app's style; nothing leaks a stack trace."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from workflows.cases import CaseError

log = logging.getLogger("credflow.web")

TITLES = {400: _l("请求无效"), 401: _l("请先登录"), 403: _l("无权访问"), 404: _l("页面不存在"), 409: _l("操作冲突"),
          413: _l("文件过大"), 429: _l("请求过于频繁"), 500: _l("服务器内部错误")}


def render_error(status: int, message: str | None = None):
    return render_template("errors/error.html", status=status, title=str(TITLES.get(status, _("出错了"))),
                           message=message), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"))

    @app.errorhandler(CaseError)
    def case_error(exc):
        return render_error(exc.status, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 401:
            from flask import redirect, url_for
            return redirect(url_for("auth.login", next=request.full_path))
        return render_error(exc.code or 500, exc.description if exc.code in (400, 409, 413) else None)

    @app.errorhandler(Exception)
    def server_error(exc):
        from flask import g
        log.exception("unhandled error on %s %s", request.method, request.path,
                      extra={"request_id": g.get("request_id"), "method": request.method, "path": request.path})
        if "db" in g:
            g.db.rollback()  # the page itself reads (notifications); not through a failed transaction
        return render_error(500, _("出错了，我们已记录此问题。请稍后重试。"))
