"""What routes need to call the services: the request's database session and a unit of work
bound to the current user, the app's clock and settings."""
from __future__ import annotations

from flask import abort, current_app, g
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
