"""Serving aids: a health endpoint, a request id on every request, logs as one JSON object per
line (CREDFLOW_LOG_JSON=1, as under gunicorn in the README), and the command line's logging: the
console shows what a person needs (each command's own lines, warnings, errors) while every INFO
log (Alembic, WeasyPrint, fontTools, werkzeug's request lines, the worker) goes to
credflow.log in the instance folder."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from logging.handlers import RotatingFileHandler
from pathlib import Path

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


LOG_FILE = "credflow.log"
LOG_BYTES, LOG_BACKUPS = 5 * 1024 * 1024, 3       # credflow.log, then .1 .. .3
_OURS = "_credflow_cli"                          # marks the handlers configure_cli_logging added


class _InstanceLog(RotatingFileHandler):
    """credflow.log, opened (and its folder made) on the first line written."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def log_path() -> Path:
    return Path(os.environ.get("CREDFLOW_INSTANCE", "instance")).resolve() / LOG_FILE


def configure_cli_logging(verbose: bool = False) -> Path | None:
    """The `credflow` command's logging: INFO and up to the instance folder's credflow.log, only
    warnings and errors on the console (INFO too when `verbose`). Leaves logging alone when
    something else set it up first (pytest, an embedding program); CREDFLOW_LOG_JSON=1 logs JSON
    lines to the console instead. The log file's path, or None when there is none."""
    if os.environ.get("CREDFLOW_LOG_JSON") == "1":
        use_json_logs()
        return None
    root = logging.getLogger()
    if any(not getattr(h, _OURS, False) for h in root.handlers):
        return None
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    path = log_path()
    logfile = _InstanceLog(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True)
    logfile.setLevel(logging.INFO)
    logfile.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for handler in (console, logfile):
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("spiff").setLevel(logging.WARNING)
    return path


def serve_until_stopped(app, host: str, port: int) -> None:
    """The development server, without Flask's banner: one line once it listens (werkzeug's own
    start-up and request lines are INFO logs, in credflow.log); Ctrl+C stops it."""
    from werkzeug.serving import make_server
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        print(f"cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    shown = f"[{host}]" if ":" in host else host
    logfile = next((h.baseFilename for h in logging.getLogger().handlers if isinstance(h, _InstanceLog)), None)
    print(f"serving at http://{shown}:{server.port} (development server; Ctrl+C stops it)"
          + (f"; log: {logfile}" if logfile else ""), flush=True)
    server.serve_forever()


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
