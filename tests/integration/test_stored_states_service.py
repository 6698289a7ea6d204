"""A case row holding a state the previous release wrote (tests/data/states/lifecycle_published.json,
format "credflow-1/1.5") goes on through the case service: corrections are caught, the worker
fires its timers, it ends, and its row is then in today's format."""
from __future__ import annotations

import json
from pathlib import Path

from workflows.cases import complete_task, send_message
from workflows.definitions import deploy_bundle, latest_definition
from workflows.engine.bundle import Bundle
from workflows.engine.serializer import VERSION, state_version
from workflows.models import Case, Record
from workflows.records import open_record
from workflows.runtime import WORKFLOWS
from workflows.worker import run_once

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "states" / "lifecycle_published.json"
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def test_a_stored_published_case_is_corrected_expires_and_is_saved_in_todays_format(world, capture):
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    d = fixture["definition"]
    with world.uow("manager") as uow:
        deploy_bundle(uow, Bundle(d["key"], d["name"], d["bpmn_files"], d["dmn_files"], d["forms"]))
        stored = uow.session.get(Case, case.id)
        stored.definition_id = latest_definition(uow.session, d["key"]).id
        stored.state = fixture["state"]              # the record's case, as the previous release left it
        uow.commit()
    WORKFLOWS.clear()
    assert record.id == 1                            # the record the stored state's data names

    for n in range(3):
        world.run(None, send_message, case.id, "record_corrected", {"facts": f"再更正 {n}"})
        WORKFLOWS.clear()                            # every step read from the row, as another worker would
    with world.factory() as session:
        row = session.get(Case, case.id)
        assert session.get(Record, record.id).facts == "再更正 2"
        assert state_version(row.state) == VERSION and row.status == "running"
    world.clock.advance(days=500)
    run_once(world.factory, world.clock)
    run_once(world.factory, world.clock)
    with world.factory() as session:
        assert session.get(Case, case.id).status == "completed"
        assert session.get(Record, record.id).status == "expired"
