"""`credflow calendar import` and `credflow calendar show` through click's CliRunner on a migrated
database (SQLite and PostgreSQL): the preview printed, applied unless --dry-run, every problem of a
bad file printed with exit 1 and nothing saved; a year printed as month grids with a legend.

tests/data/calendar/ holds FICTIONAL test data, not an official holiday arrangement."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if "webapp" in sys.modules and getattr(sys.modules["webapp"], "__file__", None) is None:
    del sys.modules["webapp"]

from webapp.cli import main  # noqa: E402
from workflows.clock import CST  # noqa: E402
from workflows.models import AuditEvent, CalendarYear, HumanTask, WorkdayOverride  # noqa: E402
from workflows.records import open_record  # noqa: E402

FICTIONAL = ROOT / "tests" / "data" / "calendar" / "fictional-2027.csv"


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("CREDFLOW_SETTINGS", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, ["calendar", *map(str, args)])


def count(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_import_dry_run_prints_the_preview_and_saves_nothing(cli, session_factory):
    result = cli("import", FICTIONAL, "--year", 2027, "--cover", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2027-02-10  new" in result.output and "unknown -> holiday" in result.output
    assert "2027 will be marked covered" in result.output and "dry run: nothing saved" in result.output
    assert count(session_factory, WorkdayOverride) == 0 and count(session_factory, CalendarYear) == 0


def test_import_applies_and_show_prints_the_year(cli, session_factory):
    result = cli("import", FICTIONAL, "--year", 2027, "--cover")
    assert result.exit_code == 0, result.output
    assert "saved: 7 days, 0 deadlines moved, 2027 marked covered" in result.output
    assert count(session_factory, WorkdayOverride) == 7
    with session_factory() as session:
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "calendar.changed")) == "cli"
    shown = cli("show", 2027)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("2027: covered by the office (cli)")
    assert any(line.startswith("2027-02") for line in lines)
    assert " 6班*" in shown.output and "10休*" in shown.output and " 1·" in shown.output   # 2027-03-01: a plain Monday
    assert "legend: · working day, 休 rest day, 班 make-up working day, ? not covered" in shown.output
    again = cli("import", FICTIONAL, "--year", 2027)
    assert "saved: 0 days" in again.output                       # the same file twice changes nothing


def test_an_uncovered_year_shows_question_marks(cli, session_factory):
    shown = cli("show", 2028)
    assert shown.exit_code == 0 and "2028: NOT COVERED" in shown.output and " 3?" in shown.output


def test_a_bad_file_prints_every_problem_exits_1_and_saves_nothing(cli, session_factory, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind,name\n2027-01-01,holiday,x\n2027-01-01,holiday,y\n2027-05-01,vacation,z\n"
                   "2026-12-31,holiday,w\n", encoding="utf-8")
    result = cli("import", bad, "--year", 2027, "--cover")
    assert result.exit_code == 1
    assert "第 3 行：日期 2027-01-01 重复（第 2 行已有）" in result.output     # the command line speaks Chinese
    assert "第 4 行：kind「vacation」未知" in result.output
    assert "第 5 行：日期 2026-12-31 不在 2027 年内" in result.output
    assert "nothing was saved" in result.output
    assert count(session_factory, WorkdayOverride) == 0 and count(session_factory, CalendarYear) == 0


def test_import_lists_the_open_deadlines_it_moves(cli, world, capture, tmp_path):
    """A task created 2026-06-01 is due 2026-06-08; a holiday on 2026-06-03 moves it to 06-09."""
    _, case = world.run("clerk", open_record, world.subjects[0], capture)
    task = world.task(case.id, "legality_review")
    day = tmp_path / "one-day.csv"
    day.write_text("2026-06-03,holiday,fictional closure\n", encoding="utf-8")
    preview = cli("import", day, "--dry-run")
    assert f"deadline moves: task {task.id}" in preview.output and "2026-06-08 -> 2026-06-09" in preview.output
    with world.factory() as session:
        assert session.get(HumanTask, task.id).due_at.astimezone(CST).date().isoformat() == "2026-06-08"
    result = cli("import", day)
    assert result.exit_code == 0 and "1 deadlines moved" in result.output
    with world.factory() as session:
        assert session.get(HumanTask, task.id).due_at.astimezone(CST).date().isoformat() == "2026-06-09"
