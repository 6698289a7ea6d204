"""Reading an uploaded spreadsheet (.xlsx or .csv) within fixed bounds, for every import.

An .xlsx file is a zip of XML parts. Before openpyxl opens it the archive is checked: how many
parts, what they unpack to and how well they compress (a zip bomb is refused). openpyxl then reads
it in read-only (streaming) mode with defusedxml installed, so a part declaring XML entities
(billion laughs, external entities) is refused. The sheet's declared dimension is never trusted:
it is dropped, rows are pulled one at a time and reading stops at the row bound, so a 5 KB file
declaring A1:XFD1048576 costs a few rows, not a million. A .csv is bounded the same way.
Every refusal is a SheetError whose message (a catalog id and its parameters) names what is wrong."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from itertools import islice
from .messages import N_, UserError

MAX_BYTES = 1024 * 1024                 # the uploaded file
MAX_UNPACKED_BYTES = 20 * 1024 * 1024   # what the parts of an .xlsx unpack to, together
MAX_ZIP_MEMBERS = 100                   # parts in an .xlsx (a plain workbook has about ten)
MAX_COMPRESSION_RATIO = 100             # unpacked / packed, for a part over MIN_RATIO_CHECKED_BYTES
MIN_RATIO_CHECKED_BYTES = 1024 * 1024
MAX_CELL_CHARS = 2000                   # one cell's text
BLANK_ROWS_ALLOWED = 1000               # blank lines tolerated past the last allowed row


class SheetError(UserError, ValueError):
    """The file cannot be read as a sheet within the bounds; the message says why."""


@dataclass(frozen=True)
class SheetLimits:
    max_rows: int                       # data rows, not counting the header
    max_columns: int = 20
    max_bytes: int = MAX_BYTES


@dataclass
class Sheet:
    header: list[str]
    rows: list[tuple[int, tuple]]       # (row number as the sheet shows it, values), blank rows left out


def check_size(data: bytes, limits: SheetLimits) -> None:
    if len(data) > limits.max_bytes:
        raise SheetError(N_("文件超过 %(size)s KB"), size=limits.max_bytes // 1024)


def is_xlsx(filename: str, data: bytes) -> bool:
    return filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04"


def read_sheet(filename: str, data: bytes, limits: SheetLimits, csv_allowed: bool = True) -> Sheet:
    """The header and the non-blank rows of the first sheet; SheetError when the file is unusable."""
    check_size(data, limits)
    rows = _xlsx_rows(data, limits) if is_xlsx(filename, data) or not csv_allowed else _csv_rows(data, limits)
    try:
        return _bounded(rows, limits)
    finally:
        rows.close()      # the workbook is closed even when a bound stopped the reading


def _bounded(rows, limits: SheetLimits) -> Sheet:
    """Pull rows until the bounds say stop: the header, then up to `max_rows` non-blank rows."""
    header, out = None, []
    last_line = limits.max_rows + 1 + BLANK_ROWS_ALLOWED
    for number, values in enumerate(rows, start=1):
        if number > last_line:
            raise SheetError(N_("表格在第 %(row)s 行之后仍有内容（含空行），请删除数据下方多余的行"), row=last_line)
        # a truth test in C: a row may be 16,384 cells wide (a 0 out there passes, and is dropped)
        if len(values) > limits.max_columns and any(islice(values, limits.max_columns, None)):
            raise SheetError(N_("第 %(row)s 行超过 %(limit)s 列"), row=number, limit=limits.max_columns)
        values = tuple(values[:limits.max_columns])
        for value in values:
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise SheetError(N_("第 %(row)s 行有单元格超过 %(limit)s 字"), row=number, limit=MAX_CELL_CHARS)
        if not any(v is not None and str(v).strip() for v in values):
            continue
        if header is None:
            header = [str(v if v is not None else "").strip() for v in values]
            while header and not header[-1]:
                header.pop()
            continue
        if len(out) >= limits.max_rows:
            raise SheetError(N_("表格超过 %(limit)s 行，请分成几个文件导入"), limit=limits.max_rows)
        out.append((number, values))
    if header is None:
        raise SheetError(N_("表格是空的"))
    return Sheet(header, out)


# -- .xlsx ------------------------------------------------------------------------------------------

NOT_XLSX = N_("文件不是有效的 .xlsx 表格")
ENTITIES = N_("文件含有 XML 实体声明，出于安全原因不予读取")


def check_archive(data: bytes) -> None:
    """Refuse an archive that is not a plain .xlsx zip or would unpack to too much. The sizes in
    the zip directory bound what Python's zipfile unpacks (it stops at the declared size)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise SheetError(NOT_XLSX) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise SheetError(N_("文件含有 %(count)s 个部件，超过 %(limit)s 个"), count=len(members), limit=MAX_ZIP_MEMBERS)
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_UNPACKED_BYTES:
            raise SheetError(N_("文件解压后超过 %(size)s MB"), size=MAX_UNPACKED_BYTES // (1024 * 1024))
        for member in members:
            if (member.file_size > MIN_RATIO_CHECKED_BYTES
                    and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)):
                raise SheetError(N_("文件压缩比异常（超过 %(ratio)s 倍），疑似压缩炸弹"), ratio=MAX_COMPRESSION_RATIO)
        for member in members:
            _refuse_doctype(archive, member)


DOCTYPE_MARKS = tuple("<!DOCTYPE".encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be"))


def _refuse_doctype(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    """No part of an .xlsx has a DTD; one that declares any is refused before an XML parser sees
    it (openpyxl parses some parts with defusedxml, some with lxml without entity resolution)."""
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise SheetError(NOT_XLSX)
    tail = b""
    try:
        with archive.open(member) as part:
            while chunk := part.read(256 * 1024):
                window = tail + chunk
                if any(mark in window for mark in DOCTYPE_MARKS):
                    raise SheetError(ENTITIES)
                tail = window[-32:]
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
        raise SheetError(NOT_XLSX) from None


def _is_defused(exc: BaseException | None) -> bool:
    """Whether defusedxml refused an entity somewhere in the chain (openpyxl wraps what it raises)."""
    from defusedxml import DefusedXmlException
    while exc is not None:
        if isinstance(exc, DefusedXmlException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _xlsx_rows(data: bytes, limits: SheetLimits):
    check_archive(data)
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises many kinds for a damaged or foreign file
        raise SheetError(ENTITIES if _is_defused(exc) else NOT_XLSX) from None
    try:
        sheet = book.active if book.active is not None else book.worksheets[0]
        sheet.reset_dimensions()      # the declared dimension is the attacker's number: rows decide
        # each row as wide as its last cell (at most 16,384), so a sheet too wide is told so, not cut
        yield from sheet.iter_rows(values_only=True)
    except Exception as exc:
        raise SheetError(ENTITIES if _is_defused(exc) else NOT_XLSX) from None
    finally:
        book.close()


# -- .csv -------------------------------------------------------------------------------------------

def _csv_rows(data: bytes, limits: SheetLimits):
    for encoding in ("utf-8-sig", "gb18030"):     # Excel in Chinese saves .csv as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(N_("文件不是有效的 .csv（UTF-8 或 GBK 编码的文本）"))
    if "\x00" in text:
        raise SheetError(N_("文件不是有效的 .csv（含有 NUL 字符）"))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for values in reader:
            if len(values) > limits.max_columns + 1:
                values = values[:limits.max_columns + 1]
            yield values
    except csv.Error as exc:
        raise SheetError(N_("第 %(line)s 行不是有效的 .csv：%(detail)s"), line=reader.line_num, detail=str(exc)) from None


def records(sheet: Sheet, fields: dict[str, str]) -> list[tuple[int, dict]]:
    """(row number, {field: value}) using `fields` (header text -> field name); unknown headers dropped."""
    names = [fields.get(h) or fields.get(h.lower()) for h in sheet.header]
    return [(number, {f: v for f, v in zip(names, values) if f}) for number, values in sheet.rows]
