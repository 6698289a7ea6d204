"""The tables of early warning (migration 0014)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base


class EarlyWarning(Base):
    """A warning a rule raised. `key` names what it is about (`overdue_step:12`): while the warning
    is open (not resolved) no second one has the same key, so evaluating again only updates it; once
    the condition ends it is resolved, and a later recurrence is a new warning. `about`/`about_id`
    say what it is about (department, task, commitment, user, case); `params` are its text's values."""
    __tablename__ = "early_warning"
    __table_args__ = (
        Index("uq_early_warning_open_key", "key", unique=True,
              postgresql_where=text("resolved_at IS NULL"), sqlite_where=text("resolved_at IS NULL")),
        Index("ix_early_warning_open", "resolved_at", "acknowledged_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(200))
    about: Mapped[str] = mapped_column(String(20))
    about_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    params: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime | None]
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)


class WarningDigest(Base):
    """The daily digest of a day (China Standard Time), once: the row is written in the transaction
    that sends it, so a second worker or a restart finds the day done."""
    __tablename__ = "early_warning_digest"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime]
    new_count: Mapped[int] = mapped_column(Integer, default=0)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
