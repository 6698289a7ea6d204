"""The notifications page, as its reader may use it: every notification with a link only where the
reader may still open it (workflows/access.py), and for one about a task that is no longer open
(a reminder, an assignment) who finished the step and when, with a link to the case instead."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .access import (is_public, may_administer_system, may_open_case, may_open_task, subject_may_open_case,
                     subject_may_open_record, subject_may_open_task_page)
from .cases import display_names, task_completions
from .messages import Message
from .models import Case, HumanTask, Notification, Record
from .notifications import message_of_notification

STAFF_TASK = re.compile(r"^/tasks/(\d+)$")
PORTAL_TASK = re.compile(r"^/portal/tasks/(\d+)$")
STAFF_CASE = re.compile(r"^/cases/(\d+)$")
PORTAL_CASE = re.compile(r"^/portal/applications/(\d+)$")
PORTAL_RECORD = re.compile(r"^/portal/records/(\d+)$")
PUBLIC_RECORD = re.compile(r"^/public/records/(\d+)$")
SYSTEM = "/system/"


@dataclass
class NotificationEntry:
    id: int
    kind: str
    text: "Message | str"             # a Message shown in the reader's language; an old row's text as written
    created_at: datetime
    read: bool
    link: str | None                  # None: nowhere the reader may go
    task_closed: bool = False         # about a task that is no longer open
    finished_by: str | None = None    # who completed it (a user name or a system actor's); None: cancelled
    finished_by_name: str | None = None   # their display name, when a user
    finished_at: datetime | None = None


def notification_entries(session, actor, notifications: list[Notification]) -> list[NotificationEntry]:
    task_ids = {}
    for note in notifications:
        match = STAFF_TASK.match(note.link or "") or PORTAL_TASK.match(note.link or "")
        if match:
            task_ids[note.id] = int(match.group(1))
    rows = {r.id: r for r in session.scalars(select(HumanTask).where(HumanTask.id.in_(set(task_ids.values()))))} \
        if task_ids else {}
    completions = task_completions(session, [i for i in task_ids.values() if i not in rows])
    names = display_names(session, {e.actor for e in completions.values()})
    entries = []
    for note in notifications:
        entry = NotificationEntry(note.id, note.kind, message_of_notification(note), note.created_at, note.read_at is not None,
                                  _link(session, actor, note.link))
        row_id = task_ids.get(note.id)
        if row_id is not None:
            row = rows.get(row_id)
            opens = row is not None and (may_open_task(actor, row) if STAFF_TASK.match(note.link)
                                         else subject_may_open_task_page(session, actor, row))
            if row is None:
                entry.task_closed = True
                event = completions.get(row_id)
                if event is not None:
                    entry.finished_by, entry.finished_at = event.actor, event.at
                    entry.finished_by_name = names.get(event.actor)
            if not opens:   # the step is done (or no longer the reader's): its case, if the reader may open it
                case_id = note.case_id or (completions[row_id].case_id if row_id in completions else None)
                entry.link = _case_link(session, actor, case_id, portal=bool(PORTAL_TASK.match(note.link)))
        entries.append(entry)
    return entries


def _case_link(session, actor, case_id: int | None, portal: bool) -> str | None:
    case = session.get(Case, case_id) if case_id else None
    if portal:
        return f"/portal/applications/{case.id}" if subject_may_open_case(session, actor, case) else None
    return f"/cases/{case.id}" if may_open_case(session, actor, case) else None


def _link(session, actor, link: str | None) -> str | None:
    """The notification's own link if the reader may open it (a task link is decided above)."""
    if not link:
        return None
    if match := STAFF_CASE.match(link):
        return link if may_open_case(session, actor, session.get(Case, int(match.group(1)))) else None
    if match := PORTAL_CASE.match(link):
        return link if subject_may_open_case(session, actor, session.get(Case, int(match.group(1)))) else None
    if match := PORTAL_RECORD.match(link):
        return link if subject_may_open_record(session, actor, session.get(Record, int(match.group(1)))) else None
    if match := PUBLIC_RECORD.match(link):
        return link if is_public(session.get(Record, int(match.group(1)))) else None
    if link.startswith(SYSTEM):
        return link if may_administer_system(actor) else None
    return link
