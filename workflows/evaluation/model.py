"""The tables of the yearly integrity evaluation (migration 0015)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, Record

# a year's records by status and severity, counted per department from the index alone (bench/evaluation.py)
RECORD_EVALUATION = Index("ix_record_evaluation", Record.decision_date, Record.status, Record.severity,
                          Record.subject_id)

# open (indicators editable, survey importable) -> review -> approval -> objection (the window is
# open) -> handling (the reviewer decides the objections) -> confirming (the leader) -> final
STATUSES = ("open", "review", "approval", "objection", "handling", "confirming", "final")


class EvaluationRound(Base):
    """One year's evaluation of every department. `indicators`: [{"code", "weight", "params"}],
    frozen once the scores are computed. `case_id`: its case (bpmn/integrity_evaluation.bpmn)."""
    __tablename__ = "evaluation_round"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    indicators: Mapped[list[Any]]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    computations: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime | None]
    objection_deadline: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class EvaluationSurvey(Base):
    """A department's third-party survey score (0-100) for a round, imported from a sheet."""
    __tablename__ = "evaluation_survey"
    __table_args__ = (UniqueConstraint("round_id", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    score: Mapped[float] = mapped_column(Float)
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime]


class EvaluationScore(Base):
    """A department's computed score: each indicator's count and score (`details`), the weighted
    total, and the score after an upheld objection (`final_score`, with its reason)."""
    __tablename__ = "evaluation_score"
    __table_args__ = (UniqueConstraint("round_id", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    details: Mapped[dict[str, Any]]
    computed_score: Mapped[float] = mapped_column(Float)
    final_score: Mapped[float] = mapped_column(Float)
    adjustment_reason: Mapped[str | None] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))


class EvaluationObjection(Base):
    """A department's objection to its score, filed within the window; the reviewer upholds it
    (with the adjusted score and a reason) or rejects it (with a reason)."""
    __tablename__ = "evaluation_objection"
    __table_args__ = (UniqueConstraint("round_id", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    text: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any] | None]            # attachment ids (on the round's case)
    filed_by: Mapped[str] = mapped_column(String(80))
    filed_at: Mapped[datetime]
    outcome: Mapped[str | None] = mapped_column(String(20))     # upheld, rejected
    adjusted_score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None]
