"""Case states stored by the release before the versioned serializer (format "credflow-1/1.5",
tests/data/states/, written by make_states.py there) load with today's code, under the definition
they were written with, and run to their end; once saved again they are in today's format."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.clock import FixedClock
from workflows.engine.bundle import Bundle, parse_bundle
from workflows.engine.compaction import compact
from workflows.engine.liveness import live_tasks
from workflows.engine.script_engine import CredflowScriptEngine, sandbox_helpers
from workflows.engine.serializer import VERSION, dump_state, load_state, state_version
from workflows.operations import OPERATIONS
from workflows.workdays import WorkdayCalendar

STATES = Path(__file__).resolve().parents[1] / "data" / "states"
FIXTURES = sorted(p.stem for p in STATES.glob("*.json"))
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "事实", "legal_basis": "依据", "decision_date": "2026-05-29"}
ANSWERS = {   # what each human task is answered with, to take every case to its end
    "capture": CAPTURE,
    "legality_review": {"review_decision": "approve", "review_opinion": "同意"},
    "final_review": {"review_decision": "approve", "review_opinion": "同意"},
    "leader_approval": {"leader_decision": "approve", "leader_opinion": "同意", "final_outcome": "correct",
                        "decision_reason": "同意"},
    "verification": {"verification_outcome": "correct", "verification_reason": "核实", "corrected_facts": "更正"},
    "verification_final": {"verification_outcome": "correct", "verification_reason": "核实", "corrected_facts": "更正"},
    "escalated_verification": {"verification_outcome": "correct", "verification_reason": "核实",
                               "corrected_facts": "更正"},
    "statement": {"statement_text": "已整改。"},
    "consider_self_correction": {"self_correction": "none", "self_correction_reason": "未纠错。"},
    "propose_measure": {"measure": "admonition", "measure_reason": "负有领导责任。"},
    "leader_decision": {"final_measure": "admonition", "decision_reason": "同意。"},
}
RESULTS = {"update_record": {"publication_rule": "2025"},
           "check_mitigation": {"decision": "none", "severity": None, "max_months": None},
           "publish_record": {"min_end_at": "2026-08-29T00:00:00+08:00", "max_end_at": "2027-05-29T00:00:00+08:00"}}


class StoredCase:
    def __init__(self, name: str, restore: bool):
        self.fixture = json.loads((STATES / f"{name}.json").read_text(encoding="utf-8"))
        d = self.fixture["definition"]
        self.parsed = parse_bundle(Bundle(d["key"], d["name"], d["bpmn_files"], d["dmn_files"], d["forms"]),
                                   set(OPERATIONS), check=False)
        self.clock = FixedClock(datetime.fromisoformat(self.fixture["clock"]))
        self.restore, self.calls = restore, []
        self.workflow = load_state(self.fixture["state"], self.parsed.spec, self.parsed.subprocess_specs)
        self._attach()

    def _attach(self):
        self.workflow.script_engine = CredflowScriptEngine(sandbox_helpers(WorkdayCalendar(), self.clock),
                                                           self.dispatch, clock=self.clock)

    def dispatch(self, task, name, params):
        self.calls.append(name)
        return RESULTS.get(name)

    def step(self, action):
        action()
        self.workflow.do_engine_steps()
        compact(self.workflow)
        if self.restore:
            state = dump_state(self.workflow)
            assert state_version(state) == VERSION
            self.workflow = load_state(state, self.parsed.spec, self.parsed.subprocess_specs)
            self._attach()

    def ready(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True))

    def finish(self, max_steps: int = 60) -> None:
        for _ in range(max_steps):
            if self.workflow.is_completed():
                return
            tasks = self.workflow.get_tasks(state=TaskState.READY, manual=True)
            if tasks:
                task = tasks[0]
                self.step(lambda: (task.data.update(ANSWERS[task.task_spec.bpmn_id]), task.run()))
            else:
                self.clock.advance(days=200)
                self.step(self.workflow.refresh_timers)
        raise AssertionError(f"not finished after {max_steps} steps: {self.ready()}")


@pytest.fixture(params=[False, True], ids=["straight", "save-restore"])
def restore(request):
    return request.param


@pytest.mark.parametrize("name", FIXTURES)
def test_a_stored_state_loads_where_it_was_and_runs_to_its_end(name, restore):
    case = StoredCase(name, restore)
    assert state_version(case.fixture["state"]) == "credflow-1/1.5"
    assert case.ready() == case.fixture["ready"]
    if case.fixture["next_due_at"]:
        assert case.workflow.waiting_events()
    case.finish()
    assert case.workflow.is_completed() and not live_tasks(case.workflow)


def test_a_stored_correction_loop_catches_every_correction_then_expires(restore):
    """The correction loop of a published record (pruned by the old release) goes on catching
    corrections after being read by a process that never ran it (freshly parsed specs)."""
    case = StoredCase("lifecycle_published", restore)
    for n in range(5):
        case.step(lambda: case.workflow.send_event(
            BpmnEvent(MessageEventDefinition("record_corrected"), payload={"facts": f"v{n}"})))
    assert case.calls.count("apply_correction") == 5
    case.finish()
    assert case.calls[-1] == "end_publication"


def test_saved_again_a_stored_state_is_in_todays_format():
    case = StoredCase("lifecycle_leader_approval", restore=False)
    state = dump_state(case.workflow)
    assert state_version(state) == VERSION and '"format"' not in state
    again = load_state(state, case.parsed.spec, case.parsed.subprocess_specs)
    assert sorted(t.task_spec.bpmn_id for t in again.get_tasks(state=TaskState.READY, manual=True)) == \
        ["leader_approval"]


def test_a_state_in_an_unknown_format_is_refused_with_its_format():
    case = StoredCase("lifecycle_returned", restore=False)
    state = json.loads(case.fixture["state"])
    state["format"] = "credflow-0/1.0"
    with pytest.raises(ValueError, match="credflow-0/1.0"):
        load_state(json.dumps(state), case.parsed.spec, case.parsed.subprocess_specs)
