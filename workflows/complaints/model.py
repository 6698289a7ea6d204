"""The tables of complaints (migration 0010).

`complaint` is the only place a complainant's identity (name, phone, e-mail) is kept: the case's
workflow data, task forms, audit events and notifications carry the complaint's id and number,
never who filed it. The query code is kept as its sha256 only. `complaint_throttle` counts the
public posts per client address (every web worker shares it); `complaint_challenge` holds the
challenges already answered, so none is used twice.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base

# where a complaint stands, as its complainant reads it on the status page
STAGES = ("registering", "refused", "verifying", "deciding", "unfounded", "founded")


class Complaint(Base):
    """A complaint from the public about government dishonesty (投诉举报)."""
    __tablename__ = "complaint"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    concerned: Mapped[str] = mapped_column(String(200))        # the department or official, as typed
    facts: Mapped[str] = mapped_column(Text)                    # what happened
    happened_on: Mapped[date] = mapped_column(Date)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # the identity: only here, and empty for an anonymous complaint
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(20), default="registering")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)   # linked at registration
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)     # opened when founded
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ComplaintThrottle(Base):
    """Public posts in the current window per key (`post:<address>`, `status:<address>`)."""
    __tablename__ = "complaint_throttle"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int]


class ComplaintChallenge(Base):
    """A challenge answered once: its nonce's sha256, kept until it would have expired anyway."""
    __tablename__ = "complaint_challenge"
    nonce_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
