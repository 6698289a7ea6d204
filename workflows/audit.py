"""Hash-chained audit events: each event's hash covers the previous one's."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import bindparam, case, insert, select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead

GENESIS = "0" * 64


def event_hash(prev_hash: str, at: datetime, actor: str, action: str, case_id, record_id, data) -> str:
    body = json.dumps([prev_hash, at.astimezone(timezone.utc).isoformat(timespec="microseconds"), actor, action, case_id, record_id, data],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def _chain(prev: str, pending: list[dict]) -> list[dict]:
    """The rows of `pending` chained after `prev`."""
    rows = []
    for item in pending:
        data = json.loads(json.dumps(item.get("data") or {}, default=str))
        digest = event_hash(prev, item["at"], item["actor"], item["action"], item.get("case_id"),
                            item.get("record_id"), data)
        rows.append({"at": item["at"], "actor": item["actor"], "action": item["action"],
                     "case_id": item.get("case_id"), "record_id": item.get("record_id"), "data": data,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


# The head this process last committed, per database. Only a guess that saves reading the head:
# the head moves only when it still holds exactly this hash (see append_events).
_LAST_HEADS: dict = {}
HEAD, EVENTS = AuditHead.__table__, AuditEvent.__table__
# the head moves from the hash guessed to the new one; any other head is set to itself (and locked)
MOVE_HEAD = (update(HEAD).where(HEAD.c.id == 1)
             .values(last_hash=case((HEAD.c.last_hash == bindparam("guess"), bindparam("new")), else_=HEAD.c.last_hash))
             .returning(HEAD.c.last_hash))
READ_HEAD = select(HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
SET_HEAD = update(HEAD).where(HEAD.c.id == 1).values(last_hash=bindparam("new"))
INSERT_EVENTS = insert(EVENTS)   # one executemany for all the events of a transaction
LAST_EVENT = select(EVENTS.c.id, EVENTS.c.hash).order_by(EVENTS.c.id.desc()).limit(1)


def append_events(session: Session, pending: list[dict]) -> str | None:
    """Append events at the end of a transaction; returns the chain's new head hash, for
    `remember_head` once the transaction has committed.

    The head row is written (and so locked until commit) before the events are inserted, which
    orders concurrent writers and their event ids. The usual case costs one UPDATE of the head and
    one INSERT of all events: the events are chained after the head this process last committed,
    and the UPDATE moves the head to the new hash only if it still holds that one; otherwise it
    sets the head to itself (taking the same lock) and returns it, and the events are chained
    again after the head as it really is."""
    if not pending:
        return None
    session.flush()   # the action's own writes go first: the head stays locked for as short a time as can be
    conn = session.connection()
    guess = _LAST_HEADS.get(conn.engine.url)
    if guess is not None:
        rows = _chain(guess, pending)
        head = conn.execute(MOVE_HEAD, {"guess": guess, "new": rows[-1]["hash"]}).scalar()
        if head != rows[-1]["hash"]:
            rows = None if head is None else _rechain(conn, head, pending)
    else:
        head = conn.execute(READ_HEAD).scalar()
        rows = None if head is None else _rechain(conn, head, pending)
    if rows is None:   # the first events ever: the head row is created
        rows = _chain(GENESIS, pending)
        conn.execute(insert(HEAD).values(id=1, last_hash=rows[-1]["hash"]))
    conn.execute(INSERT_EVENTS, rows)
    return rows[-1]["hash"]


def _rechain(conn, head: str, pending: list[dict]) -> list[dict]:
    """Chain after the head as read (and locked) and move the head to the new last hash."""
    rows = _chain(head, pending)
    conn.execute(SET_HEAD, {"new": rows[-1]["hash"]})
    return rows


def remember_head(session: Session, head: str | None) -> None:
    """After a commit: the head this process wrote, the guess for its next append."""
    if head is not None:
        _LAST_HEADS[session.get_bind().engine.url] = head


@dataclass
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""


def committed_head(session: Session) -> tuple[int, str] | None:
    """The id and hash of the last committed event (None before the first): one indexed read.
    Appends take the head's lock before inserting, so event ids follow the chain's order."""
    row = session.execute(LAST_EVENT).first()
    return None if row is None else (row.id, row.hash)


def verify_chain(session: Session, batch: int = 5000, visit=None) -> ChainReport:
    """Walk the chain from the first event; `visit(event, position)` is called for each event
    that links and hashes correctly (position counts from 1)."""
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
            if visit is not None:
                visit(ev, checked)
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, None, "the chain head does not match the last event (events deleted)")
    return ChainReport(True, checked)
