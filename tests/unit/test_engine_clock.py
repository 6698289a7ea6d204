"""Timers read the clock the script engine is given (engine/timers.py), not the machine's and not a
patched SpiffWorkflow module: a 30-day timer started on an engine clock set to 2020 waits until
that clock passes its due time, though the machine's date is long past it."""
from __future__ import annotations

import datetime as real_datetime
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.util.task import TaskState

from workflows.clock import CST, FixedClock
from workflows.engine.bundle import parse_bundle, read_folder
from workflows.engine.script_engine import CredflowScriptEngine, sandbox_helpers
from workflows.engine.serializer import dump_state, load_state
from workflows.operations import OPERATIONS
from workflows.workdays import WorkdayCalendar

LOOPS = Path(__file__).resolve().parents[1] / "data" / "loops"


def test_a_timer_follows_the_engine_clock_through_a_save_and_a_restore():
    bundle = next(b for b in read_folder(LOOPS / "bpmn", LOOPS / "forms") if b.key == "loop_subprocess")
    parsed = parse_bundle(bundle, set(OPERATIONS))
    clock = FixedClock(datetime(2020, 1, 1, 9, 0, tzinfo=CST))

    def engine():
        return CredflowScriptEngine(sandbox_helpers(WorkdayCalendar(), clock), lambda *_: None, clock=clock)
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
    workflow.script_engine = engine()
    workflow.get_tasks(state=TaskState.READY)[0].data.update(rounds=0)
    workflow.do_engine_steps()
    [due] = [e.value for e in workflow.waiting_events()]
    assert due.startswith("2020-01-31") and [e.event_type for e in workflow.waiting_events()] == \
        ["DurationTimerEventDefinition"]

    clock.advance(days=29)
    workflow = load_state(dump_state(workflow), parsed.spec, parsed.subprocess_specs)
    workflow.script_engine = engine()
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert not workflow.is_completed()          # the machine's clock would have fired it years ago

    clock.advance(days=2)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert workflow.is_completed()              # the boundary timer interrupted the round and ended it


def test_spiffworkflows_timer_module_is_left_as_it_is():
    assert spiff_timer.datetime is real_datetime.datetime
