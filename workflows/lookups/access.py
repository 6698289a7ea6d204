"""Who may look up, whose look-ups they see, and who reads the monthly report. Each rule once:
the routes, the API and every link ask these."""
from __future__ import annotations

from sqlalchemy import select

from ..models import User

CHECKER = "checker"
OFFICE = ("clerk", "reviewer", "leader")           # the credit office's staff
LOOKUP_ROLES = (CHECKER, *OFFICE)


def may_look_up(actor) -> bool:
    """The look-up page /lookups/, the API's POST /lookups, the monthly report: checkers of any
    department and the credit office's staff."""
    return bool(actor.roles.intersection(LOOKUP_ROLES))


def sees_every_lookup(actor) -> bool:
    """The credit office's staff see every department's look-ups; a checker their department's."""
    return bool(actor.roles.intersection(OFFICE))


def department_of(session, actor) -> int | None:
    """The department the actor works for (user_account.department_id), if any."""
    if actor.user_id is None:
        return None
    return session.scalar(select(User.department_id).where(User.id == actor.user_id))


def may_open_lookup(session, actor, lookup) -> bool:
    """A look-up's page /lookups/<id> (and its outcome, extract and API): office staff any; a
    checker the look-ups of their own department, or their own when they belong to none."""
    if lookup is None or not may_look_up(actor):
        return False
    if sees_every_lookup(actor):
        return True
    department = department_of(session, actor)
    if department is None:
        return lookup.user_id == actor.user_id
    return lookup.department_id == department


def may_record_outcome(session, actor, lookup) -> bool:
    """After a hit, whether the deal went ahead: whoever may open the look-up."""
    return may_open_lookup(session, actor, lookup) and bool(lookup.hit)
