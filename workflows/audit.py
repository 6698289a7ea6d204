"""Hash-chained audit events: each event's hash covers the previous one's."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, case_id, record_id, data) -> str:
    body = json.dumps([prev_hash, at.astimezone(timezone.utc).isoformat(timespec="microseconds"), actor, action, case_id, record_id, data],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def append_events(session: Session, pending: list[dict]) -> list[AuditEvent]:
    """Append events at the end of a transaction. Locking the head row orders concurrent writers."""
    if not pending:
        return []
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        session.add(head)
    prev = head.last_hash
    events = []
    for item in pending:
        data = json.loads(json.dumps(item.get("data") or {}, default=str))
        digest = event_hash(prev, item["at"], item["actor"], item["action"], item.get("case_id"),
                            item.get("record_id"), data)
        events.append(AuditEvent(at=item["at"], actor=item["actor"], action=item["action"],
                                 case_id=item.get("case_id"), record_id=item.get("record_id"),
                                 data=data, prev_hash=prev, hash=digest))
        prev = digest
    session.add_all(events)
    head.last_hash = prev
    return events


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    prev, checked, last_id = GENESIS, 0, 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                               .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            if ev.prev_hash != prev:
                return ChainReport(False, checked, ev.id, "its prev_hash does not match the event before it")
            expected = event_hash(prev, ev.at, ev.actor, ev.action, ev.case_id, ev.record_id, ev.data)
            if expected != ev.hash:
                return ChainReport(False, checked, ev.id, "its content does not match its hash (edited)")
            prev, checked, last_id = ev.hash, checked + 1, ev.id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, None, "the chain head does not match the last event (events deleted)")
    return ChainReport(True, checked)
