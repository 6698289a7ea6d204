"""Is there still work in a workflow? Checked without SpiffWorkflow's tree walk.

`BpmnWorkflow.is_completed()` walks the task tree with SpiffWorkflow's `TaskIterator`, which stops
descending at depth 1000: a task below that depth is invisible to it, and a workflow whose last
READY task sits there reports itself completed. These functions look at every task the workflow
and its subprocesses hold (their `tasks` mappings), whatever the depth, so the engine's verdict can
be checked before a case is closed.
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

from ..messages import Message, N_

# work that is really there: a task to do, an event or a join waiting, a subprocess or loop running
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def all_workflows(workflow) -> list:
    """The top workflow and every subprocess it holds."""
    return [workflow, *workflow.subprocesses.values()]


def live_tasks(workflow) -> list:
    """Every READY, WAITING or STARTED task of the workflow and its subprocesses, at any depth."""
    return [task for owner in all_workflows(workflow) for task in owner.tasks.values() if task.has_state(LIVE)]


def describe_tasks(tasks, limit: int = 5) -> str:
    """「name」 (STATE), ... for people reading an error."""
    names = []
    for task in tasks[:limit]:
        spec = task.task_spec
        label = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name
        names.append(f"「{label}」({TaskState.get_name(task.state)})")
    more = f" +{len(tasks) - limit}" if len(tasks) > limit else ""
    return ", ".join(names) + more


def false_completion(workflow) -> Message | None:
    """Why the engine's "completed" cannot be believed (tasks still live), or None."""
    if not workflow.is_completed():
        return None
    live = live_tasks(workflow)
    if not live:
        return None
    return Message(N_("流程引擎报告已办结，但仍有 %(count)s 个环节未完成：%(tasks)s；案件已标记为出错，未办结"),
                   count=len(live), tasks=describe_tasks(live))
