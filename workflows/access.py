"""Who may open what. Each rule lives here once: the route that guards a page calls it, and every
page that links to that page calls it too, so a link is shown only where it leads somewhere (a
viewer never follows one into a 403 or a 404).

The areas: case staff (clerks, reviewers, leaders, process managers) read every case; task
workers (clerks, reviewers, leaders) open the tasks of their lanes (webapp/inbox); personnel staff
keep the integrity files of every civil servant and read, without acting, the accountability cases
about them; a record subject opens its own records, applications and tasks in the portal; the
public sees published records; the system administrator keeps the calendar and the accounts."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from .inbox import staff_lanes, visible_to
from .messages import N_

from .models import Case, Document, HumanTask, Record, Subject
from .record_history import STAFF_ONLY_DOCUMENTS, subject_sees_case
from .sharing.access import may_use_sharing

CASE_STAFF = ("clerk", "reviewer", "leader", "manager")
PERSONNEL = "personnel"
ACCOUNTABILITY = "accountability"
PUBLIC_STATUSES = ("published",)        # what the disclosure site shows (webapp/public)


# -- staff: cases, their files, tasks -----------------------------------------------------------

def reads_every_case(actor) -> bool:
    return bool(actor.roles.intersection(CASE_STAFF))


def may_list_records(actor) -> bool:
    """The staff record list /records, and through the API every record and its lifecycle case:
    case staff only (personnel read the accountability cases, not the records)."""
    return reads_every_case(actor)


def works_tasks(actor) -> bool:
    """The staff inbox /inbox and its task pages: task workers (the roles of the staff lanes)."""
    return bool(staff_lanes(actor))


def in_personnel_charge(actor, person: Subject | None) -> bool:
    """The civil servants whose files a personnel user keeps: every one of them (the personnel
    area lists and opens every civil servant; no narrower charge is modelled)."""
    return PERSONNEL in actor.roles and person is not None and person.kind == "civil_servant"


def personnel_reads_case(session, actor, case: Case | None) -> bool:
    """An accountability case about a person in the personnel user's charge (read-only)."""
    return (case is not None and case.process_key == ACCOUNTABILITY and case.party_id is not None
            and in_personnel_charge(actor, session.get(Subject, case.party_id)))


def may_open_case(session, actor, case: Case | None) -> bool:
    """The staff case page /cases/<id> (its diagram, files and documents follow it)."""
    if case is None:
        return False
    return reads_every_case(actor) or personnel_reads_case(session, actor, case)


def may_open_task(actor, row: HumanTask | None) -> bool:
    """The staff task page /tasks/<id>: a task worker whose lane it is, its assignee, a leader."""
    return row is not None and row.lane != "subject" and visible_to(actor, row)


def may_open_document(session, actor, document: Document | None) -> bool:
    """The staff download /documents/<id>: a case's document, to whoever may open the case (case
    staff: any case's); never a credit-check extract, which is the person's integrity file."""
    if document is None or document.kind in STAFF_ONLY_DOCUMENTS:
        return False
    if reads_every_case(actor):
        return True
    return document.case_id is not None and personnel_reads_case(session, actor, session.get(Case, document.case_id))


def may_open_attachment(session, actor, attachment) -> bool:
    """The staff download /attachments/<id>: a file of a case the viewer may open; a file not yet
    filed with a case (a form that did not go through) is its uploader's only."""
    if attachment is None:
        return False
    if attachment.case_id is None:
        return attachment.uploaded_by_id == actor.user_id and reads_every_case(actor)
    return reads_every_case(actor) or personnel_reads_case(session, actor, session.get(Case, attachment.case_id))


# -- record subjects: the portal ------------------------------------------------------------------

def is_subject_account(actor) -> bool:
    return "subject" in actor.roles and actor.subject_id is not None


def subject_may_open_case(session, actor, case: Case | None) -> bool:
    """The portal's case page /portal/applications/<id>: an application on the subject's own
    record, or an accountability case about the person."""
    if case is None or not is_subject_account(actor):
        return False
    record = session.get(Record, case.record_id) if case.record_id else None
    return subject_sees_case(case, record, actor.subject_id)


def subject_may_open_task(actor, row: HumanTask | None) -> bool:
    """A task of the subject lane asked of this subject (on any record: see the next rule)."""
    return row is not None and is_subject_account(actor) and row.lane == "subject" \
        and row.subject_id == actor.subject_id


def subject_may_open_task_page(session, actor, row: HumanTask | None) -> bool:
    """The portal's task page /portal/tasks/<id>: a task asked of this subject, on a record the
    office has notified it of (workflows/record_notice.py)."""
    from .record_notice import task_on_noticed_record
    return subject_may_open_task(actor, row) and task_on_noticed_record(session, row)


def gone_portal_task_error(session, actor, task_row_id: int):
    """What the portal says about a task that is gone: when one of this subject's own accounts
    completed it (a task asked of them), who and when, as staff are told (cases.task_gone_error);
    anything else is 'not found', so nobody learns about tasks that were not theirs."""
    from .cases import NotFound, task_completions, task_gone_error
    from .models import User
    event = task_completions(session, [task_row_id]).get(task_row_id)
    if event is not None and is_subject_account(actor):
        completer = session.scalar(select(User.subject_id).where(User.username == event.actor))
        if completer == actor.subject_id:
            return task_gone_error(SimpleNamespace(session=session), task_row_id)
    return NotFound(N_("任务不存在"))


def subject_may_open_record(session, actor, record: Record | None) -> bool:
    """The portal's record page /portal/records/<id> (workflows.applications.subject_record decides)."""
    from .applications import subject_record
    from .cases import NotFound
    if record is None or not is_subject_account(actor):
        return False
    try:
        subject_record(session, actor, record.id)
    except NotFound:
        return False
    return True


def has_own_integrity_file(session, actor) -> bool:
    """The portal's /portal/integrity: a civil servant's own file (a department has none)."""
    if not is_subject_account(actor):
        return False
    me = session.get(Subject, actor.subject_id)
    return me is not None and me.kind == "civil_servant"


# -- the public and the administrators -------------------------------------------------------------

def is_public(record: Record | None) -> bool:
    """A record the disclosure site shows (/public/records/<id>): published, nothing else."""
    return record is not None and record.status in PUBLIC_STATUSES


def may_administer_system(actor) -> bool:
    """The system administrator's pages (/system/...: the working-day calendar, the accounts)."""
    return "admin" in actor.roles


# -- for the pages that link --------------------------------------------------------------------

def _case(session, case_or_id) -> Case | None:
    return session.get(Case, case_or_id) if isinstance(case_or_id, int) else case_or_id


LINKS = {
    "case": lambda session, actor, thing: may_open_case(session, actor, _case(session, thing)),
    "records": lambda session, actor, thing: may_list_records(actor),
    "task": lambda session, actor, thing: may_open_task(actor, thing),
    "document": lambda session, actor, thing: may_open_document(session, actor, thing),
    "attachment": lambda session, actor, thing: may_open_attachment(session, actor, thing),
    "portal_case": lambda session, actor, thing: subject_may_open_case(session, actor, _case(session, thing)),
    "portal_task": lambda session, actor, thing: subject_may_open_task_page(session, actor, thing),
    "portal_record": lambda session, actor, thing: subject_may_open_record(session, actor, thing),
    "own_integrity_file": lambda session, actor, thing: has_own_integrity_file(session, actor),
    "public_record": lambda session, actor, thing: is_public(thing),
    "system": lambda session, actor, thing: may_administer_system(actor),
    "sharing": lambda session, actor, thing: may_use_sharing(actor),      # /sharing (workflows/sharing)
}


def may_open(session, actor, kind: str, thing=None) -> bool:
    """Whether `actor` may open the page of `kind` for `thing` (a case or a case id, a task row,
    a document ...): what a template asks before it shows a link."""
    return LINKS[kind](session, actor, thing)
