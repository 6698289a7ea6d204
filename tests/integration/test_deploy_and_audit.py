"""Deploying versions, a runaway script under the timer worker, and the audit chain."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from workflows.cases import start_case
from workflows.definitions import deploy_folder, latest_definition
from workflows.engine.bundle import InvalidBundle
from workflows.models import AuditEvent, Case, ProcessDefinition
from workflows.paths import bundled_dir
from workflows.settings import Settings
from workflows.worker import run_once

DATA = Path(__file__).resolve().parent.parent / "data"


def copy_shipped(tmp_path: Path) -> Path:
    shutil.copytree(bundled_dir("bpmn"), tmp_path / "bpmn")
    shutil.copytree(bundled_dir("forms"), tmp_path / "forms")
    return tmp_path / "bpmn"


def test_deploying_the_same_bundle_again_changes_nothing(world):
    with world.uow() as uow:
        results = deploy_folder(uow)
        uow.commit()
    assert sorted((r.key, r.version, r.created) for r in results) == [
        ("accountability", 1, False), ("commitment", 1, False), ("complaint", 1, False), ("credit_repair", 1, False),
        ("integrity_evaluation", 1, False), ("objection", 1, False), ("record_lifecycle", 1, False), ("self_correction", 1, False)]


def test_a_changed_bundle_becomes_a_new_version_and_running_cases_keep_theirs(world, capture, tmp_path):
    from workflows.records import open_record
    _, old_case = world.run("clerk", open_record, world.subjects[0], capture)
    folder = copy_shipped(tmp_path)
    form = tmp_path / "forms" / "record_lifecycle" / "legality_review.json"
    form.write_text(form.read_text(encoding="utf-8").replace("合法性审核", "合法性审查"), encoding="utf-8")
    with world.uow("manager") as uow:
        results = {r.key: r for r in deploy_folder(uow, folder)}
        uow.commit()
    assert (results["record_lifecycle"].version, results["record_lifecycle"].created) == (2, True)
    assert not results["objection"].created   # untouched processes keep their version
    _, new_case = world.run("clerk", open_record, world.subjects[1], capture)
    with world.factory() as session:
        versions = {c.id: session.get(ProcessDefinition, c.definition_id).version
                    for c in session.scalars(select(Case))}
    assert versions == {old_case.id: 1, new_case.id: 2}


def test_an_invalid_bundle_is_refused_and_the_active_version_stays(world, tmp_path):
    folder = copy_shipped(tmp_path)
    diagram = folder / "record_lifecycle.bpmn"
    diagram.write_text(diagram.read_text(encoding="utf-8").replace(
        'name="reviewer"', 'name="janitor"', 1), encoding="utf-8")
    with world.uow("manager") as uow:
        with pytest.raises(InvalidBundle) as err:
            deploy_folder(uow, folder)
    assert any(p.file == "record_lifecycle.bpmn" and "janitor" in str(p.reason) for p in err.value.problems)
    with world.factory() as session:
        assert latest_definition(session, "record_lifecycle").version == 1


def test_a_runaway_script_fails_its_case_and_the_worker_lives_on(world):
    with world.uow("manager") as uow:
        deploy_folder(uow, DATA / "runaway", DATA / "runaway")
        uow.commit()
    due = world.clock.now().isoformat()
    spinning = world.run(None, start_case, "runaway", {"due_at": due, "spin_forever": True})
    finishing = world.run(None, start_case, "runaway", {"due_at": due, "spin_forever": False})
    world.clock.advance(minutes=1)
    settings = Settings(script_time_limit=0.3)
    totals = run_once(world.factory, world.clock, settings)
    assert totals == {"fired": 1, "failed": 1}
    with world.factory() as session:
        failed, done = session.get(Case, spinning.id), session.get(Case, finishing.id)
        assert failed.status == "error" and "0.3" in failed.error and failed.next_due_at is None
        assert done.status == "completed"
    # the failed case is not retried in a loop
    assert run_once(world.factory, world.clock, settings) == {"fired": 0, "failed": 0}


def run_cli(database_url, *args):
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "webapp.cli", *args], capture_output=True, text=True,
                          env=env, cwd=Path(__file__).resolve().parents[2], timeout=120)


def test_verify_audit_catches_an_edited_row(world, capture, database_url):
    from workflows.records import open_record
    world.run("clerk", open_record, world.subjects[0], capture)
    ok = run_cli(database_url, "verify-audit")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with world.factory() as session:
        victim = session.scalars(select(AuditEvent).where(AuditEvent.action == "record.opened")).one()
        session.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id"), {"id": victim.id})
        session.commit()
    broken = run_cli(database_url, "verify-audit")
    assert broken.returncode == 1
    assert f"event {victim.id}" in broken.stderr
