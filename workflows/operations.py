"""Named domain operations that BPMN service tasks call. Diagrams compose these; they never
reach into the database themselves. Each takes an OperationContext and keyword parameters and
returns a JSON-serializable value (stored in the task's result variable)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from sqlalchemy import select

from .dates import add_months, as_date, start_of_day_cst
from .messages import Message, N_, UserError
from .models import SEVERITIES, Case, Record
from .numbers import case_no
from .record_notice import give_notice_if_due
from .sharing.changes import share_change, share_status


class OperationError(UserError):
    """A domain rule refused the operation; the message is shown to the user. `blocking_case_id`:
    the case that stands in the way (an open application), for a link to it."""

    def __init__(self, message: "str | Message", blocking_case_id: int | None = None, **params):
        super().__init__(message, **params)
        self.blocking_case_id = blocking_case_id


@dataclass(frozen=True)
class Blocked:
    """Why an operation would be refused now: the sentence the user reads (the same one the
    operation refuses with) and the case that blocks it, if one does."""
    reason: Message
    case_id: int | None = None


@dataclass
class Operation:
    """A registered operation. Besides running, it may say in advance what it would do and whether
    it would be refused (workflows/choices.py shows both beside a decision's choices):
    - describe(ctx, **params) -> Message | str: what it will do, in words ('' says nothing);
    - precheck(ctx, **params) -> Blocked | None: side-effect free; run_operation calls it first and
      refuses with its sentence, so a page and the server agree;
    - preview(ctx, **params) -> the result it would store, for an operation that only reads.
    `ctx` is an OperationContext when running, a choices.Preview when previewing: both give
    session, case, record, data, today, settings and calendar."""
    name: str
    func: Callable
    title: str                  # a catalog id (N_): the web shows it in the page's language
    params: dict[str, str]
    describe: Callable | None = None
    precheck: Callable | None = None
    preview: Callable | None = None


OPERATIONS: dict[str, Operation] = {}
# The BPMN messages operations deliver to other cases (name -> what it says). A catch event waiting
# for any other name would wait forever: the bundle check refuses it.
MESSAGES: dict[str, str] = {}


def delivers(name: str, meaning: str) -> str:
    """Register a message an operation sends; returns its name."""
    MESSAGES[name] = meaning
    return name


def operation(name: str, title: str, describe: Callable | None = None, precheck: Callable | None = None,
              preview: Callable | None = None, **params: str):
    def register(func):
        OPERATIONS[name] = Operation(name, func, title, params, describe, precheck, preview)
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

    # what a precheck or describe reads, the same whether running or previewing
    @property
    def session(self):
        return self.uow.session

    @property
    def data(self) -> dict:
        return self.task.data

    @property
    def today(self):
        return self.uow.clock.today()

    @property
    def settings(self):
        return self.uow.settings

    @property
    def calendar(self):
        return self.uow.calendar

    def audit(self, action: str, **data) -> None:
        self.uow.audit(action, case_id=self.case.id, record_id=self.case.record_id,
                       task=self.task.task_spec.bpmn_id, **data)


def refuse_if_blocked(blocked: Blocked | None) -> None:
    if blocked is not None:
        raise OperationError(blocked.reason, blocked.case_id)


# What stops a decision while one of the record's applications is being handled (the subject's
# self-correction claim is decided before the sanction; an objection may correct or revoke the record).
WAITS_FOR = {"self_correction": N_("该记录的主动自新申请（案件 %(no)s）尚未决定，请先办结"),
             "objection": N_("该记录的异议申请（案件 %(no)s）尚未办结，请先办结")}


def waits_for(process: str):
    """A precheck: blocked while the record has a running `process` application (named and linked)."""
    def precheck(ctx, **_) -> Blocked | None:
        if ctx.case.record_id is None:
            return None
        pending = ctx.session.scalar(select(Case.id).where(
            Case.record_id == ctx.case.record_id, Case.process_key == process, Case.status == "running").limit(1))
        if pending is None:
            return None
        return Blocked(Message(WAITS_FOR[process], no=case_no(pending, process)), pending)
    return precheck


def run_operation(name: str, ctx: OperationContext, params: dict[str, Any]):
    op = OPERATIONS.get(name)
    if op is None:
        raise OperationError(N_("未知的服务操作 %(name)s"), name=name)
    if op.precheck is not None:
        refuse_if_blocked(op.precheck(ctx, **params))
    return op.func(ctx, **params)


def set_record_status(ctx: OperationContext, record: Record, status: str, **data) -> None:
    old = record.status
    record.status = status
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.status", old=old, new=status, **data)
    give_notice_if_due(ctx.uow, record, ctx.audit)   # the subject learns of the record (告知)
    share_status(ctx.uow, record, old, status, ctx.audit, **data)   # queued for the platforms (sharing upward)


RECORD_FIELDS = ("source", "field", "severity", "facts", "legal_basis", "decision_date")


@operation("update_record", N_("保存记录内容"),
           source="str", field="str", severity="str", facts="str", legal_basis="str", decision_date="str")
def update_record(ctx, **values):
    record = ctx.record
    unknown = set(values) - set(RECORD_FIELDS)
    if unknown:
        raise OperationError(N_("记录没有这些字段：%(fields)s"), fields=", ".join(sorted(unknown)))
    if values.get("severity") not in SEVERITIES:
        raise OperationError(N_("认定程度须为 %(values)s 之一"), values=", ".join(SEVERITIES))
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


@operation("return_record", N_("退回补正"), reason="str")
def return_record(ctx, reason: str):
    set_record_status(ctx, ctx.record, "returned", reason=reason)


@operation("reject_record", N_("不予认定"), describe=lambda ctx, **_: Message(N_("记录不予认定")), reason="str")
def reject_record(ctx, reason: str):
    set_record_status(ctx, ctx.record, "rejected", reason=reason)


@operation("confirm_record", N_("认定记录"), describe=lambda ctx, **_: Message(N_("认定记录")))
def confirm_record(ctx):
    set_record_status(ctx, ctx.record, "confirmed")


def publication_ends(record: Record, min_months, max_months) -> tuple[date, date]:
    """The minimum and maximum end of publication: counted from the record's decision date."""
    return add_months(record.decision_date, int(min_months)), add_months(record.decision_date, int(max_months))


SEVERITY_TEXT = {"minor": N_("轻微"), "general": N_("一般"), "serious": N_("严重")}


def _severity(code: str):
    return Message(SEVERITY_TEXT[code]) if code in SEVERITY_TEXT else code


def _describe_sanction(ctx, sanctions=(), publish=False, min_months=0, max_months=0, **_):
    record = ctx.record
    ctx.expect(publication=publication_ends(record, min_months, max_months))
    measures = (Message(N_("实施惩戒措施：%(sanctions)s"), sanctions="、".join(map(str, sanctions))) if sanctions
                else Message(N_("不实施惩戒措施")))
    severity = ctx.data.get("severity")
    if severity in SEVERITIES and severity != record.severity:
        return Message(N_("认定程度由%(old)s调整为%(new)s，%(measures)s"), old=_severity(record.severity),
                       new=_severity(severity), measures=measures)
    return measures


@operation("sanction_record", N_("决定惩戒措施"), describe=_describe_sanction,
           precheck=waits_for("objection"),
           sanctions="list", publish="bool", min_months="int", max_months="int")
def sanction_record(ctx, sanctions, publish, min_months, max_months):
    record = ctx.record
    if int(min_months) > int(max_months):
        raise OperationError(N_("最短公示期长于最长公示期"))
    record.sanctions = list(sanctions)
    severity = ctx.task.data.get("severity")
    if severity in SEVERITIES and severity != record.severity:  # lowered by a self-correction decision
        ctx.audit("record.severity", old=record.severity, new=severity)
        record.severity = severity
    record.publication_min_end, record.publication_max_end = publication_ends(record, min_months, max_months)
    set_record_status(ctx, record, "sanctioned", sanctions=list(sanctions), publish=bool(publish),
                min_months=int(min_months), max_months=int(max_months))


def _describe_publication(ctx, **_):
    record = ctx.record
    min_end, max_end = ctx.expected.get("publication") or (record.publication_min_end, record.publication_max_end)
    if max_end is None:
        return Message(N_("公示记录"))
    return Message(N_("公示至 %(max_end)s，最短公示期至 %(min_end)s"), max_end=max_end.isoformat(),
                   min_end=min_end.isoformat())


@operation("publish_record", N_("公示记录"), describe=_describe_publication)
def publish_record(ctx):
    record = ctx.record
    if record.publication_max_end is None:
        raise OperationError(N_("记录尚无公示期，请先决定惩戒措施"))
    record.publication_start = record.decision_date
    set_record_status(ctx, record, "published")
    return {"min_end_at": start_of_day_cst(record.publication_min_end).isoformat(),
            "max_end_at": start_of_day_cst(record.publication_max_end).isoformat()}


@operation("mark_repair_eligible", N_("最短公示期满，可申请信用修复"))
def mark_repair_eligible(ctx):
    record = ctx.record
    record.repair_eligible = True
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.repair_eligible")


END_OUTCOMES = ("expired", "revoked", "repaired")


ENDING_TEXT = {"expired": N_("公示期满，终止公示"), "revoked": N_("撤销记录，终止公示"), "repaired": N_("信用修复，终止公示")}


@operation("end_publication", N_("终止公示"),
           describe=lambda ctx, outcome="", **_: Message(ENDING_TEXT.get(outcome, N_("终止公示"))), outcome="str")
def end_publication(ctx, outcome: str):
    if outcome not in END_OUTCOMES:
        raise OperationError(N_("结果须为 %(values)s 之一"), values=", ".join(END_OUTCOMES))
    record = ctx.record
    record.publication_end = ctx.uow.clock.today()
    record.under_objection = False
    set_record_status(ctx, record, outcome)


CORRECTABLE = ("source", "field", "facts", "legal_basis")


@operation("apply_correction", N_("更正记录"), changes="dict")
def apply_correction(ctx, changes: dict):
    record = ctx.record
    unknown = set(changes or {}) - set(CORRECTABLE)
    if unknown:
        raise OperationError(N_("这些字段不能更正：%(fields)s"), fields=", ".join(sorted(unknown)))

    before = {k: getattr(record, k) for k in changes}
    for name, value in changes.items():
        setattr(record, name, value)
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.corrected", before=before, after=dict(changes))
    share_change(ctx.uow, record, "corrected", ctx.audit)


# The applications' operations register themselves on import.
from . import application_ops  # noqa: E402,F401
from .commitments import ops as _commitment_ops  # noqa: E402,F401  (township commitments)
from .complaints import ops as _complaint_ops  # noqa: E402,F401  (complaints)
from .evaluation import ops as _evaluation_ops  # noqa: E402,F401  (the yearly integrity evaluation)
