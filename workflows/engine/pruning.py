"""Keep a case's state from growing with its history.

A record's lifecycle waits in a standard loop (one iteration per correction message). SpiffWorkflow
keeps every finished iteration, with its subprocess and data, in the task tree, so each step would
cost more the more a record had been through. Finished iterations are never read again (the loop
only appends their ids to `merged`), so they are removed after each step.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import StandardLoopTask
from SpiffWorkflow.util.task import TaskState

KEEP_MERGED_IDS = 1


def prune_finished_loop_iterations(workflow) -> int:
    """Drop the finished iterations of running standard loops; return how many were dropped."""
    dropped = 0
    for owner in [workflow, *list(workflow.subprocesses.values())]:
        for task in list(owner.tasks.values()):
            if not isinstance(task.task_spec, StandardLoopTask) or task.state != TaskState.STARTED:
                continue
            finished = [c for c in task.children if c.state == TaskState.COMPLETED]
            for child in finished:
                _drop_subtree(workflow, owner, child)
                task._children.remove(child.id)
                dropped += 1
            merged = task.internal_data.get("merged")
            if merged and len(merged) > KEEP_MERGED_IDS:
                task.internal_data["merged_count"] = task.internal_data.get("merged_count", 0) + len(merged) - KEEP_MERGED_IDS
                del merged[:-KEEP_MERGED_IDS]
    return dropped


def _drop_subtree(top, owner, root) -> None:
    stack = [root]
    while stack:
        task = stack.pop()
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        stack.extend(c for c in task.children if c is not None)
        owner.tasks.pop(task.id, None)
