"""Errors of the JSON API: always `{"error": message, "fields": {...}}`, never an HTML page or a stack trace.
Messages are in the request's language (webapp._locale: `?lang=en` or Accept-Language; Chinese by default)."""
from __future__ import annotations

import logging


from flask import g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from workflows.cases import CalendarGap, CaseError
from workflows.forms import FormInvalid
from workflows.messages import N_

from ..translate import translated

from ..errors import RETRY_AFTER_S, database_unavailable, forget_failed_read_session
from . import bp

log = logging.getLogger("credflow.api")

class ApiError(Exception):
    """`message` and the `fields` values: text already in the request's language, or Messages."""

    def __init__(self, status: int, message, fields: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields, self.headers = status, message, fields, headers or {}


def error_response(status: int, message, fields: dict | None = None, headers: dict | None = None):
    body = {"error": translated(message)}
    if fields:
        body["fields"] = {str(k): translated(v) for k, v in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


# -- errors: JSON for everything under /api/v1/ -------------------------------------------------

MESSAGES = {400: N_("请求无效"), 401: N_("需要 API 令牌"), 403: N_("无权访问"), 404: N_("不存在"),
            405: N_("不支持此方法"), 409: N_("操作冲突"), 413: N_("请求过大"), 415: N_("需要 JSON（application/json）"),
            500: N_("服务器内部错误"), 503: N_("数据库暂时不可用，请稍后重试（先查看操作是否已生效）")}


def status_message(code: int, default: str = "") -> str:
    return _(MESSAGES[code]) if code in MESSAGES else default


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.message, exc.fields, exc.headers)


@bp.errorhandler(FormInvalid)
def _form_invalid(exc: FormInvalid):
    return error_response(422, _("表单有误"), exc.errors)


@bp.errorhandler(CaseError)
def _case_error(exc: CaseError):
    if isinstance(exc, CalendarGap):   # which year is missing, and where it is entered
        response = jsonify({"error": translated(exc), "calendar_year": exc.uncovered.year,
                            "calendar_page": exc.uncovered.link})
        response.status_code = exc.status
        return response
    return error_response(exc.status, translated(exc))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    code = exc.code or 500
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return error_response(code, status_message(code, exc.name), headers=headers)


@bp.errorhandler(Exception)
def _server_error(exc: Exception):
    extra = {"request_id": g.get("request_id"), "method": request.method, "path": request.path}
    forget_failed_read_session()
    if database_unavailable(exc):
        log.warning("database unavailable on %s %s", request.method, request.path, extra=extra)
        return error_response(503, status_message(503), headers={"Retry-After": str(RETRY_AFTER_S)})
    log.exception("unhandled API error on %s %s", request.method, request.path, extra=extra)
    return error_response(500, status_message(500))


class _UnroutedApiRequest(Exception):
    """A URL under /api/v1/ that matched no route (an unknown path, an id beyond the database's
    integer range, a method the path does not take). Such a request belongs to no blueprint, so
    the app's HTML error pages would answer it: this wrapper routes it to the JSON answer."""

    def __init__(self, original: HTTPException):
        super().__init__(original.description)
        self.original = original


@bp.before_app_request
def _unrouted_api_requests():
    exc = request.routing_exception
    if isinstance(exc, (NotFound, MethodNotAllowed)) and (request.path + "/").startswith(bp.url_prefix + "/"):
        request.routing_exception = _UnroutedApiRequest(exc)


@bp.app_errorhandler(_UnroutedApiRequest)
def _unrouted(exc: _UnroutedApiRequest):
    return http_error(exc.original)
