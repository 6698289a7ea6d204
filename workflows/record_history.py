"""A record's history, for the dossier: the decisions issued for it (its documents) and the cases
about it (objections, self-correction and repair applications, accountability cases), each with
who and when. Staff see all of them; a record subject (the portal) only what is theirs: the
documents addressed to them and their own applications, by the same rules as the portal's pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from .models import Case, Document, Record, Subject, User

APPLICATIONS = ("objection", "self_correction", "credit_repair")   # filed by the record's subject
PERSONAL = "accountability"                                        # about one person, their own
STAFF_ONLY_DOCUMENTS = ("credit_check",)   # an integrity-file extract: personnel's and the person's only


@dataclass
class IssuedDecision:
    id: int
    title: str
    number: str
    verification_code: str
    actor: str                 # who issued it (a user name or the system's)
    who: str | None            # their display name; None: the system
    at: datetime
    case_id: int | None
    superseded: bool = False


@dataclass
class RelatedCase:
    id: int
    process_key: str
    actor: str                 # who filed or opened it
    who: str | None
    at: datetime
    status: str
    outcome: str | None
    completed_at: datetime | None
    party: str | None = None   # whom an accountability case is about


@dataclass
class RecordHistory:
    record_id: int
    for_subject: bool
    decisions: list[IssuedDecision] = field(default_factory=list)
    cases: list[RelatedCase] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.decisions or self.cases)


def subject_sees_case(case: Case, record: Record | None, subject_id: int) -> bool:
    """A case the subject's portal opens: an application on their own record, or an accountability
    case about them, on a record the office has notified (the rule is workflows/record_notice's)."""
    from .record_notice import subject_sees_case as rule
    return rule(case, record, subject_id)


def record_history(session, record: Record, current_case_id: int | None,
                   subject_id: int | None = None) -> RecordHistory:
    """The record's decisions and cases, oldest first, without the case being worked on. With
    `subject_id` (the portal), only the documents addressed to that subject and the cases it may open."""
    for_subject = subject_id is not None
    documents = select(Document.id, Document.title, Document.number, Document.verification_code, Document.issued_by,
                       Document.issued_at, Document.case_id, Document.superseded_by_id,   # not the PDF itself
                       ).where(Document.record_id == record.id)
    if for_subject:
        documents = documents.where(Document.subject_id == subject_id)
    else:
        documents = documents.where(Document.kind.not_in(STAFF_ONLY_DOCUMENTS))
    docs = session.execute(documents.order_by(Document.issued_at, Document.id)).all()

    cases = select(Case).where(Case.record_id == record.id, Case.process_key.in_((*APPLICATIONS, PERSONAL)))
    if current_case_id is not None:
        cases = cases.where(Case.id != current_case_id)
    found = [c for c in session.scalars(cases.order_by(Case.created_at, Case.id))
             if not for_subject or subject_sees_case(c, record, subject_id)]

    actors = {d.issued_by for d in docs} | {c.started_by for c in found}
    names = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(actors))).all()) \
        if actors else {}
    parties = {c.party_id for c in found if c.party_id is not None}
    party_names = dict(session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(parties))).all()) \
        if parties else {}
    return RecordHistory(
        record.id, for_subject,
        [IssuedDecision(d.id, d.title, d.number, d.verification_code, d.issued_by, names.get(d.issued_by),
                        d.issued_at, d.case_id, d.superseded_by_id is not None) for d in docs],
        [RelatedCase(c.id, c.process_key, c.started_by, names.get(c.started_by), c.created_at, c.status,
                     c.outcome, c.completed_at, party_names.get(c.party_id)) for c in found])
