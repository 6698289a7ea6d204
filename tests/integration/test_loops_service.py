"""Loops through the case service, on SQLite and PostgreSQL: a gateway loop runs past
SpiffWorkflow's depth limit with a flat state and completes; without compaction the engine's false
"completed" at the depth limit is caught and the case fails loudly instead; loop shapes that
cannot be compacted are refused at deploy, with the reason."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workflows.cases import complete_task, start_case
from workflows.definitions import deploy_bundle, deploy_folder
from workflows.engine.bundle import read_folder
from workflows.engine.problems import InvalidBundle
from workflows.models import AuditEvent, Case, HumanTask, Notification, ProcessDefinition, User

from in_english import english

LOOPS = Path(__file__).resolve().parents[1] / "data" / "loops"


@pytest.fixture
def loops(world):
    with world.uow("manager") as uow:
        deploy_folder(uow, LOOPS / "bpmn", LOOPS / "forms")
        uow.commit()
    return world


def start(world, key="loop_gateway"):
    return world.run("clerk", start_case, key, {"rounds": 0}).id


def work(world, case_id, decision="again"):
    world.run("clerk", complete_task, world.task(case_id, "work").id, {"decision": decision})


def get_case(world, case_id) -> Case:
    with world.factory() as session:
        return session.get(Case, case_id)


@pytest.mark.one_database   # the engine's depth limit, whatever stores the case
def test_a_gateway_loop_runs_past_the_depth_limit_with_a_flat_state_and_completes(loops):
    case_id = start(loops)
    sizes = {}
    for n in range(1, 1001):
        work(loops, case_id, "again" if n < 1000 else "done")
        if n in (10, 999):
            sizes[n] = len(get_case(loops, case_id).state)
    case = get_case(loops, case_id)
    assert case.status == "completed" and case.error is None
    assert sizes[999] <= 1.5 * sizes[10], sizes
    assert json.loads(case.state)["data"]["rounds"] == 1000
    with loops.factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "task.completed")) == 1000


@pytest.mark.one_database   # the engine's depth limit, whatever stores the case
def test_when_the_engine_says_completed_with_a_task_waiting_the_case_fails_loudly(loops, monkeypatch):
    """Today's bug replayed: without compaction, at round 333 of a three-task loop the task tree
    passes depth 1000 and SpiffWorkflow reports the process completed while 「办理」 is READY."""
    monkeypatch.setattr("workflows.case_store.compact", lambda workflow: 0)
    case_id = start(loops)
    rounds = 0
    while get_case(loops, case_id).status == "running":
        assert rounds < 400, "the engine never reported a false completion"
        work(loops, case_id)
        rounds += 1
    case = get_case(loops, case_id)
    assert rounds > 300 and case.status == "error" and case.completed_at is None
    assert "「办理」(READY)" in case.error and "未办结" in case.error
    with loops.factory() as session:
        actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))
        assert "case.error" in actions and "case.completed" not in actions
        leader = session.scalars(select(User).where(User.username == "leader")).one()
        told = session.scalars(select(Notification).where(Notification.user_id == leader.id,
                                                          Notification.case_id == case_id)).all()
        assert [n.kind for n in told] == ["case_error"] and "「办理」" in told[0].text


@pytest.mark.parametrize("key, reason", [("loop_parallel_join", "Parallel gateway on a loop"),
                                         ("loop_inclusive", "Inclusive gateway on a loop")])
def test_a_loop_that_cannot_be_compacted_is_refused_at_deploy(world, key, reason):
    bundle = next(b for b in read_folder(LOOPS / "refused", LOOPS / "forms") if b.key == key)
    with world.uow("manager") as uow:
        with pytest.raises(InvalidBundle) as refused:
            deploy_bundle(uow, bundle)
    assert any(reason in english(p.reason) and p.element for p in refused.value.problems), refused.value.problems
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)
                              .where(ProcessDefinition.key == key)) == 0


def test_every_loop_kind_deploys_and_its_task_rows_follow_the_rounds(loops):
    for key in ("loop_standard", "loop_mi_sequential"):
        case_id = loops.run("clerk", start_case, key, {"rounds": 0, "planned": 30}).id
        for _ in range(29):
            work(loops, case_id)
            with loops.factory() as session:
                assert session.scalar(select(func.count()).select_from(HumanTask)
                                      .where(HumanTask.case_id == case_id)) == 1
        work(loops, case_id, "done")
        assert get_case(loops, case_id).status == "completed"
