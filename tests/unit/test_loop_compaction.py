"""Loops of any length on the engine alone (no database): each loop kind of tests/data/loops runs
3,000 rounds (three times SpiffWorkflow's task-tree depth limit; bench/engine.py goes to 10,000) with a state that stays as small and as shallow as after 10, straight and with the
workflow saved and restored between every step; and SpiffWorkflow's own verdict at depth 1000 is
shown to be wrong, which is why the case service checks it (engine/liveness.py)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from workflows.clock import CST, FixedClock
from workflows.engine.bundle import parse_bundle, read_folder
from workflows.engine.compaction import MergedIds, compact
from workflows.engine.liveness import false_completion, live_tasks
from workflows.engine.script_engine import CredflowScriptEngine, sandbox_helpers
from workflows.engine.serializer import dump_state, load_state
from workflows.operations import OPERATIONS
from workflows.workdays import WorkdayCalendar

LOOPS = Path(__file__).resolve().parents[1] / "data" / "loops"
BUNDLES = {b.key: b for b in read_folder(LOOPS / "bpmn", LOOPS / "forms")}


class LoopRun:
    def __init__(self, key: str, restore: bool, compacting: bool = True, **data):
        self.parsed = parse_bundle(BUNDLES[key], set(OPERATIONS))
        self.restore, self.compacting = restore, compacting
        self.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
        self.workflow = BpmnWorkflow(self.parsed.spec, self.parsed.subprocess_specs)
        self._attach()
        self.workflow.get_tasks(state=TaskState.READY)[0].data.update(rounds=0, **data)
        self.state = ""
        self.step(lambda: None)

    def _attach(self):
        self.workflow.script_engine = CredflowScriptEngine(sandbox_helpers(WorkdayCalendar(), self.clock),
                                                           lambda *_: None, clock=self.clock)

    def step(self, action):
        action()
        self.workflow.do_engine_steps()
        if self.compacting:
            compact(self.workflow)
        self.state = dump_state(self.workflow)
        if self.restore:
            self.workflow = load_state(self.state, self.parsed.spec, self.parsed.subprocess_specs)
            self._attach()

    def work(self, decision: str = "again"):
        tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(tasks) == 1, [t.task_spec.name for t in tasks]
        task = tasks[0]
        self.step(lambda: (task.data.update(decision=decision), task.run()))

    def depth(self) -> int:
        return max(t.depth for owner in [self.workflow, *self.workflow.subprocesses.values()]
                   for t in owner.tasks.values())

    def merged(self, bpmn_id: str = "work") -> int:
        loop = next(t for t in self.workflow.tasks.values() if t.task_spec.name == bpmn_id)
        return len(loop.internal_data["merged"])


def run_rounds(run: LoopRun, rounds: int, last: str = "done") -> dict[int, tuple[int, int]]:
    """Work `rounds` rounds; (state bytes, tree depth) after rounds 10 and `rounds - 1`."""
    seen = {}
    for n in range(1, rounds + 1):
        run.work("again" if n < rounds else last)
        if n in (10, rounds - 1):
            seen[n] = (len(run.state), run.depth())
    return seen


def assert_flat(seen: dict, rounds: int):
    (size_10, depth_10), (size_n, depth_n) = seen[10], seen[rounds - 1]
    assert size_n <= 1.5 * size_10, seen
    assert depth_n <= depth_10, seen


@pytest.fixture(params=[False, True], ids=["straight", "save-restore"])
def restore(request):
    return request.param


ROUNDS = 3_000


@pytest.mark.parametrize("key", ["loop_gateway", "loop_standard"])
def test_three_thousand_rounds_stay_as_small_as_ten(key, restore):
    run = LoopRun(key, restore)
    seen = run_rounds(run, ROUNDS)
    assert_flat(seen, ROUNDS)
    assert run.workflow.is_completed() and not live_tasks(run.workflow)
    if key == "loop_gateway":
        assert run.workflow.data["rounds"] == ROUNDS       # every round ran its script once
    else:
        assert run.merged() == ROUNDS                      # every iteration was merged


def test_a_loop_maximum_of_three_thousand_ends_the_loop_at_three_thousand(restore):
    run = LoopRun("loop_standard_max", restore)
    run.workflow.spec.task_specs["work"].maximum = ROUNDS   # the diagram says loopMaximum="10000"
    try:
        seen = run_rounds(run, ROUNDS, last="again")       # the condition never ends it: the maximum does
        assert_flat(seen, ROUNDS)
        assert run.workflow.is_completed() and run.merged() == ROUNDS
    finally:
        run.workflow.spec.task_specs["work"].maximum = 10000


def test_a_loop_maximum_counts_iterations_compaction_dropped():
    run = LoopRun("loop_standard_max", restore=True)
    run.workflow.spec.task_specs["work"].maximum = 5      # the same diagram with loopMaximum="5"
    try:
        for _ in range(4):
            run.work()
            assert not run.workflow.is_completed()
        loop = next(t for t in run.workflow.tasks.values() if t.task_spec.name == "work")
        assert isinstance(loop.internal_data["merged"], MergedIds) and len(loop.internal_data["merged"]) == 4
        assert sum(t.task_spec.name == "work [child]" for t in run.workflow.tasks.values()) <= 2
        run.work()
        assert run.workflow.is_completed() and run.merged() == 5
    finally:
        run.workflow.spec.task_specs["work"].maximum = 10000


def test_three_thousand_sequential_instances_stay_as_small_as_ten(restore):
    run = LoopRun("loop_mi_sequential", restore, planned=ROUNDS)
    seen = run_rounds(run, ROUNDS)
    assert_flat(seen, ROUNDS)
    assert run.workflow.is_completed() and run.merged() == ROUNDS


def test_parallel_instances_leave_the_state_as_they_finish(restore):
    """All instances exist from the start (SpiffWorkflow creates them at once); each finished one
    is dropped, so the state shrinks as they finish instead of keeping them all."""
    planned = 300
    run = LoopRun("loop_mi_parallel", restore, planned=planned)
    at_start = len(run.state)
    for n in range(planned):
        tasks = run.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert len(tasks) == planned - n
        task = tasks[0]
        run.step(lambda: (task.data.update(decision="done"), task.run()))
        if n == planned // 2:
            assert len(run.state) < 0.6 * at_start
    assert run.workflow.is_completed() and run.merged() == planned


@pytest.mark.parametrize("key", ["loop_subprocess", "loop_in_subprocess"])
def test_back_edges_around_and_inside_subprocesses_stay_flat(key, restore):
    rounds = 1000
    run = LoopRun(key, restore)
    seen = run_rounds(run, rounds)
    assert_flat(seen, rounds)
    assert run.workflow.is_completed() and not live_tasks(run.workflow)
    assert run.workflow.data["rounds"] == rounds
    assert len(run.workflow.subprocesses) <= 2          # the rounds' finished subprocesses are gone


def test_the_boundary_timer_of_a_looped_subprocess_still_interrupts_it(restore):
    run = LoopRun("loop_subprocess", restore)
    run_rounds(run, 50, last="again")
    run.clock.advance(days=31)
    run.step(run.workflow.refresh_timers)
    assert run.workflow.is_completed() and run.workflow.data["rounds"] == 50
    assert not live_tasks(run.workflow)


def test_without_compaction_spiffworkflow_says_completed_with_a_task_still_ready():
    """The bug the guard catches: past depth 1000 (round 333 of a three-task loop) the engine's
    tree walk no longer sees the READY task, so `is_completed()` is True."""
    run = LoopRun("loop_gateway", restore=False, compacting=False)
    for n in range(1, 400):
        if not run.workflow.get_tasks(state=TaskState.READY, manual=True):
            break
        run.work()
    assert n < 400 and run.workflow.is_completed()
    assert [t.task_spec.name for t in live_tasks(run.workflow)] == ["work"]
    assert "「办理」(READY)" in str(false_completion(run.workflow))


def test_compaction_keeps_what_the_case_page_and_the_dossier_read():
    """The latest completed task of each element stays (the diagram colours them done), in the
    order they ran (a rule table's proposal finds the user task before it)."""
    run = LoopRun("loop_gateway", restore=True)
    run_rounds(run, 20, last="again")
    done = {t.task_spec.name for t in run.workflow.get_tasks(state=TaskState.COMPLETED)}
    assert {"start", "work", "count", "gw"} <= done
    ready = run.workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    ancestors = []
    parent = ready.parent
    while parent is not None:
        ancestors.append(parent.task_spec.name)
        parent = parent.parent
    assert ancestors[:3] == ["gw", "count", "work"] and ancestors[-1] == "Start"
