"""The opinions given beside the diagram (an added signer's answer, a delegate's handing back, a
countersigner's instance): kept as ApprovalAction rows with `data` {"approved": bool|None,
"opinion": str}, listed on the task page, the case page and in the dossier."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..models import User
from .model import ApprovalAction

OPINION_KINDS = ("sign", "resolve", "countersign")


@dataclass(frozen=True)
class Opinion:
    kind: str               # sign (加签), resolve (委派), countersign (会签)
    task_name: str | None
    bpmn_id: str | None
    who: str                # display name
    approved: bool | None
    opinion: str
    at: datetime


def opinions_of(session, case_id: int, task_id: str | None = None) -> list[Opinion]:
    """The case's opinions, oldest first (with `task_id`, those given on that workflow task)."""
    query = (select(ApprovalAction, User.display_name).join(User, User.id == ApprovalAction.actor_id, isouter=True)
             .where(ApprovalAction.case_id == case_id, ApprovalAction.kind.in_(OPINION_KINDS))
             .order_by(ApprovalAction.id))
    if task_id is not None:
        query = query.where(ApprovalAction.task_id == task_id)
    return [Opinion(a.kind, a.task_name, a.bpmn_id, name or "", a.data.get("approved"), a.data.get("opinion", ""),
                    a.created_at) for a, name in session.execute(query)]
