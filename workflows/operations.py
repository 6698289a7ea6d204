"""Named domain operations that BPMN service tasks call. Diagrams compose these; they never
reach into the database themselves. Each takes an OperationContext and keyword parameters and
returns a JSON-serializable value (stored in the task's result variable)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .dates import add_months, as_date, start_of_day_cst
from .models import SEVERITIES, Record


class OperationError(Exception):
    """A domain rule refused the operation; the message is shown to the user."""


@dataclass
class Operation:
    name: str
    func: Callable
    title: str
    params: dict[str, str]


OPERATIONS: dict[str, Operation] = {}
# The BPMN messages operations deliver to other cases (name -> what it says). A catch event waiting
# for any other name would wait forever: the bundle check refuses it.
MESSAGES: dict[str, str] = {}


def delivers(name: str, meaning: str) -> str:
    """Register a message an operation sends; returns its name."""
    MESSAGES[name] = meaning
    return name


def operation(name: str, title: str, **params: str):
    def register(func):
        OPERATIONS[name] = Operation(name, func, title, params)
        return func
    return register


@dataclass
class OperationContext:
    uow: Any          # workflows.runtime.UnitOfWork
    case: Any         # workflows.models.Case
    task: Any         # the SpiffWorkflow task running the operation

    @property
    def record(self) -> Record:
        if self.case.record_id is None:
            raise OperationError(f"case {self.case.id} is linked to no record")
        return self.uow.session.get(Record, self.case.record_id)

    def audit(self, action: str, **data) -> None:
        self.uow.audit(action, case_id=self.case.id, record_id=self.case.record_id,
                       task=self.task.task_spec.bpmn_id, **data)


def run_operation(name: str, ctx: OperationContext, params: dict[str, Any]):
    op = OPERATIONS.get(name)
    if op is None:
        raise OperationError(f"unknown service operation '{name}'")
    return op.func(ctx, **params)


def set_record_status(ctx: OperationContext, record: Record, status: str, **data) -> None:
    old = record.status
    record.status = status
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.status", old=old, new=status, **data)


RECORD_FIELDS = ("source", "field", "severity", "facts", "legal_basis", "decision_date")


@operation("update_record", "保存记录内容 / save the record's content",
           source="str", field="str", severity="str", facts="str", legal_basis="str", decision_date="str")
def update_record(ctx, **values):
    record = ctx.record
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise OperationError(f"update_record got unknown fields: {', '.join(sorted(unknown))}")
    if values.get("severity") not in SEVERITIES:
        raise OperationError(f"severity must be one of {', '.join(SEVERITIES)}")
    changes = {}
    for name, value in values.items():
        value = as_date(value) if name == "decision_date" else value
        if getattr(record, name) != value:
            changes[name] = str(value)
            setattr(record, name, value)
    data = ctx.task.data   # optional fields: absent when left empty
    record.conduct_date = as_date(data["conduct_date"]) if data.get("conduct_date") else None
    record.project = data.get("project") or None
    record.project_phase = data.get("project_phase") or None
    rule = ctx.uow.settings.rule_in_force(record.decision_date)
    record.publication_rule, record.rule_snapshot = rule["code"], rule
    set_record_status(ctx, record, "under_review", changes=changes)
    return {"publication_rule": rule["code"]}


@operation("return_record", "退回补正 / return for correction", reason="str")
def return_record(ctx, reason: str):
    set_record_status(ctx, ctx.record, "returned", reason=reason)


@operation("reject_record", "不予认定 / reject", reason="str")
def reject_record(ctx, reason: str):
    set_record_status(ctx, ctx.record, "rejected", reason=reason)


@operation("confirm_record", "认定记录 / confirm the record")
def confirm_record(ctx):
    set_record_status(ctx, ctx.record, "confirmed")


@operation("sanction_record", "决定惩戒措施 / decide the sanctions",
           sanctions="list", publish="bool", min_months="int", max_months="int")
def sanction_record(ctx, sanctions, publish, min_months, max_months):
    record = ctx.record
    if int(min_months) > int(max_months):
        raise OperationError("minimum publication period is longer than the maximum")
    record.sanctions = list(sanctions)
    severity = ctx.task.data.get("severity")
    if severity in SEVERITIES and severity != record.severity:  # lowered by a self-correction decision
        ctx.audit("record.severity", old=record.severity, new=severity)
        record.severity = severity
    record.publication_min_end = add_months(record.decision_date, int(min_months))
    record.publication_max_end = add_months(record.decision_date, int(max_months))
    set_record_status(ctx, record, "sanctioned", sanctions=list(sanctions), publish=bool(publish),
                min_months=int(min_months), max_months=int(max_months))


@operation("publish_record", "公示记录 / publish the record")
def publish_record(ctx):
    record = ctx.record
    if record.publication_max_end is None:
        raise OperationError("the record has no publication period; sanction it first")
    record.publication_start = record.decision_date
    set_record_status(ctx, record, "published")
    return {"min_end_at": start_of_day_cst(record.publication_min_end).isoformat(),
            "max_end_at": start_of_day_cst(record.publication_max_end).isoformat()}


@operation("mark_repair_eligible", "最短公示期满，可申请信用修复 / minimum period passed: repair possible")
def mark_repair_eligible(ctx):
    record = ctx.record
    record.repair_eligible = True
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.repair_eligible")


END_OUTCOMES = ("expired", "revoked", "repaired")


@operation("end_publication", "终止公示 / end publication", outcome="str")
def end_publication(ctx, outcome: str):
    if outcome not in END_OUTCOMES:
        raise OperationError(f"outcome must be one of {', '.join(END_OUTCOMES)}")
    record = ctx.record
    record.publication_end = ctx.uow.clock.today()
    record.under_objection = False
    set_record_status(ctx, record, outcome)


CORRECTABLE = ("source", "field", "facts", "legal_basis")


@operation("apply_correction", "更正记录 / correct the record", changes="dict")
def apply_correction(ctx, changes: dict):
    record = ctx.record
    unknown = set(changes or {}) - set(CORRECTABLE)
    if unknown:
        raise OperationError(f"these fields cannot be corrected: {', '.join(sorted(unknown))}")
    before = {k: getattr(record, k) for k in changes}
    for name, value in changes.items():
        setattr(record, name, value)
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.corrected", before=before, after=dict(changes))


# The applications' operations register themselves on import.
from . import application_ops  # noqa: E402,F401
