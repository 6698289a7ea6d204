"""Lists as .xlsx files: what a list page shows, with the filters on screen, as a workbook a clerk
opens in Excel or WPS. Write-only (streamed), so a list of 100,000 rows stays small in memory.
Text that Excel would read as a formula (=, +, -, @ first) is written as text, never evaluated."""
from __future__ import annotations

import io
from datetime import date, datetime
from typing import Iterable, Sequence

MAX_ROWS = 100_000     # rows one export may hold; a longer list is cut, and says so in its last row
_FORMULA_START = ("=", "+", "-", "@")


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if value is None or isinstance(value, (bool, int, float)):
        return WriteOnlyCell(sheet, value=value)
    text = str(value)
    cell = WriteOnlyCell(sheet, value=text)
    if text.startswith(_FORMULA_START):
        cell.data_type = "s"   # shown as typed, never a formula
    return cell


def list_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence], filters: Sequence[tuple[str, str]] = (),
              cut_note: str = "") -> bytes:
    """One sheet: the title, one line per filter on screen (label, value), a blank line, the
    header row (bold, frozen) and the rows. `rows` may be a generator. Past MAX_ROWS the list is
    cut and `cut_note` (already translated) is written after the last row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    for index in range(1, max(len(headers), 2) + 1):   # write-only: widths before the first row
        sheet.column_dimensions[get_column_letter(index)].width = 20
    sheet.freeze_panes = f"A{len(filters) + 4}"
    bold = Font(bold=True)
    sheet.append([_bold(sheet, title, bold)])
    for label, value in filters:
        sheet.append([_cell(sheet, label), _cell(sheet, value)])
    sheet.append([])
    sheet.append([_bold(sheet, header, bold) for header in headers])
    for count, row in enumerate(rows):
        if count == MAX_ROWS:
            sheet.append([_cell(sheet, cut_note or f"... (first {MAX_ROWS:,} rows)")])
            break
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return cleaned[:31] or "list"


def _bold(sheet, value, font):
    cell = _cell(sheet, value)
    cell.font = font
    return cell
