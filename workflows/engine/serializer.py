"""Workflow state without its spec (the spec is stored once per definition version), written and
read with SpiffWorkflow's versioned serializer.

Every state carries `serializer_version` = "<credflow format>/<SpiffWorkflow format>", e.g.
"credflow-2/1.5". Reading a state runs, in order, credflow's migrations of its own part (below) and
SpiffWorkflow's migrations of the engine's part (`BpmnWorkflowSerializer.migrate`, given the spec it
needs, spliced in for the time of the migration), so states written by any earlier release load.

Formats:
- credflow-1 (releases until 2026-06): the version was in a "format" key; a running loop's finished
  iterations were pruned to one id plus a `merged_count`, which made `loopMaximum` count wrong.
- credflow-2: a running loop's iterations are a `MergedIds` (count + last ids), see compaction.py.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as ENGINE_FORMAT
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .compaction import MERGED_KEY, MergedIds
from .timers import CLOCKED_TIMER_CONVERTERS

FORMAT = "credflow-2"
VERSION = f"{FORMAT}/{ENGINE_FORMAT}"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without `spec`/`subprocess_specs`; reads it back given the specs."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class CompactJSONEncoder(json.JSONEncoder):
    """Chinese as UTF-8 and no spaces: a third of the bytes `json.dumps`' defaults write."""

    def __init__(self, **kwargs):
        kwargs.update(ensure_ascii=False, separators=(",", ":"))
        super().__init__(**kwargs)


def _make_registry() -> DefaultRegistry:
    registry = DefaultRegistry()
    registry.register(date, lambda d: {"iso": d.isoformat()}, lambda dct: date.fromisoformat(dct["iso"]))
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda dct: Decimal(dct["value"]))
    registry.register(MergedIds, MergedIds.to_dict, MergedIds.from_dict)
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config.update(CLOCKED_TIMER_CONVERTERS)
    return BpmnWorkflowSerializer.configure(config, registry)


def _task_dicts(dct: dict):
    yield from dct.get("tasks", {}).values()
    for subprocess in dct.get("subprocesses", {}).values():
        yield from subprocess.get("tasks", {}).values()


def _from_credflow_1(dct: dict) -> str:
    """Pruned loops kept one id and a `merged_count`: make them a MergedIds with the true count."""
    for task in _task_dicts(dct):
        internal = task.get("internal_data") or {}
        if "merged_count" in internal:
            merged = internal.get(MERGED_KEY) or []
            counted = MergedIds(internal.pop("merged_count") + len(merged), merged)
            internal[MERGED_KEY] = {**counted.to_dict(), "typename": "MergedIds"}
    return "credflow-2"


CREDFLOW_MIGRATIONS = {"credflow-1": _from_credflow_1}


class StateSerializer(BpmnWorkflowSerializer):
    """SpiffWorkflow's serializer with credflow's own format steps in front of its migrations."""

    def migrate_state(self, dct: dict, spec, subprocess_specs) -> None:
        version = dct.pop(self.VERSION_KEY, None) or dct.pop("format", None)
        if not isinstance(version, str) or "/" not in version:
            raise ValueError(f"case state without a known format ({version!r}); this build writes {VERSION!r}")
        ours, _, engine = version.partition("/")
        while ours != FORMAT:
            if ours not in CREDFLOW_MIGRATIONS:
                raise ValueError(f"case state written in format {version!r}, which this build ({VERSION}) cannot read")
            ours = CREDFLOW_MIGRATIONS[ours](dct)
        if engine != ENGINE_FORMAT:
            # SpiffWorkflow's migrations rewrite specs and tasks together: lend them the spec
            dct["spec"] = self.registry.convert(spec)
            dct["subprocess_specs"] = {name: self.registry.convert(s) for name, s in subprocess_specs.items()}
            dct[self.VERSION_KEY] = engine
            self.migrate(dct)
            dct.pop("spec", None)
            dct.pop("subprocess_specs", None)


_SERIALIZER = StateSerializer(_make_registry(), version=VERSION, json_encoder_cls=CompactJSONEncoder)
SPEC_REGISTRY = _SERIALIZER.registry   # what SpiffWorkflow's util.diff compares specs with


def dump_state(workflow: BpmnWorkflow) -> str:
    return _SERIALIZER.serialize_json(workflow)


def load_state(state: str, spec, subprocess_specs) -> BpmnWorkflow:
    dct = json.loads(state)
    _SERIALIZER.migrate_state(dct, spec, subprocess_specs)
    wire_loop_merges(spec, subprocess_specs)
    return _SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def state_version(state: str) -> str | None:
    """The format a stored state was written in."""
    dct = json.loads(state)
    return dct.get(BpmnWorkflowSerializer.VERSION_KEY) or dct.get("format")


def wire_loop_merges(spec, subprocess_specs) -> None:
    """A loop merges a finished iteration when the iteration's spec signals completion; SpiffWorkflow
    connects that signal when it creates an iteration (or deserializes a spec), so a loop read
    from a state with freshly parsed specs would never merge its running iteration. Connect it."""
    for process_spec in [spec, *subprocess_specs.values()]:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, LoopTask):
                child = process_spec.task_specs.get(task_spec.task_spec)
                if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)
