"""Moving running cases to another version of their process.

A case moves when every step it holds (done, active or waiting) exists in the target version, so
its state reads the same under the new diagram; the others are listed with the reason. The match
is SpiffWorkflow's (`util.diff`: `SpecDiff`, `WorkflowDiff`, `migrate_workflow`), kept to identical element
ids.
Each moved case gets an audit event; its inbox rows take the target's task names, lanes and forms."""
from __future__ import annotations

import logging
from copy import deepcopy

from sqlalchemy import select, update
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .clock import current_clock
from .definitions import specs_for
from .engine.script_engine import CredflowScriptEngine, sandbox_helpers
from .engine.serializer import SPEC_REGISTRY, dump_state, load_state
from .messages import Message, N_, as_data, from_data
from .models import Case, HumanTask, MigrationJob, ProcessDefinition
from .runtime import WORKFLOWS, UnitOfWork
from .workdays import WorkdayCalendar

log = logging.getLogger("credflow.migration")
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE   # where the case may go next: predicted again
RESET = TaskState.READY | TaskState.WAITING               # re-predicted from the target by migrate_workflow


def _missing(diff, workflow) -> list:
    """Tasks whose element has no same-id counterpart in the target."""
    return [task for task in workflow.tasks.values()
            if getattr(diff.alignment.get(task), "name", None) != task.task_spec.name]


def _drop(workflow, task) -> None:
    """Take a predicted task (and what hangs below it) out of the tree."""
    parent = task.parent
    if parent is not None:
        parent.children = [c for c in parent.children if c is not None and c.id != task.id]
    for gone in list(task):
        workflow.tasks.pop(gone.id, None)


def _blocking(pairs) -> str | None:
    missing_active, missing_done, stuck = [], [], []
    for workflow, diff in pairs:
        if diff is None:
            missing_active.append(workflow.spec.name)
            continue
        for task in _missing(diff, workflow):
            if task.has_state(PREDICTED):
                live = task.parent
                while live is not None and live.has_state(PREDICTED):
                    live = live.parent
                if live is not None and not live.has_state(RESET):
                    stuck.append(live.task_spec.name)   # running on: nothing re-predicts what follows it
            elif task.has_state(ACTIVE):
                missing_active.append(task.task_spec.name)
            else:
                missing_done.append(task.task_spec.name)
    if missing_active:
        return Message(N_("目标版本缺少进行中的环节：%(steps)s"), steps=", ".join(sorted(set(missing_active))))
    if missing_done:
        return Message(N_("目标版本缺少已办结的环节：%(steps)s"), steps=", ".join(sorted(set(missing_done))))
    if stuck:
        return Message(N_("目标版本更改了进行中的环节之后的步骤：%(steps)s"), steps=", ".join(sorted(set(stuck))))
    return None


def _move(pairs, parsed) -> None:
    for workflow, diff in pairs:
        for task in _missing(diff, workflow):
            if task.id in workflow.tasks:
                _drop(workflow, task)
        spec = parsed.spec if workflow.parent_workflow is None else parsed.subprocess_specs[workflow.spec.name]
        kept = {t.id: (deepcopy(t.data), deepcopy(t.internal_data))
                for t in workflow.tasks.values() if t.has_state(RESET)}
        migrate_workflow(diff, workflow, spec, reset_mask=RESET)
        for task_id, (data, internal) in kept.items():   # re-predicted, but holding what it held
            task = workflow.tasks.get(task_id)
            if task is not None:
                task.data, task.internal_data = data, internal


_SPEC_DIFFS: dict = {}


def _spec_diffs(source, parsed):
    """SpiffWorkflow's SpecDiff of the source and target (the top process and each subprocess),
    computed once per pair of versions: it is the same for every case (what `diff_workflow` does
    per workflow, split so a job of many cases compares the specs once)."""
    key = (source.spec, parsed.spec)
    if key not in _SPEC_DIFFS:
        if len(_SPEC_DIFFS) > 16:
            _SPEC_DIFFS.clear()
        subprocesses = {name: SpecDiff(SPEC_REGISTRY, spec, parsed.subprocess_specs[name])
                        for name, spec in source.subprocess_specs.items() if name in parsed.subprocess_specs}
        _SPEC_DIFFS[key] = (SpecDiff(SPEC_REGISTRY, source.spec, parsed.spec), subprocesses)
    return _SPEC_DIFFS[key]


def _migration_engine(session) -> CredflowScriptEngine:
    def refuse(task, name, params):
        raise ValueError(f"moving a case runs no operation ({name})")
    clock = current_clock()
    return CredflowScriptEngine(sandbox_helpers(lambda: WorkdayCalendar.from_session(session), clock), refuse,
                                clock=clock)


def migrated_state(session, case: Case, target: ProcessDefinition) -> tuple[str | None, Message | None]:
    """(the case's state as it reads under `target`, None) or (None, why it cannot move)."""
    if case.status != "running":
        return None, Message(N_("案件已不在办理中"))
    if case.definition_id == target.id:
        return None, Message(N_("已在目标版本"))
    source, parsed = specs_for(session, case.definition_id), specs_for(session, target.id)
    try:
        workflow = load_state(case.state, source.spec, source.subprocess_specs)
        workflow.script_engine = _migration_engine(session)   # a reset timer evaluates its expression again
        top_diff, subprocess_diffs = _spec_diffs(source, parsed)
        pairs = [(workflow, WorkflowDiff(workflow, top_diff))] + [
            (sp, WorkflowDiff(sp, subprocess_diffs[sp.spec.name]) if subprocess_diffs.get(sp.spec.name) else None)
            for sp in workflow.subprocesses.values()]
        reason = _blocking(pairs)
        if reason:
            return None, reason
        _move(pairs, parsed)
        state = dump_state(workflow)
        load_state(state, parsed.spec, parsed.subprocess_specs)   # it must read under the target
        return state, None
    except Exception as exc:  # noqa: BLE001 -- any failure to read the state under the target blocks the move
        return None, Message(N_("状态无法按目标版本读取：%(error)s"), error=str(exc))


def blocked_entry(case_id: int, reason: Message) -> dict:
    """A blocked case as a job stores it (JSON): its id, and the reason's catalog id and parameters."""
    return {"case_id": case_id, "reason": as_data(reason)}


def blocked_reason(entry: dict) -> Message:
    """The reason of a stored blocked case (blocked_entry), to show in the reader's language."""
    reason = entry["reason"]
    if isinstance(reason, str):   # a job stored before reasons were catalog ids, or by the old layout
        return Message(reason, **(entry.get("params") or {}))
    return from_data(reason)


def blocking_reason(session, case: Case, target: ProcessDefinition) -> Message | None:
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
                    blocked.append(blocked_entry(case.id, reason))
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
