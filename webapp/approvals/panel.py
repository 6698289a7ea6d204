"""What the pages show of the approval actions: for a task page, the actions its viewer may take
now with their choices (steps to send back to, colleagues, staff), the notice, the added signers,
the opinions and the countersign; for a case page, the step the viewer may withdraw, the steps they
may urge, the copies with their read status and the opinions; for the inbox, which rows are
countersign instances. Read-only: the rules are the services' (workflows/approvals)."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from workflows.approvals import available, copies, countersign, handover, send_back, signers, urge, withdraw
from workflows.approvals.common import holds
from workflows.approvals.model import CaseCopy
from workflows.approvals.opinions import opinions_of
from workflows.models import Case, HumanTask, User

COPY_ROLES = ("clerk", "reviewer", "leader", "manager")
POSITIONS = ("before", "after")


def _names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}


def step_row(session, row: HumanTask) -> HumanTask | None:
    """An added signer's row: the step it was added to (None once the step has moved on)."""
    if row.kind != "added_signer" or not row.parent_task_id:
        return None
    return session.scalar(select(HumanTask).where(HumanTask.case_id == row.case_id,
                                                  HumanTask.task_id == row.parent_task_id).limit(1))


def notice_of(session, row: HumanTask) -> dict | None:
    """The row's notice with the display name of who caused it."""
    notice = dict(row.notice or {})
    if not notice:
        return None
    if not notice.get("by_name") and notice.get("by"):
        notice["by_name"] = session.scalar(select(User.display_name).where(User.username == notice["by"])) \
            or notice["by"]
    return notice


def task_panel(session, actor, row: HumanTask, today) -> SimpleNamespace:
    """The task page's approval actions for this viewer (who may do what: workflows.approvals.available)."""
    case = session.get(Case, row.case_id)
    allowed = {name: available.may_take(session, actor, row, name, today) for name in available.STEP_ACTIONS}
    panel = SimpleNamespace(
        allowed=allowed, holder=holds(actor, row), delegated=available.delegated_to(session, actor, row),
        version=case.version if case else None, notice=notice_of(session, row),
        signing=available.may_take(session, actor, row, "sign", today),
        may_urge=available.may_take(session, actor, row, "urge", today),
        targets=[], candidates=[], staff=[], roles=COPY_ROLES, positions=POSITIONS, signers=[], removable=set(),
        opinions=opinions_of(session, row.case_id), countersign=None, names={}, step=step_row(session, row))
    if allowed["send_back"]:
        panel.targets = send_back.send_back_targets(session, row)
    if allowed["transfer"]:
        panel.candidates = handover.transfer_candidates(session, actor, row)
    if allowed["delegate"] or allowed["add_signer"] or allowed["copy"]:
        panel.staff = available.staff_members(session, actor)
    if row.kind == "task":
        panel.signers = signers.added_signers(session, row)
        panel.removable = {a.id for a in available.removable_signers(session, actor, row)}
        panel.countersign = countersign.countersign_of(session, row)
    panel.names = _names(session, [row.owner_id])
    return panel


def case_panel(session, actor, case: Case, tasks, today) -> SimpleNamespace:
    """The case page's approval actions for this viewer."""
    running = case.status == "running"
    return SimpleNamespace(
        version=case.version,
        withdrawable=withdraw.withdrawable(session, actor, case) if running else None,
        urgeable={t.id for t in tasks if running and urge.may_urge(session, actor, t, today)},
        copies=copies.copies_of(session, case.id), opinions=opinions_of(session, case.id))


def countersign_rows(session, rows) -> set[int]:
    """Which of these task rows are countersign (会签) instances: their task is marked so in the
    process (one look at each version's parsed specs, which are cached)."""
    from workflows.definitions import specs_for
    from workflows.dossier import task_properties
    rows = [r for r in rows if r.kind == "task"]
    if not rows:
        return set()
    versions = dict(session.execute(select(Case.id, Case.definition_id)
                                    .where(Case.id.in_({r.case_id for r in rows}))).all())
    marked: dict[tuple[int, str], bool] = {}
    found = set()
    for r in rows:
        key = (versions.get(r.case_id), r.bpmn_id)
        if key not in marked:
            marked[key] = key[0] is not None and bool(
                task_properties(specs_for(session, key[0]), r.bpmn_id).get(countersign.PROPERTY))
        if marked[key]:
            found.add(r.id)
    return found



def timeline_people(events) -> set[str]:
    """The user names the approval events of a timeline name (the person acted on, copied to)."""
    people = set()
    for e in events:
        if not e.action.startswith("approval."):
            continue
        if e.data.get("target"):
            people.add(e.data["target"])
        if e.action == "approval.copy" and isinstance(e.data.get("to"), list):
            people.update(str(u) for u in e.data["to"])
    return people


def unread_copy(session, case_id: int, user_id: int) -> bool:
    """The case was copied to the person and they have not opened it since (a cheap look before
    the case page writes the read time)."""
    return session.scalar(select(CaseCopy.id).where(CaseCopy.case_id == case_id, CaseCopy.user_id == user_id,
                                                    CaseCopy.read_at.is_(None)).limit(1)) is not None
