"""抄送 copy: a step's case copied to named people or roles; they read it, the sender sees who has."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from ..case_errors import CaseError
from ..messages import Message, N_
from ..models import Case, User, UserRole
from ..notifications import notify_users
from ..numbers import case_no
from .common import clean_reason, held_task, record_action, task_words
from .model import ApprovalAction, CaseCopy

COPY_ROLES = ("clerk", "reviewer", "leader", "manager")   # staff who read every case (workflows/access.py)


def _staff(session, user_ids, roles) -> list[User]:
    """The active staff members named, and every active holder of the roles."""
    ids = {i for i in user_ids if isinstance(i, int) and not isinstance(i, bool)}
    if len(ids) != len(set(user_ids)):
        raise CaseError(N_("请选择一位在职的工作人员"))
    named = session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    if len(named) != len(ids) or any(not u.active or not (u.role_codes & set(COPY_ROLES)) for u in named):
        raise CaseError(N_("请选择一位在职的工作人员"))
    by_role = session.scalars(select(User).join(UserRole).where(UserRole.role.in_(roles), User.active)).all() \
        if roles else []
    return list({u.id: u for u in [*named, *by_role]}.values())


def copy_case(uow, task_row_id: int, user_ids: list[int], roles: list[str], reason: str = "",
              expected_version: int | None = None) -> list:
    """Copy the case at this step to people and to every holder of roles. Returns the CaseCopy rows."""
    row, case = held_task(uow, task_row_id, "copy", expected_version)
    reason = clean_reason(reason, required=False)
    roles = sorted(set(roles or []))
    unknown = [r for r in roles if r not in COPY_ROLES]
    if unknown:
        raise CaseError(N_("未知角色：%(roles)s"), roles=", ".join(unknown))
    actor = uow.actor
    recipients = sorted((u for u in _staff(uow.session, list(user_ids or []), roles) if u.id != actor.user_id),
                        key=lambda u: u.id)
    if not recipients:
        raise CaseError(N_("请选择抄送的人员或角色"))
    action = record_action(uow, case, row, "copy", reason=reason,
                           data={"to": [u.username for u in recipients], "roles": roles})
    now = uow.clock.now()
    copies = [CaseCopy(case_id=case.id, action_id=action.id, user_id=u.id, created_at=now) for u in recipients]
    uow.session.add_all(copies)
    notify_users(uow, [u.id for u in recipients], "copied",
                 Message(N_("%(who)s 将案件 %(case)s（「%(task)s」）抄送给您"), who=actor.shown_name,
                         case=case_no(case), task=task_words(row)), f"/cases/{case.id}", case.id)
    return copies


def mark_copy_read(uow, case_id: int) -> int:
    """The actor opened a case copied to them: their unread copies of it are read. Returns how many."""
    if uow.actor.user_id is None:
        return 0
    result = uow.session.execute(update(CaseCopy).where(
        CaseCopy.case_id == case_id, CaseCopy.user_id == uow.actor.user_id, CaseCopy.read_at.is_(None))
        .values(read_at=uow.clock.now()).execution_options(synchronize_session=False))
    return result.rowcount or 0


@dataclass(frozen=True)
class CopyEntry:
    recipient: str          # display names
    sender: str
    task_name: str | None
    reason: str
    created_at: datetime
    read_at: datetime | None
    recipient_id: int | None = None
    case_id: int | None = None
    case_no: str = ""


def copies_of(session, case_id: int) -> list[CopyEntry]:
    """Who the case was copied to, by whom, at which step, and whether they have read it (oldest first)."""
    recipient, sender = aliased(User), aliased(User)
    rows = session.execute(
        select(CaseCopy, ApprovalAction, recipient.display_name, sender.display_name)
        .join(ApprovalAction, ApprovalAction.id == CaseCopy.action_id)
        .join(recipient, recipient.id == CaseCopy.user_id)
        .join(sender, sender.id == ApprovalAction.actor_id, isouter=True)
        .where(CaseCopy.case_id == case_id).order_by(CaseCopy.id)).all()
    return [CopyEntry(to or "", by or "", action.task_name, action.reason, copy.created_at, copy.read_at,
                      copy.user_id, copy.case_id) for copy, action, to, by in rows]


def copied_to(session, user_id: int, limit: int = 100) -> list[CopyEntry]:
    """The copies sent to a person, newest first (the inbox's 抄送我的), with the case's number."""
    sender = aliased(User)
    rows = session.execute(
        select(CaseCopy, ApprovalAction, sender.display_name, Case.process_key)
        .join(ApprovalAction, ApprovalAction.id == CaseCopy.action_id)
        .join(Case, Case.id == CaseCopy.case_id)
        .join(sender, sender.id == ApprovalAction.actor_id, isouter=True)
        .where(CaseCopy.user_id == user_id).order_by(CaseCopy.created_at.desc(), CaseCopy.id.desc())
        .limit(limit)).all()
    return [CopyEntry("", by or "", action.task_name, action.reason, copy.created_at, copy.read_at, copy.user_id,
                      copy.case_id, case_no(copy.case_id, key)) for copy, action, by, key in rows]
