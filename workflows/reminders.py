"""Deadline reminders: a task due within N working days, and a task overdue, each noticed once,
however many workers run (the task rows are locked, SKIP LOCKED, in the reminding transaction)."""
from __future__ import annotations

import logging

from sqlalchemy import or_, select

from .clock import CST
from .dates import end_of_day_cst
from .messages import Message, N_
from .models import HumanTask
from .notifications import accounts_of_subject, holders_of_role, notify_users
from .numbers import case_no
from .workdays import CalendarNotCovered

log = logging.getLogger("credflow.reminders")


def _recipients(session, row: HumanTask) -> list[int]:
    if row.assignee_id is not None:
        return [row.assignee_id]
    if row.lane == "subject":
        return accounts_of_subject(session, row.subject_id)
    return holders_of_role(session, row.lane) if row.lane else []


def send_deadline_reminders(uow, limit: int = 500) -> dict:
    session, now = uow.session, uow.clock.now()
    try:
        soon = end_of_day_cst(uow.calendar.add_workdays(uow.clock.today(), uow.settings.reminder_workdays))
    except CalendarNotCovered as exc:
        log.error("deadline reminders limited to overdue tasks: %s", exc)
        soon = now  # overdue notices need no calendar
    rows = session.scalars(select(HumanTask).where(or_(
        (HumanTask.reminded_at.is_(None)) & (HumanTask.due_at <= soon) & (HumanTask.due_at >= now),
        (HumanTask.overdue_notified_at.is_(None)) & (HumanTask.due_at < now)))
        # two workers never remind of the same task: rows another worker holds are skipped, and a
        # row it reminded of since this statement began no longer matches when locked (PostgreSQL)
        .order_by(HumanTask.id).limit(limit).with_for_update(skip_locked=True)).all()
    counts = {"soon": 0, "overdue": 0}
    for row in rows:
        link = f"/portal/tasks/{row.id}" if row.lane == "subject" else f"/tasks/{row.id}"
        # a shipped task's name is a catalog id: the notification shows it in the reader's language
        task = Message(row.name) if row.name else ""
        number, due = case_no(row.case_id, row.process_key), f"{row.due_at.astimezone(CST):%Y-%m-%d}"
        if row.due_at < now:
            text = Message(N_("任务「%(task)s」（案件 %(case)s）已逾期，期限为 %(date)s。"), task=task, case=number, date=due)
            notify_users(uow, _recipients(session, row), "overdue", text, link, row.case_id)
            row.overdue_notified_at = row.reminded_at = now
            counts["overdue"] += 1
        else:
            text = Message(N_("任务「%(task)s」（案件 %(case)s）将于 %(date)s 到期。"), task=task, case=number, date=due)
            notify_users(uow, _recipients(session, row), "deadline", text, link, row.case_id)
            row.reminded_at = now
            counts["soon"] += 1
    return counts
