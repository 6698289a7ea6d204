"""The tables of look-ups (逢办必查) (migration 0011): every look-up with what it found, and the
indexes a look-up needs on the tables it reads."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, Record

# a subject's published records, read by every look-up (bench/lookup_api.py)
RECORD_BY_SUBJECT_STATUS = Index("ix_record_subject_status", Record.subject_id, Record.status)


class Lookup(Base):
    """One look-up before a deal: who (and their department), by which key, for which deal, and a
    snapshot of what was found then (`result`); after a hit, whether the deal went ahead and why."""
    __tablename__ = "lookup"
    __table_args__ = (Index("ix_lookup_department_created", "department_id", "created_at"),
                      Index("ix_lookup_created", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    username: Mapped[str] = mapped_column(String(80))
    checker_name: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    via_api: Mapped[bool] = mapped_column(Boolean, default=False)
    key_kind: Mapped[str] = mapped_column(String(20))        # code, citizen_id, name
    query: Mapped[str] = mapped_column(String(200))          # as normalised; a citizen ID shown masked
    deal_kind: Mapped[str] = mapped_column(String(20))       # procurement, bidding, funding, honours, appointment
    deal_ref: Mapped[str] = mapped_column(String(100))
    hit: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any]]                            # {"subjects": [...]} as found then
    outcome: Mapped[str | None] = mapped_column(String(20))   # proceeded, dropped
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    outcome_by: Mapped[str | None] = mapped_column(String(80))
    outcome_at: Mapped[datetime | None]
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    created_at: Mapped[datetime]
