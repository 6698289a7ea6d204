"""Who is calling the API: a bearer token acts as its user (an `Actor`); a session cookie means nothing here."""
from __future__ import annotations


from flask import current_app, g, request
from flask_babel import gettext as _

from workflows.access import PERSONNEL, is_subject_account, may_list_records, reads_every_case, works_tasks
from workflows.accounts import user_for_token
from workflows.clock import SYSTEM_CLOCK
from workflows.runtime import Actor, UnitOfWork

from ..context import db
from . import bp
from .errors import ApiError


# -- authentication -----------------------------------------------------------------------------

@bp.before_request
def _authenticate():
    from .. import login_manager
    from ..auth.routes import SessionUser
    g._login_user = login_manager.anonymous_user()   # a session cookie means nothing here
    if request.endpoint == "api.openapi_document":
        return
    scheme, _space, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, _("需要 API 令牌（Authorization: Bearer …）"),
                       headers={"WWW-Authenticate": 'Bearer realm="credflow"'})
    user = user_for_token(db(), token, api_clock().now())    # revoked or expired: None
    if user is None:
        raise ApiError(401, _("令牌无效、已过期、已撤销或其用户已停用"),
                       headers={"WWW-Authenticate": 'Bearer realm="credflow", error="invalid_token"'})
    g.api_actor = Actor.of(user)
    g._login_user = SessionUser(user)      # for the access log: who made the request


def api_actor() -> Actor:
    return g.api_actor


def api_clock():
    return current_app.config["CLOCK"] or SYSTEM_CLOCK


def unit_of_work() -> UnitOfWork:
    uow = UnitOfWork(current_app.extensions["credflow.session_factory"], api_actor(), api_clock(),
                     current_app.config["SETTINGS"])
    uow.after_commit(refresh_reads)
    return uow


def refresh_reads() -> None:
    """After a write, end the request's read transaction so the response shows the write."""
    if "db" in g:
        g.db.rollback()


# Who may read what here is the web's rule (workflows/access.py), page kind by page kind: the
# records as the staff record list, cases as the staff case page, tasks as the inbox; a subject
# account sees what its portal shows.

def reads_records(actor: Actor) -> bool:
    return may_list_records(actor)


def reads_staff_cases(actor: Actor) -> bool:
    """Whoever the staff case page lets in to ask (case staff, personnel); may_open_case decides."""
    return reads_every_case(actor) or PERSONNEL in actor.roles


def is_subject(actor: Actor) -> bool:
    return is_subject_account(actor)


def subject_only(actor: Actor) -> bool:
    """A subject account that works no staff task: its tasks are the portal's."""
    return is_subject(actor) and not works_tasks(actor)


def forbidden() -> ApiError:
    return ApiError(403, _("您的角色无权访问"))
