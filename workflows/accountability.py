"""Responsibility reaches people (追究责任，惩戒到人): the post roster, accountability cases for the
people who held the posts when the conduct happened, and each civil servant's integrity file."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select

from .cases import CaseError, Forbidden, NotFound, start_case
from .dates import add_months, as_date
from .identifiers import InvalidIdentifier, check_citizen_id, check_uscc
from .models import Case, IntegrityEntry, PostHolding, Record, Subject
from .numbers import case_no

POSTS = {"principal": "主要负责人", "official_in_charge": "分管负责人", "project_lead": "项目负责人"}
ENTRY_KINDS = {"personal_report": "个人有关事项报告", "integrity": "廉政记录", "appraisal": "年度考核结果",
               "violation": "违法违纪记录", "accountability": "问责处理结果", "commendation": "表彰奖励"}
MEASURES = {"inspection": "检查", "notice": "通报", "admonition": "诫勉", "organisational": "组织处理",
            "referral": "移送纪检监察机关", "none": "不予问责"}
ROSTER_COLUMNS = ("department_code", "person_id_number", "person_name", "post", "title", "project",
                  "project_phase", "start_date", "end_date")


def responsible_on(session, department_id: int, day: date, project: str | None = None,
                   phase: str | None = None) -> list[PostHolding]:
    """Who held the department's posts (or the project phase's lead) on `day` — one query."""
    query = select(PostHolding).where(
        PostHolding.department_id == department_id, PostHolding.start_date <= day,
        or_(PostHolding.end_date.is_(None), PostHolding.end_date >= day))
    if project:
        query = query.where(or_(PostHolding.post != "project_lead",
                                and_(PostHolding.project == project,
                                     or_(PostHolding.project_phase.is_(None), PostHolding.project_phase == phase))))
    else:
        query = query.where(PostHolding.post != "project_lead")
    return session.scalars(query.order_by(PostHolding.post, PostHolding.start_date)).all()


def civil_servant_by_id_number(session, id_number: str, name: str, department_id: int | None = None) -> Subject:
    """The registered civil servant with this citizen ID, registered now if new."""
    code = check_citizen_id(id_number)
    person = session.scalars(select(Subject).where(Subject.code == code)).first()
    if person is None:
        from datetime import datetime, timezone
        person = Subject(kind="civil_servant", name=name.strip() or code[-4:], code=code,
                         department_id=department_id, created_at=datetime.now(timezone.utc))
        session.add(person)
        session.flush()
    return person


def add_holding(uow, department_id: int, person: Subject, post: str, start: date, end: date | None = None,
                title: str = "", project: str | None = None, phase: str | None = None) -> PostHolding:
    if post not in POSTS:
        raise CaseError(f"未知职务类型 {post} / unknown post; one of {', '.join(POSTS)}")
    if end is not None and end < start:
        raise CaseError("任职结束日期早于开始日期 / the end date is before the start date")
    holding = PostHolding(department_id=department_id, person_id=person.id, post=post, title=title or POSTS[post],
                          project=project or None, project_phase=phase or None, start_date=start, end_date=end,
                          created_at=uow.clock.now())
    uow.session.add(holding)
    uow.session.flush()
    uow.audit("roster.added", holding_id=holding.id, department_id=department_id, person_id=person.id, post=post,
              start=start.isoformat(), end=end.isoformat() if end else None)
    return holding


@dataclass
class ImportResult:
    added: int
    errors: list[str]


def import_roster(uow, filename: str, data: bytes) -> ImportResult:
    """Rows from a .csv or .xlsx sheet with the ROSTER_COLUMNS header; all or nothing."""
    rows = _sheet_rows(filename, data)
    errors, pending = [], []
    for number, row in enumerate(rows, start=2):
        try:
            department = uow.session.scalars(select(Subject).where(
                Subject.code == check_uscc(str(row.get("department_code") or "")))).first()
            if department is None:
                raise CaseError("部门未登记 / the department is not registered")
            person = civil_servant_by_id_number(uow.session, str(row.get("person_id_number") or ""), str(row.get("person_name") or ""),
                             department.id)
            end = row.get("end_date")
            post, start = str(row.get("post") or ""), as_date(row["start_date"])
            end = as_date(end) if end else None
            if post not in POSTS:
                raise CaseError(f"未知职务类型 {post} / unknown post; one of {', '.join(POSTS)}")
            if end is not None and end < start:
                raise CaseError("任职结束日期早于开始日期 / the end date is before the start date")
            pending.append((department.id, person, post, start, end, str(row.get("title") or ""),
                            row.get("project") or None, row.get("project_phase") or None))
        except (CaseError, InvalidIdentifier, KeyError, ValueError, TypeError) as exc:
            errors.append(f"第 {number} 行 / row {number}: {exc}")
    if errors:
        return ImportResult(0, errors)
    for args in pending:
        try:
            add_holding(uow, *args)
        except CaseError as exc:
            errors.append(str(exc))
    return ImportResult(0 if errors else len(pending), errors)


def _sheet_rows(filename: str, data: bytes) -> list[dict]:
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        values = list(sheet.iter_rows(values_only=True))
        header = [str(h or "").strip() for h in values[0]] if values else []
        return [dict(zip(header, row)) for row in values[1:] if any(v not in (None, "") for v in row)]
    text = data.decode("utf-8-sig")
    return [row for row in csv.DictReader(io.StringIO(text)) if any((v or "").strip() for v in row.values())]


def open_accountability(uow, record: Record, person_id: int, post: str, review_of: int | None = None,
                        by_roster: bool = False) -> Case:
    """One person's accountability case. `by_roster`: opened by the record's lifecycle from the
    roster (the dossier then names no person as the one who named them)."""
    person = uow.session.get(Subject, person_id)
    if person is None or person.kind != "civil_servant":
        raise CaseError("问责对象必须是已登记的公务员 / the person must be a registered civil servant")
    case = start_case(uow, "accountability", {
        "record_id": record.id, "person_id": person.id, "person_name": person.name, "post": post,
        "review_of": review_of, "statement_days": uow.settings.statement_workdays, "by_roster": by_roster},
        record_id=record.id, parent_case_id=review_of, party_id=person.id)
    uow.audit("accountability.opened", case_id=case.id, record_id=record.id, person_id=person.id, post=post,
              review_of=review_of)
    return case


DECIDED_STATUSES = ("confirmed", "sanctioned", "exempted", "published", "corrected", "repaired", "expired", "archived")


def records_of_persons_departments(session, person_id: int) -> list[Record]:
    """The decided records (past the legality review, not revoked) of the departments a person held
    a post in: what personnel may open an accountability case on by hand, newest first."""
    departments = select(PostHolding.department_id).where(PostHolding.person_id == person_id)
    return session.scalars(select(Record).where(Record.subject_id.in_(departments),
                                                Record.status.in_(DECIDED_STATUSES))
                           .order_by(Record.id.desc()).limit(200)).all()


def open_cases_for_record(uow, record: Record) -> list[Case]:
    """The people the roster names for the conduct date (not today's post holders)."""
    if record.subject.kind != "department":
        return []
    day = record.conduct_date or record.decision_date
    return [open_accountability(uow, record, h.person_id, h.post, by_roster=True)
            for h in responsible_on(uow.session, record.subject_id, day, record.project, record.project_phase)]


def request_review(uow, case_id: int) -> Case:
    """A 复核 request by the person: a new accountability case that reconsiders the measure."""
    if "subject" not in uow.actor.roles:
        raise Forbidden("只有被问责人本人可以申请复核 / only the person concerned can ask for a review")
    old = uow.session.get(Case, case_id)
    if old is None or old.process_key != "accountability" or old.party_id != uow.actor.subject_id:
        raise NotFound("案件不存在 / no such case")
    if old.status != "completed" or old.outcome not in MEASURES:
        raise CaseError("只能对已作出的问责决定申请复核 / only a decided measure can be reviewed")
    days = (uow.clock.now() - old.completed_at).days
    limit = uow.settings.remedy_periods["review_days_civil_servant"]
    if days > limit:
        raise CaseError(f"已超过 {limit} 日复核期限 / the {limit}-day review period has passed")
    running = uow.session.scalars(select(Case).where(Case.parent_case_id == old.id, Case.status == "running")).first()
    if running is not None:
        raise CaseError(f"复核已在办理（案件 {case_no(running)}） / a review is already under way (case {case_no(running)})")
    record = uow.session.get(Record, old.record_id)
    held = [h.post for h in responsible_on(uow.session, record.subject_id, record.conduct_date or record.decision_date,
                                           record.project, record.project_phase) if h.person_id == old.party_id]
    return open_accountability(uow, record, old.party_id, held[0] if held else "principal", review_of=old.id)


def integrity_file(session, person_id: int, settings, today: date) -> list[IntegrityEntry]:
    """The entries still in view: each kind expires from view after its period (a setting)."""
    entries = session.scalars(select(IntegrityEntry).where(IntegrityEntry.person_id == person_id)
                              .order_by(IntegrityEntry.entry_date.desc(), IntegrityEntry.id.desc())).all()
    keep = settings.integrity_view_months
    return [e for e in entries if add_months(e.entry_date, keep.get(e.kind, 60)) >= today]


PUBLISHED, ONCE_PUBLISHED = "published", ("repaired", "expired")


def own_published_records(session, person_id: int) -> list[Record]:
    """The person's own dishonesty records (the person is the record's subject) as their file
    shows them: published now, and those once published whose publication ended by credit repair
    or at the end of the period (shown marked as such); newest publication first."""
    return session.scalars(select(Record).where(
        Record.subject_id == person_id,
        or_(Record.status == PUBLISHED,
            and_(Record.status.in_(ONCE_PUBLISHED), Record.publication_start.is_not(None))))
        .order_by(Record.publication_start.desc(), Record.id.desc())).all()


def add_entry(uow, person_id: int, kind: str, summary: str, source: str, entry_date: date,
              case_id: int | None = None, document_id: int | None = None) -> IntegrityEntry:
    if kind not in ENTRY_KINDS:
        raise CaseError(f"未知档案类别 {kind} / unknown kind of entry")
    if not (summary or "").strip() or len(summary) > 5000:
        raise CaseError("内容必填且不超过 5000 字 / a summary of at most 5000 characters is required")
    entry = IntegrityEntry(person_id=person_id, kind=kind, summary=summary.strip(), source=(source or "")[:200],
                           entry_date=entry_date, case_id=case_id, document_id=document_id,
                           created_by=uow.actor.name, created_at=uow.clock.now())
    uow.session.add(entry)
    uow.session.flush()
    uow.audit("integrity.entry_added", person_id=person_id, entry_id=entry.id, kind=kind, case_id=case_id)
    return entry


def may_read_file(actor, person_id: int) -> bool:
    return "personnel" in actor.roles or (actor.subject_id is not None and actor.subject_id == person_id)


def credit_check_extract(uow, person_id: int, purpose: str):
    """The person's file for an appointment check, in one signed PDF."""
    from .documents import issue_document
    from .models import Document  # noqa: F401  (the issued document)
    person = uow.session.get(Subject, person_id)
    if person is None or person.kind != "civil_servant":
        raise NotFound("没有这位公务员 / no such civil servant")
    today = uow.clock.today()
    entries = [{"entry_date": e.entry_date.isoformat(), "kind_text": ENTRY_KINDS.get(e.kind, e.kind),
                "summary": e.summary, "source": e.source}
               for e in integrity_file(uow.session, person_id, uow.settings, today)]
    records = [{"id": r.id, "status_text": r.status, "decision_date": r.decision_date.isoformat() if r.decision_date else ""}
               for r in uow.session.scalars(select(Record).where(Record.subject_id == person_id,
                                                                 Record.status == "published"))]
    document = issue_document(uow, "credit_check", None, None,
                              {"entries": entries, "records": records, "purpose": (purpose or "任职审查")[:100]},
                              party=person)
    uow.audit("integrity.credit_check", person_id=person_id, document_id=document.id, purpose=purpose)
    return document
