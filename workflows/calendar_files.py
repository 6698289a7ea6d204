"""Reading a year's holiday arrangement from a file: CSV or iCalendar.

CSV: one row per day, `date,kind,name` -- the rows of the State Council's notice (国务院办公厅关于
某年部分节假日安排的通知): `kind` is `holiday` (放假, a rest day on a weekday) or `workday` (调休上班,
a working day on a weekend); 休 / 班 / 放假 / 上班 are read the same. A header row (`date,...` or
`日期,...`, the first row that is not a comment), blank lines and lines starting with `#` are skipped.
Line numbers count physical lines of the file, from 1.

iCalendar (.ics): every all-day VEVENT (`DTSTART;VALUE=DATE:20270101`, DTEND exclusive, or none
for one day) gives its days. The kind comes from CATEGORIES (`holiday`/`workday`, or 休/班), else
from SUMMARY: a summary with 班 (上班, 补班, 调休上班) is a working day, one with 休 or 假 a holiday;
anything else is a problem to fix, never a guess. SUMMARY is the day's name.

Every problem is collected, each naming its line and field; one problem and nothing is imported.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from .messages import UserError

MAX_BYTES = 512 * 1024
MAX_DAYS = 400          # a year has 366 at most
KINDS = {"holiday": False, "休": False, "休息": False, "放假": False, "休息日": False,
         "workday": True, "班": True, "上班": True, "工作日": True, "补班": True}


@dataclass(frozen=True)
class DayEntry:
    day: date
    is_workday: bool
    name: str
    line: int


@dataclass(frozen=True)
class FileProblem:
    """One problem of a file, in Chinese and English (the page shows its own language)."""
    line: int
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        where = (f"第 {self.line} 行：" if lang == "zh" else f"line {self.line}: ") if self.line else ""
        return where + (self.zh if lang == "zh" else self.en)

    def __str__(self) -> str:
        return self.text()


class CalendarFileError(UserError, ValueError):
    """The file's problems, each naming its line and field. Nothing was imported."""

    def __init__(self, problems: list[FileProblem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse_calendar_file(data: bytes, filename: str = "", year: int | None = None) -> list[DayEntry]:
    """The days a CSV or iCalendar file sets, sorted; raises CalendarFileError naming every problem."""
    if len(data) > MAX_BYTES:
        raise CalendarFileError([FileProblem(0, f"文件过大（{len(data)} 字节，上限 {MAX_BYTES}）",
                                             f"the file is too large ({len(data)} bytes, at most {MAX_BYTES})")])
    text = _decode(data)
    is_ics = filename.lower().endswith((".ics", ".ical")) or text.lstrip().upper().startswith("BEGIN:VCALENDAR")
    entries, problems = (_parse_ics if is_ics else _parse_csv)(text)
    first_line: dict[date, int] = {}
    for entry in entries:
        if year is not None and entry.day.year != year:
            problems.append(FileProblem(entry.line, f"日期 {entry.day.isoformat()} 不在 {year} 年内",
                                        f"date {entry.day.isoformat()} is not in {year}"))
        if entry.day in first_line:
            problems.append(FileProblem(entry.line, f"日期 {entry.day.isoformat()} 重复（第 {first_line[entry.day]} 行已有）",
                                        f"date {entry.day.isoformat()} repeats line {first_line[entry.day]}"))
        else:
            first_line[entry.day] = entry.line
    if not entries and not problems:
        problems.append(FileProblem(0, "文件中没有任何日期", "the file sets no day"))
    if len(entries) > MAX_DAYS:
        problems.append(FileProblem(0, f"日期过多（{len(entries)} 个，上限 {MAX_DAYS}）",
                                    f"too many days ({len(entries)}, at most {MAX_DAYS})"))
    if problems:
        raise CalendarFileError(sorted(set(problems), key=lambda p: (p.line, p.zh)))
    return sorted(entries, key=lambda e: e.day)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        byte = f"0x{data[exc.start]:02X}"
        raise CalendarFileError([FileProblem(line, f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节 {byte}）；请另存为 UTF-8",
                                             f"the file is not UTF-8 (byte {exc.start + 1}, {byte}); save it as UTF-8")
                                 ]) from None


def _kind(value: str) -> bool | None:
    return KINDS.get(value.strip().lower())


def _parse_csv(text: str) -> tuple[list[DayEntry], list[str]]:
    entries, problems, first, end = [], [], True, 0
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        number, end = end + 1, reader.line_num      # a quoted field may span lines: name where the row starts
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if first and row[0].strip().lower() in ("date", "日期"):   # the header: the first row that is not a comment
            first = False
            continue
        first = False
        if len(row) < 2 or len(row) > 3:
            problems.append(FileProblem(number, f"应为 3 列 date,kind,name，实为 {len(row)} 列",
                                        f"expected 3 columns date,kind,name, found {len(row)}"))
            continue
        raw_day, raw_kind, name = row[0].strip(), row[1].strip(), (" ".join(row[2].split()) if len(row) == 3 else "")
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(FileProblem(number, f"date「{raw_day[:20]}」不是 YYYY-MM-DD 日期",
                                        f"date '{raw_day[:20]}' is not a YYYY-MM-DD date"))
            day = None
        kind = _kind(raw_kind)
        if kind is None:
            problems.append(FileProblem(number, f"kind「{raw_kind[:20]}」未知，应为 holiday 或 workday",
                                        f"kind '{raw_kind[:20]}' is unknown: holiday or workday"))
        if len(name) > 100:
            problems.append(FileProblem(number, "name 超过 100 字", "name is longer than 100 characters"))
        if day is not None and kind is not None and len(name) <= 100:
            entries.append(DayEntry(day, kind, name, number))
    return entries, problems


def _unfold(text: str) -> list[tuple[int, str]]:
    """iCalendar content lines with their first physical line number (folded lines joined)."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


def _ics_date(value: str) -> date:
    value = value.strip()
    if not re.fullmatch(r"\d{8}", value):
        raise ValueError(value)
    return date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _ics_unescape(value: str) -> str:
    return value.replace("\\,", ",").replace("\\;", ";").replace("\\n", " ").replace("\\N", " ").replace("\\\\", "\\")


def _ics_kind(categories: str, summary: str) -> bool | None:
    for category in re.split(r"[,;]", categories):
        kind = _kind(category)
        if kind is not None:
            return kind
    if "班" in summary:
        return True
    if "休" in summary or "假" in summary:
        return False
    return None


def _parse_ics(text: str) -> tuple[list[DayEntry], list[str]]:
    entries, problems = [], []
    event: dict | None = None
    for number, line in _unfold(text):
        name, _, value = line.partition(":")
        key = name.split(";")[0].strip().upper()
        if key == "BEGIN" and value.strip().upper() == "VEVENT":
            event = {"line": number}
        elif key == "END" and value.strip().upper() == "VEVENT" and event is not None:
            problems += _ics_event(event, entries)
            event = None
        elif event is not None and key in ("DTSTART", "DTEND", "SUMMARY", "CATEGORIES"):
            event[key] = _ics_unescape(value)
    return entries, problems


def _ics_event(event: dict, entries: list[DayEntry]) -> list[str]:
    line = event["line"]
    try:
        start = _ics_date(event.get("DTSTART", ""))
    except ValueError:
        value = event.get("DTSTART", "")[:20]
        return [FileProblem(line, f"DTSTART「{value}」不是全天日期（YYYYMMDD）", f"DTSTART '{value}' is not a date (YYYYMMDD)")]
    try:
        end = _ics_date(event["DTEND"]) if "DTEND" in event else start + timedelta(days=1)
    except ValueError:
        value = event["DTEND"][:20]
        return [FileProblem(line, f"DTEND「{value}」不是全天日期（YYYYMMDD）", f"DTEND '{value}' is not a date (YYYYMMDD)")]
    if not start < end or (end - start).days > 31:
        return [FileProblem(line, f"DTSTART {start.isoformat()} 至 DTEND {end.isoformat()} 不是 1-31 天的区间",
                            f"DTSTART {start.isoformat()} to DTEND {end.isoformat()} is not a span of 1-31 days")]
    summary = event.get("SUMMARY", "").strip()[:100]
    kind = _ics_kind(event.get("CATEGORIES", ""), summary)
    if kind is None:
        return [FileProblem(line, f"无法判断「{summary[:30]}」是放假还是上班（CATEGORIES 写 holiday 或 workday）",
                            f"cannot tell whether '{summary[:30]}' is a holiday or a working day "
                            f"(set CATEGORIES to holiday or workday)")]
    day = start
    while day < end:
        entries.append(DayEntry(day, kind, summary, line))
        day += timedelta(days=1)
    return []
