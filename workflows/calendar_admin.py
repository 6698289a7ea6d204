"""The office's working-day calendar: a year as the system administrator sees it, days entered one
by one or imported from a file, years marked covered, and the deadlines of open tasks that a
change moves.

A human task's deadline is N working days after the day it was created (workflows/cases.py). A
changed day D moves it when created < D <= due; applying the change recomputes N under the old
calendar and counts N again under the new one, in the same transaction, each move audited.
Timers inside a running workflow keep the date they were given when they were set.
"""
from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar
from sqlalchemy import delete, func, select

from .calendar_files import DayEntry
from .clock import CST
from .messages import Message, N_, UserError
from .models import CalendarYear, HumanTask, Notification, User, UserRole, WorkdayOverride
from .notifications import notify_users
from .workdays import CalendarNotCovered, WorkdayCalendar

FIRST_YEAR, LAST_YEAR = 2004, 2100


class CalendarError(UserError, ValueError):
    """A change the calendar refuses (a catalog id and its parameters)."""


def require_admin(uow) -> None:
    if "admin" not in uow.actor.roles:
        raise PermissionError("only a system administrator changes the working-day calendar")


def statutory_covers(year: int) -> bool:
    """Whether the statutory data (the chinesecalendar package) knows the whole year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
        return True
    except NotImplementedError:
        return False


def year_is_covered(session, year: int) -> bool:
    return statutory_covers(year) or session.get(CalendarYear, year) is not None


# -- the year as a page shows it -----------------------------------------------------------------

@dataclass(frozen=True)
class DayView:
    day: date
    is_workday: bool | None          # None: nobody knows (an uncovered year)
    source: str                       # statutory, override, weekday_rule, uncovered
    name: str = ""
    entered_by: str = ""
    entered_at: datetime | None = None

    @property
    def weekend(self) -> bool:
        return self.day.weekday() >= 5


@dataclass
class YearView:
    year: int
    statutory: bool
    covered_row: CalendarYear | None
    months: list[list[list[DayView | None]]] = field(default_factory=list)   # month -> weeks -> Mon..Sun
    overrides: list[WorkdayOverride] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.statutory or self.covered_row is not None

    @property
    def counts(self) -> dict:
        days = [d for month in self.months for week in month for d in week if d is not None]
        return {"workdays": sum(1 for d in days if d.is_workday), "rest": sum(1 for d in days if d.is_workday is False),
                "unknown": sum(1 for d in days if d.is_workday is None)}


def _holiday_name(day: date) -> str:
    try:
        _, holiday = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    return str(holiday or "")


def day_view(calendar: WorkdayCalendar, overrides: dict[date, WorkdayOverride], statutory: bool, covered: bool,
             day: date) -> DayView:
    row = overrides.get(day)
    if row is not None:
        return DayView(day, row.is_workday, "override", row.note, row.entered_by, row.entered_at)
    if covered and not statutory:
        return DayView(day, day.weekday() < 5, "weekday_rule")
    if statutory:
        return DayView(day, calendar.is_workday(day), "statutory", _holiday_name(day))
    return DayView(day, None, "uncovered")


def year_view(session, year: int) -> YearView:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(N_("年份须在 %(first)s-%(last)s 之间"), first=FIRST_YEAR, last=LAST_YEAR)
    overrides = {o.day: o for o in session.scalars(select(WorkdayOverride).where(
        WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31)))}
    view = YearView(year, statutory_covers(year), session.get(CalendarYear, year),
                    overrides=sorted(overrides.values(), key=lambda o: o.day))
    calendar = WorkdayCalendar.from_session(session)
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([day_view(calendar, overrides, view.statutory, view.covered, d) if d.month == month else None
                          for d in week])
        view.months.append(weeks)
    return view


# -- what a change would do ---------------------------------------------------------------------

@dataclass(frozen=True)
class DayChange:
    day: date
    before: bool | None       # None: not known before
    after: bool | None        # None: the override is removed
    name: str
    kind: str                 # new, changed, unchanged, removed


@dataclass(frozen=True)
class MovedDeadline:
    task: HumanTask
    before: datetime
    after: datetime


@dataclass
class ChangePlan:
    changes: list[DayChange]
    moved: list[MovedDeadline]
    new_calendar: WorkdayCalendar

    @property
    def effective(self) -> list[DayChange]:
        return [c for c in self.changes if c.kind != "unchanged"]


def _known(calendar: WorkdayCalendar, day: date) -> bool | None:
    try:
        return calendar.is_workday(day)
    except CalendarNotCovered:
        return None


def plan(session, entries: list[DayEntry], remove: list[date] = (), cover_year: int | None = None) -> ChangePlan:
    """What setting `entries` (and removing the overrides of `remove`, and covering `cover_year`)
    would change: each day before and after, and the open tasks whose deadline would move."""
    old = WorkdayCalendar.from_session(session)
    existing = {o.day: o for o in session.scalars(select(WorkdayOverride).where(
        WorkdayOverride.day.in_([e.day for e in entries] + list(remove))))}
    overrides = dict(old.overrides)
    changes = []
    for entry in entries:
        before = _known(old, entry.day)
        row = existing.get(entry.day)
        same = row is not None and row.is_workday == entry.is_workday and (row.note or "") == entry.name
        kind = "unchanged" if same else ("changed" if row is not None or before is not None else "new")
        changes.append(DayChange(entry.day, before, entry.is_workday, entry.name, kind))
        overrides[entry.day] = entry.is_workday
    for day in remove:
        if day in existing:
            overrides.pop(day, None)
            changes.append(DayChange(day, existing[day].is_workday, None, existing[day].note, "removed"))
    covered = set(old.covered_years) | ({cover_year} if cover_year else set())
    new = WorkdayCalendar(overrides, covered)
    return ChangePlan(changes, moved_deadlines(session, old, new, [c.day for c in changes if c.kind != "unchanged"]), new)


def moved_deadlines(session, old: WorkdayCalendar, new: WorkdayCalendar, days: list[date]) -> list[MovedDeadline]:
    if not days:
        return []
    first = datetime.combine(min(days), datetime.min.time(), CST)
    rows = session.scalars(select(HumanTask).where(HumanTask.due_at.is_not(None), HumanTask.due_at >= first)
                           .order_by(HumanTask.due_at, HumanTask.id)).all()
    moved = []
    for row in rows:
        created, due = row.created_at.astimezone(CST).date(), row.due_at.astimezone(CST).date()
        if not any(created < d <= due for d in days):
            continue
        try:
            count = old.workdays_between(created, due)
            new_due = new.add_workdays(created, max(count, 0))
        except CalendarNotCovered:
            continue
        if new_due != due:
            moved.append(MovedDeadline(row, row.due_at, row.due_at + timedelta(days=(new_due - due).days)))
    return moved


# -- changing it ---------------------------------------------------------------------------------

def apply(uow, entries: list[DayEntry], remove: list[date] = (), cover_year: int | None = None,
          source: str = "form") -> ChangePlan:
    """Set the days, remove overrides, cover a year and move the deadlines, in this transaction."""
    require_admin(uow)
    if cover_year is not None:
        _check_coverable(uow.session, cover_year, entries)
    result = plan(uow.session, entries, remove, cover_year)
    now, session = uow.clock.now(), uow.session
    for change in result.effective:
        if change.kind == "removed":
            session.execute(delete(WorkdayOverride).where(WorkdayOverride.day == change.day))
            continue
        row = session.get(WorkdayOverride, change.day)
        if row is None:
            row = WorkdayOverride(day=change.day)
            session.add(row)
        row.is_workday, row.note, row.entered_by, row.entered_at = change.after, change.name[:200], uow.actor.name, now
    for move in result.moved:
        move.task.due_at = move.after
        if move.after > move.before:      # a later deadline earns its reminders again
            move.task.reminded_at = move.task.overdue_notified_at = None
        uow.audit("task.deadline_moved", case_id=move.task.case_id, task=move.task.bpmn_id,
                  task_row_id=move.task.id, before=move.before.isoformat(), after=move.after.isoformat())
    if cover_year is not None and session.get(CalendarYear, cover_year) is None:
        session.add(CalendarYear(year=cover_year, note="", covered_by=uow.actor.name, covered_at=now))
        uow.audit("calendar.year_covered", year=cover_year)
    if result.effective:
        uow.audit("calendar.changed", source=source[:120], moved_deadlines=len(result.moved),
                  days=[{"day": c.day.isoformat(), "workday": c.after, "name": c.name, "kind": c.kind}
                        for c in result.effective])
    session.flush()
    uow.forget_calendar()      # the unit of work counts with the new calendar from now on
    return result


def _check_coverable(session, year: int, entries: list[DayEntry]) -> None:
    if statutory_covers(year):
        raise CalendarError(N_("%(year)s 年已由法定数据覆盖，无需标记"), year=year)
    holidays = session.scalar(select(func.count()).select_from(WorkdayOverride).where(
        WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31),
        WorkdayOverride.is_workday.is_(False)))
    if not holidays and not any(e.day.year == year and not e.is_workday for e in entries):
        raise CalendarError(N_("%(year)s 年尚未录入任何节假日：请先导入国务院办公厅的节假日安排，再标记该年已覆盖"), year=year)


def uncover_year(uow, year: int) -> None:
    """Take back a year's coverage; refused while open tasks have deadlines in it."""
    require_admin(uow)
    row = uow.session.get(CalendarYear, year)
    if row is None:
        return
    start = datetime.combine(date(year, 1, 1), datetime.min.time(), CST)
    due_in_year = uow.session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.due_at >= start, HumanTask.due_at < datetime.combine(date(year + 1, 1, 1), datetime.min.time(), CST)))
    if due_in_year:
        raise CalendarError(N_("%(count)s 个待办任务的期限在 %(year)s 年内，不能取消覆盖"), count=due_in_year, year=year)
    uow.session.delete(row)
    uow.audit("calendar.year_uncovered", year=year)
    uow.forget_calendar()


# -- the yearly warning --------------------------------------------------------------------------

def year_needing_entry(session, today: date, warning_from: str = "11-01") -> int | None:
    """The year an administrator must enter now: this year if it is not covered; from
    `warning_from` (MM-DD) on, next year if it is not."""
    if not year_is_covered(session, today.year):
        return today.year
    month, day = (int(p) for p in warning_from.split("-"))
    if today >= date(today.year, month, day) and not year_is_covered(session, today.year + 1):
        return today.year + 1
    return None


def notify_uncovered_year(uow) -> int:
    """Once per ISO week while a year needs entering: a notification to every admin and leader."""
    today = uow.clock.today()
    year = year_needing_entry(uow.session, today, uow.settings.calendar_warning_from)
    if year is None:
        return 0
    monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time(), CST)
    recipients = set(uow.session.scalars(select(User.id).join(UserRole).where(
        UserRole.role.in_(("admin", "leader")), User.active)))
    already = set(uow.session.scalars(select(Notification.user_id).where(
        Notification.kind == "calendar_uncovered", Notification.created_at >= monday)))
    text = Message(N_("工作日历尚未覆盖 %(year)s 年：请系统管理员依据国务院办公厅的节假日安排通知，在「系统管理 › 工作日历」"
                      "导入 %(year)s 年的放假和调休上班日期；未覆盖前，期限落在 %(year)s 年的录入和办理将被拒绝。"),
                   year=year)
    return notify_users(uow, sorted(recipients - already), "calendar_uncovered", text, f"/system/calendar?year={year}")

