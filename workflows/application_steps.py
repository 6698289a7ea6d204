"""An application's steps so far, as its subject reads them on the portal: filed, accepted (or not,
with the reason given), asked to supplement, what the subject handed in, being verified, decided
(with the decision document). Built from the case's audit events; the office's internal opinions
(what a clerk, reviewer or leader wrote into a form) are never among them."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select

from .models import AuditEvent, Case, Document, HumanTask, User

APPLICATIONS = ("objection", "self_correction", "credit_repair")
DECISION_KINDS = ("objection", "self_correction", "repair")


@dataclass(frozen=True)
class StepDocument:
    id: int
    title: str
    number: str


@dataclass(frozen=True)
class Step:
    """One step. `kind`: filed, accepted, not_accepted, supplement, handed_in, marked, decided (done),
    or checking, verifying (where the application stands now: `current`, no date)."""
    kind: str
    at: datetime | None = None
    due: datetime | None = None        # accepted: decision due; supplement: hand in by
    text: str = ""                     # the reason given to the subject, the missing material, the task's name
    outcome: str | None = None         # decided: the outcome code
    documents: tuple[StepDocument, ...] = field(default_factory=tuple)
    current: bool = False


def _when(value) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def application_steps(session, case: Case, subject_id: int) -> list[Step]:
    """The steps of a subject's application, oldest first; [] for any other case."""
    if case.process_key not in APPLICATIONS:
        return []
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                             .order_by(AuditEvent.id)).all()
    own_accounts = set(session.scalars(select(User.username).where(User.subject_id == subject_id)))
    documents = {d.id: d for d in session.execute(
        select(Document.id, Document.title, Document.number, Document.subject_id)
        .where(Document.case_id == case.id)).all()}
    steps = [Step("filed", case.created_at)]
    accepted = decided = False
    for event in events:
        data = event.data or {}
        if event.action == "application.accepted":
            accepted = True
            steps.append(Step("accepted", event.at, due=_when(data.get("decision_due"))))
        elif event.action == "application.supplement_requested":
            steps.append(Step("supplement", event.at, due=_when(data.get("due_at")), text=data.get("missing") or ""))
        elif event.action == "record.under_objection":
            steps.append(Step("marked", event.at))
        elif event.action == "application.decided":
            decided = True
            outcome = data.get("outcome")
            # events before `at_acceptance` was recorded: a refusal before any acceptance (a
            # self-correction had no acceptance step then, and its refusal was a decision)
            refused_early = data.get("at_acceptance", outcome == "refused" and not accepted
                                     and case.process_key != "self_correction")
            if refused_early:
                steps.append(Step("not_accepted", event.at, text=data.get("reason") or ""))
            else:
                steps.append(Step("decided", event.at, text=data.get("reason") or "", outcome=outcome))
        elif event.action == "task.completed" and event.actor in own_accounts:
            steps.append(Step("handed_in", event.at, text=data.get("task_name") or ""))
        elif event.action == "document.issued":
            _attach(steps, data, documents, subject_id)
    if case.status == "running" and not decided and not _waits_for_subject(session, case.id):
        steps.append(Step("verifying" if accepted else "checking", current=True))
    return steps


def _attach(steps: list[Step], data: dict, documents: dict, subject_id: int) -> None:
    """A document goes with the step it belongs to: a receipt with the acceptance, a request to
    supplement with that request, a decision with the decision; only documents addressed to the subject."""
    doc = documents.get(data.get("document_id"))
    if doc is None or doc.subject_id != subject_id:
        return
    kind = data.get("kind")
    wanted = {"receipt": ("accepted",), "supplement_request": ("supplement",)}.get(
        kind, ("decided", "not_accepted") if kind in DECISION_KINDS else ())
    for index in range(len(steps) - 1, -1, -1):
        if steps[index].kind in wanted or not wanted:
            steps[index] = replace(steps[index], documents=steps[index].documents
                                   + (StepDocument(doc.id, doc.title, doc.number),))
            return


def _waits_for_subject(session, case_id: int) -> bool:
    """The case waits for the subject (a request to supplement): the page lists that task instead."""
    return session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id, HumanTask.lane == "subject")
                          .limit(1)) is not None
