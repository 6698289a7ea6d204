"""The credflow web app: `create_app(config=None)`."""
from __future__ import annotations

import logging
import os
from datetime import timedelta

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from workflows.db import (default_database_url, instance_folder, make_engine, make_read_session_factory,
                          make_session_factory)
from workflows.settings import load_settings

csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
LANGUAGES = ("zh_CN", "en")


def _env_config() -> dict:
    """Settings from CREDFLOW_* environment variables."""
    env = os.environ
    config = {}
    if env.get("CREDFLOW_SECRET_KEY"):
        config["SECRET_KEY"] = env["CREDFLOW_SECRET_KEY"]
    if env.get("CREDFLOW_SECURE_COOKIES"):
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = env["CREDFLOW_SECURE_COOKIES"] == "1"
    if env.get("CREDFLOW_TRUSTED_PROXIES"):
        config["TRUSTED_PROXIES"] = int(env["CREDFLOW_TRUSTED_PROXIES"])
    if env.get("CREDFLOW_MAX_UPLOAD_MB"):
        config["MAX_UPLOAD_BYTES"] = int(float(env["CREDFLOW_MAX_UPLOAD_MB"]) * 1024 * 1024)
    return config


def _secret_key(folder) -> str:
    """A random key kept in the instance folder, so sessions survive restarts without a default."""
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    folder = instance_folder()
    app = Flask(__name__, instance_path=str(folder))
    app.config.update(
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_UPLOAD_BYTES=10 * 1024 * 1024,
        UPLOAD_FOLDER=str(folder / "uploads"),
        LOGIN_FAILURE_LIMIT=5, LOGIN_FAILURE_LIMIT_PER_ADDRESS=20, LOGIN_FAILURE_WINDOW_MINUTES=15,
        TRUSTED_PROXIES=0,
        BABEL_DEFAULT_LOCALE="zh_CN", BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        WTF_CSRF_TIME_LIMIT=None,
        CLOCK=None, SETTINGS=None,
    )
    app.config.update(_env_config())
    app.config.update(config or {})
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(folder)
    # Uploads are checked against MAX_UPLOAD_BYTES per file; the request limit leaves room for several.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_BYTES"] * 5 + 1024 * 1024
    app.config["SETTINGS"] = app.config["SETTINGS"] or load_settings()

    engine = make_engine(app.config["DATABASE_URL"] or default_database_url())
    app.extensions["credflow.session_factory"] = make_session_factory(engine)
    app.extensions["credflow.read_session_factory"] = make_read_session_factory(engine)

    # ids in URLs beyond the database's integer range are simply not found (not a server error)
    app.url_map.converters["int"] = BoundedIntConverter
    if app.config.get("TRUSTED_PROXIES"):
        # behind a reverse proxy: the client address comes from X-Forwarded-For (for login throttling)
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    babel.init_app(app, locale_selector=_locale, timezone_selector=lambda: "Asia/Shanghai")

    from . import (account, admin, api, auth, cases, errors, inbox, observability, personnel, portal, public, system,
                   templating)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(personnel.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(system.bp)
    app.register_blueprint(account.bp)
    from . import approvals; app.register_blueprint(approvals.bp)   # 退回, 转办, 加签, 抄送 ... on the pages
    from . import commitments, complaints, lookups, sharing   # issue 18's areas, a blueprint each
    for area in (complaints, lookups, commitments, sharing):
        app.register_blueprint(area.bp)
    from . import dashboard, early_warning, evaluation   # issue 19's areas
    for area in (dashboard, early_warning, evaluation):
        app.register_blueprint(area.bp)
    csrf.exempt(api.bp)   # bearer tokens, not session cookies
    errors.register(app)
    templating.register(app)
    observability.register(app)
    from . import security_headers; security_headers.register(app)   # CSP, nosniff, ... on every response
    from .input_guard import check_request; app.before_request(check_request)   # one input boundary (400 naming the field)
    from . import startup; startup.register(app, serving=config is None)   # warn if no public URL; warm the documents

    @app.teardown_appcontext
    def _close_session(_exc):
        db = g.pop("db", None)
        if db is None:
            return
        try:
            db.close()
        except DBAPIError:
            # The database dropped the connection after the page had read what it needed (a
            # restart): ending a read transaction cannot fail the answer. Discard the connection.
            logging.getLogger("credflow.web").warning("read session could not be closed; connection discarded")
            db.invalidate()

    logging.getLogger("spiff").setLevel(logging.WARNING)
    return app


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _locale() -> str:
    """Pages: `?lang=` (kept in the session), else the session's choice, else Chinese. The JSON API
    keeps no session: `?lang=` for this request, else the Accept-Language header's preference
    between the two, else Chinese."""
    lang = request.args.get("lang")
    if request.path == "/api/v1" or request.path.startswith("/api/v1/"):
        if lang in LANGUAGES:
            return lang
        return request.accept_languages.best_match(LANGUAGES, default="zh_CN") or "zh_CN"
    if lang in LANGUAGES:
        session["lang"] = lang
    return session.get("lang", "zh_CN")
