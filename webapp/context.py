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


MAX_DB_INT = 2 ** 31 - 1


def db_int(value: str) -> int:
    """A number posted for an id or a count, as `request.form.get(name, type=db_int)` reads it:
    digits only, within the database's integer range; anything else reads as absent."""
    if not (value.isascii() and value.isdigit() and len(value) <= 10) or int(value) > MAX_DB_INT:
        raise ValueError(f"not an id: {value[:20]!r}")
    return int(value)


def safe_local_url(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: no open redirects, and nothing a
    Location header cannot carry (control characters, newlines) or a browser reads as another
    site (`//host`, `/\\host`, backslashes)."""
    from urllib.parse import urlsplit
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or 127 <= ord(c) < 160 for c in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target
