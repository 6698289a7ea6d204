"""The task inbox: reads only the human_task rows (never a workflow), with indexes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from .models import HumanTask
from .numbers import parse_number, tasks_numbered
from .runtime import Actor

STAFF_LANES = ("clerk", "reviewer", "leader")
TABS = ("mine", "group", "all")
SORTS = {"due": HumanTask.due_at, "created": HumanTask.created_at, "subject": HumanTask.subject_name,
         "task": HumanTask.name}


@dataclass
class InboxQuery:
    tab: str = "group"
    process: str | None = None
    task: str | None = None          # BPMN id of the task
    field: str | None = None
    severity: str | None = None
    subject: str | None = None       # part of the subject's name, or a record or case number
    overdue: bool = False
    sort: str = "due"
    descending: bool = False
    page: int = 1
    per_page: int = 25


@dataclass
class InboxPage:
    rows: list
    total: int
    page: int
    per_page: int
    counts: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def staff_lanes(actor: Actor) -> list[str]:
    return [lane for lane in STAFF_LANES if lane in actor.roles]


def _tab_condition(actor: Actor, tab: str):
    lanes = staff_lanes(actor)
    if tab == "mine":
        return HumanTask.assignee_id == actor.user_id
    if tab == "group":
        return and_(HumanTask.assignee_id.is_(None), HumanTask.lane.in_(lanes))
    if tab == "all" and "leader" in actor.roles:
        return HumanTask.lane.in_(STAFF_LANES)
    return HumanTask.id.is_(None)  # nothing


def task_filters(q: InboxQuery, now: datetime) -> list:
    """The WHERE conditions of an inbox query's filters (shared by the pages and the API)."""
    conditions = []
    if q.process:
        conditions.append(HumanTask.process_key == q.process)
    if q.task:
        conditions.append(HumanTask.bpmn_id == q.task)
    if q.field:
        conditions.append(HumanTask.field == q.field)
    if q.severity:
        conditions.append(HumanTask.severity == q.severity)
    if q.subject:
        by_name = HumanTask.subject_name.contains(q.subject.strip(), autoescape=True)
        number = parse_number(q.subject)
        conditions.append(or_(by_name, tasks_numbered(number)) if number else by_name)
    if q.overdue:
        conditions.append(HumanTask.due_at < now)
    return conditions


def tabs_for(actor: Actor) -> list[str]:
    return [t for t in TABS if t != "all" or "leader" in actor.roles]


def list_tasks(session, actor: Actor, q: InboxQuery, now: datetime) -> InboxPage:
    if q.tab not in tabs_for(actor):
        q.tab = "group"
    filters = task_filters(q, now)
    order = _order(q)
    page = max(1, q.page)
    per_page = min(max(1, q.per_page), 100)
    # ids first (an index-only walk, cheap even deep into the list), then just those rows
    ids = session.scalars(select(HumanTask.id).where(_tab_condition(actor, q.tab), *filters)
                          .order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    by_id = {r.id: r for r in session.scalars(select(HumanTask).where(HumanTask.id.in_(ids)))} if ids else {}
    rows = [by_id[i] for i in ids if i in by_id]
    counts = {tab: session.scalar(select(func.count()).select_from(HumanTask)
                                  .where(_tab_condition(actor, tab), *filters))
              for tab in tabs_for(actor)}
    return InboxPage(rows, counts[q.tab], page, per_page, counts)


def every_task(session, actor: Actor, q: InboxQuery, now: datetime, limit: int):
    """Every task (up to `limit`) of the tab and filters `list_tasks` pages through, in the same
    order: the whole list, for its export. Streamed in chunks, never all in memory at once."""
    if q.tab not in tabs_for(actor):
        q.tab = "group"
    query = (select(HumanTask).where(_tab_condition(actor, q.tab), *task_filters(q, now))
             .order_by(*_order(q)).limit(limit))
    return session.scalars(query.execution_options(yield_per=1000))


def _order(q: InboxQuery) -> list:
    column = SORTS.get(q.sort, HumanTask.due_at)
    return [column.desc() if q.descending else column.asc(), HumanTask.id]


def claim_next_task(uow, q: InboxQuery) -> HumanTask | None:
    """Claim the first task of the actor's group tab, in the tab's order and with its filters
    (the "next task" button). On PostgreSQL rows another user is claiming right now are skipped
    (SKIP LOCKED), so people pressing it together each get a different task instead of a conflict;
    on SQLite the unit of work's write lock already serializes them. None: the queue is empty."""
    actor = uow.actor
    query = (select(HumanTask).where(_tab_condition(actor, "group"), *task_filters(q, uow.clock.now()))
             .order_by(*_order(q)).limit(1))
    if uow.session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = uow.session.scalars(query).first()
    if row is None:
        return None
    row.assignee_id, row.claimed_at = actor.user_id, uow.clock.now()
    uow.audit("task.claimed", case_id=row.case_id, record_id=row.record_id, task=row.bpmn_id, task_row_id=row.id,
              next=True)
    return row


def visible_to(actor: Actor, row: HumanTask) -> bool:
    """Who may open a task's page: a task worker (clerk, reviewer, leader) who is its assignee,
    whose lane it is, or a leader; a subject-lane task, the accounts of its subject (the portal).
    Process managers and personnel read cases but open no task, whatever a lane is called."""
    if row.lane == "subject":
        return actor.subject_id is not None and actor.subject_id == row.subject_id
    if not staff_lanes(actor):
        return False
    return row.assignee_id == actor.user_id or row.lane in actor.roles or "leader" in actor.roles


def task_holders(session, rows) -> dict[int, str]:
    """task row id -> who holds it, for a page that names the step rather than linking it: the
    assignee's display name, or for a subject-lane task the subject's name; unclaimed: absent."""
    from .models import User
    ids = {r.assignee_id for r in rows if r.assignee_id}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    holders = {}
    for row in rows:
        if row.assignee_id in names:
            holders[row.id] = names[row.assignee_id]
        elif row.lane == "subject" and row.subject_name:
            holders[row.id] = row.subject_name
    return holders


__all__ = ["InboxQuery", "InboxPage", "claim_next_task", "list_tasks", "tabs_for", "visible_to", "staff_lanes", "task_holders"]
