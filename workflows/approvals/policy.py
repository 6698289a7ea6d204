"""Who may take which approval action, per process and task (ApprovalPolicy rows; `task` '*' is
every task of the process). An entry is a list of role codes (the holder must have one of them) or
'holder' (whoever holds the task). Without a row the defaults hold: leaders may send back and add
signers; any holder may transfer, delegate and copy; the person who completed a step may withdraw
it; any staff member may urge."""
from __future__ import annotations

from sqlalchemy import select

from ..messages import N_
from .model import ApprovalPolicy

HOLDER = "holder"
STAFF = ("clerk", "reviewer", "leader")
DEFAULTS: dict[str, list[str]] = {
    "send_back": ["leader"],
    "add_signer": ["leader"],
    "transfer": [HOLDER],
    "delegate": [HOLDER],
    "copy": [HOLDER],
    "withdraw": [HOLDER],
    "urge": list(STAFF),
}
POLICY_ACTIONS = tuple(DEFAULTS)
ACTION_TITLES = {"send_back": N_("退回"), "add_signer": N_("加签"), "transfer": N_("转办"),
                 "delegate": N_("委派"), "copy": N_("抄送"), "withdraw": N_("撤回"), "urge": N_("催办")}


def allowed_for(session, process_key: str, task: str | None, action: str) -> list[str]:
    """The entry in force: the task's own row, else the process's '*' row, else the default."""
    rows = {r.task: r.allowed for r in session.scalars(
        select(ApprovalPolicy).where(ApprovalPolicy.process_key == process_key, ApprovalPolicy.action == action,
                                     ApprovalPolicy.task.in_([task or "*", "*"])))}
    if task in rows:
        return list(rows[task])
    if "*" in rows:
        return list(rows["*"])
    return list(DEFAULTS.get(action, []))


def permits(allowed: list[str], roles) -> bool:
    """Whether a holder with these roles is allowed by an entry."""
    return HOLDER in allowed or any(role in allowed for role in roles)


def may(session, actor, process_key: str, task: str | None, action: str) -> bool:
    return permits(allowed_for(session, process_key, task, action), actor.roles)


def set_policy(uow, process_key: str, task: str, action: str, allowed: list[str] | None) -> None:
    """Set (or with None, drop back to the default) who may take `action` on a task ('*': all)."""
    from ..case_errors import CaseError
    if action not in DEFAULTS:
        raise CaseError(N_("未知的审批操作 %(action)s"), action=action)
    row = uow.session.get(ApprovalPolicy, (process_key, task, action))
    if allowed is None:
        if row is not None:
            uow.session.delete(row)
    else:
        if row is None:
            row = ApprovalPolicy(process_key=process_key, task=task, action=action)
            uow.session.add(row)
        row.allowed, row.updated_by, row.updated_at = sorted(set(allowed)), uow.actor.name, uow.clock.now()
    uow.audit("approval.policy_set", process=process_key, task=task, approval_action=action, allowed=allowed)
