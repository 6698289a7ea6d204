"""Log in (workflows/login.py: equal password work for every username, attempts throttled
atomically), log out, switch language. A login opens a session row on the server
(workflows/sessions.py); the cookie is honoured only while that row lives."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from workflows.login import LoginLimits, log_in
from workflows.models import User
from workflows.sessions import end_session, needs_touch, signed_in, touch
from workflows.runtime import Actor

from .. import login_manager
from ..context import clock, db, safe_local_url

bp = Blueprint("auth", __name__)


class SessionUser(UserMixin):
    """The logged-in user as the web layer sees it: a detached snapshot, not a live row."""

    def __init__(self, user: User, session_id: int | None = None):
        self.id = user.id
        self.session_id = session_id          # the user_session row of this browser (None: an API token)
        self.must_change_password = bool(user.must_change_password)
        self.username = user.username
        self.display_name = user.display_name
        self.roles = frozenset(user.role_codes)
        self.subject_id = user.subject_id
        self.actor = Actor.of(user)

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a live server-side session (one query); a copied cookie of an ended session
    is nobody. last_seen_at is written at most once a minute."""
    if not (user_id.isdigit() and len(user_id) < 10):
        return None
    found = signed_in(db(), int(user_id), session.get("sid"))
    if found is None:
        return None
    user, session_id, last_seen = found
    now = clock().now()
    if needs_touch(last_seen, now):
        with current_app.extensions["credflow.session_factory"]() as writer:
            touch(writer, session_id, now)
            writer.commit()
    return SessionUser(user, session_id)


def _limits() -> LoginLimits:
    config = current_app.config
    return LoginLimits(config["LOGIN_FAILURE_LIMIT"], config["LOGIN_FAILURE_LIMIT_PER_ADDRESS"],
                       timedelta(minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"]))


def _safe_next(target: str | None) -> str:
    return safe_local_url(target, _landing())


def _landing() -> str:
    """Where a user starts: subjects in the portal, staff in the inbox, personnel staff at the
    integrity files (the record list refuses them), administrators at the accounts, others at the
    record list."""
    if current_user.is_authenticated and current_user.has_role("subject"):
        return url_for("portal.index")
    if current_user.is_authenticated and not current_user.has_role("clerk", "reviewer", "leader"):
        if current_user.has_role("personnel") and not current_user.has_role("manager"):
            return url_for("personnel.index")
        if current_user.has_role("admin") and not current_user.has_role("manager"):
            return url_for("system.users")
        if current_user.has_role("checker") and not current_user.has_role("manager"):
            return url_for("lookups.index")
        return url_for("cases.records")
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:80]
        password = request.form.get("password", "")
        attempt = log_in(db(), current_app.extensions["credflow.session_factory"], username, password,
                         request.remote_addr or "?", request.headers.get("User-Agent", ""), clock().now(), _limits())
        if attempt.throttled:
            error = _("登录失败次数过多，请 %(minutes)s 分钟后再试。",
                      minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
            status = 429
        elif attempt.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session at login (no fixation); the language choice stays
            if lang:
                session["lang"] = lang
            session["sid"] = attempt.session_id
            login_user(SessionUser(attempt.user))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        else:
            error = _("用户名或密码错误。")
            status = 401
    return render_template("auth/login.html", error=error), status


@bp.post("/logout")
@login_required
def logout():
    """Ends this browser's session row too: a copy of the cookie is logged out as well."""
    if current_user.session_id is not None:
        with current_app.extensions["credflow.session_factory"]() as writer:
            end_session(writer, current_user.session_id, clock().now(), "logout")
            writer.commit()
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(_landing())


@bp.get("/notifications")
@login_required
def notifications():
    """One's notifications; a link only where one may still go, and under a note about a task
    finished since, who finished it and when (workflows/notification_view.py)."""
    from workflows.notification_view import notification_entries
    from workflows.notifications import notifications_of
    items = notification_entries(db(), current_user.actor, notifications_of(db(), current_user.id))
    return render_template("auth/notifications.html", items=items)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    from workflows.notifications import mark_read
    from ..context import unit_of_work
    with unit_of_work() as uow:
        mark_read(uow, current_user.id)
        uow.commit()
    return redirect(url_for("auth.notifications"))
