"""Production serving aids: a health endpoint, a request id on every request, and logs as one
JSON object per line (CREDFLOW_LOG_JSON=1, as under gunicorn in the README)."""
from __future__ import annotations

import json
import logging
import os
import time
import uuid

from flask import g, jsonify, request
from sqlalchemy import text

access_log = logging.getLogger("credflow.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage()}
        for key in ("request_id", "method", "path", "status", "duration_ms", "user"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("spiff").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def register(app) -> None:
    if os.environ.get("CREDFLOW_LOG_JSON") == "1":
        use_json_logs()

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.endpoint != "static":
            # the user the request already loaded, if any: a log line must not cost a query
            user = g.get("_login_user")
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "request_id": g.get("request_id"), "method": request.method, "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
                "user": user.username if user is not None and user.is_authenticated else None})
        return response

    @app.get("/healthz")
    def health():
        try:
            with app.extensions["credflow.read_session_factory"]() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 -- any database failure is "unhealthy"
            return jsonify(status="unavailable", database=type(exc).__name__), 503
        return jsonify(status="ok", database="ok")
