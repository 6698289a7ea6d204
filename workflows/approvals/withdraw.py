"""撤回 withdraw: the person who completed a step takes it back while the next step is unclaimed.

Allowed on a running case when the actor's latest completion in it is the case's latest, every
current task row is an unclaimed workflow task (nobody has taken the next step up), the step is
still in the task tree, completed, an ancestor of a waiting task, and nothing was issued or
published since (as for 退回, send_back.py). The case is reset to the step as a send back does;
the step goes back to the actor with their previous answers as a draft."""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from ..case_errors import CaseError, Conflict, Forbidden
from ..case_store import open_workflow
from ..messages import Message, N_
from ..models import AuditEvent, Case, HumanTask
from .common import clean_reason, record_action, running_case
from .policy import ACTION_TITLES, allowed_for, permits
from .send_back import (Step, Target, ancestors, find_task, is_user_step, refuse_if_issued, return_to,
                        workflow_of)

NOTHING = N_("您在此案件中没有可以撤回的步骤")
MOVED_ON = N_("下一步已有人办理，不能撤回")


def _step(session, actor, case: Case, rows: list[HumanTask], load_workflow) -> Step:
    """The step the actor may withdraw now, or an error saying why not."""
    if case.status != "running":
        raise Conflict(N_("案件已结束或不存在"))
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "task.completed", AuditEvent.actor == actor.name)
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    if event is None or actor.user_id is None:
        raise Forbidden(NOTHING)
    later = session.scalar(select(AuditEvent.id).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "task.completed", AuditEvent.id > event.id).limit(1))
    if later is not None or any(r.assignee_id is not None or r.kind != "task" for r in rows):
        raise Conflict(MOVED_ON)
    bpmn_id = event.data.get("task")
    if not permits(allowed_for(session, case.process_key, bpmn_id, "withdraw"), actor.roles):
        raise Forbidden(N_("您不能对此任务%(action)s"), action=Message(ACTION_TITLES["withdraw"]))
    workflow = load_workflow()
    task = find_task(workflow, event.data.get("task_id") or "")
    waiting = [find_task(workflow, r.task_id) for r in rows]
    if task is None or not is_user_step(task) or not any(
            w is not None and w.state == TaskState.READY and task in ancestors(workflow, w) for w in waiting):
        raise CaseError(NOTHING)
    step = Step(Target(task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id, actor.user_id,
                       actor.shown_name), task, event)
    refuse_if_issued(session, case, step, "withdraw")
    return step


def _rows(session, case_id: int, lock: bool = False) -> list[HumanTask]:
    query = select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id)
    return list(session.scalars(query.with_for_update() if lock else query))


def withdrawable(session, actor, case) -> dict | None:
    """What the actor could withdraw on this case now: {"bpmn_id", "name", "completed_at",
    "task_id"}, or None."""
    if case is None or case.status != "running" or actor is None or actor.user_id is None:
        return None
    try:
        step = _step(session, actor, case, _rows(session, case.id), lambda: workflow_of(session, case))
    except CaseError:
        return None
    return {"bpmn_id": step.target.bpmn_id, "name": step.target.name, "completed_at": step.event.at,
            "task_id": str(step.task.id)}


def withdraw(uow, case_id: int, reason: str, expected_version: int | None = None):
    """Take back the actor's last completed step of the case. Returns its new task row."""
    case = running_case(uow, case_id, expected_version)
    reason = clean_reason(reason, required=False)
    rows = _rows(uow.session, case.id, lock=True)     # a claim of the next step waits for us, or we see it
    opened = {}

    def load():
        opened["workflow"], opened["before"] = open_workflow(uow, case)
        return opened["workflow"]

    step = _step(uow.session, uow.actor, case, rows, load)
    actor = uow.actor
    notice = {"kind": "withdrawn", "by": actor.name, "by_name": actor.shown_name, "reason": reason}
    row, gone = return_to(uow, case, opened["workflow"], opened["before"], step, notice, reason, "withdraw",
                          actor.user_id)
    record_action(uow, case, row, "withdraw", reason=reason,
                  data={"to": step.target.bpmn_id, "to_name": step.target.name,
                        "cancelled": sorted(bpmn for _holder, bpmn in gone.values())})
    return row
