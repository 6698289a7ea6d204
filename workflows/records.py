"""Subjects and records: registering a subject and opening a record's lifecycle case."""
from __future__ import annotations

from sqlalchemy import select

from .cases import CaseError, complete_task, start_case
from .identifiers import InvalidIdentifier, check_subject_code
from .messages import N_
from .models import SUBJECT_KINDS, Case, HumanTask, Record, Subject

LIFECYCLE = "record_lifecycle"


def register_subject(uow, kind: str, name: str, code: str, department_id: int | None = None) -> Subject:
    if kind not in SUBJECT_KINDS:
        raise CaseError(N_("请选择主体类型（部门或公务员）"))
    if not (name or "").strip():
        raise CaseError(N_("名称必填"))
    if len(name.strip()) > 200:
        raise CaseError(N_("名称不能超过 %(limit)s 字"), limit=200)
    try:
        code = check_subject_code(kind, code)
    except InvalidIdentifier as exc:
        raise CaseError(exc.message) from None
    if uow.session.scalars(select(Subject).where(Subject.code == code)).first():
        raise CaseError(N_("该代码已登记"))
    subject = Subject(kind=kind, name=name.strip(), code=code, department_id=department_id,
                      created_at=uow.clock.now())
    uow.session.add(subject)
    uow.session.flush()
    uow.audit("subject.registered", subject_id=subject.id, kind=kind, name=subject.name)
    return subject


def open_record(uow, subject_id: int, capture: dict | None = None) -> tuple[Record, Case]:
    """Create a draft record and start its lifecycle case. With `capture` data the clerk's
    capture task is completed in the same transaction (the record goes to review)."""
    subject = uow.session.get(Subject, subject_id)
    if subject is None:
        raise CaseError(N_("信用主体不存在"))

    now = uow.clock.now()
    rule = uow.settings.rule_in_force(uow.clock.today())
    record = Record(subject_id=subject.id, subject=subject, status="draft", publication_rule=rule["code"],
                    rule_snapshot=rule, created_by_id=uow.actor.user_id, created_at=now, updated_at=now)
    uow.session.add(record)
    uow.session.flush()
    uow.audit("record.opened", record_id=record.id, subject_id=subject.id)
    case = start_case(uow, LIFECYCLE, {"record_id": record.id, "subject_kind": subject.kind,
                                       "publication_rule": rule["code"], "return_count": 0},
                      record_id=record.id)
    if capture is not None:
        row = uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                          HumanTask.bpmn_id == "capture")).one()
        case = complete_task(uow, row.id, capture)
    return record, case


def lifecycle_case(session, record_id: int) -> Case | None:
    return session.scalars(select(Case).where(Case.record_id == record_id, Case.process_key == LIFECYCLE)
                           .order_by(Case.id.desc()).limit(1)).first()
