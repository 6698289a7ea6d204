"""The lifecycle diagram on the engine alone (no database), each test run twice: straight, and
with the workflow saved and restored between every step."""
from __future__ import annotations

from datetime import datetime

import pytest
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.clock import CST, FixedClock, using_clock
from workflows.engine.bundle import parse_bundle, read_folder
from workflows.engine.compaction import compact
from workflows.engine.script_engine import CredflowScriptEngine, sandbox_helpers
from workflows.engine.serializer import dump_state, load_state
from workflows.operations import OPERATIONS
from workflows.paths import bundled_dir
from workflows.workdays import WorkdayCalendar

CAPTURE = {"source": "court_judgment", "field": "ppp", "severity": "general", "facts": "f",
           "legal_basis": "b", "decision_date": "2026-05-29"}
PUBLICATION = {"min_end_at": "2026-08-29T00:00:00+08:00", "max_end_at": "2027-05-29T00:00:00+08:00"}


class Runner:
    def __init__(self, restore: bool):
        bundle = next(b for b in read_folder(bundled_dir("bpmn"), bundled_dir("forms")) if b.key == "record_lifecycle")
        self.parsed = parse_bundle(bundle, set(OPERATIONS))
        self.restore = restore
        self.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
        self.calls: list[tuple[str, dict]] = []
        self.mitigation = {"decision": "none", "severity": None, "max_months": None}
        self.workflow = BpmnWorkflow(self.parsed.spec, self.parsed.subprocess_specs)
        self._attach()
        self.workflow.get_tasks(state=TaskState.READY)[0].data.update(
            record_id=1, subject_kind="department", publication_rule="2025", return_count=0)
        self.step()

    def _attach(self):
        self.workflow.script_engine = CredflowScriptEngine(
            sandbox_helpers(WorkdayCalendar(), self.clock), self.dispatch)

    def dispatch(self, task, name, params):
        self.calls.append((name, params))
        if name == "update_record":  # the rule in force on the decision date, as the real operation says
            return {"publication_rule": "2019" if params["decision_date"] < "2026-04-01" else "2025"}
        if name == "check_mitigation":
            return self.mitigation
        return {"publish_record": PUBLICATION}.get(name)

    def step(self, action=lambda: None):
        with using_clock(self.clock):
            action()
            self.workflow.do_engine_steps()
            compact(self.workflow)
        if self.restore:
            state = dump_state(self.workflow)
            self.workflow = load_state(state, self.parsed.spec, self.parsed.subprocess_specs)
            self._attach()

    def ready(self) -> list[str]:
        return [t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)]

    def complete(self, bpmn_id: str, data: dict):
        task = next(t for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == bpmn_id)
        def act():
            task.data.update(data)
            task.run()
        self.step(act)

    def send(self, name: str, payload: dict):
        self.step(lambda: self.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload)))

    def fire_timers(self):
        self.step(self.workflow.refresh_timers)

    def ops(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture(params=[False, True], ids=["straight", "save-restore"])
def run(request):
    return Runner(restore=request.param)


def publish(run):
    run.complete("capture", CAPTURE)
    run.complete("legality_review", {"review_decision": "approve", "review_opinion": "ok"})
    run.complete("leader_approval", {"leader_decision": "approve", "leader_opinion": "ok"})


def test_user_tasks_sit_in_their_roles_lanes(run):
    assert run.ready() == ["capture"]
    task = run.workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    assert task.task_spec.lane == "clerk"
    assert task.task_spec.extensions["properties"]["formJsonSchemaFilename"] == "capture.json"


def test_approved_record_is_sanctioned_from_the_dmn_and_published(run):
    publish(run)
    assert run.ops() == ["update_record", "confirm_record", "check_mitigation", "sanction_record", "issue_decision",
                         "open_accountability_cases", "publish_record"]
    sanction = dict(run.calls)["sanction_record"]
    assert (sanction["min_months"], sanction["max_months"], sanction["publish"]) == (3, 12, True)
    assert sanction["sanctions"] and all(isinstance(s, str) for s in sanction["sanctions"])
    assert run.ready() == []
    assert not run.workflow.is_completed()


def test_serious_civil_servant_under_the_2019_rule(run):
    run.workflow.get_tasks(state=TaskState.READY, manual=True)[0].data.update(subject_kind="civil_servant")
    run.complete("capture", {**CAPTURE, "severity": "serious", "decision_date": "2026-03-02"})
    run.complete("legality_review", {"review_decision": "approve", "review_opinion": "ok"})
    run.complete("leader_approval", {"leader_decision": "approve", "leader_opinion": "ok"})
    sanction = dict(run.calls)["sanction_record"]
    assert (sanction["min_months"], sanction["max_months"]) == (6, 36)


def test_timers_fire_at_the_minimum_then_the_maximum(run):
    publish(run)
    run.clock.advance(days=30)
    run.fire_timers()
    assert "mark_repair_eligible" not in run.ops()
    run.clock.advance(days=70)
    run.fire_timers()
    assert run.ops()[-1] == "mark_repair_eligible"
    run.clock.advance(days=300)
    run.fire_timers()
    assert run.ops()[-1] == "end_publication" and run.calls[-1][1] == {"outcome": "expired"}
    assert run.workflow.is_completed()


def test_corrections_are_caught_repeatedly_then_revocation_ends(run):
    publish(run)
    for n in range(3):
        run.send("record_corrected", {"facts": f"v{n}"})
    corrections = [params for name, params in run.calls if name == "apply_correction"]
    assert corrections == [{"changes": {"facts": f"v{n}"}} for n in range(3)]
    run.send("record_revoked", {"reason": "x"})
    assert run.calls[-1] == ("end_publication", {"outcome": "revoked"})
    assert run.workflow.is_completed()


def test_three_returns_then_the_reviewer_must_decide(run):
    run.complete("capture", CAPTURE)
    for _ in range(3):
        run.complete("legality_review", {"review_decision": "return", "review_opinion": "fix"})
        assert run.ready() == ["capture"]
        run.complete("capture", CAPTURE)
    run.complete("legality_review", {"review_decision": "return", "review_opinion": "again"})
    assert run.ready() == ["final_review"]
    run.complete("final_review", {"review_decision": "reject", "review_opinion": "no"})
    assert run.ops().count("return_record") == 3
    assert run.ops()[-1] == "reject_record"
    assert run.workflow.is_completed()


def test_leader_refusal_rejects(run):
    run.complete("capture", CAPTURE)
    run.complete("legality_review", {"review_decision": "approve", "review_opinion": "ok"})
    run.complete("leader_approval", {"leader_decision": "reject", "leader_opinion": "no"})
    assert run.calls[-1] == ("reject_record", {"reason": "no"})
    assert run.workflow.is_completed()


def test_a_long_correction_history_does_not_grow_the_state(run):
    publish(run)
    run.send("record_corrected", {"facts": "first"})
    size_after_one = len(dump_state(run.workflow))
    for n in range(60):
        run.send("record_corrected", {"facts": f"v{n}"})
    assert len(dump_state(run.workflow)) < size_after_one * 1.1
    assert [p for name, p in run.calls if name == "apply_correction"][-1] == {"changes": {"facts": "v59"}}
    # and the case still ends normally afterwards
    run.clock.advance(days=400)
    run.fire_timers()
    assert run.workflow.is_completed()


def test_an_exempting_self_correction_skips_the_sanction(run):
    run.mitigation = {"decision": "exempt", "severity": None, "max_months": None}
    publish(run)
    assert run.ops()[-3:] == ["check_mitigation", "exempt_record", "issue_decision"]
    assert run.workflow.is_completed()


def test_a_lighter_self_correction_recomputes_from_the_rules(run):
    run.mitigation = {"decision": "lighter", "severity": "general", "max_months": 6}
    run.complete("capture", {**CAPTURE, "severity": "serious"})
    run.complete("legality_review", {"review_decision": "approve", "review_opinion": "ok"})
    run.complete("leader_approval", {"leader_decision": "approve", "leader_opinion": "ok"})
    sanction = dict(run.calls)["sanction_record"]
    assert (sanction["min_months"], sanction["max_months"], sanction["publish"]) == (3, 6, True)


def test_an_operation_failing_for_a_domain_reason_is_the_tasks_error_but_a_lost_database_is_not(run):
    """A domain failure becomes a WorkflowTaskException naming its cause (the case shows it); a
    dropped database connection passes through unchanged, so the web answers 503 and the caller
    retries the whole action (the workflow of a failed action is discarded) instead of reading a
    database error as the case's."""
    from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
    from sqlalchemy.exc import OperationalError
    lost = OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))
    for error, expected in ((lost, OperationalError), (RuntimeError("archived meanwhile"), WorkflowTaskException)):
        runner = Runner(restore=run.restore)
        runner.complete("capture", CAPTURE)

        def dispatch(task, name, params, error=error):
            raise error
        runner.workflow.script_engine.dispatch = dispatch
        with pytest.raises(expected) as info:
            runner.complete("legality_review", {"review_decision": "approve", "review_opinion": "ok"})
        assert type(info.value) is expected
    assert "archived meanwhile" in str(info.value)
