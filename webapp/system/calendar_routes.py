"""The working-day calendar: a year as month grids, days entered one by one, whole years imported.
Thin: parse, call workflows.calendar_admin with the admin as actor, render. A change that moves
deadlines of open tasks, and every import, is shown first and saved only when confirmed."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.calendar_admin import (FIRST_YEAR, LAST_YEAR, CalendarError, apply, plan, uncover_year,
                                      year_needing_entry, year_view)
from workflows.calendar_files import CalendarFileError, DayEntry, parse_calendar_file

from ..context import clock, db, unit_of_work
from ..translate import translated
from . import bp
from .user_routes import admin_only


def _year_arg(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return clock().today().year
    return min(max(year, FIRST_YEAR), LAST_YEAR)


def _page(year: int, problems=(), status: int = 200):
    return render_template("system/calendar.html", view=year_view(db(), year), problems=problems,
                           today=clock().today()), status


def _entries_text(entries: list[DayEntry]) -> str:
    """The entries as the CSV the confirm step reads back (and checks again)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for e in entries:
        writer.writerow([e.day.isoformat(), "workday" if e.is_workday else "holiday", e.name])
    return out.getvalue()


def _preview(year: int, entries: list[DayEntry], remove: list[date], cover: bool, source: str):
    result = plan(db(), entries, remove, year if cover else None)
    return render_template("system/calendar_preview.html", year=year, result=result, cover=cover, source=source,
                           entries_text=_entries_text(entries), remove=[d.isoformat() for d in remove])


def _apply(year: int, entries: list[DayEntry], remove: list[date], cover: bool, source: str):
    try:
        with unit_of_work() as uow:
            result = apply(uow, entries, remove, year if cover else None, source)
            uow.commit()
    except CalendarError as exc:
        return _page(year, [translated(exc)], 409)
    flash(_("已保存：%(days)s 天变更，%(tasks)s 个待办任务的期限随之调整。", days=len(result.effective),
            tasks=len(result.moved)), "success")
    return redirect(url_for("system.calendar", year=year))


def _problems(exc: CalendarFileError) -> list[str]:
    return [translated(p.message) for p in exc.problems]


@bp.get("/calendar")
@admin_only
def calendar():
    return _page(_year_arg(request.args.get("year")))


@bp.post("/calendar/day")
@admin_only
def calendar_day():
    """One day: a holiday or a make-up working day (or, with `remove`, back to the default)."""
    form = request.form
    year = _year_arg(form.get("year"))
    raw = f"{form.get('day', '').strip()[:10]},{form.get('kind', '').strip()[:10]},{form.get('name', '').strip()[:100]}"
    remove = form.get("remove") == "1"
    try:
        entries = parse_calendar_file(raw.encode(), "day.csv", year)
    except CalendarFileError as exc:
        return _page(year, _problems(exc), 422)
    entries, removed = ([], [entries[0].day]) if remove else (entries, [])
    if form.get("confirm") != "1" and plan(db(), entries, removed).moved:
        return _preview(year, entries, removed, False, "form")
    return _apply(year, entries, removed, False, "form")


@bp.post("/calendar/import")
@admin_only
def calendar_import():
    """A file of the year (CSV or iCalendar): always previewed before it is applied."""
    year = _year_arg(request.form.get("year"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(year, [_("请选择要导入的文件（CSV 或 iCalendar）。")], 422)
    try:
        entries = parse_calendar_file(upload.read(600 * 1024), upload.filename, year)
    except CalendarFileError as exc:
        return _page(year, _problems(exc), 422)
    return _preview(year, entries, [], request.form.get("cover") == "1", (upload.filename or "")[:100])


@bp.post("/calendar/apply")
@admin_only
def calendar_apply():
    """The confirmed preview: its rows are read and checked again, never trusted as sent."""
    form = request.form
    year = _year_arg(form.get("year"))
    try:
        text = form.get("entries", "")
        entries = parse_calendar_file(text.encode(), "preview.csv", year) if text.strip() else []
        remove = [date.fromisoformat(d) for d in form.getlist("remove") if d][:1]
    except CalendarFileError as exc:
        return _page(year, _problems(exc), 422)
    except ValueError:
        return _page(year, [_("日期无效。")], 422)
    return _apply(year, entries, remove, form.get("cover") == "1", form.get("source", "form"))


@bp.post("/calendar/coverage")
@admin_only
def calendar_coverage():
    """Mark a year covered (its unlisted days follow the weekday rule) or take that back."""
    year = _year_arg(request.form.get("year"))
    if request.form.get("action") == "uncover":
        try:
            with unit_of_work() as uow:
                uncover_year(uow, year)
                uow.commit()
        except CalendarError as exc:
            return _page(year, [translated(exc)], 409)
        flash(_("已取消 %(year)s 年的覆盖标记。", year=year), "info")
        return redirect(url_for("system.calendar", year=year))
    return _apply(year, [], [], True, "form")


@bp.app_context_processor
def _calendar_banner():
    """The year an admin must enter now, for the banner of admins and leaders (one small query)."""
    from flask_login import current_user
    if not (current_user.is_authenticated and current_user.has_role("admin", "leader")):
        return {}

    def banner_year():
        try:
            return year_needing_entry(db(), clock().today(), current_app.config["SETTINGS"].calendar_warning_from)
        except Exception:  # noqa: BLE001 -- a banner never fails a page (the database may be down)
            return None
    return {"calendar_banner_year": banner_year}
