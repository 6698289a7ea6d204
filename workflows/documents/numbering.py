"""Document numbers 代字〔year〕N号: serials per kind and year, gapless and never shared.

The serial row is locked (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the writer lock taken at
BEGIN) and incremented in the transaction that stores the document, so a rolled-back issue gives
its number back and two issuers at the same moment queue for the row."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..models import DocumentSerial


def next_serial(session, kind: str, year: int) -> int:
    for _ in range(3):
        row = session.scalars(select(DocumentSerial).where(DocumentSerial.kind == kind, DocumentSerial.year == year)
                              .with_for_update()).first()
        if row is not None:
            row.last += 1
            session.flush()
            return row.last
        try:
            with session.begin_nested():
                session.add(DocumentSerial(kind=kind, year=year, last=1))
            return 1
        except IntegrityError:
            continue  # another issuer created the year's row first: lock it and go on
    raise RuntimeError(f"could not take a serial for {kind} {year}")


def format_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}〔{year}〕{serial}号"
