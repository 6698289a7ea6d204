"""The domain operations bpmn/complaint.bpmn calls (registered on import by workflows/operations.py).
They read and write the complaint row; the complainant's identity is read only to address the
reply letter, and never goes into a result, an audit event or a notification."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from ..dates import as_date, end_of_day_cst
from ..messages import Message, N_
from ..models import HumanTask, Record, Subject
from ..notifications import holders_of_role, notify_users
from ..numbers import case_no, record_no
from ..operations import OperationError, operation
from .model import Complaint
from .service import complaint_no, masked_name


def _complaint(ctx) -> Complaint:
    complaint = ctx.uow.session.scalars(select(Complaint).where(Complaint.case_id == ctx.case.id)).first()
    if complaint is None:
        raise OperationError(N_("案件 %(case)s 没有对应的投诉"), case=case_no(ctx.case))
    return complaint


def _stage(ctx, complaint: Complaint, stage: str, **data) -> None:
    complaint.stage, complaint.updated_at = stage, ctx.uow.clock.now()
    ctx.audit("complaint.stage", complaint=complaint_no(complaint), stage=stage, **data)


def find_subject(session, code: str) -> Subject | None:
    """A registered subject by its credit code or ID number as typed (case and spaces ignored)."""
    typed = "".join((code or "").split()).upper()
    if not typed:
        return None
    return session.scalars(select(Subject).where(Subject.code == typed)).first()


def _describe_registration(ctx, decision="", **_):
    return Message(N_("受理投诉，转核查")) if decision == "accept" else \
        Message(N_("不予受理，告知投诉人理由")) if decision == "refuse" else ""


@operation("register_complaint", N_("登记投诉"), describe=_describe_registration, decision="str")
def register_complaint(ctx, decision: str):
    """Accept (linking the registered subject whose code the clerk typed, `subject_code`) or refuse
    with the clerk's reason (`registration_reason`), which the complainant reads."""
    complaint = _complaint(ctx)
    subject_code, reason = ctx.task.data.get("subject_code") or "", ctx.task.data.get("registration_reason") or ""
    if decision == "refuse":
        if not (reason or "").strip():
            raise OperationError(N_("不予受理须说明理由（投诉人可以看到）"))
        complaint.refusal_reason = reason.strip()
        ctx.case.outcome, ctx.case.outcome_reason = "refused", complaint.refusal_reason
        _stage(ctx, complaint, "refused")
        return {"accepted": False}
    if decision != "accept":
        raise OperationError(N_("结果须为 %(values)s 之一"), values="accept, refuse")
    subject = find_subject(ctx.uow.session, subject_code)
    if subject is None:
        raise OperationError(N_("没有代码为 %(code)s 的已登记信用主体，请先登记该主体"), code=(subject_code or "")[:40])
    complaint.subject_id = subject.id
    days = int(ctx.uow.settings.complaint_verification_workdays)
    due = end_of_day_cst(ctx.uow.calendar.add_workdays(ctx.uow.clock.today(), days))
    _stage(ctx, complaint, "verifying", subject_id=subject.id)
    return {"accepted": True, "subject_id": subject.id, "subject_name": subject.name,
            "verification_due": due.isoformat()}


@operation("complaint_stage", N_("更新投诉办理阶段"), stage="str")
def complaint_stage(ctx, stage: str):
    _stage(ctx, _complaint(ctx), stage)


@operation("mark_complaint_overdue", N_("核查逾期：提醒分管领导"))
def mark_complaint_overdue(ctx):
    complaint = _complaint(ctx)
    complaint.overdue, complaint.updated_at = True, ctx.uow.clock.now()
    text = Message(N_("投诉 %(complaint)s（案件 %(case)s）核查已逾期，请督办。"), complaint=complaint_no(complaint),
                   case=case_no(ctx.case))
    users = holders_of_role(ctx.uow.session, "leader")
    notify_users(ctx.uow, users, "overdue", text, f"/cases/{ctx.case.id}", ctx.case.id)
    ctx.audit("complaint.overdue", complaint=complaint_no(complaint), users=len(users))


def _describe_outcome(ctx, outcome="", **_):
    ctx.expect(outcome=outcome)
    return Message(N_("投诉属实：对被投诉主体启动失信记录认定")) if outcome == "founded" else \
        Message(N_("投诉不属实，答复投诉人")) if outcome == "unfounded" else ""


@operation("decide_complaint", N_("作出投诉处理结论"), describe=_describe_outcome, outcome="str", reply="str")
def decide_complaint(ctx, outcome: str, reply: str):
    if outcome not in ("founded", "unfounded"):
        raise OperationError(N_("结果须为 %(values)s 之一"), values="founded, unfounded")
    complaint = _complaint(ctx)
    complaint.reply = (reply or "").strip()
    ctx.case.outcome, ctx.case.outcome_reason = outcome, complaint.reply
    result = {"outcome": outcome, "record_id": None}
    if outcome == "founded":
        record = _open_record(ctx, complaint)
        complaint.record_id = record.id
        result["record_id"], result["record_no"] = record.id, record_no(record)
    _stage(ctx, complaint, outcome, opened_record=result["record_id"])
    return result


def _open_record(ctx, complaint: Complaint) -> Record:
    """A dishonesty record prefilled from the complaint and the leader's decision, its capture
    step completed (the record goes to review), linked to the complaint both ways."""
    from ..cases import CaseError, finish_task, get_case, task_form
    from ..forms import FormInvalid, validate_form
    from ..records import open_record
    if complaint.subject_id is None:
        raise OperationError(N_("投诉尚未关联信用主体"))
    data = ctx.task.data
    findings = (data.get("findings") or "").strip()
    facts = f"{complaint.facts}\n（来源：投诉 {complaint_no(complaint)}）" + (f"\n核查情况：{findings}" if findings else "")
    capture = {"source": data.get("record_source"), "field": data.get("record_field"),
               "severity": data.get("record_severity"), "facts": facts[:5000],
               "legal_basis": data.get("legal_basis"), "decision_date": ctx.uow.clock.today().isoformat(),
               "conduct_date": as_date(complaint.happened_on).isoformat()}
    capture = {k: v for k, v in capture.items() if v}
    record, lifecycle = open_record(ctx.uow, complaint.subject_id, None)
    row = ctx.uow.session.scalars(select(HumanTask).where(HumanTask.case_id == lifecycle.id,
                                                          HumanTask.bpmn_id == "capture")).one()
    try:
        clean = validate_form(task_form(ctx.uow.session, row), capture)
    except FormInvalid:
        raise OperationError(N_("投诉属实时须填写认定依据、领域、失信程度和法律依据")) from None
    try:   # the leader decides; the capture step is the system's, made from the decision
        finish_task(ctx.uow, row, get_case(ctx.uow, lifecycle.id), clean, complaint=complaint_no(complaint))
    except CaseError as exc:
        raise OperationError(exc.message) from None
    return record


@operation("issue_complaint_reply", N_("出具投诉答复函"),
           describe=lambda ctx, **_: Message(N_("出具《%(title)s》"), title=Message(N_("投诉答复函"))))
def issue_complaint_reply(ctx):
    from ..documents import issue_document
    complaint = _complaint(ctx)
    if complaint.anonymous or not complaint.contact_name:
        return {"document_id": None}
    data = {"addressee": f"{masked_name(complaint.contact_name)}（投诉人）", "complaint_no": complaint_no(complaint),
            "filed_text": _cn_date(complaint.created_at), "concerned": complaint.concerned, "facts": complaint.facts,
            "outcome": complaint.stage, "reply": complaint.reply or "",
            "record_no": record_no(complaint.record_id) if complaint.record_id else ""}
    # addressed to no subject: a subject's portal never lists it; the complainant gets it by query code
    nobody = SimpleNamespace(id=None, kind="public", name=data["addressee"])
    document = issue_document(ctx.uow, "complaint_reply", ctx.case, None, data, party=nobody)
    complaint.reply_document_id = document.id
    return {"document_id": document.id, "number": document.number, "verification_code": document.verification_code}


def _cn_date(moment) -> str:
    from ..clock import CST
    day = moment.astimezone(CST).date()
    return f"{day.year}年{day.month}月{day.day}日"
