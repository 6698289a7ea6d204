"""What a record subject may ask for, checked before a case starts: objection, self-correction
mitigation, credit repair. Each starts its own case linked to the record and its lifecycle case."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .cases import CaseError, Forbidden, NotFound, start_case
from .dates import add_months
from .messages import Message, N_, joined
from .models import Case, Record
from .numbers import case_no
from .record_notice import STAGE, subject_sees_record
from .records import lifecycle_case

APPLICATION_PROCESSES = ("objection", "self_correction", "credit_repair")
OBJECTION_GROUNDS = ("factual_error", "omission", "duplicate", "should_not_publish", "over_period",
                     "wrong_authority", "privacy")
MITIGATION_MEASURES = ("recovered_loss", "removed_effect", "prevented_harm")
OBJECTABLE = ("confirmed", "sanctioned", "published", "exempted")
# the subject learns of a record at its confirmation (record_notice), and may claim self-correction
# from then until the sanction is decided
PENDING_SANCTION = ("confirmed",)


def subject_record(session, actor, record_id: int) -> Record:
    """A record of the acting subject that the office has notified it of; anyone else's, and one not
    notified yet (a clerk's draft, a record under review), is 'not found' (not 'forbidden': no probing)."""
    record = session.get(Record, record_id)
    if not subject_sees_record(record, actor.subject_id):
        raise NotFound(N_("记录不存在"))
    return record


def open_application(session, record_id: int, process: str) -> Case | None:
    return session.scalars(select(Case).where(Case.record_id == record_id, Case.process_key == process,
                                              Case.status == "running").limit(1)).first()


def _start(uow, record: Record, process: str, data: dict) -> Case:
    lifecycle = lifecycle_case(uow.session, record.id)
    case = start_case(uow, process, {"record_id": record.id, "lifecycle_case_id": lifecycle.id if lifecycle else None,
                                     "subject_kind": record.subject.kind, **data},
                      record_id=record.id, parent_case_id=lifecycle.id if lifecycle else None)
    uow.audit("application.filed", case_id=case.id, record_id=record.id, process=process)
    return case


def _require_subject(uow):
    if "subject" not in uow.actor.roles:
        raise Forbidden(N_("只有信用主体本人可以提出申请"))


def file_objection(uow, record_id: int, grounds: str, statement: str, evidence: list[int]) -> Case:
    _require_subject(uow)
    record = subject_record(uow.session, uow.actor, record_id)
    if grounds not in OBJECTION_GROUNDS:
        raise CaseError(N_("请选择异议理由"))
    _require_available(uow, record, "objection")
    return _start(uow, record, "objection", {"grounds": grounds, "statement": statement, "evidence": evidence,
                                             "extensions": 0})


def file_self_correction(uow, record_id: int, measures: list[str], statement: str, evidence: list[int]) -> Case:
    _require_subject(uow)
    record = subject_record(uow.session, uow.actor, record_id)
    _require_available(uow, record, "self_correction")
    if not measures or set(measures) - set(MITIGATION_MEASURES):
        raise CaseError(N_("请选择已采取的纠正措施"))
    return _start(uow, record, "self_correction", {"severity": record.severity, "measures": measures,
                                                   "statement": statement, "evidence": evidence})


@dataclass
class RepairEligibility:
    eligible: bool
    possible_from: date | None
    reasons: list[Message]


def repair_eligibility(session, record: Record, settings, today: date) -> RepairEligibility:
    """Minimum period passed under the record's rule, and the repeat limit of the subject."""
    if record.status != "published":
        return RepairEligibility(False, None, [Message(N_("只有公示中的记录可以申请信用修复"))])
    reasons, possible = [], record.publication_min_end
    if possible and today < possible:
        reasons.append(Message(N_("最短公示期至 %(date)s 届满"), date=possible.isoformat()))
    last = session.scalars(select(Case).join(Record, Record.id == Case.record_id).where(
        Record.subject_id == record.subject_id, Case.process_key == "credit_repair",
        Case.outcome == "approved").order_by(Case.completed_at.desc()).limit(1)).first()
    if last is not None and last.completed_at is not None:
        again = add_months(last.completed_at.date(), settings.repair_repeat_limit_months)
        if today < again:
            reasons.append(Message(N_("距上次信用修复不足 %(months)s 个月，%(date)s 起可再次申请"),
                                   months=settings.repair_repeat_limit_months, date=again.isoformat()))
            possible = max(possible or again, again)
    return RepairEligibility(not reasons, possible, reasons)


def file_credit_repair(uow, record_id: int, statement: str, obligations_fulfilled: bool, commitment: list[int],
                       evidence: list[int]) -> Case:
    _require_subject(uow)
    record = subject_record(uow.session, uow.actor, record_id)
    _require_available(uow, record, "credit_repair")
    if not obligations_fulfilled:
        raise CaseError(N_("请确认已纠正失信行为、履行全部义务"))
    if not commitment:
        raise CaseError(N_("请上传签署的信用承诺书"))
    return _start(uow, record, "credit_repair", {"statement": statement, "obligations_fulfilled": True,
                                                 "commitment": commitment, "evidence": evidence,
                                                 "supplement_rounds": 0})


@dataclass
class Availability:
    """Whether the subject may file this application for this record now; if not, why, and from when
    (the same sentence the portal shows and the service refuses with)."""
    process: str
    available: bool
    reason: Message | str = ""
    possible_from: date | None = None
    open_case: Case | None = None


RUNNING = {"objection": N_("该记录已有异议正在处理（案件 %(number)s），办结前不能再次提出"),
           "self_correction": N_("该记录已有主动自新申请正在处理（案件 %(number)s）"),
           "credit_repair": N_("该记录已有信用修复申请正在处理（案件 %(number)s）")}



def availability(session, record: Record, process: str, settings, today: date) -> Availability:
    running = open_application(session, record.id, process)
    if running is not None:
        return Availability(process, False, Message(RUNNING[process], number=case_no(running)), open_case=running)
    if process == "objection" and record.status not in OBJECTABLE:
        if STAGE.get(record.status, 0) == 0:
            return Availability(process, False, Message(N_("该记录尚未认定，不能提出异议")))
        return Availability(process, False, Message(N_("该记录已结束（已撤销、已修复或公示期满），不能再提出异议")))
    if process == "self_correction" and record.status not in PENDING_SANCTION:
        return Availability(process, False, Message(N_("只能在记录认定后、惩戒决定作出前申请从轻或免予惩戒")))
    if process == "credit_repair":
        check = repair_eligibility(session, record, settings, today)
        if not check.eligible:
            if check.possible_from:
                reason = Message(N_("暂不能申请信用修复：%(reasons)s，最早可于 %(date)s 申请"),
                                 reasons=joined(check.reasons), date=check.possible_from.isoformat())
            else:
                reason = Message(N_("暂不能申请信用修复：%(reasons)s"), reasons=joined(check.reasons))
            return Availability(process, False, reason, check.possible_from)

    return Availability(process, True)


def _require_available(uow, record: Record, process: str) -> None:
    check = availability(uow.session, record, process, uow.settings, uow.clock.today())
    if not check.available:
        raise CaseError(check.reason)
