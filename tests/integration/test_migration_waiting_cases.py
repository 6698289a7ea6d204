"""Moving a case that waits on timers and messages, with SpiffWorkflow's util.diff: a published
record's lifecycle (its publication timers set, its correction loop running) moves to a version
that changes a later step, keeps its deadlines, catches corrections and ends on the target."""
from __future__ import annotations

import shutil

from sqlalchemy import select

from workflows.cases import complete_task, send_message
from workflows.definitions import deploy_folder, latest_definition
from workflows.migration import plan, run_job, start_job
from workflows.models import Case, ProcessDefinition, Record
from workflows.paths import bundled_dir
from workflows.records import open_record
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "同意"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意"}


def test_a_published_case_moves_keeps_its_deadlines_and_ends_on_the_target(world, capture, tmp_path):
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    world.run(None, send_message, case.id, "record_corrected", {"facts": "更正 1"})
    with world.factory() as session:
        due_before = session.get(Case, case.id).next_due_at
    assert due_before is not None

    shutil.copytree(bundled_dir("bpmn"), tmp_path / "bpmn")
    shutil.copytree(bundled_dir("forms"), tmp_path / "forms")
    diagram = tmp_path / "bpmn" / "record_lifecycle.bpmn"
    diagram.write_text(diagram.read_text(encoding="utf-8").replace('name="终止公示（期满）"', 'name="公示期满，终止公示"'),
                       encoding="utf-8")
    with world.uow("manager") as uow:
        deploy_folder(uow, tmp_path / "bpmn", tmp_path / "forms")
        uow.commit()
    with world.factory() as session:
        v1 = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "record_lifecycle",
                                                             ProcessDefinition.version == 1)).one()
        v2 = latest_definition(session, "record_lifecycle")
        movable, blocked = plan(session, v1, v2)
    assert case.id in movable, blocked
    with world.uow("manager") as uow:
        job = start_job(uow, v1, v2)
        uow.commit()
    run_job(world.factory, job.id, world.actors["manager"], world.clock)

    with world.factory() as session:
        moved = session.get(Case, case.id)
        assert moved.definition_id == v2.id and moved.next_due_at == due_before
    for n in (2, 3):
        world.run(None, send_message, case.id, "record_corrected", {"facts": f"更正 {n}"})
    with world.factory() as session:
        assert session.get(Record, record.id).facts == "更正 3"
    world.clock.advance(days=92)
    assert run_once(world.factory, world.clock)["fired"] == 1
    world.clock.advance(days=365)
    assert run_once(world.factory, world.clock)["fired"] == 1
    with world.factory() as session:
        assert session.get(Case, case.id).status == "completed"
        assert session.get(Record, record.id).status == "expired"
