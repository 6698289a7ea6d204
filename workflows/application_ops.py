"""Domain operations of the subjects' applications: objection, self-correction, credit repair.
Each application is its own case; it tells the record's lifecycle case what happened by BPMN
messages, delivered in the same transaction."""
from __future__ import annotations

from sqlalchemy import select

from .dates import end_of_day_cst
from .messages import Message, N_
from .models import AuditEvent, Case
from .notifications import accounts_of_subject, holders_of_role, notify_users
from .numbers import case_no, record_no
from .operations import OperationError, delivers, set_record_status, operation, waits_for
from .sharing.changes import share_change

# catalog ids: the subject's notifications name them in the reader's language
OUTCOME_TEXT = {"refused": N_("不予受理/不予采纳"), "lapsed": N_("逾期未补正，申请终止"), "correct": N_("更正记录"),
                "revoke": N_("撤销记录"), "keep": N_("维持记录"), "lighter": N_("从轻惩戒"), "exempt": N_("免予惩戒"),
                "approved": N_("准予信用修复")}
PROCESS_TEXT = {"objection": N_("异议申请"), "self_correction": N_("主动自新申请"), "credit_repair": N_("信用修复申请")}
# documents.content.KIND_NAMES, marked for the catalog: "<kind> issued" in the reader's language
KIND_NAME_IDS = (N_("失信惩戒决定"), N_("异议处理决定"), N_("主动自新处理决定"), N_("信用修复决定"), N_("受理回执"),
                 N_("补正材料通知"), N_("问责处理决定"), N_("诚信档案查询摘录"))


def _application(case) -> Message:
    return Message(PROCESS_TEXT.get(case.process_key, N_("申请")))
# what the applications tell the record's lifecycle case
RECORD_CORRECTED = delivers("record_corrected", N_("异议成立，更正记录"))
RECORD_REVOKED = delivers("record_revoked", N_("异议成立，撤销记录"))
RECORD_REPAIRED = delivers("record_repaired", N_("准予信用修复"))


def _close(ctx, outcome: str, reason: str, decided: bool | None = None) -> None:
    """End the application with its outcome and tell the subject. A refusal is 'not accepted'
    (不予受理) unless the application was accepted first or `decided` says it is a decision."""
    case = ctx.case
    case.outcome, case.outcome_reason = outcome, reason
    at_acceptance = outcome == "refused" and not decided and not was_accepted(ctx.uow.session, case.id)
    ctx.audit("application.decided", outcome=outcome, reason=reason, at_acceptance=at_acceptance)
    record = ctx.record
    result = Message(N_("不予受理")) if at_acceptance else \
        Message(OUTCOME_TEXT[outcome]) if outcome in OUTCOME_TEXT else outcome
    if at_acceptance and reason:
        text = Message(N_("您的%(application)s（案件 %(case)s）已有结果：%(result)s。理由：%(reason)s"),
                       application=_application(case), case=case_no(case), result=result, reason=reason)
    else:
        text = Message(N_("您的%(application)s（案件 %(case)s）已有结果：%(result)s。"),
                       application=_application(case), case=case_no(case), result=result)
    notify_users(ctx.uow, accounts_of_subject(ctx.uow.session, record.subject_id), "decision", text,
                 f"/portal/applications/{case.id}", case.id)


# -- what a decision will do, said before it is taken (workflows/choices.py) --------------------

def _deciding(text: "Message | str" = "", record_status: str | None = None):
    """A describe for an operation that settles the case's outcome (its `outcome` parameter) or the
    record's status: it notes that for later steps' words (which title a decision document gets)
    and says `text`."""
    def describe(ctx, outcome=None, **_):
        ctx.expect(outcome=outcome, record_status=record_status)
        return text
    return describe


# the documents' titles (documents.content.TITLES and the variants below), marked for the catalog:
# a decision's line on a task page names its document in the page's language
TITLE_IDS = (N_("失信惩戒决定书"), N_("异议处理决定书"), N_("主动自新申请处理决定书"), N_("信用修复决定书"),
             N_("受理回执"), N_("补正材料通知书"), N_("问责处理决定书"), N_("公务员诚信档案查询摘录"))


def decision_title(kind: str, outcome: str | None, exempted: bool) -> str:
    """The title a decision document of `kind` gets (as documents.content.document_context gives it)."""
    from .documents.content import TITLES
    if kind == "sanction" and exempted:
        return N_("免予失信惩戒决定书")
    if kind == "repair" and outcome != "approved":
        return N_("不予信用修复决定书")
    if kind == "objection" and outcome == "refused":
        return N_("异议不予受理决定书")
    if kind == "accountability" and outcome in ("exempt", "none"):
        return N_("免予问责决定书")
    return TITLES.get(kind, kind)


def _describe_document(ctx, kind: str = "", **_):
    data = ctx.data
    outcome = (ctx.expected.get("outcome") or ctx.case.outcome or data.get("final_outcome")
               or data.get("mitigation_decision"))
    record = ctx.record if ctx.case.record_id else None
    exempted = (ctx.expected.get("record_status") or getattr(record, "status", None)) == "exempted"
    return Message(N_("出具《%(title)s》"), title=Message(decision_title(kind, outcome, exempted)))


def _tell_lifecycle(ctx, message: str, payload: dict) -> bool:
    """Deliver a message to the record's lifecycle case if it waits for it; False otherwise."""
    from .cases import CaseError, send_message
    lifecycle_id = ctx.case.parent_case_id
    lifecycle = ctx.uow.session.get(Case, lifecycle_id) if lifecycle_id else None
    if lifecycle is None or lifecycle.status != "running":
        return False
    try:
        send_message(ctx.uow, lifecycle.id, message, payload)
    except CaseError:
        return False
    return True


@operation("close_application", N_("办结申请（不予受理、逾期等）"), describe=_deciding(),
           outcome="str", reason="str")
def close_application(ctx, outcome: str, reason: str):
    _close(ctx, outcome, reason)


@operation("mark_under_objection", N_("异议标注"), describe=lambda ctx, **_: Message(N_("对记录作异议标注")))
def mark_under_objection(ctx):
    record = ctx.record
    record.under_objection = True
    record.updated_at = ctx.uow.clock.now()
    ctx.audit("record.under_objection", case=ctx.case.id)
    share_change(ctx.uow, record, "objection", ctx.audit)


OBJECTION_OUTCOME_TEXT = {"correct": N_("更正记录"), "revoke": N_("撤销记录"), "keep": N_("维持记录")}


def _describe_objection_outcome(ctx, outcome="", **_):
    ctx.expect(outcome=outcome)
    return Message(OBJECTION_OUTCOME_TEXT[outcome]) if outcome in OBJECTION_OUTCOME_TEXT else ""


@operation("apply_objection_outcome", N_("执行异议处理结果"),
           describe=_describe_objection_outcome, outcome="str", reason="str")
def apply_objection_outcome(ctx, outcome: str, reason: str):
    if outcome not in ("correct", "revoke", "keep"):
        raise OperationError(N_("结果须为 %(values)s 之一"), values="correct, revoke, keep")
    record = ctx.record
    was_marked, record.under_objection = record.under_objection, False
    if outcome == "correct":
        corrected = ctx.task.data.get("corrected_facts")
        changes = {"facts": corrected} if corrected else {}
        if not _tell_lifecycle(ctx, RECORD_CORRECTED, changes):
            for name, value in changes.items():
                setattr(record, name, value)
            ctx.audit("record.corrected", after=changes)
            share_change(ctx.uow, record, "corrected", ctx.audit)
    elif outcome == "revoke":
        if not _tell_lifecycle(ctx, RECORD_REVOKED, {"reason": reason}):
            record.publication_end = ctx.uow.clock.today()
            set_record_status(ctx, record, "revoked", reason=reason)
    elif was_marked:   # kept: the platforms lift the objection mark they were sent
        share_change(ctx.uow, record, "objection", ctx.audit, reason=reason)
    _close(ctx, outcome, reason)


MITIGATION_TEXT = {"lighter": N_("从轻惩戒"), "exempt": N_("免予惩戒"), "refused": N_("不予采纳")}


def _describe_mitigation_decision(ctx, decision="", **_):
    ctx.expect(outcome=decision)
    return (Message(N_("主动自新决定：%(decision)s"), decision=Message(MITIGATION_TEXT[decision]))
            if decision in MITIGATION_TEXT else "")


@operation("apply_mitigation", N_("记录主动自新决定"),
           describe=_describe_mitigation_decision, decision="str", reason="str")
def apply_mitigation(ctx, decision: str, reason: str):
    if decision not in ("lighter", "exempt", "refused"):
        raise OperationError(N_("结果须为 %(values)s 之一"), values="lighter, exempt, refused")
    data = ctx.task.data
    record = ctx.record
    record.mitigation = {"decision": decision, "severity": data.get("mitigated_severity"),
                         "max_months": data.get("mitigated_max_months"), "reason": reason, "case_id": ctx.case.id}
    ctx.audit("record.mitigation", **{k: v for k, v in record.mitigation.items() if k != "case_id"})
    _close(ctx, decision, reason, decided=True)


def _describe_mitigation_in_force(ctx, **_):
    mitigation = ctx.record.mitigation or {}
    if mitigation.get("decision") == "lighter":
        number = case_no(mitigation["case_id"], "self_correction") if mitigation.get("case_id") else ""
        return (Message(N_("按主动自新决定（案件 %(number)s）从轻惩戒"), number=number) if number
                else Message(N_("按主动自新决定从轻惩戒")))
    return ""   # exempt: exempt_record says it; none: nothing to say


# Refused while a self-correction application is open (run_operation calls the precheck first);
# it only reads, so a page may ask it what it would answer.
@operation("check_mitigation", N_("查看主动自新决定"),
           precheck=waits_for("self_correction"), preview=lambda ctx, **_: check_mitigation(ctx),
           describe=_describe_mitigation_in_force)
def check_mitigation(ctx):
    record = ctx.record
    mitigation = record.mitigation or {}
    if mitigation.get("decision") not in ("lighter", "exempt"):
        return {"decision": "none", "severity": None, "max_months": None}
    return {"decision": mitigation["decision"], "severity": mitigation.get("severity"),
            "max_months": mitigation.get("max_months")}


@operation("exempt_record", N_("免予惩戒"), precheck=waits_for("objection"),
           describe=_deciding(Message(N_("免予惩戒")), record_status="exempted"))
def exempt_record(ctx):
    record = ctx.record
    record.sanctions = []
    set_record_status(ctx, record, "exempted")


@operation("request_supplement", N_("要求补正材料"),
           describe=lambda ctx, **_: Message(N_("通知申请人在 %(days)s 个工作日内补正材料"),
                                             days=int(ctx.data.get("supplement_days") or ctx.settings.supplement_workdays)))
def request_supplement(ctx):
    days = int(ctx.task.data.get("supplement_days") or ctx.uow.settings.supplement_workdays)
    due = end_of_day_cst(ctx.uow.calendar.add_workdays(ctx.uow.clock.today(), days))
    missing = ctx.task.data.get("missing_items", "")
    ctx.audit("application.supplement_requested", due_at=due.isoformat(), missing=missing)
    notify_users(ctx.uow, accounts_of_subject(ctx.uow.session, ctx.record.subject_id), "supplement",
                 Message(N_("案件 %(case)s 需要补正材料，请于 %(date)s 前提交：%(missing)s"), case=case_no(ctx.case),
                         date=f"{due:%Y-%m-%d}", missing=missing),
                 f"/portal/applications/{ctx.case.id}", ctx.case.id)
    return {"due_at": due.isoformat()}


# the settings that give an accepted application its decision deadline; other applications are
# decided by their own steps' deadlines (an objection's verification may be extended once)
DECISION_WORKDAYS = {"credit_repair": "repair_decision_workdays"}


def decision_workdays(process: str, settings) -> int | None:
    name = DECISION_WORKDAYS.get(process)
    return int(getattr(settings, name)) if name else None


def was_accepted(session, case_id: int) -> bool:
    return session.scalar(select(AuditEvent.id).where(AuditEvent.case_id == case_id,
                                                      AuditEvent.action == "application.accepted").limit(1)) is not None


def _describe_acceptance(ctx, **_):
    days = decision_workdays(ctx.case.process_key, ctx.settings)
    return Message(N_("受理申请，%(days)s 个工作日内作出决定"), days=days) if days else Message(N_("受理申请"))


# Every application's acceptance path runs this (objection, self-correction, credit repair): the
# subject is told, and the application's page shows the step.
@operation("accept_application", N_("受理申请（告知申请人）"), describe=_describe_acceptance)
def accept_application(ctx):
    today = ctx.uow.clock.today()
    days = decision_workdays(ctx.case.process_key, ctx.uow.settings)
    due = end_of_day_cst(ctx.uow.calendar.add_workdays(today, days)) if days else None
    ctx.audit("application.accepted", decision_due=due.isoformat() if due else None)
    if due:
        text = Message(N_("您的%(application)s（案件 %(case)s）已受理，将于 %(date)s 前作出决定。"),
                       application=_application(ctx.case), case=case_no(ctx.case), date=f"{due:%Y-%m-%d}")
    else:
        text = Message(N_("您的%(application)s（案件 %(case)s）已受理。"), application=_application(ctx.case),
                       case=case_no(ctx.case))
    notify_users(ctx.uow, accounts_of_subject(ctx.uow.session, ctx.record.subject_id), "receipt", text,
                 f"/portal/applications/{ctx.case.id}", ctx.case.id)
    return {"accepted_on": today.isoformat(), "decision_due": due.isoformat() if due else None}


def _describe_repair(ctx, **_):
    ctx.expect(outcome="approved")
    return Message(N_("准予信用修复：终止公示，解除惩戒措施，%(days)s 个工作日内共享修复结果"),
                   days=ctx.settings.sharing_workdays)


@operation("approve_repair", N_("准予信用修复"), precheck=waits_for("objection"),
           describe=_describe_repair, reason="str")
def approve_repair(ctx, reason: str):
    record = ctx.record
    if not _tell_lifecycle(ctx, RECORD_REPAIRED, {"case_id": ctx.case.id}):
        record.publication_end = ctx.uow.clock.today()
        set_record_status(ctx, record, "repaired")
    record.sanctions_lifted = True
    # the repair result was queued for the platforms when the record became 'repaired' (sharing.changes)
    due = end_of_day_cst(ctx.uow.calendar.add_workdays(ctx.uow.clock.today(), ctx.uow.settings.sharing_workdays))
    ctx.audit("record.sanctions_lifted", sharing_due=due.isoformat())
    _close(ctx, "approved", reason)


@operation("notify", N_("发送提醒"), kind="str", lane="str")
def notify(ctx, kind: str, lane: str):
    number = case_no(ctx.case)
    texts = {"overdue": N_("案件 %(case)s 已超过决定期限，请尽快办理。"),
             "statement": N_("您被列为问责案件 %(case)s 的责任人，可以在期限内进行陈述申辩。")}
    text = Message(texts[kind], case=number) if kind in texts else \
        Message(N_("案件 %(case)s：%(kind)s"), case=number, kind=kind)
    if lane == "subject":
        users = accounts_of_subject(ctx.uow.session, ctx.case.party_id or ctx.record.subject_id)
        link = f"/portal/applications/{ctx.case.id}"
    else:
        users = holders_of_role(ctx.uow.session, lane)
        link = f"/cases/{ctx.case.id}"
    notify_users(ctx.uow, users, kind, text, link, ctx.case.id)
    ctx.audit("notification.sent", kind=kind, lane=lane, users=len(users))



@operation("issue_decision", N_("出具并签署文书"), describe=_describe_document, kind="str")
def issue_decision(ctx, kind: str):
    from .documents import issue_document
    from .documents.content import DECISIONS, KIND_NAMES
    record = ctx.record
    data = {k: v for k, v in ctx.task.data.items() if not k.startswith("spiff__")}
    document = issue_document(ctx.uow, kind, ctx.case, record, data)
    if kind in DECISIONS or kind == "supplement_request":
        addressee = ctx.case.party_id or record.subject_id
        notify_users(ctx.uow, accounts_of_subject(ctx.uow.session, addressee), "document",
                     Message(N_("%(document)s已出具：%(number)s"), document=Message(KIND_NAMES[kind]),
                             number=document.number), f"/portal/documents/{document.id}", ctx.case.id)
    return {"document_id": document.id, "number": document.number, "verification_code": document.verification_code}


# -- accountability --------------------------------------------------------------------------

def _describe_accountability(ctx, **_):
    from .accountability import responsible_on
    record = ctx.record
    if record.subject.kind != "department":
        return ""
    people = {h.person_id for h in responsible_on(ctx.session, record.subject_id, record.conduct_date or record.decision_date,
                                                  record.project, record.project_phase)}
    return Message(N_("对 %(count)s 名责任人启动问责"), count=len(people)) if people else ""


@operation("open_accountability_cases", N_("对责任人启动问责"),
           describe=_describe_accountability)
def open_accountability_cases(ctx):
    from .accountability import open_cases_for_record
    cases = open_cases_for_record(ctx.uow, ctx.record)
    return {"accountability_cases": [c.id for c in cases]}


@operation("close_accountability", N_("办结问责（不予追责、免予问责）"), describe=_deciding(),
           outcome="str", reason="str")
def close_accountability(ctx, outcome: str, reason: str):
    ctx.case.outcome, ctx.case.outcome_reason = outcome, reason
    ctx.audit("accountability.closed", outcome=outcome, reason=reason)


@operation("replace_person", N_("更正责任人"))
def replace_person(ctx):
    from .accountability import civil_servant_by_id_number
    from .identifiers import InvalidIdentifier
    code = ctx.task.data.get("replacement_code")
    if not code:
        raise OperationError(N_("请填写更正后的责任人身份号码"))
    try:
        person = civil_servant_by_id_number(ctx.uow.session, code, "")
    except InvalidIdentifier as exc:
        raise OperationError(exc.message) from exc
    old = ctx.case.party_id
    ctx.case.party_id = person.id
    ctx.audit("accountability.person_replaced", old=old, new=person.id)
    return {"person_id": person.id, "person_name": person.name}


def _describe_measure(ctx, measure="", **_):
    from .accountability import MEASURES
    ctx.expect(outcome=measure)
    if measure == "none":
        return Message(N_("决定不予问责"))
    return Message(N_("作出问责决定：%(measure)s"), measure=Message(MEASURES[measure])) if measure in MEASURES else ""


@operation("decide_accountability", N_("作出问责决定"), describe=_describe_measure,
           measure="str", reason="str")
def decide_accountability(ctx, measure: str, reason: str):
    from .accountability import MEASURES
    if measure not in MEASURES:
        raise OperationError(N_("未知问责措施 %(measure)s"), measure=measure)
    ctx.case.outcome, ctx.case.outcome_reason = measure, reason
    ctx.audit("accountability.decided", measure=measure, reason=reason)
    notify_users(ctx.uow, accounts_of_subject(ctx.uow.session, ctx.case.party_id), "decision",
                 Message(N_("对您的问责处理（案件 %(case)s）已作出决定：%(measure)s。"), case=case_no(ctx.case),
                         measure=Message(MEASURES[measure])),
                 f"/portal/applications/{ctx.case.id}", ctx.case.id)


@operation("record_integrity_entry", N_("记入公务员诚信档案"))

def record_integrity_entry(ctx):
    from .accountability import MEASURES, add_entry
    record, data = ctx.record, ctx.task.data
    document = next((v for k, v in data.items() if k.endswith("_document") and isinstance(v, dict)), {})
    outcome = {**MEASURES, "exempt": "免予问责", "not_pursued": "不予追责"}.get(ctx.case.outcome, ctx.case.outcome or "")
    entry = add_entry(ctx.uow, ctx.case.party_id, "accountability",
                      f"因{record.subject.name}政务失信记录（{record_no(record)}）问责处理结果：{outcome}。{ctx.case.outcome_reason or ''}",
                      f"问责案件 {case_no(ctx.case)}" + (f"，{document.get('number')}" if document.get("number") else ""),
                      ctx.uow.clock.today(), case_id=ctx.case.id, document_id=document.get("document_id"))
    return {"entry_id": entry.id}
