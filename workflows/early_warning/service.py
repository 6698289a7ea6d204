"""Early warnings as their readers use them: who may see them (leaders and system administrators),
the list with its filters, the dashboard's open ones, a warning's sentence and link, acknowledging
one with a note, and evaluating the rules on demand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select

from ..case_errors import CaseError, Forbidden, NotFound
from ..messages import Message, N_, from_data
from ..models import Subject
from .model import EarlyWarning
from .rules import RULE_NAMES, RULE_TEXTS, rule_settings

READERS = ("leader", "admin")
STATES = {"open": N_("待处理"), "acknowledged": N_("已确认"), "resolved": N_("已解除")}
NOTE_LIMIT = 1000
LIST_LIMIT = 5000


class NoteRequired(CaseError):
    status = 422


def may_see_warnings(actor) -> bool:
    return bool(actor.roles.intersection(READERS))


def may_evaluate(actor) -> bool:
    """The "evaluate now" button: leaders (and administrators, who keep the system)."""
    return may_see_warnings(actor)


def _require(actor) -> None:
    if not may_see_warnings(actor):
        raise Forbidden(N_("只有分管领导和系统管理员可以查看预警"))


def state_of(w: EarlyWarning) -> str:
    if w.resolved_at is not None:
        return "resolved"
    return "acknowledged" if w.acknowledged_at is not None else "open"


def warning_text(w: EarlyWarning) -> Message:
    """The warning's sentence, shown in the reader's language."""
    params = {k: from_data(v) for k, v in (w.params or {}).items()}
    return Message(RULE_TEXTS.get(w.rule, "%(text)s"), **params)


def rule_name(rule: str) -> Message:
    return Message(RULE_NAMES.get(rule, rule))


def warning_link(w: EarlyWarning) -> str | None:
    """Where what it is about is shown: the case (a step, a commitment, a repair), the department's
    records, the reviewer's account. The page shows a link only where the reader may go."""
    if w.about == "department" and w.params.get("department"):
        return "/records?" + urlencode({"q": w.params["department"]})
    if w.case_id:
        return f"/cases/{w.case_id}"
    if w.about == "user" and w.about_id:
        return f"/system/users/{w.about_id}"
    return None


def link_for(actor, link: str | None) -> str | None:
    """`link` if the reader may open it: case staff the records and cases, administrators the accounts."""
    from ..access import may_administer_system, reads_every_case
    if not link:
        return None
    return link if (may_administer_system(actor) if link.startswith("/system/") else reads_every_case(actor)) else None


@dataclass
class WarningView:
    id: int
    rule: str
    rule_name: Message
    text: Message
    state: str
    link: str | None
    department: str | None
    raised_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None


def _views(session, actor, rows) -> list[WarningView]:
    ids = {w.department_id for w in rows if w.department_id}
    names = dict(session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(ids))).all()) if ids else {}
    return [WarningView(w.id, w.rule, rule_name(w.rule), warning_text(w), state_of(w), link_for(actor, warning_link(w)),
                        names.get(w.department_id), w.raised_at, w.last_seen_at, w.resolved_at,
                        w.acknowledged_by_name or w.acknowledged_by, w.acknowledged_at, w.acknowledgement_note)
            for w in rows]


def open_warnings(session, actor, limit: int = 10) -> list[WarningView]:
    """The newest unacknowledged warnings `actor` may see, at most `limit`."""
    if not may_see_warnings(actor):
        return []
    rows = session.scalars(select(EarlyWarning).where(EarlyWarning.resolved_at.is_(None),
                                                      EarlyWarning.acknowledged_at.is_(None))
                           .order_by(EarlyWarning.id.desc()).limit(limit)).all()
    return _views(session, actor, rows)


@dataclass(frozen=True)
class Filters:
    rule: str | None = None
    state: str | None = None             # open, acknowledged, resolved; None: every open one (both)
    department_id: int | None = None


def list_warnings(session, actor, filters: Filters, limit: int = LIST_LIMIT) -> list[WarningView]:
    _require(actor)
    query = select(EarlyWarning)
    if filters.rule in RULE_NAMES:
        query = query.where(EarlyWarning.rule == filters.rule)
    if filters.state == "resolved":
        query = query.where(EarlyWarning.resolved_at.is_not(None))
    elif filters.state == "acknowledged":
        query = query.where(EarlyWarning.resolved_at.is_(None), EarlyWarning.acknowledged_at.is_not(None))
    elif filters.state == "open":
        query = query.where(EarlyWarning.resolved_at.is_(None), EarlyWarning.acknowledged_at.is_(None))
    elif filters.state != "all":
        query = query.where(EarlyWarning.resolved_at.is_(None))
    if filters.department_id:
        query = query.where(EarlyWarning.department_id == filters.department_id)
    rows = session.scalars(query.order_by(EarlyWarning.id.desc()).limit(limit)).all()
    return _views(session, actor, rows)


def warning_departments(session) -> list[tuple[int, str]]:
    """The departments some warning is about (the filter's choices)."""
    return session.execute(select(Subject.id, Subject.name).where(
        Subject.id.in_(select(EarlyWarning.department_id).where(EarlyWarning.department_id.is_not(None))))
        .order_by(Subject.name)).all()


def acknowledge(uow, warning_id: int, note: str) -> EarlyWarning:
    """A reader acknowledges a warning with a note (required). Acknowledging it again (a double
    submit, or a second reader) keeps the first acknowledgement and changes nothing."""
    _require(uow.actor)
    w = uow.session.get(EarlyWarning, warning_id, with_for_update=True)
    if w is None:
        raise NotFound(N_("预警不存在"))
    if w.acknowledged_at is not None:
        return w
    note = (note or "").strip()
    if not note:
        raise NoteRequired(N_("请填写处理说明"))
    if len(note) > NOTE_LIMIT:
        raise NoteRequired(N_("处理说明不能超过 %(limit)s 字"), limit=NOTE_LIMIT)
    w.acknowledged_by, w.acknowledged_by_name = uow.actor.name, uow.actor.shown_name
    w.acknowledged_at, w.acknowledgement_note = uow.clock.now(), note
    uow.audit("warning.acknowledged", warning_id=w.id, rule=w.rule, key=w.key, note=note)
    return w


def evaluate_now(uow):
    """A leader's "evaluate now": the rules on the unit of work's day (no digest is sent)."""
    from .evaluate import evaluate_warnings
    if not may_evaluate(uow.actor):
        raise Forbidden(N_("只有分管领导和系统管理员可以运行预警评估"))
    return evaluate_warnings(uow)


def rules_in_force(settings) -> list[tuple[str, Message, dict]]:
    """Each rule with its thresholds as set (the page shows them)."""
    return [(name, rule_name(name), values) for name, values in rule_settings(settings).items()]
