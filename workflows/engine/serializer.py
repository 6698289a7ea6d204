"""Workflow state without its spec: the spec is stored once per definition version."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers import DefaultRegistry
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


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


def _make_registry():
    registry = DefaultRegistry()
    registry.register(date, lambda d: {"iso": d.isoformat()}, lambda dct: date.fromisoformat(dct["iso"]))
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda dct: Decimal(dct["value"]))
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    return BpmnWorkflowSerializer.configure(config, registry)


_SERIALIZER = BpmnWorkflowSerializer(_make_registry())
STATE_FORMAT = "credflow-1/" + _SERIALIZER.VERSION


def dump_state(workflow: BpmnWorkflow) -> str:
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = registry.convert(workflow)
    finally:
        registry._encoder_mode = False
    dct["format"] = STATE_FORMAT
    return json.dumps(dct, cls=_SERIALIZER._encoder_cls, ensure_ascii=False, separators=(",", ":"))


def load_state(state: str, spec, subprocess_specs) -> BpmnWorkflow:
    dct = json.loads(state, cls=_SERIALIZER.json_decoder_cls)
    fmt = dct.pop("format", None)
    if fmt != STATE_FORMAT:
        raise ValueError(f"case state written in format {fmt!r}; this build reads {STATE_FORMAT!r}")
    return _SERIALIZER.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)
