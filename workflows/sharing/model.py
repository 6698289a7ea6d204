"""The tables of sharing upward (migration 0013).

`sharing_item`: one change of one record for one platform, with the snapshot of the national
catalogue's fields taken when it happened (`payload`), its state (queued -> sent -> acknowledged,
or rejected -> queued again by a retry) and its deadline (3 working days after the event).
`sharing_batch`: one exported file per platform, kept so it can be downloaded again.
`sharing_batch_entry`: which items went in which batch (an item retried goes in several), and what
the platform's acknowledgement said about each: an old batch's ack is still recognised.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base

STATES = ("queued", "sent", "acknowledged", "rejected")


class SharingItem(Base):
    """A change of a published record queued for one platform (provincial / national) by a deadline."""
    __tablename__ = "sharing_item"
    __table_args__ = (Index("ix_sharing_item_platform_state", "platform", "state", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20), default="provincial", server_default="provincial")
    # published, corrected, revoked, repaired, ended, objection (workflows/sharing/changes.py)
    change: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), default="queued", server_default="queued")
    payload: Mapped[dict[str, Any]]
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_batch.id"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # None: the working-day calendar did not cover the deadline when the item was queued
    due_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class SharingBatch(Base):
    """One exported batch file for one platform (format credflow-sharing/1, docs/sharing-format.md)."""
    __tablename__ = "sharing_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(60), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(10))      # json, csv
    file_name: Mapped[str] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    ack_imported_at: Mapped[datetime | None]


class SharingBatchEntry(Base):
    """An item as it went in a batch, and the acknowledgement's answer about it (None: none yet)."""
    __tablename__ = "sharing_batch_entry"
    batch_id: Mapped[int] = mapped_column(ForeignKey("sharing_batch.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("sharing_item.id", ondelete="CASCADE"), primary_key=True,
                                         index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(20))     # accepted, rejected
    reason: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]

