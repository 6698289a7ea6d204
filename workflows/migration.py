"""Moving running cases to another version of their process.

A case moves when every step it holds (done, active or waiting) exists in the target version, so
its state reads the same under the new diagram; the others are listed with the reason. Each moved
case gets an audit event; its inbox rows take the target's task names, lanes and forms."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select, update

from .definitions import specs_for
from SpiffWorkflow.util.task import TaskState

from .engine.serializer import dump_state, load_state
from .models import Case, HumanTask, MigrationJob, ProcessDefinition
from .runtime import WORKFLOWS, UnitOfWork

log = logging.getLogger("credflow.migration")
ACTIVE = {"READY", "WAITING", "STARTED", "ERROR"}
PREDICTED = {1, 2, 4}   # MAYBE, LIKELY, FUTURE: where the case may go next, recomputed from the diagram
STATE_NAMES = {1: "MAYBE", 2: "LIKELY", 4: "FUTURE", 8: "WAITING", 16: "READY", 32: "STARTED", 64: "COMPLETED",
               128: "ERROR", 256: "CANCELLED"}


def _specs_of(parsed, state: dict):
    """(tasks dict, target spec) for the top workflow and each subprocess of a stored state."""
    yield state["tasks"], parsed.spec
    for sub in state.get("subprocesses", {}).values():
        yield sub["tasks"], parsed.subprocess_specs.get(sub.get("spec"))


def _prune_predictions(tasks: dict, spec) -> None:
    """Drop predicted tasks the target cannot name (and what hangs below them): the engine predicts
    the way ahead again from the target's diagram when the case moves on."""
    doomed = [tid for tid, t in tasks.items() if t["state"] in PREDICTED and t["task_spec"] not in spec.task_specs]
    stack = list(doomed)
    while stack:
        tid = stack.pop()
        task = tasks.pop(tid, None)
        if task is not None:
            stack.extend(task.get("children", []))
    for task in tasks.values():
        task["children"] = [c for c in task.get("children", []) if c in tasks]


def migrated_state(session, case: Case, target: ProcessDefinition) -> tuple[str | None, str | None]:
    """(the case's state as it reads under `target`, None) or (None, why it cannot move)."""
    if case.status != "running":
        return None, f"案件状态为 {case.status} / the case is {case.status}"
    if case.definition_id == target.id:
        return None, "已在目标版本 / already on the target version"
    parsed = specs_for(session, target.id)
    state = json.loads(case.state)
    missing_active, missing_done = [], []
    for tasks, spec in _specs_of(parsed, state):
        if spec is None:
            missing_active.append("subprocess")
            continue
        _prune_predictions(tasks, spec)
        for task in tasks.values():
            if task["task_spec"] not in spec.task_specs:
                label = STATE_NAMES.get(task["state"], str(task["state"]))
                (missing_active if label in ACTIVE else missing_done).append(task["task_spec"])
    if missing_active:
        return None, "目标版本缺少进行中的环节 / active steps missing in the target: " + ", ".join(sorted(set(missing_active)))
    if missing_done:
        return None, "目标版本缺少已办结的环节 / completed steps missing in the target: " + ", ".join(sorted(set(missing_done)))
    try:
        workflow = load_state(json.dumps(state), parsed.spec, parsed.subprocess_specs)
        # predict the way ahead again, now from the target's diagram
        for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
        return dump_state(workflow), None
    except Exception as exc:  # noqa: BLE001 -- any failure to read the state under the target blocks the move
        return None, f"状态无法按目标版本读取 / the state does not read under the target: {exc}"


def blocking_reason(session, case: Case, target: ProcessDefinition) -> str | None:
    """Why this case cannot move to `target`, or None when it can."""
    return migrated_state(session, case, target)[1]


def plan(session, source: ProcessDefinition, target: ProcessDefinition) -> tuple[list[int], list[dict]]:
    movable, blocked = [], []
    for case in session.scalars(select(Case).where(Case.definition_id == source.id, Case.status == "running")
                                .order_by(Case.id)):
        reason = blocking_reason(session, case, target)
        if reason:
            blocked.append({"case_id": case.id, "reason": reason})
        else:
            movable.append(case.id)
    return movable, blocked


def move_case(uow, case: Case, target: ProcessDefinition, new_state: str) -> None:
    source_version = uow.session.get(ProcessDefinition, case.definition_id).version
    case.definition_id = target.id
    case.state = new_state
    case.updated_at = uow.clock.now()
    uow.session.flush()  # bumps the case's version: any cached workflow of it is stale now
    WORKFLOWS.take(case.id, -1)
    parsed = specs_for(uow.session, target.id)
    props = {}
    for spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for ts in spec.task_specs.values():
            if getattr(ts, "bpmn_id", None):
                props[ts.bpmn_id] = ts
    for row in uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)):
        ts = props.get(row.bpmn_id)
        if ts is not None:
            row.name = ts.bpmn_name or ts.bpmn_id
            row.lane = ts.lane
            row.form_key = (ts.extensions or {}).get("properties", {}).get("formJsonSchemaFilename")
    uow.audit("case.migrated", case_id=case.id, record_id=case.record_id, from_version=source_version,
              to_version=target.version)


def start_job(uow, source: ProcessDefinition, target: ProcessDefinition) -> MigrationJob:
    if source.key != target.key:
        raise ValueError("a case can only move between versions of its own process")
    total = len(uow.session.scalars(select(Case.id).where(Case.definition_id == source.id,
                                                           Case.status == "running")).all())
    job = MigrationJob(key=source.key, from_definition_id=source.id, to_definition_id=target.id, total=total,
                       blocked=[], started_by=uow.actor.name, started_at=uow.clock.now())
    uow.session.add(job)
    uow.session.flush()
    uow.audit("migration.started", job_id=job.id, key=source.key, from_version=source.version,
              to_version=target.version, cases=total)
    return job


def run_job(session_factory, job_id: int, actor, clock, settings=None, batch: int = 50) -> MigrationJob:
    """Work a job through in batches of one transaction each, updating its progress as it goes."""
    last_id = 0
    while True:
        with UnitOfWork(session_factory, actor, clock, settings) as uow:
            job = uow.session.get(MigrationJob, job_id)
            target = uow.session.get(ProcessDefinition, job.to_definition_id)
            cases = uow.session.scalars(select(Case).where(Case.definition_id == job.from_definition_id,
                                                           Case.status == "running", Case.id > last_id)
                                        .order_by(Case.id).limit(batch)).all()
            if not cases:
                job.status, job.finished_at = "done", uow.clock.now()
                uow.audit("migration.finished", job_id=job.id, moved=job.moved, blocked=len(job.blocked))
                uow.commit()
                return job
            blocked = list(job.blocked)
            for case in cases:
                new_state, reason = migrated_state(uow.session, case, target)
                if reason:
                    blocked.append({"case_id": case.id, "reason": reason})
                else:
                    move_case(uow, case, target, new_state)
                    job.moved += 1
                job.done += 1
                last_id = case.id
            job.blocked = blocked
            uow.commit()


def fail_job(session_factory, job_id: int, error: str) -> None:
    with session_factory() as session:
        session.execute(update(MigrationJob).where(MigrationJob.id == job_id).values(status="failed"))
        session.commit()
    log.error("migration job %s failed: %s", job_id, error)
