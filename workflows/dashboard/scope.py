"""Who sees the dashboard, and how much of it.

The whole city: leaders and system administrators. One department: the department's own portal
account (a `subject` account whose subject is a department, `user_account.subject_id`): it sees
the records of that department itself (not its civil servants': their records are personal data)
that the office has notified it of (the portal's rule, workflows/record_notice.py), and the steps
and applications on those records; not the office's workload per person. Anyone else: refused."""
from __future__ import annotations

from dataclasses import dataclass

from ..case_errors import Forbidden
from ..messages import N_
from ..models import Subject

CITY_ROLES = ("leader", "admin")


@dataclass(frozen=True)
class Scope:
    department_id: int | None = None     # None: the whole city

    @property
    def city_wide(self) -> bool:
        return self.department_id is None


def own_department(session, actor) -> int | None:
    """The department a subject account stands for, if it is a department's account."""
    if "subject" not in actor.roles or actor.subject_id is None:
        return None
    subject = session.get(Subject, actor.subject_id)
    return subject.id if subject is not None and subject.kind == "department" else None


def may_see_dashboard(session, actor) -> bool:
    return bool(actor.roles.intersection(CITY_ROLES)) or own_department(session, actor) is not None


def scope_of(session, actor) -> Scope:
    """The actor's view of the dashboard; Forbidden for anyone who has none."""
    if actor.roles.intersection(CITY_ROLES):
        return Scope()
    department = own_department(session, actor)
    if department is None:
        raise Forbidden(N_("只有分管领导、系统管理员和部门本单位账户可以查看监测看板"))
    return Scope(department)
