"""Standing delegation (委托) for a date range: while a person is on leave, tasks that would be
given to them go to their deputy, and both names show.

What "given to them" means lives in common.give_task (a step sent back to them, a transfer, a
leader's assignment, a countersign instance); a task the person had already claimed stays theirs
(nothing is moved in bulk). A person's leaves never overlap; the deputy is an active staff member
who is not on leave at the same time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from ..case_errors import CaseError, Forbidden, NotFound
from ..dates import as_date
from ..messages import Message, N_
from ..models import User, UserRole
from ..notifications import notify_users
from .common import clean_reason
from .model import StandingDelegation
from .policy import STAFF

ADMINISTERS_LEAVE = ("admin", "personnel")   # may record the leave of someone else


@dataclass(frozen=True)
class Leave:
    """A standing delegation as a page lists it, with both names."""
    id: int
    user_id: int
    user_name: str
    deputy_id: int
    deputy_name: str
    starts_on: date
    ends_on: date
    reason: str
    created_at: datetime
    cancelled_at: datetime | None


def _staff(session, user_id) -> User | None:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not (user.role_codes & set(STAFF)):
        return None
    return user


def _day(value) -> date:
    try:
        return as_date(value)
    except (TypeError, ValueError):
        raise CaseError(N_("日期无效。")) from None


def _overlapping(session, user_id: int, starts_on: date, ends_on: date) -> StandingDelegation | None:
    return session.scalars(select(StandingDelegation).where(
        StandingDelegation.user_id == user_id, StandingDelegation.cancelled_at.is_(None),
        StandingDelegation.starts_on <= ends_on, StandingDelegation.ends_on >= starts_on)
        .order_by(StandingDelegation.starts_on).limit(1)).first()


def _may_administer(actor, user_id: int) -> bool:
    return user_id == actor.user_id or bool(actor.roles & set(ADMINISTERS_LEAVE))


def set_leave(uow, deputy_id: int, starts_on, ends_on, reason: str = "", user_id: int | None = None):
    """Record a leave of the actor (or, for an administrator, of `user_id`). Returns the delegation."""
    session, actor = uow.session, uow.actor
    user_id = actor.user_id if user_id is None else user_id
    if not _may_administer(actor, user_id):
        raise Forbidden(N_("只能登记自己的休假"))
    # the person's row, locked: two leaves of one person recorded at once cannot both pass the overlap check
    person = session.scalars(select(User).where(User.id == user_id).with_for_update()).first()
    if person is None or _staff(session, person.id) is None:
        raise CaseError(N_("请选择一位在职的工作人员"))
    deputy = _staff(session, deputy_id)
    if deputy is None:
        raise CaseError(N_("请选择一位在职的工作人员"))
    if deputy.id == person.id:
        raise CaseError(N_("代理人不能是休假人本人"))
    starts_on, ends_on = _day(starts_on), _day(ends_on)
    if ends_on < starts_on:
        raise CaseError(N_("结束日期不能早于开始日期"))
    if ends_on < uow.clock.today():
        raise CaseError(N_("休假的结束日期已过"))
    clash = _overlapping(session, person.id, starts_on, ends_on)
    if clash is not None:
        raise CaseError(N_("与已登记的休假（%(start)s 至 %(end)s）重叠"), start=clash.starts_on.isoformat(),
                        end=clash.ends_on.isoformat())
    away = _overlapping(session, deputy.id, starts_on, ends_on)
    if away is not None:
        raise CaseError(N_("%(who)s 在 %(start)s 至 %(end)s 也在休假，请另选代理人"), who=deputy.display_name,
                        start=away.starts_on.isoformat(), end=away.ends_on.isoformat())
    reason = clean_reason(reason, required=False)
    leave = StandingDelegation(user_id=person.id, deputy_id=deputy.id, starts_on=starts_on, ends_on=ends_on,
                               reason=reason, created_at=uow.clock.now())
    session.add(leave)
    session.flush()
    uow.audit("approval.leave_set", delegation_id=leave.id, user=person.username, deputy=deputy.username,
              starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat(), reason=reason)
    notify_users(uow, [deputy.id], "leave_deputy", Message(
        N_("%(who)s 于 %(start)s 至 %(end)s 休假，期间交给其办理的任务由您代为办理。"), who=person.display_name,
        start=starts_on.isoformat(), end=ends_on.isoformat()), "/account/leave")
    return leave


def cancel_leave(uow, delegation_id: int) -> None:
    """Cancel a leave (its own person, or an administrator). Tasks already given to the deputy stay
    with the deputy."""
    leave = uow.session.scalars(select(StandingDelegation).where(StandingDelegation.id == delegation_id)
                                .with_for_update()).first() if isinstance(delegation_id, int) else None
    if leave is None or not _may_administer(uow.actor, leave.user_id):
        raise NotFound(N_("休假记录不存在"))
    if leave.cancelled_at is not None:
        raise CaseError(N_("此休假已取消"))
    leave.cancelled_at = uow.clock.now()
    uow.audit("approval.leave_cancelled", delegation_id=leave.id, user_id=leave.user_id, deputy_id=leave.deputy_id,
              starts_on=leave.starts_on.isoformat(), ends_on=leave.ends_on.isoformat())


def leaves_of(session, user_id: int) -> list:
    """The person's delegations (as absentee or as deputy), newest first."""
    person, deputy = aliased(User), aliased(User)
    query = (select(StandingDelegation, person.display_name, deputy.display_name)
             .join(person, person.id == StandingDelegation.user_id)
             .join(deputy, deputy.id == StandingDelegation.deputy_id)
             .where(or_(StandingDelegation.user_id == user_id, StandingDelegation.deputy_id == user_id))
             .order_by(StandingDelegation.starts_on.desc(), StandingDelegation.id.desc()).limit(200))
    return [Leave(d.id, d.user_id, user_name, d.deputy_id, deputy_name, d.starts_on, d.ends_on, d.reason or "",
                  d.created_at, d.cancelled_at) for d, user_name, deputy_name in session.execute(query)]


def deputy_choices(session, user_id: int) -> list[User]:
    """Who may stand in for the person: active staff members other than them, by name."""
    query = (select(User).where(User.active, User.id != user_id,
                                User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(STAFF))))
             .order_by(User.display_name, User.id))
    return list(session.scalars(query))
