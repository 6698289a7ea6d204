"""Lists as .xlsx files: what a list page shows, with the filters on screen, as a workbook a clerk
opens in Excel or WPS. The sheet's XML is written straight into the zip as the rows come (a
generator is never held whole), about ten times faster than openpyxl's write-only mode, whose
per-cell objects made a 100,000-row list take over a minute; the tests read every export back
with openpyxl. Text that Excel would read as a formula (=, +, -, @ first) is written as text,
never evaluated: every string is an inline string, so no cell is ever a formula."""
from __future__ import annotations

import io
import math
import re
import zipfile
from datetime import date, datetime
from typing import Iterable, Sequence
from xml.sax.saxutils import escape   # for the sheet's name, in an attribute

from .clock import CST

MAX_ROWS = 100_000     # rows one export may hold; a longer list is cut, and says so in its last row
_EPOCH = datetime(1899, 12, 30)
# characters XML 1.0 cannot carry (a control character typed into a form): left out of the cell
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# the cell styles of styles.xml below: 0 plain, 1 bold (title, headers), 2 a date, 3 a date and time
PLAIN, BOLD, DAY, MOMENT = 0, 1, 2, 3
WIDTH = 20
CELL_TEXT = 32_767    # the most characters an Excel cell holds; a longer text is cut there


def list_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence], filters: Sequence[tuple[str, str]] = (),
              cut_note: str = "") -> bytes:
    """One sheet: the title, one line per filter on screen (label, value), a blank line, the
    header row (bold, frozen) and the rows. `rows` may be a generator. Past MAX_ROWS the list is
    cut and `cut_note` (already translated) is written after the last row."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=5) as book:
        for name, text in _PARTS.items():
            book.writestr(name, text.replace("{title}", _attribute(_sheet_title(title))))
        with book.open("xl/worksheets/sheet1.xml", "w") as part:
            _write_sheet(part, title, headers, rows, filters, cut_note)
    return out.getvalue()


def _write_sheet(part, title, headers, rows, filters, cut_note) -> None:
    header_row = len(filters) + 3
    columns = max(len(headers), 2)
    part.write((
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{header_row}" topLeftCell="A{header_row + 1}" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<cols><col min="1" max="{columns}" width="{WIDTH}" customWidth="1"/></cols><sheetData>').encode())
    lines = [[(title, BOLD)]] + [[(label, PLAIN), (value, PLAIN)] for label, value in filters] + [[]] + \
        [[(header, BOLD) for header in headers]]
    number = 0
    for number, line in enumerate(lines, 1):
        part.write(_row(number, line))
    buffer = []
    for count, row in enumerate(rows):
        number += 1
        if count == MAX_ROWS:
            buffer.append(_row(number, [(cut_note or f"... (first {MAX_ROWS:,} rows)", PLAIN)]))
            break
        buffer.append(_row(number, [(value, PLAIN) for value in row]))
        if len(buffer) == 500:
            part.write(b"".join(buffer))
            buffer.clear()
    part.write(b"".join(buffer))
    part.write(b"</sheetData></worksheet>")


def _row(number: int, cells) -> bytes:
    written = "".join(_cell(f"{_letters(i)}{number}", value, style) for i, (value, style) in enumerate(cells))
    return f'<row r="{number}">{written}</row>'.encode()


def _cell(ref: str, value, style: int) -> str:
    kind = type(value)
    if kind is str:      # most cells: the fast way first
        if not value:
            return ""
        if _NOT_XML.search(value):
            value = _NOT_XML.sub("", value)
        text = value[:CELL_TEXT].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}" t="inlineStr"{_STYLE[style]}><is><t xml:space="preserve">{text}</t></is></c>'
    if value is None:
        return ""
    if kind is bool:
        return f'<c r="{ref}" t="b"{_STYLE[style]}><v>{int(value)}</v></c>'
    if kind is int or (kind is float and math.isfinite(value)):
        return f'<c r="{ref}"{_STYLE[style]}><v>{value!r}</v></c>'
    if kind is float:   # NaN, infinity: no number a sheet holds
        return ""
    if isinstance(value, datetime):   # Beijing time, as the pages show it (Excel has no time zones)
        if value.tzinfo is not None:
            value = value.astimezone(CST).replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{MOMENT}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{DAY}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, (int, float)):      # an int or float subclass (an IntEnum, numpy's ...)
        return _cell(ref, int(value) if isinstance(value, int) else float(value), style)
    return _cell(ref, str(value), style)     # anything else (a lazy translation ...) as its text


_STYLE = {PLAIN: "", BOLD: f' s="{BOLD}"'}


_LETTERS: list[str] = []


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    while len(_LETTERS) <= index:
        n, name = len(_LETTERS) + 1, ""
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        _LETTERS.append(name)
    return _LETTERS[index]


def _attribute(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in _NOT_XML.sub("", title)).strip()
    return cleaned[:31] or "list"


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": _HEAD + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": _HEAD + (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{_REL}/officeDocument"/></Relationships>'),
    "xl/workbook.xml": _HEAD + (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
        '<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": _HEAD + (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{_REL}/worksheet"/>'
        f'<Relationship Id="rId2" Target="styles.xml" Type="{_REL}/styles"/></Relationships>'),
    "xl/styles.xml": _HEAD + (
        f'<styleSheet xmlns="{_MAIN}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
