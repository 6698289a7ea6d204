"""What routes need to call the services: the request's database session and a unit of work
bound to the current user, the app's clock and settings."""
from __future__ import annotations

from flask import abort, current_app, g, request
from flask_login import current_user

from workflows.clock import SYSTEM_CLOCK
from workflows.runtime import Actor, UnitOfWork


def db():
    """A read session for this request (closed at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["credflow.read_session_factory"]()
    return g.db


def clock():
    return current_app.config["CLOCK"] or SYSTEM_CLOCK


def actor() -> Actor:
    if not current_user.is_authenticated:
        abort(401)
    return current_user.actor


def unit_of_work() -> UnitOfWork:
    uow = UnitOfWork(current_app.extensions["credflow.session_factory"], actor(), clock(),
                     current_app.config["SETTINGS"])
    uow.after_commit(_refresh_reads)
    return uow


def _refresh_reads() -> None:
    """After a write, end the page's read transaction so what it shows next includes the write."""
    if "db" in g:
        g.db.rollback()


MAX_PAGE = 100_000


def page_arg(name: str = "page") -> int:
    """A page number from the query string, kept within what a database offset can take."""
    return min(max(1, request.args.get(name, 1, type=int) or 1), MAX_PAGE)


def safe_local_url(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    from urllib.parse import urlsplit
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and not urlsplit(target).netloc:
        return target
    return default
