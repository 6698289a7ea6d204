"""Keep a case's state as small as its present, whatever its history.

SpiffWorkflow keeps every task a workflow ever ran in one tree: each round of a gateway back-edge
adds its tasks below the previous round's, every iteration of a loop or multi-instance activity
stays a child of the loop, every finished subprocess keeps its own tree. The state, and the cost of
every step (the engine walks the whole tree several times a step), grow with the history, and at
depth 1000 SpiffWorkflow's tree walk stops seeing the live tasks at all.

After each step `compact` keeps, in each workflow (the top one and every subprocess):
- the root, every unfinished task (READY, WAITING, STARTED, and the predicted ones below them) and
  the parent of each (joins read their instances' parents; a task's data comes from its parent);
- the workflow's `last_task` (a subprocess hands its data on from it);
- the latest completed task of every element: what the case page colours as done and what the
  dossier reads (rule tables' proposals, found by walking up to the user task before them);
- while a join waits, everything it reads: every instance of a parallel/inclusive/end join and its
  parent; for a boundary-event join, its split, the split's children and their join instances;
and drops the rest, deleting the subprocesses of dropped tasks. A kept task whose parent is dropped
hangs from its nearest kept ancestor (never from an unfinished task or an event split, whose
children SpiffWorkflow reads as a set), so its data and the order of branches stay as they were,
and the depth stays bounded by the number of elements, not by the number of rounds.

A running loop's `merged` list (one id per finished iteration) becomes a `MergedIds`, which counts
every iteration but remembers only the last ids: `loopMaximum` is counted on it, and the state does
not grow with it. Ad hoc subprocesses (which read their root's children as the set of branches)
are left alone; deploy refuses them and the loop shapes this cannot compact (see loop_shapes.py).

Everything here uses SpiffWorkflow's public API: `Task.parent`/`children` setters, `workflow.tasks`,
`BpmnWorkflow.delete_subprocess`, `event_manager.remove_task`.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

MERGED_KEY = "merged"     # SpiffWorkflow's loop bookkeeping: ids of the iterations merged so far


class MergedIds:
    """Stands in for a loop task's `merged` list: `len()` is the number of finished iterations
    (what `loopMaximum` and the iteration counter read), `[-1]` the iteration merged last (what a
    multi-instance completion condition reads); only the last `KEEP` ids are remembered."""
    KEEP = 2

    def __init__(self, count: int = 0, last=()):
        self.count = int(count)
        self.last = [str(i) for i in last][-self.KEEP:]

    @classmethod
    def of(cls, merged) -> "MergedIds":
        return merged if isinstance(merged, cls) else cls(len(merged), merged)

    def append(self, item) -> None:
        self.count += 1
        self.last.append(item)
        del self.last[:-self.KEEP]

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __getitem__(self, index):
        if isinstance(index, int) and index < 0:
            return self.last[index]
        if isinstance(index, int) and self.count - len(self.last) <= index < self.count:
            return self.last[index - self.count]
        raise IndexError(f"iteration {index} was compacted; the last {len(self.last)} of {self.count} are kept")

    def __iter__(self):
        return iter(self.last)

    def __contains__(self, item) -> bool:
        return item in self.last

    def __eq__(self, other) -> bool:
        return isinstance(other, MergedIds) and (self.count, self.last) == (other.count, other.last)

    def __repr__(self) -> str:
        return f"MergedIds({self.count}, {self.last})"

    def to_dict(self) -> dict:
        return {"count": self.count, "last": list(self.last)}

    @classmethod
    def from_dict(cls, dct: dict) -> "MergedIds":
        return cls(dct["count"], dct.get("last", ()))


def compact(workflow) -> int:
    """Drop the finished history nothing will read again, in the workflow and all its
    subprocesses; return how many tasks were dropped."""
    dropped = _drop_orphan_subprocesses(workflow)
    dropped += _compact_one(workflow, workflow)
    for task_id, subprocess in list(workflow.subprocesses.items()):
        if task_id in workflow.subprocesses:     # not deleted with a dropped parent meanwhile
            dropped += _compact_one(workflow, subprocess)
    return dropped


def _drop_orphan_subprocesses(top) -> int:
    """Subprocesses whose task is gone. SpiffWorkflow leaves them behind when it drops an unfinished
    task holding one (a loop cancelled with its running iteration): unreachable, but still counted
    as active by `do_engine_steps`, their waiting events still registered."""
    dropped = 0
    while True:
        known = set(top.tasks).union(*(sp.tasks for sp in top.subprocesses.values()))
        orphans = [task_id for task_id in top.subprocesses if task_id not in known]
        if not orphans:
            return dropped
        for task_id in orphans:
            subprocess = top.subprocesses.pop(task_id)
            for task in subprocess.tasks.values():
                top.event_manager.remove_task(task)
            dropped += len(subprocess.tasks)


def _compact_one(top, owner) -> int:
    if isinstance(owner.spec, AdHocSubprocessSpec):
        return 0
    tasks, root = owner.tasks, owner.task_tree
    keep = _tasks_to_keep(owner)
    _count_merged_iterations(owner)
    if len(keep) >= len(tasks):
        return 0
    _keep_safe_anchors(tasks, root, keep)
    removed = _rebuild(root, keep)
    for task in removed:
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        top.event_manager.remove_task(task)
        tasks.pop(task.id, None)
    return len(removed)


def _tasks_to_keep(owner) -> set:
    tasks = owner.tasks
    keep = {owner.task_tree.id}
    latest = {}
    live = []
    for task in tasks.values():                     # creation order: later instances come later
        if task.has_state(TaskState.NOT_FINISHED_MASK | TaskState.ERROR):
            live.append(task)
        elif task.state == TaskState.COMPLETED:
            latest[task.task_spec.name] = task
    for task in live:
        keep.add(task.id)
        parent = task.parent
        if parent is not None:
            keep.add(parent.id)
    keep.update(task.id for task in latest.values())
    if owner.last_task is not None and owner.last_task.id in tasks:
        keep.add(owner.last_task.id)
    _keep_what_joins_read(owner, live, keep)
    return keep


def _keep_what_joins_read(owner, live, keep: set) -> None:
    unstructured = set()
    for task in live:
        spec = task.task_spec
        if not isinstance(spec, Join):
            continue
        if spec.split_task is None:
            unstructured.add(spec.name)
            continue
        split = _nearest_ancestor(task, spec.split_task)
        if split is None:
            continue
        keep.add(split.id)
        for branch in split.children:
            if branch is None:
                continue
            keep.add(branch.id)
            keep.update(c.id for c in branch.children if c is not None and c.task_spec.name == spec.name)
    if unstructured:
        for task in owner.tasks.values():
            if task.task_spec.name in unstructured:
                keep.add(task.id)
                if task.parent is not None:
                    keep.add(task.parent.id)


def _nearest_ancestor(task, spec_name: str):
    parent = task.parent
    while parent is not None and parent.task_spec.name != spec_name:
        parent = parent.parent
    return parent


def _count_merged_iterations(owner) -> None:
    for task in owner.tasks.values():
        if isinstance(task.task_spec, LoopTask) and isinstance(task.internal_data.get(MERGED_KEY), list):
            task.internal_data[MERGED_KEY] = MergedIds.of(task.internal_data[MERGED_KEY])


def _can_adopt(task) -> bool:
    """May `task` take a kept descendant as its child? Only a finished task that is no event split:
    an unfinished task syncs its children with its outputs, and an event split's join reads its
    children as the main task and its boundary events."""
    return task.has_state(TaskState.FINISHED_MASK) and not isinstance(task.task_spec, EventSplit)


def _keep_safe_anchors(tasks, root, keep: set) -> None:
    for task_id in list(keep):
        task = tasks.get(task_id)
        if task is None or task is root:
            continue
        path, parent = [], task.parent
        while parent is not None and parent.id not in keep:
            path.append(parent)
            parent = parent.parent
        if parent is None:            # not reachable from the root: leave its branch as it is
            keep.update(t.id for t in path)
            continue
        while path and not _can_adopt(parent):
            parent = path.pop()       # keep the dropped chain's top task: it adopts instead
            keep.add(parent.id)


def _rebuild(root, keep: set) -> list:
    """Re-hang every kept task from its nearest kept ancestor, children in their original order;
    return the tasks not kept."""
    removed, adopted = [], {}
    stack = [(root, None)]
    while stack:
        task, anchor = stack.pop()
        if task.id in keep:
            if anchor is not None:
                adopted[anchor.id][1].append(task)
                if task.parent is not anchor:
                    task.parent = anchor
            adopted[task.id] = (task, [])
            anchor = task
        else:
            removed.append(task)
        children = [child for child in task.children if child is not None]
        stack.extend((child, anchor) for child in reversed(children))
    for task, children in adopted.values():
        if [c.id for c in task.children] != [c.id for c in children]:
            task.children = children
    return removed
