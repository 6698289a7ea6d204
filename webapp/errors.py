"""Error pages in the app's style; nothing leaks a stack trace."""
from __future__ import annotations

import logging

from flask import current_app, g, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from workflows.cases import CalendarGap, CaseError

from .translate import translated

log = logging.getLogger("credflow.web")

TITLES = {400: _l("请求无效"), 401: _l("请先登录"), 403: _l("无权访问"), 404: _l("页面不存在"), 409: _l("操作冲突"),
          413: _l("文件过大"), 429: _l("请求过于频繁"), 500: _l("服务器内部错误"), 503: _l("服务暂时不可用")}
RETRY_AFTER_S = 5


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a restart, a failover): the
    transaction was rolled back -- unless the connection dropped during the commit itself, when
    it may have landed; the user is told to reload and look before retrying."""
    return isinstance(exc, (OperationalError, InterfaceError))


def forget_failed_read_session() -> None:
    """Roll back this request's read session (the page reads notifications through it) and, when
    the database itself failed, drop it so nothing reuses a dead connection."""
    if "db" not in g:
        return
    try:
        g.db.rollback()
    except Exception:  # noqa: BLE001 -- a dead connection cannot roll back; closing discards it
        g.db.close()
        g.pop("db")


def render_error(status: int, message: str | None = None, link: tuple[str, str] | None = None):
    return render_template("errors/error.html", status=status, title=str(TITLES.get(status, _("出错了"))),
                           message=message, link=link), status


def calendar_gap_page(gap):
    """An action refused because a deadline falls in an uncovered year: say which year, and for the
    system administrator link to the calendar page where they enter it (anyone else is asked to
    tell them: the page would refuse them)."""
    from .templating import may_open
    link = (gap.link, _("打开工作日历（%(year)s 年）", year=gap.year)) if may_open("system") else None
    return render_error(409, translated(gap), link)


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(400, _("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"))

    @app.errorhandler(CaseError)
    def case_error(exc):
        if isinstance(exc, CalendarGap):
            return calendar_gap_page(exc.uncovered)
        return render_error(exc.status, translated(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 401:
            from flask import redirect, url_for
            return redirect(url_for("auth.login", next=request.full_path))
        return render_error(exc.code or 500, exc.description if exc.code in (400, 409, 413) else None)

    @app.errorhandler(Exception)
    def server_error(exc):
        extra = {"request_id": g.get("request_id"), "method": request.method, "path": request.path}
        if database_unavailable(exc):
            log.warning("database unavailable on %s %s: %s", request.method, request.path,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__, extra=extra)
            forget_failed_read_session()
            # The page must not reach for the database again: no signed-in user, no notice count.
            g._login_user = current_app.login_manager.anonymous_user()
            g.database_down = True
            body, status = render_error(503, _("数据库暂时不可用，请稍后重试；重试前可刷新页面，查看刚才的操作是否已生效。"))
            return body, status, {"Retry-After": str(RETRY_AFTER_S)}
        log.exception("unhandled error on %s %s", request.method, request.path, extra=extra)
        forget_failed_read_session()
        return render_error(500, _("出错了，我们已记录此问题。请稍后重试。"))
