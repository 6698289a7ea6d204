"""The office's notice to a record's subject (告知), and what the subject sees because of it.

A record is the office's own business while it is drafted and reviewed. When it reaches the status
the settings name (`subject_notice_status`: confirmation by default, so that self-correction can
still be claimed before the sanction decision) the office notifies the subject's accounts once and
remembers when (`Record.notified_at`). From then on, and only then, the subject sees the record in
the portal and the API: the record, its documents, its applications and the tasks asked of it.
Every place that shows a subject its records asks this module."""
from __future__ import annotations

from sqlalchemy import or_, select

from .messages import Message, N_
from .models import Case, Document, HumanTask, Record
from .notifications import accounts_of_subject, notify_users
from .numbers import record_no

# how far along its life a record is: a notice due at one status is due at every later one too
# (a record may skip a status: exempted instead of sanctioned, revoked before publication)
STAGE = {"confirmed": 1, "sanctioned": 2, "exempted": 2, "published": 3, "corrected": 4, "revoked": 4,
         "repaired": 4, "expired": 4, "archived": 5}
APPLICATIONS = ("objection", "self_correction", "credit_repair")
ACCOUNTABILITY = "accountability"

NOTIFIED = Record.notified_at.is_not(None)


def noticed(record: Record | None) -> bool:
    return record is not None and record.notified_at is not None


def notice_due(record: Record, settings) -> bool:
    """Not notified yet, and at or past the status at which the office notifies."""
    return record.notified_at is None and STAGE.get(record.status, 0) >= STAGE.get(settings.subject_notice_status, 1)


def notice_text(record: Record) -> Message:
    number = record_no(record)
    if record.status == "confirmed":
        return Message(N_("您的政务失信记录 %(number)s 已经认定。您可以对记录提出异议；已主动纠正失信行为的，"
                          "还可以在作出失信惩戒决定前申请从轻或免予惩戒（主动自新）。"), number=number)
    return Message(N_("您的政务失信记录 %(number)s 已经认定，请查看记录；对记录有异议的，可以依法提出异议。"),
                   number=number)


def give_notice_if_due(uow, record: Record, audit) -> bool:
    """Notify the subject's accounts in-app, once, when the record reaches the notice status.
    `audit(action, **data)` records it (the operation's own audit, with its case and task)."""
    if not notice_due(record, uow.settings):
        return False
    record.notified_at = uow.clock.now()
    users = accounts_of_subject(uow.session, record.subject_id)
    notify_users(uow, users, "record", notice_text(record), f"/portal/records/{record.id}")
    audit("record.notified", status=record.status, accounts=len(users))
    return True


# -- what a subject sees ---------------------------------------------------------------------------

def subject_sees_record(record: Record | None, subject_id: int | None) -> bool:
    return record is not None and subject_id is not None and record.subject_id == subject_id and noticed(record)


def visible_records(subject_id: int):
    """SELECT of the subject's records it has been notified of."""
    return select(Record).where(Record.subject_id == subject_id, NOTIFIED)


def _noticed_record_ids():
    return select(Record.id).where(NOTIFIED)


def visible_tasks(subject_id: int):
    """SELECT of the subject-lane tasks asked of the subject, on records it has been notified of."""
    return select(HumanTask).where(HumanTask.lane == "subject", HumanTask.subject_id == subject_id,
                                   or_(HumanTask.record_id.is_(None), HumanTask.record_id.in_(_noticed_record_ids())))


def task_on_noticed_record(session, row: HumanTask) -> bool:
    return row.record_id is None or noticed(session.get(Record, row.record_id))


def visible_cases(subject_id: int):
    """SELECT of the subject's applications and the accountability cases about it, on noticed records."""
    own = select(Record.id).where(Record.subject_id == subject_id, NOTIFIED)
    return select(Case).where(or_(
        Case.record_id.in_(own) & Case.process_key.in_(APPLICATIONS),
        (Case.process_key == ACCOUNTABILITY) & (Case.party_id == subject_id)
        & or_(Case.record_id.is_(None), Case.record_id.in_(_noticed_record_ids()))))


def subject_sees_case(case: Case | None, record: Record | None, subject_id: int | None) -> bool:
    """An application on the subject's own noticed record, or an accountability case about the
    person (on a noticed record)."""
    if case is None or subject_id is None:
        return False
    if case.process_key == ACCOUNTABILITY:
        return case.party_id == subject_id and (case.record_id is None or noticed(record))
    return case.process_key in APPLICATIONS and subject_sees_record(record, subject_id)


def subject_sees_document(session, document: Document | None, subject_id: int | None) -> bool:
    """A document addressed to the subject, unless it belongs to a record it was not notified of."""
    if document is None or subject_id is None or document.subject_id != subject_id:
        return False
    return document.record_id is None or noticed(session.get(Record, document.record_id))
