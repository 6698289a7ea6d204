"""Moving running cases between versions: 100 cases, some movable, some blocked."""
from __future__ import annotations

import shutil

from sqlalchemy import func, select

from workflows.cases import complete_task
from workflows.definitions import deploy_folder, latest_definition
from workflows.migration import plan, run_job, start_job
from workflows.models import AuditEvent, Case, HumanTask, ProcessDefinition
from workflows.paths import bundled_dir
from workflows.records import open_record

APPROVE = {"review_decision": "approve", "review_opinion": "同意"}


def deploy_renamed_review_step(world, tmp_path):
    """v2: the legality review step gets another id (so cases waiting in it cannot move)."""
    shutil.copytree(bundled_dir("bpmn"), tmp_path / "bpmn")
    shutil.copytree(bundled_dir("forms"), tmp_path / "forms")
    diagram = tmp_path / "bpmn" / "record_lifecycle.bpmn"
    text = diagram.read_text(encoding="utf-8")
    text = (text.replace('legality_review"', 'legality_check"').replace('>legality_review<', '>legality_check<')
            .replace('"合法性审核"', '"合法性审查"'))
    diagram.write_text(text, encoding="utf-8")
    with world.uow("manager") as uow:
        deploy_folder(uow, tmp_path / "bpmn", tmp_path / "forms")
        uow.commit()


def test_migrating_100_cases_moves_the_movable_and_lists_the_blocked(world, capture, tmp_path):
    at_capture, at_review = [], []
    for n in range(100):
        # half still at capture (no data yet), half already waiting for the legality review
        record, case = world.run("clerk", open_record, world.subjects[n % 5], capture if n % 2 else None)
        (at_review if n % 2 else at_capture).append(case.id)
    deploy_renamed_review_step(world, tmp_path)
    with world.factory() as session:
        v1 = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "record_lifecycle",
                                                             ProcessDefinition.version == 1)).one()
        v2 = latest_definition(session, "record_lifecycle")
        movable, blocked = plan(session, v1, v2)
    assert sorted(movable) == sorted(at_capture), blocked[:2]
    assert sorted(b["case_id"] for b in blocked) == sorted(at_review)
    assert all("legality_review" in str(b["reason"]) for b in blocked)

    with world.uow("manager") as uow:
        job = start_job(uow, v1, v2)
        uow.commit()
    job = run_job(world.factory, job.id, world.actors["manager"], world.clock, batch=30)
    assert (job.status, job.total, job.done, job.moved, len(job.blocked)) == ("done", 100, 100, 50, 50)

    with world.factory() as session:
        on_v2 = set(session.scalars(select(Case.id).where(Case.definition_id == v2.id)))
        assert on_v2 == set(at_capture)
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "case.migrated")) == 50
    # a moved case carries on under v2: its next step has the new id and name
    moved = at_capture[0]
    world.run("clerk", complete_task, world.task(moved, "capture").id, capture)
    step = world.task(moved, "legality_check")
    assert step.name == "合法性审查"
    world.run("reviewer", complete_task, step.id, APPROVE)
    # a blocked case finishes on v1 as it started
    kept = at_review[0]
    world.run("reviewer", complete_task, world.task(kept, "legality_review").id, APPROVE)
    with world.factory() as session:
        assert session.get(Case, kept).definition_id == v1.id
        assert [t.bpmn_id for t in session.scalars(select(HumanTask).where(HumanTask.case_id == kept))] == \
            ["leader_approval"]
