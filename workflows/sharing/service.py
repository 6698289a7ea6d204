"""The sharing page's reads and its retry: items with their state, platform, change, deadline
and whether they are overdue (not acknowledged by the end of their 3rd working day after the
event), filtered; the recent batches; a rejected item queued again."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..messages import N_
from ..models import Record
from ..numbers import record_no
from .access import SharingError, require_sharing
from .changes import CHANGES
from .model import STATES, SharingBatch, SharingItem

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    platform: str = ""
    state: str = ""
    change: str = ""
    overdue: bool = False

    @classmethod
    def parse(cls, args, platforms) -> "Filters":
        """From a query string: unknown values are ignored (the filter is off)."""
        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""
        return cls(pick("platform", platforms), pick("state", STATES), pick("change", CHANGES),
                   args.get("overdue") in ("1", "on", "true"))


def is_overdue(item: SharingItem, now: datetime) -> bool:
    return item.state != "acknowledged" and item.due_at is not None and item.due_at < now


def _overdue_clause(now: datetime):
    return (SharingItem.state != "acknowledged") & SharingItem.due_at.is_not(None) & (SharingItem.due_at < now)


@dataclass
class Row:
    item: SharingItem
    record_no: str
    subject_name: str
    overdue: bool
    batch_number: str | None


@dataclass
class Overview:
    rows: list[Row]
    total: int
    page: int
    pages: int
    counts: dict[str, int]          # per state
    overdue: int
    batches: list[SharingBatch] = field(default_factory=list)


def overview(session, actor, now: datetime, filters: Filters, page: int = 1) -> Overview:
    require_sharing(actor)
    query = _items(filters, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = session.scalars(query.order_by(SharingItem.id.desc()).offset((page - 1) * PAGE_SIZE)
                            .limit(PAGE_SIZE)).all()
    rows = _rows(session, items, now)
    counts = dict.fromkeys(STATES, 0)
    counts.update(dict(session.execute(select(SharingItem.state, func.count()).group_by(SharingItem.state)).all()))
    overdue = session.scalar(select(func.count()).select_from(SharingItem).where(_overdue_clause(now))) or 0
    recent = session.scalars(select(SharingBatch).order_by(SharingBatch.id.desc()).limit(10)).all()
    return Overview(rows, total, page, pages, counts, overdue, recent)


def every_row(session, actor, now: datetime, filters: Filters, limit: int):
    """Every item (up to `limit`) the overview's filters select, newest first: the whole list, for
    its export, in chunks of a thousand."""
    require_sharing(actor)
    items = session.scalars(_items(filters, now).order_by(SharingItem.id.desc()).limit(limit)
                            .execution_options(yield_per=1000))
    for chunk in items.partitions():
        yield from _rows(session, chunk, now)


def _items(filters: Filters, now: datetime):
    query = select(SharingItem)
    if filters.platform:
        query = query.where(SharingItem.platform == filters.platform)
    if filters.state:
        query = query.where(SharingItem.state == filters.state)
    if filters.change:
        query = query.where(SharingItem.change == filters.change)
    if filters.overdue:
        query = query.where(_overdue_clause(now))
    return query


def _rows(session, items, now: datetime) -> list[Row]:
    batches = {b.id: b.number for b in session.scalars(select(SharingBatch).where(
        SharingBatch.id.in_({i.batch_id for i in items if i.batch_id})))}
    records = {r.id: r for r in session.scalars(select(Record).options(selectinload(Record.subject))
                                                .where(Record.id.in_({i.record_id for i in items})))}
    return [Row(i, record_no(i.record_id), (records[i.record_id].subject.name if i.record_id in records else ""),
                is_overdue(i, now), batches.get(i.batch_id)) for i in items]


def retry_item(uow, item_id: int) -> SharingItem:
    """Queue a rejected item again for its next batch (attempts + 1); its deadline stays."""
    require_sharing(uow.actor)
    item = uow.session.get(SharingItem, item_id, with_for_update=True)
    if item is None:
        raise SharingError(N_("报送条目 %(item)s 不存在"), item=item_id)
    if item.state != "rejected":
        raise SharingError(N_("报送条目 %(item)s 未被退回，无需重新报送"), item=item_id)
    item.state, item.batch_id, item.attempts = "queued", None, item.attempts + 1
    uow.audit("sharing.retried", record_id=item.record_id, item=item.id, platform=item.platform,
              attempts=item.attempts, reason=item.rejection_reason)
    return item


def batch_file(session, actor, batch_id: int) -> SharingBatch | None:
    require_sharing(actor)
    return session.get(SharingBatch, batch_id)
