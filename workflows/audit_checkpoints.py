"""Signed checkpoints of the audit chain: the last event's id and hash and the number of events at
one moment, signed with the office's certificate (a detached CMS signature, the same key the
decision documents are signed with). A checkpoint anchors the chain outside its own table: the
events it names cannot be deleted or rewritten without `verify-audit` saying so.

The timer worker makes one a day (kind 'daily', one per date: two workers racing both try, the
unique index lets one win); `credflow audit-checkpoint` makes one now (kind 'manual'). Each can
also be written to a folder outside the database as two files, the signed statement (JSON) and its
signature (.p7s, DER), which `openssl cms -verify -binary -inform DER -content X.json -in X.json.p7s
-CAfile office.pem` checks as well."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Date, Index, LargeBinary, String, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .audit import committed_head
from .documents.signing import sign_detached, verify_detached
from .models import AuditEvent, Base
from .runtime import Actor, UnitOfWork

log = logging.getLogger("credflow.audit")
STATEMENT_FORMAT = "credflow-audit-checkpoint/1"
KINDS = ("daily", "manual")


class AuditCheckpoint(Base):
    """The chain's head at one moment, signed. Every column but who made it and when is signed."""
    __tablename__ = "audit_checkpoint"
    __table_args__ = (Index("uq_audit_checkpoint_daily", "day", unique=True,
                            sqlite_where=text("kind = 'daily'"), postgresql_where=text("kind = 'daily'")),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))        # daily | manual
    day: Mapped[date] = mapped_column(Date)              # the office's date (China Standard Time)
    last_event_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int]                             # events in the chain up to last_event_id
    signature: Mapped[bytes] = mapped_column(LargeBinary)   # detached CMS (DER) over statement()
    made_at: Mapped[datetime]
    made_by: Mapped[str] = mapped_column(String(80))

    @property
    def label(self) -> str:
        return f"checkpoint #{self.id} ({self.kind}, {self.day.isoformat()})"

    def statement(self) -> bytes:
        return statement(self.kind, self.day, self.last_event_id, self.last_hash, self.event_count)


def statement(kind: str, day: date, last_event_id: int, last_hash: str, event_count: int) -> bytes:
    """The canonical bytes that are signed: compact JSON with sorted keys."""
    return json.dumps({"format": STATEMENT_FORMAT, "kind": kind, "date": day.isoformat(),
                       "last_event_id": last_event_id, "last_hash": last_hash, "event_count": event_count},
                      sort_keys=True, separators=(",", ":")).encode()


def make_checkpoint(session_factory, clock, settings, kind: str = "manual",
                    made_by: str = "cli") -> AuditCheckpoint | None:
    """Sign the chain's head as committed now. None when there is no event yet, or when this is a
    daily checkpoint and another worker made today's first."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of checkpoint '{kind}'")
    with UnitOfWork(session_factory, Actor.system(made_by), clock, settings) as uow:
        head = committed_head(uow.session)
        if head is None:
            return None
        last_id, last_hash = head
        count = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.id <= last_id))
        checkpoint = AuditCheckpoint(kind=kind, day=clock.today(), last_event_id=last_id, last_hash=last_hash,
                                     event_count=count, signature=b"", made_at=clock.now(), made_by=made_by)
        checkpoint.signature = sign_detached(checkpoint.statement(), settings.office_name)
        uow.session.add(checkpoint)
        try:
            uow.session.flush()
        except IntegrityError:   # the unique daily index: another worker's checkpoint of today won
            return None
        uow.commit()
    return checkpoint


def daily_checkpoint_exists(session_factory, day: date) -> bool:
    with session_factory() as session:
        return session.scalar(select(AuditCheckpoint.id).where(AuditCheckpoint.kind == "daily",
                                                               AuditCheckpoint.day == day)) is not None


def make_daily_checkpoint(session_factory, clock, settings) -> AuditCheckpoint | None:
    """At most one a day, whatever the number of workers; exported when a folder is set. A pass
    that finds today's costs one indexed read."""
    if daily_checkpoint_exists(session_factory, clock.today()):
        return None
    checkpoint = make_checkpoint(session_factory, clock, settings, kind="daily", made_by="timer-worker")
    if checkpoint is not None:
        log.info("audit %s signed at event #%d", checkpoint.label, checkpoint.last_event_id)
        if settings.audit_checkpoint_folder:
            try:
                export_checkpoint(checkpoint, settings.audit_checkpoint_folder)
            except OSError:   # the row is made; the export can be written again with the CLI
                log.exception("could not write %s to %s", checkpoint.label, settings.audit_checkpoint_folder)
    return checkpoint


def checkpoint_signature_valid(checkpoint: AuditCheckpoint, office_name: str) -> bool:
    return verify_detached(checkpoint.statement(), checkpoint.signature, office_name)


# -- files outside the database ------------------------------------------------------------------

def export_checkpoint(checkpoint: AuditCheckpoint, folder: str | os.PathLike) -> Path:
    """Write the statement and its signature (`<name>.json`, `<name>.json.p7s`); returns the first."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-checkpoint-{checkpoint.day.isoformat()}-{checkpoint.kind}-{checkpoint.id}.json"
    for target, data in ((path.with_name(path.name + ".p7s"), checkpoint.signature), (path, checkpoint.statement())):
        tmp = target.with_name(f".{target.name}.part-{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(target)
    return path


@dataclass(frozen=True)
class CheckpointFile:
    path: Path
    statement: bytes
    signature: bytes | None

    @property
    def fields(self) -> dict:
        return json.loads(self.statement)


def checkpoint_files(path: str | os.PathLike) -> list[CheckpointFile]:
    """A statement file (or its .p7s), or every statement in a folder, each with its signature."""
    path = Path(path)
    if path.is_dir():
        statements = sorted(p for p in path.glob("audit-checkpoint-*.json") if p.is_file())
    else:
        statements = [path.with_suffix("") if path.suffix == ".p7s" else path]
    found = []
    for item in statements:
        signature = item.with_name(item.name + ".p7s")
        found.append(CheckpointFile(item, item.read_bytes(), signature.read_bytes() if signature.exists() else None))
    return found


def read_checkpoint_file(item: CheckpointFile, office_name: str) -> tuple[dict | None, str]:
    """The statement's fields when the signature is the office's, else None and why not."""
    if item.signature is None:
        return None, f"no signature file {item.path.name}.p7s next to it"
    if not verify_detached(item.statement, item.signature, office_name):
        return None, "its signature is not valid with the office certificate (edited, or signed by another key)"
    try:
        fields = item.fields
        if fields.get("format") != STATEMENT_FORMAT:
            return None, f"not a {STATEMENT_FORMAT} statement"
        return fields, ""
    except ValueError:
        return None, "not a checkpoint statement (JSON)"
