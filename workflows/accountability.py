"""Responsibility reaches people (追究责任，惩戒到人): the post roster, accountability cases for the
people who held the posts when the conduct happened, and each civil servant's integrity file."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select

from .accountability_rule import ACCOUNTABILITY_PROCESS, refuse_accountability
from .cases import CaseError, Forbidden, NotFound, start_case
from .dates import add_months
from .identifiers import InvalidIdentifier, check_citizen_id, check_uscc
from .messages import Joined, Message, N_
from .models import Case, IntegrityEntry, PostHolding, Record, Subject
from .numbers import case_no
from .sheet_columns import (NUMBER_NOT_TEXT, REQUIRED, CellError, Column, blank, cell_text, digits_as_number,
                            listed, problem, require_columns, rows_of, sheet_date, template_csv, template_xlsx)
from .sheet_reader import SheetLimits, read_sheet

# display names are catalog ids (N_): the web shows them in the page's language
POSTS = {"principal": N_("主要负责人"), "official_in_charge": N_("分管负责人"), "project_lead": N_("项目负责人")}
ENTRY_KINDS = {"personal_report": N_("个人有关事项报告"), "integrity": N_("廉政记录"), "appraisal": N_("年度考核结果"),
               "violation": N_("违法违纪记录"), "accountability": N_("问责处理结果"), "commendation": N_("表彰奖励")}
MEASURES = {"inspection": N_("检查"), "notice": N_("通报"), "admonition": N_("诫勉"), "organisational": N_("组织处理"),
            "referral": N_("移送纪检监察机关"), "none": N_("不予问责")}
PERSONNEL = "personnel"


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


def unknown_post(post) -> Message:
    return Message(N_("未知职务类型“%(value)s”，应为 %(choices)s"), value=str(post)[:100],
                   choices=Joined([Message(t) for t in POSTS.values()]))


def add_holding(uow, department_id: int, person: Subject, post: str, start: date, end: date | None = None,
                title: str = "", project: str | None = None, phase: str | None = None) -> PostHolding:
    if post not in POSTS:
        raise CaseError(unknown_post(post))
    if end is not None and end < start:
        raise CaseError(N_("任职结束日期早于开始日期"))
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
    errors: list[Message]


ROSTER_LIMITS = SheetLimits(max_rows=5000, max_columns=20)
DATE_NOTE = N_("日期格式 YYYY-MM-DD（如 2026-01-31）；也可写 2026/1/31、2026年1月31日，或用 Excel 日期单元格")
# the sheet's columns: Chinese headers (the template's), the English ones and the field codes accepted too
ROSTER_SHEET = (
    Column("department_code", N_("部门统一社会信用代码"), "Department's unified social credit code", True,
           N_("18 位统一社会信用代码；部门须已在系统中登记"), ("统一社会信用代码", "部门代码", "Department code")),
    Column("person_id_number", N_("公民身份号码"), "Citizen ID number", True, N_("18 位公民身份号码"),
           ("身份证号", "身份证号码", "ID number")),
    Column("person_name", N_("姓名"), "Name", True, N_("任职人员的姓名")),
    Column("post", N_("职务类型"), "Post", True, N_("主要负责人、分管负责人或项目负责人"), ("职务",)),
    Column("title", N_("职务名称"), "Job title", False, N_("如 局长、副局长；不填时用职务类型")),
    Column("project", N_("项目"), "Project", False, N_("项目负责人须填写所负责的项目")),
    Column("project_phase", N_("项目阶段"), "Project phase", False, N_("如 建设期、运营期")),
    Column("start_date", N_("任职开始日期"), "Start date", True, DATE_NOTE, ("开始日期", "任职起始日期")),
    Column("end_date", N_("任职结束日期"), "End date", False, N_("格式同上；仍在任的不填"), ("结束日期", "任职终止日期")),
)
ROSTER_COLUMNS = tuple(c.field for c in ROSTER_SHEET)
COLUMN = {c.field: c for c in ROSTER_SHEET}
ROSTER_TEXT_LIMITS = {"person_name": 200, "title": 200, "project": 200, "project_phase": 40}
ROSTER_NOTES = (N_("第 1 行为列名，不要改动；从第 2 行起每行一条任职记录。第 2 行是示例，导入前请改写或删除。"), DATE_NOTE,
                N_("有任何一行不合格时整个表格都不导入，页面列出每个问题所在的行和列。"))


def read_roster(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """(row number, {field: value}) from a .csv or .xlsx sheet whose first row names the columns of
    ROSTER_SHEET (Chinese or English headers), within ROSTER_LIMITS; SheetError when the file
    itself is unusable or a required column is missing."""
    sheet = read_sheet(filename, data, ROSTER_LIMITS)
    return rows_of(sheet, require_columns(sheet, ROSTER_SHEET))


POST_ENGLISH = {"principal": "Principal", "official_in_charge": "Official in charge", "project_lead": "Project lead"}


def _post_code(value: str) -> str | None:
    """A post as the sheet names it (主要负责人, Principal or principal) as its code."""
    key = value.strip().lower().replace("_", " ")
    for code, title in POSTS.items():
        if key in (code.replace("_", " "), title, POST_ENGLISH[code].lower()):
            return code
    return None


def _check_row(session, departments: dict, number: int, row: dict) -> tuple[tuple | None, list[Message]]:
    """One row's holding, or every problem of the row (each naming its column)."""
    problems, values = [], {}

    def bad(field: str, message: Message) -> None:
        problems.append(problem(number, COLUMN[field], message))

    for column in ROSTER_SHEET:
        if column.required and blank(row.get(column.field)):
            bad(column.field, Message(REQUIRED))
    for field, check in (("department_code", check_uscc), ("person_id_number", check_citizen_id)):
        if digits_as_number(row.get(field)):
            bad(field, Message(NUMBER_NOT_TEXT))
        elif not blank(row.get(field)):
            try:
                values[field] = check(cell_text(row[field]))
            except InvalidIdentifier as exc:
                bad(field, exc.message)
    code = values.get("department_code")
    if code is not None:
        if code not in departments:
            departments[code] = session.scalar(select(Subject.id).where(Subject.code == code,
                                                                        Subject.kind == "department"))
        if departments[code] is None:
            bad("department_code", Message(N_("部门未登记")))
    for field, limit in ROSTER_TEXT_LIMITS.items():
        if len(cell_text(row.get(field))) > limit:
            bad(field, Message(N_("不能超过 %(limit)s 字"), limit=limit))
    post = cell_text(row.get("post"))
    post_code = _post_code(post) if post else None
    if post and post_code is None:
        bad("post", unknown_post(post))
    if post_code == "project_lead" and blank(row.get("project")):
        bad("project", Message(N_("项目负责人须填写项目")))
    for field in ("start_date", "end_date"):
        if not blank(row.get(field)):
            try:
                values[field] = sheet_date(row[field])
            except CellError as exc:
                bad(field, exc.message)
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        bad("end_date", Message(N_("任职结束日期早于开始日期")))
    if problems:
        return None, problems
    return (departments[code], values["person_id_number"], cell_text(row.get("person_name")), post_code,
            start, end, cell_text(row.get("title")), cell_text(row.get("project")) or None,
            cell_text(row.get("project_phase")) or None), []


def check_roster(session, rows, progress=None) -> tuple[list[tuple], list[Message]]:
    """Every row checked without writing anything: (the holdings to add, every problem of every row)."""
    errors, pending, departments, bad_rows = [], [], {}, 0
    for done, (number, row) in enumerate(rows, start=1):
        holding, problems = _check_row(session, departments, number, row)
        if holding is None:
            errors.extend(problems)
            bad_rows += 1
        else:
            pending.append(holding)
        if progress is not None:
            progress(done)
    return pending, listed(errors, bad_rows)


def roster_template(session, kind: str = "xlsx", translate=None, english: bool = False) -> bytes:
    """The import template (.xlsx or .csv): the headers and an example row; the example names a
    department registered here when there is one, so the template imports as it is."""
    department = session.scalars(select(Subject.code).where(Subject.kind == "department")
                                 .order_by(Subject.id).limit(1)).first() or "11100000000013127D"
    example = [department, "11010519491231002X", "张三", "主要负责人", "局长", "", "", date(2024, 1, 1), ""]
    if kind == "csv":
        return template_csv(ROSTER_SHEET, [example], english)
    return template_xlsx(ROSTER_SHEET, [example], N_("任职名册"), list(ROSTER_NOTES), translate, english)


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
        return ImportResult(0, [exc.message])


def open_accountability(uow, record: Record, person_id: int, post: str, review_of: int | None = None,
                        by_roster: bool = False) -> Case:
    """One person's accountability case. `by_roster`: opened by the record's lifecycle from the
    roster (the dossier then names no person as the one who named them). Every case but a review
    (复核, `review_of`: request_review checks it) keeps the rule of ACCOUNTABILITY_RULE."""
    person = uow.session.get(Subject, person_id)
    if person is None or person.kind != "civil_servant":
        raise CaseError(N_("问责对象必须是已登记的公务员"))
    if post not in POSTS:
        raise CaseError(unknown_post(post))
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
        raise Forbidden(N_("只有人事部门可以启动问责案件"))
    record = uow.session.get(Record, record_id) if record_id else None
    if record is None:
        raise CaseError(N_("失信记录不存在"))
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
        raise Forbidden(N_("只有被问责人本人可以申请复核"))
    old = uow.session.get(Case, case_id)
    if old is None or old.process_key != "accountability" or old.party_id != uow.actor.subject_id:
        raise NotFound(N_("案件不存在"))
    if old.status != "completed" or old.outcome not in MEASURES:
        raise CaseError(N_("只能对已作出的问责决定申请复核"))
    days = (uow.clock.now() - old.completed_at).days
    limit = uow.settings.remedy_periods["review_days_civil_servant"]
    if days > limit:
        raise CaseError(N_("已超过 %(limit)s 日复核期限"), limit=limit)
    running = uow.session.scalars(select(Case).where(Case.parent_case_id == old.id, Case.status == "running")).first()
    if running is not None:
        raise CaseError(N_("复核已在办理（案件 %(number)s）"), number=case_no(running))
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
        raise CaseError(N_("未知档案类别“%(kind)s”"), kind=str(kind)[:100])
    if not (summary or "").strip() or len(summary) > 5000:
        raise CaseError(N_("内容必填且不超过 %(limit)s 字"), limit=5000)
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
        raise NotFound(N_("没有这位公务员"))
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
