"""The tables of township commitments (migration 0012)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base

# in progress (published, before its review ends), fulfilled, partly fulfilled, failed
STATUSES = ("in_progress", "fulfilled", "partly", "failed")


class Commitment(Base):
    """A township's public commitment (公开承诺), published while its case runs. `case_id` is its
    case (bpmn/commitment.bpmn); `record_id` the dishonesty record a failed one opened."""
    __tablename__ = "commitment"
    __table_args__ = (Index("ix_commitment_status_deadline", "status", "deadline"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    deadline: Mapped[date] = mapped_column(Date)
    responsible_name: Mapped[str] = mapped_column(String(100))
    responsible_post: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    opinion: Mapped[str | None] = mapped_column(Text)          # the fulfilment review's opinion
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    registered_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
