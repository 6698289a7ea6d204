"""Responsibility reaches people (追究责任，惩戒到人): the post roster, accountability cases for the
people who held the posts when the conduct happened, and each civil servant's integrity file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select

from .accountability_rule import ACCOUNTABILITY_PROCESS, refuse_accountability
from .cases import CaseError, Forbidden, NotFound, start_case
from .dates import add_months, as_date
from .identifiers import InvalidIdentifier, check_citizen_id, check_uscc
from .models import Case, IntegrityEntry, PostHolding, Record, Subject
from .numbers import case_no
from .sheet_reader import SheetError, SheetLimits, read_sheet, records

POSTS = {"principal": "主要负责人", "official_in_charge": "分管负责人", "project_lead": "项目负责人"}
ENTRY_KINDS = {"personal_report": "个人有关事项报告", "integrity": "廉政记录", "appraisal": "年度考核结果",
               "violation": "违法违纪记录", "accountability": "问责处理结果", "commendation": "表彰奖励"}
MEASURES = {"inspection": "检查", "notice": "通报", "admonition": "诫勉", "organisational": "组织处理",
            "referral": "移送纪检监察机关", "none": "不予问责"}
PERSONNEL = "personnel"
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


ROSTER_LIMITS = SheetLimits(max_rows=5000, max_columns=20)
ROSTER_REQUIRED = ("department_code", "person_id_number", "person_name", "post", "start_date")
ROSTER_TEXT_LIMITS = {"person_name": 200, "title": 200, "project": 200, "project_phase": 40}


def read_roster(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(row number, {column: value}) from a .csv or .xlsx sheet with the ROSTER_COLUMNS header,
    within ROSTER_LIMITS; SheetError when the file itself is unusable."""
    sheet = read_sheet(filename, data, ROSTER_LIMITS)
    missing = [c for c in ROSTER_REQUIRED if c not in sheet.header]
    if missing:
        raise SheetError(f"缺少列：{'、'.join(missing)} / missing columns; the first row must be "
                         f"{', '.join(ROSTER_COLUMNS)}")
    return records(sheet, {c: c for c in ROSTER_COLUMNS})


def check_roster(session, rows, progress=None) -> tuple[list[tuple], list[str]]:
    """Every row checked without writing anything: (the holdings to add, the errors by row)."""
    errors, pending, departments = [], [], {}
    for done, (number, row) in enumerate(rows, start=1):
        try:
            code = check_uscc(str(row.get("department_code") or ""))
            if code not in departments:
                departments[code] = session.scalar(select(Subject.id).where(Subject.code == code,
                                                                            Subject.kind == "department"))
            if departments[code] is None:
                raise CaseError("部门未登记 / the department is not registered")
            id_number = check_citizen_id(str(row.get("person_id_number") or ""))
            for column, limit in ROSTER_TEXT_LIMITS.items():
                if len(str(row.get(column) or "")) > limit:
                    raise CaseError(f"{column} 超过 {limit} 字 / {column} is longer than {limit} characters")
            post, start = str(row.get("post") or ""), as_date(row["start_date"])
            end = as_date(row["end_date"]) if row.get("end_date") else None
            if post not in POSTS:
                raise CaseError(f"未知职务类型 {post} / unknown post; one of {', '.join(POSTS)}")
            if end is not None and end < start:
                raise CaseError("任职结束日期早于开始日期 / the end date is before the start date")
            pending.append((departments[code], id_number, str(row.get("person_name") or ""), post, start, end,
                            str(row.get("title") or ""), row.get("project") or None, row.get("project_phase") or None))
        except (CaseError, InvalidIdentifier, KeyError, ValueError, TypeError) as exc:
            errors.append(f"第 {number} 行 / row {number}: {exc}")
        if progress is not None:
            progress(done)
    return pending, errors


def save_roster(uow, pending: list[tuple]) -> ImportResult:
    """Add the checked holdings, people registered on first sight, as add_holding would one by
    one, in a few batched statements (a 5,000-row sheet holds the write lock briefly); all or nothing."""
    session, now = uow.session, uow.clock.now()
    codes = sorted({row[1] for row in pending})
    people = {}
    for i in range(0, len(codes), 500):
        people.update({s.code: s for s in session.scalars(select(Subject).where(Subject.code.in_(codes[i:i + 500])))})
    for department_id, code, name, *_ in pending:
        if code not in people:
            people[code] = Subject(kind="civil_servant", name=name.strip() or code[-4:], code=code,
                                   department_id=department_id, created_at=now)
            session.add(people[code])
    session.flush()
    holdings = [PostHolding(department_id=department_id, person_id=people[code].id, post=post,
                            title=title or POSTS[post], project=project or None, project_phase=phase or None,
                            start_date=start, end_date=end, created_at=now)
                for department_id, code, _name, post, start, end, title, project, phase in pending]
    session.add_all(holdings)
    session.flush()
    for h in holdings:
        uow.audit("roster.added", holding_id=h.id, department_id=h.department_id, person_id=h.person_id, post=h.post,
                  start=h.start_date.isoformat(), end=h.end_date.isoformat() if h.end_date else None)
    return ImportResult(len(pending), [])


def import_roster(uow, filename: str, data: bytes) -> ImportResult:
    """Rows from a .csv or .xlsx sheet with the ROSTER_COLUMNS header; all or nothing. (The web
    runs the same steps as a background job: workflows/import_jobs.py.)"""
    pending, errors = check_roster(uow.session, read_roster(filename, data))
    if errors:
        return ImportResult(0, errors)
    try:
        return save_roster(uow, pending)
    except CaseError as exc:
        return ImportResult(0, [str(exc)])


def open_accountability(uow, record: Record, person_id: int, post: str, review_of: int | None = None,
                        by_roster: bool = False) -> Case:
    """One person's accountability case. `by_roster`: opened by the record's lifecycle from the
    roster (the dossier then names no person as the one who named them). Every case but a review
    (复核, `review_of`: request_review checks it) keeps the rule of ACCOUNTABILITY_RULE."""
    person = uow.session.get(Subject, person_id)
    if person is None or person.kind != "civil_servant":
        raise CaseError("问责对象必须是已登记的公务员 / the person must be a registered civil servant")
    if post not in POSTS:
        raise CaseError(f"未知职务类型 {post} / unknown post; one of {', '.join(POSTS)}")
    if review_of is None:
        # one case per person and record, also when two arrive together: the record row is locked
        # (PostgreSQL; SQLite's writers queue at BEGIN IMMEDIATE) until the case is written
        uow.session.execute(select(Record.id).where(Record.id == record.id).with_for_update())
        refuse_accountability(uow.session, record.id, person.id)
    case = start_case(uow, "accountability", {
        "record_id": record.id, "person_id": person.id, "person_name": person.name, "post": post,
        "review_of": review_of, "statement_days": uow.settings.statement_workdays, "by_roster": by_roster},
        record_id=record.id, parent_case_id=review_of, party_id=person.id)
    uow.audit("accountability.opened", case_id=case.id, record_id=record.id, person_id=person.id, post=post,
              review_of=review_of)
    return case


def open_accountability_by_hand(uow, record_id: int | None, person_id: int, post: str) -> Case:
    """Personnel open a case for a person on a record of a department the person served in."""
    if PERSONNEL not in uow.actor.roles:
        raise Forbidden("只有人事部门可以启动问责案件 / only personnel staff open accountability cases")
    record = uow.session.get(Record, record_id) if record_id else None
    if record is None:
        raise CaseError("失信记录不存在 / no such record")
    return open_accountability(uow, record, person_id, post)


def open_cases_for_record(uow, record: Record) -> list[Case]:
    """The people the roster names for the conduct date (not today's post holders): one case per
    person (the first of their posts), none for a person who already has one on the record."""
    if record.subject.kind != "department":
        return []
    day = record.conduct_date or record.decision_date
    already = set(uow.session.scalars(select(Case.party_id).where(
        Case.process_key == ACCOUNTABILITY_PROCESS, Case.record_id == record.id, Case.parent_case_id.is_(None))))
    cases = []
    for holding in responsible_on(uow.session, record.subject_id, day, record.project, record.project_phase):
        if holding.person_id not in already:
            already.add(holding.person_id)
            cases.append(open_accountability(uow, record, holding.person_id, holding.post, by_roster=True))
    return cases


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
