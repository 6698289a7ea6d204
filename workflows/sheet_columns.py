"""The columns of an import sheet, shared by every import an admin runs (the post roster, staff
accounts): headers in Chinese with English accepted, a template to download, dates in one labelled
format (the other ways people type dates are read too), and every problem reported by row, column
and what is wrong, as Messages (an import job stores them; the page shows them in its language)."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from .messages import Joined, Message, N_, Translate, UserError
from .sheet_reader import Sheet, SheetError

DATE_FORMAT = "YYYY-MM-DD"
DATES = [re.compile(p) for p in (r"(\d{4})-(\d{1,2})-(\d{1,2})", r"(\d{4})/(\d{1,2})/(\d{1,2})",
                                 r"(\d{4})\.(\d{1,2})\.(\d{1,2})", r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")]
MIDNIGHT = re.compile(r"\s+0{1,2}:00(:00)?$")     # "2026-01-31 00:00:00", as a .csv saved by Excel may hold


@dataclass(frozen=True)
class Column:
    field: str                  # the code the import uses; accepted as a header too
    title: str                  # the Chinese header: a catalog id
    english: str                # the English header, accepted
    required: bool = False      # the column must be there and each row's cell filled
    note: str = ""              # what the cell holds (catalog id), for the template's notes
    aliases: tuple = ()         # other headers people write


def problem(row: int, column: Column, message: Message) -> Message:
    """One thing wrong with a row: 第 3 行 · 任职开始日期：… (Row 3 · Start date: … in English)."""
    return Message(N_("第 %(row)s 行 · %(column)s：%(problem)s"), row=row, column=Message(column.title),
                   problem=message)


MAX_LISTED = 1000      # problems a failed import lists one by one; past that, how many more


def listed(problems: list[Message], bad_rows: int) -> list[Message]:
    """The problems to show: all of them, or the first MAX_LISTED and a line counting the rest."""
    if len(problems) <= MAX_LISTED:
        return problems
    return [*problems[:MAX_LISTED], Message(N_("另有 %(count)s 处问题未列出；共 %(rows)s 行有问题"),
                                            count=len(problems) - MAX_LISTED, rows=bad_rows)]


# -- the header ---------------------------------------------------------------------------------------

def _key(text) -> str:
    text = str(text or "").strip().lower()
    text = re.sub(r"[（(](必填|选填|可选|required|optional)[)）]$|[*＊]$", "", text).strip()
    return re.sub(r"[\s_\-]+", "", text)


def fields_of(header: list[str], columns: tuple[Column, ...]) -> list[str | None]:
    """The field of each header cell (None for a column the import does not use)."""
    names = {}
    for column in columns:
        for name in (column.field, column.title, column.english, *column.aliases):
            names.setdefault(_key(name), column.field)
    return [names.get(_key(h)) for h in header]


def missing_columns(fields: list[str | None], columns: tuple[Column, ...]) -> list[Column]:
    return [c for c in columns if c.required and c.field not in fields]


def require_columns(sheet: Sheet, columns: tuple[Column, ...]) -> list[str | None]:
    """The fields of the sheet's header; a SheetError naming every required column missing."""
    fields = fields_of(sheet.header, columns)
    missing = missing_columns(fields, columns)
    if missing:
        raise SheetError(N_("第一行缺少列：%(columns)s（列名见导入模板）"),
                         columns=Joined([Message(c.title) for c in missing]))
    return fields


def rows_of(sheet: Sheet, fields: list[str | None]) -> list[tuple[int, dict]]:
    """(row number, {field: value}) for each row; columns the import does not use are dropped."""
    return [(number, {f: v for f, v in zip(fields, values) if f}) for number, values in sheet.rows]


# -- cells --------------------------------------------------------------------------------------------

class CellError(UserError, ValueError):
    """A cell's value is not what its column holds."""


def sheet_date(value) -> date:
    """A date cell: an Excel date, or text as 2026-01-31, 2026/1/31, 2026.1.31 or 2026年1月31日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = MIDNIGHT.sub("", str(value if value is not None else "").strip())
    for pattern in DATES:
        found = pattern.fullmatch(text)
        if found:
            try:
                return date(*(int(g) for g in found.groups()))
            except ValueError:
                break
    raise CellError(N_("“%(value)s”不是有效日期；日期格式 YYYY-MM-DD，如 2026-01-31"), value=text[:40])


def cell_text(value) -> str:
    """A cell as text: a whole number typed into Excel (a phone, a code) without its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    return str(value).strip()


def digits_as_number(value) -> bool:
    """An identifier Excel stored as a number: past 15 digits its last digits are already lost."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e15


NUMBER_NOT_TEXT = N_("被 Excel 存成了数字，末几位已丢失：请把此列设为文本格式后重新填写")


def blank(value) -> bool:
    return cell_text(value) == ""


REQUIRED = N_("必填，不能为空")


# -- the template ---------------------------------------------------------------------------------------

def _same(text: str) -> str:
    return text


def template_xlsx(columns: tuple[Column, ...], examples: list[list], title: str, notes: list[str],
                  translate: Translate | None = None, english: bool = False) -> bytes:
    """An .xlsx template: the headers (Chinese, or English with `english`) and example rows on the
    first sheet, what each column holds on a second; date columns hold Excel dates shown as
    YYYY-MM-DD, text columns are text cells (an 18-digit number keeps its digits)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    t = translate or _same
    book = Workbook()
    sheet = book.active
    sheet.title = t(title)[:31]
    sheet.append([c.english if english else c.title for c in columns])
    for example in examples:
        sheet.append(list(example))
    required = PatternFill("solid", fgColor="FCE4D6")
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        head = sheet.cell(row=1, column=index)
        head.font = Font(bold=True)
        if column.required:
            head.fill = required
        dated = any(isinstance(e[index - 1], (date, datetime)) for e in examples)
        for row in range(2, len(examples) + 2):
            sheet.cell(row=row, column=index).number_format = "yyyy-mm-dd" if dated else "@"
        # the whole column too, so the rows people add keep an 18-digit number as text
        sheet.column_dimensions[letter].number_format = "yyyy-mm-dd" if dated else "@"
        sheet.column_dimensions[letter].width = max(14, min(28, 2 * len(column.title) + 4))
    sheet.freeze_panes = "A2"
    about = book.create_sheet(t(N_("填写说明")))
    for note in notes:
        about.append([t(note)])
    about.append([])
    about.append([t(N_("列名")), t(N_("英文列名")), t(N_("是否必填")), t(N_("填写说明"))])
    for column in columns:
        about.append([t(column.title), column.english, t(N_("必填")) if column.required else t(N_("选填")),
                      t(column.note) if column.note else ""])
    for letter, width in zip("ABCD", (26, 22, 10, 70)):
        about.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(columns: tuple[Column, ...], examples: list[list], english: bool = False) -> bytes:
    """A .csv template: the headers and example rows, UTF-8 with a BOM (Excel opens it in Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.english if english else c.title for c in columns])
    for example in examples:
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in example])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
