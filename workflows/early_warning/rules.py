"""The warning rules. Each reads the database on a given day and says what it finds now: a list of
Findings, or None when it could not look (its rule is off, or the working-day calendar does not
cover a day it needs: logged, and its open warnings are left as they are, neither raised nor
resolved on a guess). The thresholds are settings (Settings.warning_rules)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from ..accountability_rule import DECIDED_STATUSES
from ..clock import CST
from ..dates import add_months, as_date, start_of_day_cst
from ..messages import Joined, N_, as_data
from ..models import AuditEvent, Case, HumanTask, Record, Subject, User
from ..numbers import case_no
from ..settings import Settings
from ..workdays import CalendarNotCovered

log = logging.getLogger("credflow.early_warning")

# what each rule is called, and its warning's sentence (params: the Finding's)
RULE_NAMES = {
    "department_records": N_("部门失信记录偏多"),
    "overdue_step": N_("办理步骤逾期"),
    "commitment_due": N_("承诺即将到期"),
    "objections_upheld": N_("异议多次成立"),
    "repair_deadline": N_("信用修复期限将至"),
}
RULE_TEXTS = {
    "department_records": N_("%(department)s近 %(months)s 个月有 %(count)s 条失信记录（预警线：%(threshold)s 条）"),
    "overdue_step": N_("案件 %(case)s 的「%(task)s」已逾期 %(days)s 个工作日（办理期限 %(date)s；预警线：逾期超过 %(threshold)s 个工作日）"),
    "commitment_due": N_("%(township)s的公开承诺 %(case)s 履行期限为 %(date)s，尚未履行（预警线：期限前 %(threshold)s 个工作日）"),
    "objections_upheld": N_("审核人 %(reviewer)s 审核的记录近 %(months)s 个月有 %(count)s 件异议成立：%(cases)s（预警线：%(threshold)s 件）"),
    "repair_deadline": N_("信用修复申请 %(case)s（%(subject)s）的决定期限为 %(date)s（预警线：期限前 %(threshold)s 个工作日）"),
}
# the lifecycle's review steps: who completed one reviewed the record
REVIEW_TASKS = ("legality_review", "final_review")
UPHELD = ("correct", "revoke")      # an objection's outcomes that find the record wrong


@dataclass
class Finding:
    key: str
    about: str                      # department, task, commitment, user, case
    about_id: int | None
    params: dict = field(default_factory=dict)
    department_id: int | None = None
    case_id: int | None = None
    unknown: bool = False           # could not be judged (a day the calendar lacks): kept as it stands


def rule_settings(settings: Settings) -> dict[str, dict]:
    """Each rule's thresholds: the defaults, with what the office's settings change."""
    defaults = Settings.__dataclass_fields__["warning_rules"].default_factory()
    given = getattr(settings, "warning_rules", None) or {}
    return {name: {**values, **(given.get(name) or {})} for name, values in defaults.items()}


def _department_of(session, subject_id: int | None) -> int | None:
    subject = session.get(Subject, subject_id) if subject_id else None
    if subject is None:
        return None
    return subject.id if subject.kind == "department" else subject.department_id


def department_records(session, today: date, calendar, rule: dict) -> list[Finding]:
    """A department with `records` or more decided records whose decision date is within the last
    `months` months (revoked and undecided records do not count)."""
    months, threshold = int(rule["months"]), int(rule["records"])
    since = add_months(today, -months)
    rows = session.execute(
        select(Subject.id, Subject.name, func.count(Record.id)).join(Record, Record.subject_id == Subject.id)
        .where(Subject.kind == "department", Record.status.in_(DECIDED_STATUSES),
               Record.decision_date > since, Record.decision_date <= today)
        .group_by(Subject.id, Subject.name).having(func.count(Record.id) >= threshold)).all()
    return [Finding(f"department_records:{sid}", "department", sid, department_id=sid,
                    params={"department": name, "months": months, "count": count, "threshold": threshold})
            for sid, name, count in rows]


def _latest_due_overdue(calendar, today: date, workdays: int) -> date:
    """The latest due day that is overdue by more than `workdays` working days today: from it to
    today (it excluded, today included) lie `workdays` + 1 working days."""
    day, count = today, 0
    while count < workdays + 1:
        if calendar.is_workday(day):
            count += 1
        day -= timedelta(days=1)
    return day


def overdue_step(session, today: date, calendar, rule: dict) -> list[Finding]:
    """An open step (a human task) overdue by more than `workdays` working days. A due day the
    calendar does not cover is skipped, with a log line (its step is neither raised nor resolved)."""
    threshold = int(rule["workdays"])
    cutoff = _latest_due_overdue(calendar, today, threshold)
    rows = session.scalars(select(HumanTask).where(HumanTask.due_at < start_of_day_cst(cutoff + timedelta(days=1)))
                           .order_by(HumanTask.id)).all()
    overdue = _workdays_since({row.due_at.astimezone(CST).date() for row in rows}, today, calendar)
    found = []
    for row in rows:
        due = row.due_at.astimezone(CST).date()
        if due not in overdue:           # the calendar does not reach its due day: left as it is
            found.append(Finding(f"overdue_step:{row.id}", "task", row.id, unknown=True))
            continue
        found.append(Finding(f"overdue_step:{row.id}", "task", row.id, case_id=row.case_id,
                             department_id=_department_of(session, row.subject_id),
                             params={"case": case_no(row.case_id, row.process_key), "task": {"msgid": row.name},
                                     "date": due.isoformat(), "days": overdue[due], "threshold": threshold}))
    return found


def _workdays_since(days: set[date], today: date, calendar) -> dict[date, int]:
    """For each day, the working days after it up to today: one walk back from today to the
    earliest. Days at or before one the calendar does not cover are left out (logged)."""
    counts, count, day = {}, 0, today
    earliest = min(days, default=today)
    while day >= earliest:
        if day in days:
            counts[day] = count
        try:
            count += calendar.is_workday(day)
        except CalendarNotCovered as exc:
            log.warning("early warning: steps due on or before %s skipped: %s", day, exc)
            break
        day -= timedelta(days=1)
    return counts


def _beyond(calendar, today: date, workdays: int) -> date:
    """The first day more than `workdays` working days away: a deadline before it is "within"."""
    return calendar.add_workdays(today, workdays + 1)


def commitment_due(session, today: date, calendar, rule: dict) -> list[Finding]:
    """A township's commitment still in progress whose deadline is within `workdays` working days
    (or has passed while its fulfilment is not yet confirmed)."""
    from ..commitments.model import Commitment
    threshold = int(rule["workdays"])
    rows = session.execute(select(Commitment, Subject.name).join(Subject, Subject.id == Commitment.subject_id)
                           .where(Commitment.status == "in_progress", Commitment.deadline < _beyond(calendar, today, threshold))
                           .order_by(Commitment.id)).all()
    return [Finding(f"commitment_due:{c.id}", "commitment", c.id, case_id=c.case_id, department_id=c.subject_id,
                    params={"township": name, "case": case_no(c.case_id, "commitment") if c.case_id else "",
                            "date": c.deadline.isoformat(), "threshold": threshold})
            for c, name in rows]


def objections_upheld(session, today: date, calendar, rule: dict) -> list[Finding]:
    """A reviewer whose reviewed records had `objections` or more objections upheld (the record
    corrected or revoked) within the last `months` months. Who reviewed a record: who completed one
    of its REVIEW_TASKS."""
    months, threshold = int(rule["months"]), int(rule["objections"])
    since = start_of_day_cst(add_months(today, -months))
    upheld = session.execute(select(Case.id, Case.record_id).where(
        Case.process_key == "objection", Case.outcome.in_(UPHELD), Case.completed_at >= since,
        Case.record_id.is_not(None))).all()
    if not upheld:
        return []
    reviewers_of: dict[int, set[str]] = {}
    events = session.execute(select(AuditEvent.record_id, AuditEvent.actor, AuditEvent.data).where(
        AuditEvent.action == "task.completed", AuditEvent.record_id.in_({r for _, r in upheld}))).all()
    for record_id, who, data in events:
        if (data or {}).get("task") in REVIEW_TASKS:
            reviewers_of.setdefault(record_id, set()).add(who)
    cases_of: dict[str, list[int]] = {}
    for case_id, record_id in upheld:
        for who in reviewers_of.get(record_id, ()):
            cases_of.setdefault(who, []).append(case_id)
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(cases_of)))}
    found = []
    for who, case_ids in sorted(cases_of.items()):
        if len(case_ids) < threshold:
            continue
        user = users.get(who)
        found.append(Finding(f"objections_upheld:{who}", "user", user.id if user else None,
                             params={"reviewer": user.display_name if user else who, "months": months,
                                     "count": len(case_ids), "threshold": threshold,
                                     "cases": as_data(Joined([case_no(i, "objection") for i in sorted(case_ids)]))}))
    return found


def repair_deadline(session, today: date, calendar, rule: dict) -> list[Finding]:
    """A running credit-repair application whose decision deadline (set at its acceptance:
    Settings.repair_decision_workdays after it) is within `workdays` working days, or has passed."""
    threshold = int(rule["workdays"])
    beyond = _beyond(calendar, today, threshold)
    cases = dict(session.execute(select(Case.id, Case.record_id).where(Case.process_key == "credit_repair",
                                                                       Case.status == "running")).all())
    if not cases:
        return []
    due_of: dict[int, date] = {}
    for case_id, data in session.execute(select(AuditEvent.case_id, AuditEvent.data).where(
            AuditEvent.action == "application.accepted", AuditEvent.case_id.in_(cases)).order_by(AuditEvent.id)):
        if (data or {}).get("decision_due"):
            due_of[case_id] = as_date(data["decision_due"])    # the latest acceptance counts
    found = []
    for case_id, due in sorted(due_of.items()):
        if due >= beyond:
            continue
        record = session.get(Record, cases[case_id]) if cases[case_id] else None
        found.append(Finding(f"repair_deadline:{case_id}", "case", case_id, case_id=case_id,
                             department_id=_department_of(session, record.subject_id) if record else None,
                             params={"case": case_no(case_id, "credit_repair"), "subject": record.subject.name if record else "",
                                     "date": due.isoformat(), "threshold": threshold}))
    return found


RULES = {"department_records": department_records, "overdue_step": overdue_step, "commitment_due": commitment_due,
         "objections_upheld": objections_upheld, "repair_deadline": repair_deadline}


def run_rule(name: str, session, today: date, calendar, settings: Settings) -> list[Finding] | None:
    """What rule `name` finds today; None when it is off or could not look (logged)."""
    rule = rule_settings(settings)[name]
    if not rule.get("on", True):
        return None
    try:
        return RULES[name](session, today, calendar, rule)
    except CalendarNotCovered as exc:
        log.warning("early warning rule %s skipped: %s", name, exc)
        return None
