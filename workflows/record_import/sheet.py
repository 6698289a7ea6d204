"""The records sheet: its columns, its template, reading it and checking every row against the
deployed capture form (forms/record_lifecycle/capture.json) without writing anything. Each problem
names its row and column (sheet_columns.problem); the subjects of all rows are looked up at once."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..definitions import latest_definition, specs_for
from ..forms import FormInvalid, validate_form
from ..identifiers import InvalidIdentifier, check_citizen_id, check_subject_code, check_uscc
from ..messages import Joined, Message, N_
from ..models import Subject
from ..records import LIFECYCLE
from ..sheet_columns import (NUMBER_NOT_TEXT, REQUIRED, CellError, Column, blank, cell_text, digits_as_number,
                             listed, problem, require_columns, rows_of, sheet_date, template_xlsx)
from ..sheet_reader import SheetError, SheetLimits, read_sheet

RECORD_LIMITS = SheetLimits(max_rows=10000, max_columns=20, max_bytes=4 * 1024 * 1024)
DATE_NOTE = N_("日期格式 YYYY-MM-DD（如 2026-01-31）；也可写 2026/1/31、2026年1月31日，或用 Excel 日期单元格")
RECORD_SHEET = (
    Column("subject_code", N_("信用主体代码"), "Subject code", True,
           N_("部门填 18 位统一社会信用代码，公务员填 18 位公民身份号码；请设为文本格式"),
           ("统一社会信用代码", "公民身份号码", "身份证号", "代码", "Code")),
    Column("subject_name", N_("信用主体名称"), "Subject name", True,
           N_("部门名称或公务员姓名；已登记的主体须与登记的名称一致，未登记的主体按此名称登记"), ("主体名称", "名称", "姓名", "Name")),
    Column("subject_kind", N_("主体类型"), "Kind of subject", False, N_("政府部门或公务员；不填时按代码判断"),
           ("Subject kind", "Subject type")),
    Column("source", N_("认定依据"), "Grounds for determination", True, N_("司法判决、行政处罚、纪律处分、问责处理或违约/失信承诺"),
           ("Source",)),
    Column("field", N_("领域"), "Area", True,
           N_("政府采购、政府和社会资本合作、招标投标、招商引资、政府债务、街道乡镇承诺或其他"), ("Field",)),
    Column("severity", N_("失信程度"), "Severity", True, N_("轻微、一般或严重"), ("严重程度",)),
    Column("facts", N_("失信事实"), "Facts of dishonest conduct", True, N_("失信行为的时间、地点、经过和后果"), ("Facts",)),
    Column("legal_basis", N_("法律依据"), "Legal basis", True, N_("认定所依据的法律、法规、规章及文书名称和文号")),
    Column("decision_date", N_("认定日期"), "Determination date", True, DATE_NOTE, ("Decision date",)),
    Column("conduct_date", N_("失信行为发生日期"), "Date of the conduct", False, N_("格式同上；不填则按认定日期"),
           ("Conduct date",)),
    Column("project", N_("涉及项目"), "Project", False, N_("PPP、投资项目，可不填")),
    Column("project_phase", N_("项目阶段"), "Project phase", False, N_("可不填")),
)
COLUMN = {c.field: c for c in RECORD_SHEET}
CHOICES = ("source", "field", "severity")
TEXTS = ("facts", "legal_basis", "project", "project_phase")
DATES = ("decision_date", "conduct_date")
KINDS = {"department": ("政府部门", "部门", "department", "government department"),
         "civil_servant": ("公务员", "civil servant", "civil_servant")}
# the options' English names as the catalog gives them (accepted as well as the Chinese and the codes)
ENGLISH = {"minor": "Minor", "general": "Moderate", "serious": "Serious",
           "government_procurement": "Government procurement", "ppp": "Public-private partnership (PPP)",
           "bidding": "Tendering and bidding", "investment_promotion": "Investment promotion",
           "government_debt": "Government debt", "township_commitment": "Sub-district and township commitments",
           "other": "Other", "court_judgment": "Court judgment", "administrative_penalty": "Administrative penalty",
           "disciplinary_sanction": "Disciplinary sanction", "accountability": "Accountability measure",
           "breach_of_promise": "Breach of contract or commitment"}
NOTES = (N_("第 1 行为列名，不要改动；从第 2 行起每行一条失信记录。第 2、3 行是示例，导入前请改写或删除。"), DATE_NOTE,
         N_("有任何一行不合格时整个表格都不导入，页面列出每个问题所在的行和列。"),
         N_("每条记录导入后即开始认定流程（录入已完成，进入合法性审核），与逐条录入相同。同一文件只能导入一次。"))


class SheetRows(list):
    """The rows of an uploaded sheet, with the sha256 of the file they came from."""
    sha256: str = ""


@dataclass(frozen=True)
class Row:
    """One checked row: what open_record gets, and the subject (registered or to register)."""
    number: int
    code: str
    kind: str
    name: str
    subject_id: int | None
    values: dict


class Checked(list):
    """The checked rows (Row) of one file, with its sha256."""
    sha256: str = ""


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_records(filename: str, data: bytes) -> SheetRows:
    """(row number, {field: value}) for every non-blank row; SheetError when the file is unusable,
    a required column is missing or no row is there."""
    sheet = read_sheet(filename, data, RECORD_LIMITS)
    rows = SheetRows(rows_of(sheet, require_columns(sheet, RECORD_SHEET)))
    if not rows:
        raise SheetError(N_("表格中没有记录"))
    rows.sha256 = file_sha256(data)
    return rows


def capture_form(session) -> dict:
    """The capture form of the deployed lifecycle: the same rules as capturing one record."""
    definition = latest_definition(session, LIFECYCLE)
    if definition is None:
        raise SheetError(N_("流程 %(process)s 未部署"), process=LIFECYCLE)
    return specs_for(session, definition.id).forms["capture.json"]


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


def options_of(schema: dict, field: str) -> dict[str, str]:
    """How a cell may name each option of a choice (code, Chinese title, English name) -> code."""
    names = {}
    for option in schema.get("properties", {}).get(field, {}).get("oneOf", []):
        code = option.get("const")
        for name in (code, option.get("title", ""), ENGLISH.get(code, "")):
            if name:
                names.setdefault(_key(name), code)
    return names


def _subjects(session, codes: set[str]) -> dict[str, Subject]:
    found, ordered = {}, sorted(codes)
    for i in range(0, len(ordered), 500):
        found.update({s.code: s for s in session.scalars(select(Subject).where(Subject.code.in_(ordered[i:i + 500])))})
    return found


def _code_of(value) -> str:
    return cell_text(value).upper()


def _kind_of(text: str) -> str | None:
    key = _key(text)
    return next((kind for kind, names in KINDS.items() if key in {_key(n) for n in names}), None)


def _guess_kind(code: str) -> str:
    """The kind a code's check says (a citizen ID or a USCC); InvalidIdentifier when neither holds."""
    if code[:17].isdigit():
        try:
            return check_citizen_id(code) and "civil_servant"
        except InvalidIdentifier:
            pass
    check_uscc(code)
    return "department"


def check_records(session, rows: SheetRows, progress=None) -> tuple[Checked, list[Message]]:
    """Every row checked, nothing written: (the rows to import, every problem by row and column)."""
    schema = capture_form(session)
    options = {field: options_of(schema, field) for field in CHOICES}
    titles = {field: [Message(o["title"]) for o in schema["properties"].get(field, {}).get("oneOf", [])]
              for field in CHOICES}
    known = _subjects(session, {_code_of(r.get("subject_code")) for _, r in rows} - {""})
    new_names: dict[str, tuple[str, int]] = {}     # a code registered by this sheet -> (name, first row)
    pending, errors, bad_rows = Checked(), [], 0
    pending.sha256 = getattr(rows, "sha256", "")
    for done, (number, row) in enumerate(rows, start=1):
        checked, problems = _check_row(schema, options, titles, known, new_names, number, row)
        if problems:
            errors.extend(problems)
            bad_rows += 1
        else:
            pending.append(checked)
        if progress is not None:
            progress(done)
    return pending, listed(errors, bad_rows)


def _check_row(schema, options, titles, known, new_names, number: int, row: dict):
    problems, values, reported = [], {}, set()

    def bad(field: str, message: Message) -> None:
        reported.add(field)
        column = COLUMN.get(field) or Column(field, schema["properties"].get(field, {}).get("title", field), field)
        problems.append(problem(number, column, message))

    for column in RECORD_SHEET:
        if column.required and blank(row.get(column.field)):
            bad(column.field, Message(REQUIRED))
    subject = _check_subject(row, known, new_names, number, bad)
    for field in CHOICES:
        text = cell_text(row.get(field))
        if text:
            code = options[field].get(_key(text))
            if code is None:
                bad(field, Message(N_("“%(value)s”不是可选值；可选：%(choices)s"), value=text[:40],
                                   choices=Joined(titles[field])))
            values[field] = code
    for field in TEXTS:
        if not blank(row.get(field)):
            values[field] = cell_text(row.get(field))
    for field in DATES:
        if not blank(row.get(field)):
            try:
                values[field] = sheet_date(row[field]).isoformat()
            except CellError as exc:
                bad(field, exc.message)
    clean = {k: v for k, v in values.items() if v is not None}
    try:
        clean = validate_form(schema, clean)
    except FormInvalid as exc:
        for field, message in exc.errors.items():
            if field not in reported:     # a blank required cell, a bad date or choice is told once
                bad(field, message)
    if problems or subject is None:
        return None, problems
    return Row(number, *subject, clean), []


def _check_subject(row: dict, known: dict, new_names: dict, number: int, bad):
    """(code, kind, name, registered subject id or None), or None with the problems told to `bad`."""
    raw = row.get("subject_code")
    if digits_as_number(raw):
        bad("subject_code", Message(NUMBER_NOT_TEXT))
        return None
    code, name = _code_of(raw), cell_text(row.get("subject_name"))
    kind_text = cell_text(row.get("subject_kind"))
    kind = _kind_of(kind_text) if kind_text else None
    if kind_text and kind is None:
        bad("subject_kind", Message(N_("“%(value)s”不是可选值；可选：%(choices)s"), value=kind_text[:40],
                                    choices=Joined([Message(N_("政府部门")), Message(N_("公务员"))])))
        return None
    if not code:
        return None
    subject = known.get(code)
    if subject is not None:
        if kind and kind != subject.kind:
            bad("subject_kind", Message(N_("代码 %(code)s 已登记为%(kind)s"), code=subject.display_code,
                                        kind=Message(KINDS[subject.kind][0])))
            return None
        if name and name != subject.name:
            bad("subject_name", Message(N_("与已登记的名称“%(name)s”不一致"), name=subject.name))
            return None
        return code, subject.kind, subject.name, subject.id
    try:
        kind = kind or _guess_kind(code)
        code = check_subject_code(kind, code)
    except InvalidIdentifier as exc:
        bad("subject_code", exc.message)
        return None
    if len(name) > 200:
        bad("subject_name", Message(N_("不能超过 %(limit)s 字"), limit=200))
        return None
    if not name:
        return None
    first = new_names.setdefault(code, (name, number))
    if first[0] != name:
        bad("subject_name", Message(N_("与第 %(row)s 行同一代码的名称“%(name)s”不一致"), row=first[1], name=first[0]))
        return None
    return code, kind, name, None


def records_template(session, translate=None, english: bool = False) -> bytes:
    """The import template: the headers, two example rows (the first names a department registered
    here when there is one, so the template imports as it is) and what each column holds."""
    department = session.scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.id)
                                 .limit(1)).first()
    code, name = (department.code, department.name) if department else ("11100000000013127D", "示例局")
    t = translate or (lambda text: text)
    examples = [[code, name, t(N_("政府部门")), t("行政处罚"), t("政府采购"), t("一般"),
                 "逾期未支付中小企业账款。", "《保障中小企业款项支付条例》第八条", date(2026, 5, 29), date(2026, 3, 1), "", ""],
                ["11010519491231002X", "张三", t(N_("公务员")), t("纪律处分"), t("招标投标"), t("轻微"),
                 "违规干预招标投标活动。", "《公职人员政务处分法》第三十九条", date(2026, 5, 29), None, "", ""]]
    return template_xlsx(RECORD_SHEET, examples, N_("失信记录"), list(NOTES), translate, english)
