"""What the formula counts for each department in a year, read with a few grouped queries, and
the scores and ranking computed from it (indicators.py says the formula)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import aliased

from ..clock import CST
from ..commitments.model import Commitment
from ..lookups.model import Lookup
from ..models import Case, Record, Subject
from .indicators import grade, ranks, total_score
from .model import EvaluationRound, EvaluationScore, EvaluationSurvey

# a record counts once it is confirmed, as long as it stands (a revoked or rejected one does not)
STANDING = ("confirmed", "sanctioned", "published", "corrected", "repaired", "expired", "archived", "exempted")
UPHELD, DECIDED = ("correct", "revoke"), ("correct", "revoke", "keep")


def departments(session) -> list[Subject]:
    return list(session.scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.name, Subject.id)))


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CST), datetime(year + 1, 1, 1, tzinfo=CST)


def _department_of():
    """The department a record belongs to: its subject, or a civil servant's department."""
    person = aliased(Subject)
    return person, func.coalesce(person.department_id, person.id)


def count_year(session, year: int, survey: dict[int, float]) -> dict[int, dict]:
    """{department id: the counts indicators.indicator_score reads}."""
    start, end = _year(year)
    first, last = start.date(), end.date()
    out = {d.id: {"minor": 0, "general": 0, "serious": 0, "records": 0, "upheld": 0, "decided": 0, "repaired": 0,
                  "fulfilled": 0, "partly": 0, "concluded": 0, "lookups": 0, "survey": survey.get(d.id, 0.0)}
           for d in departments(session)}
    person, dept = _department_of()
    in_year = and_(Record.decision_date >= first, Record.decision_date < last)
    for dep, severity, n in session.execute(
            select(dept, Record.severity, func.count()).select_from(Record).join(person, person.id == Record.subject_id)
            .where(in_year, Record.status.in_(STANDING)).group_by(dept, Record.severity)):
        if dep in out:
            out[dep]["records"] += n
            if severity in ("minor", "general", "serious"):
                out[dep][severity] += n
    for dep, outcome, n in session.execute(
            select(dept, Case.outcome, func.count()).select_from(Case).join(Record, Record.id == Case.record_id)
            .join(person, person.id == Record.subject_id)
            .where(in_year, Case.process_key == "objection", Case.outcome.in_(DECIDED)).group_by(dept, Case.outcome)):
        if dep in out:
            out[dep]["decided"] += n
            out[dep]["upheld"] += n if outcome in UPHELD else 0
    for dep, n in session.execute(
            select(dept, func.count()).select_from(Case).join(Record, Record.id == Case.record_id)
            .join(person, person.id == Record.subject_id)
            .where(Case.process_key == "credit_repair", Case.outcome == "approved", Case.completed_at >= start,
                   Case.completed_at < end).group_by(dept)):
        if dep in out:
            out[dep]["repaired"] += n
    for dep, status, n in session.execute(
            select(Commitment.subject_id, Commitment.status, func.count())
            .where(Commitment.concluded_at >= start, Commitment.concluded_at < end,
                   Commitment.status.in_(("fulfilled", "partly", "failed")))
            .group_by(Commitment.subject_id, Commitment.status)):
        if dep in out:
            out[dep]["concluded"] += n
            if status in ("fulfilled", "partly"):
                out[dep][status] += n
    for dep, n in session.execute(
            select(Lookup.department_id, func.count()).where(Lookup.created_at >= start, Lookup.created_at < end)
            .group_by(Lookup.department_id)):
        if dep in out:
            out[dep]["lookups"] += n
    return out


def survey_scores(session, round_id: int) -> dict[int, float]:
    return dict(session.execute(select(EvaluationSurvey.subject_id, EvaluationSurvey.score)
                                .where(EvaluationSurvey.round_id == round_id)).all())


def compute(session, evaluation: EvaluationRound) -> list[EvaluationScore]:
    """(Re)compute every department's score for the round, replacing the earlier computation."""
    counts = count_year(session, evaluation.year, survey_scores(session, evaluation.id))
    session.execute(delete(EvaluationScore).where(EvaluationScore.round_id == evaluation.id))
    rows = []
    for subject_id, c in counts.items():
        total, scores = total_score(evaluation.indicators, c)
        rows.append(EvaluationScore(round_id=evaluation.id, subject_id=subject_id, computed_score=total,
                                    final_score=total, details={"counts": c, "scores": scores}))
    session.add_all(rows)
    session.flush()
    return rows


def ranking(session, round_id: int) -> list[dict]:
    """Every department's row, best first: rank (ties share it), scores, grade."""
    rows = session.execute(select(EvaluationScore, Subject).join(Subject, Subject.id == EvaluationScore.subject_id)
                           .where(EvaluationScore.round_id == round_id)).all()
    rows.sort(key=lambda r: (-r[0].final_score, r[1].name, r[1].id))
    places = ranks([r[0].final_score for r in rows])
    return [{"rank": place, "score": s, "subject": subject, "final": s.final_score, "computed": s.computed_score,
             "adjusted": s.final_score != s.computed_score, "grade": grade(s.final_score),
             "scores": s.details.get("scores", {}), "counts": s.details.get("counts", {})}
            for place, (s, subject) in zip(places, rows)]
