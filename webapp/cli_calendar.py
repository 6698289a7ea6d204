"""`credflow calendar ...`: the working-day calendar from the command line. Thin: read the file,
call workflows.calendar_admin as the administrator "cli", print. An error prints every problem,
exits 1 and saves nothing."""
from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import click

from workflows.calendar_admin import CalendarError, apply, plan, year_view
from workflows.calendar_files import CalendarFileError, parse_calendar_file
from workflows.clock import CST
from workflows.numbers import case_no
from workflows.runtime import Actor, UnitOfWork

CLI_ADMIN = Actor("cli", roles=frozenset({"admin"}))
MARKS = {True: "·", False: "休", None: "?"}     # a working day, a rest day, not covered
MAKEUP, HOLIDAY = "班", "休"
CELL = 6          # columns a day takes (a CJK mark is two wide)


def _factory():
    from .cli import _factory as factory
    return factory()


def _fail(lines) -> None:
    for line in lines:
        click.echo(f"refused: {line}", err=True)
    click.echo("nothing was saved", err=True)
    sys.exit(1)


@click.group(help="The working-day calendar: import a year, show a year.")
def calendar() -> None:
    pass


@calendar.command("import", help="Import holidays and make-up working days from a CSV (date,kind,name) "
                                 "or iCalendar FILE; prints what changes and which open deadlines move.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, help="Every date must fall in this year.")
@click.option("--cover", is_flag=True, help="Also mark the year covered (its other days: Monday-Friday worked).")
@click.option("--dry-run", is_flag=True, help="Only print what would change.")
def import_file(file, year, cover, dry_run) -> None:
    from workflows.settings import load_settings
    path = Path(file)
    try:
        entries = parse_calendar_file(path.read_bytes(), path.name, year)
    except CalendarFileError as exc:
        _fail(str(p) for p in exc.problems)
    years = sorted({e.day.year for e in entries})
    if cover and len(years) != 1 and year is None:
        _fail([f"--cover needs one year; the file has {', '.join(map(str, years))} (give --year)"])
    cover_year = (year or years[0]) if cover else None
    with UnitOfWork(_factory(), CLI_ADMIN, settings=load_settings()) as uow:
        try:
            result = apply(uow, entries, [], cover_year, source=path.name) if not dry_run else \
                plan(uow.session, entries, [], cover_year)
        except CalendarError as exc:
            _fail([str(exc)])
        _print_plan(result, cover_year)
        if dry_run:
            click.echo("dry run: nothing saved")
            return
        uow.commit()
    click.echo(f"saved: {len(result.effective)} days, {len(result.moved)} deadlines moved"
               + (f", {cover_year} marked covered" if cover_year else ""))


def _print_plan(result, cover_year) -> None:
    names = {True: "workday", False: "holiday", None: "unknown"}
    for change in result.changes:
        after = "removed" if change.kind == "removed" else names[change.after]
        click.echo(f"{change.day.isoformat()}  {change.kind:<9}  {names[change.before]:>7} -> {after:<7}  {change.name}")
    for move in result.moved:
        number = case_no(move.task.case_id, move.task.process_key)
        click.echo(f"deadline moves: task {move.task.id} ({move.task.name}, case {number}) "
                   f"{move.before.astimezone(CST):%Y-%m-%d} -> {move.after.astimezone(CST):%Y-%m-%d}")
    if cover_year:
        click.echo(f"{cover_year} will be marked covered")


@calendar.command("show", help="Print YEAR as month grids: · working day, 休 rest day, 班 make-up working day, "
                               "? not covered; * entered by the office.")
@click.argument("year", type=int)
def show(year) -> None:
    with _factory()() as session:
        try:
            view = year_view(session, year)
        except CalendarError as exc:
            _fail([str(exc)])
        status = ("covered by the statutory data" if view.statutory else
                  f"covered by the office ({view.covered_row.covered_by})" if view.covered_row else "NOT COVERED")
        click.echo(f"{year}: {status}; {view.counts['workdays']} working days, {view.counts['rest']} rest days"
                   + (f", {view.counts['unknown']} unknown" if view.counts["unknown"] else ""))
        for number, weeks in enumerate(view.months, start=1):
            click.echo(f"\n{year}-{number:02d}  " + "".join(d.ljust(CELL) for d in ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")))
            for week in weeks:
                click.echo(" " * 9 + "".join(_cell(d) for d in week))
        for row in view.overrides:
            click.echo(f"* {row.day.isoformat()} {'workday' if row.is_workday else 'holiday'} {row.note} "
                       f"({row.entered_by or '-'})")
        click.echo("\nlegend: · working day, 休 rest day, 班 make-up working day, ? not covered, * entered by the office")


def _cell(day) -> str:
    if day is None:
        return " " * CELL
    mark = MARKS[day.is_workday]
    if day.is_workday and day.weekend:
        mark = MAKEUP
    elif day.is_workday is False and not day.weekend:
        mark = HOLIDAY
    text = f"{day.day.day:>2}{mark}{'*' if day.source == 'override' else ''}"
    return text + " " * (CELL - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text))
