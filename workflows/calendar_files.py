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
from .messages import Message, N_, UserError

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


@dataclass(frozen=True, eq=False)
class FileProblem:
    """One problem of a file: its line (0: the whole file) and the reason, a Message."""
    line: int
    reason: Message

    @property
    def message(self) -> Message:
        """The reason with its line, to show in the reader's language."""
        return Message(N_("第 %(line)s 行：%(problem)s"), line=self.line, problem=self.reason) if self.line \
            else self.reason

    def __eq__(self, other) -> bool:
        return isinstance(other, FileProblem) and (self.line, self.reason) == (other.line, other.reason)

    def __hash__(self):
        return hash((self.line, str(self.reason)))

    def __str__(self) -> str:
        return str(self.message)


class CalendarFileError(UserError, ValueError):
    """The file's problems, each naming its line and field. Nothing was imported."""

    def __init__(self, problems: list[FileProblem]):
        from .messages import Joined
        super().__init__(Joined([p.message for p in problems], N_("；")))
        self.problems = problems


def parse_calendar_file(data: bytes, filename: str = "", year: int | None = None) -> list[DayEntry]:
    """The days a CSV or iCalendar file sets, sorted; raises CalendarFileError naming every problem."""
    if len(data) > MAX_BYTES:
        raise CalendarFileError([FileProblem(0, Message(N_("文件过大（%(size)s 字节，上限 %(limit)s）"), size=len(data),
                                                        limit=MAX_BYTES))])
    text = _decode(data)
    is_ics = filename.lower().endswith((".ics", ".ical")) or text.lstrip().upper().startswith("BEGIN:VCALENDAR")
    entries, problems = (_parse_ics if is_ics else _parse_csv)(text)
    first_line: dict[date, int] = {}
    for entry in entries:
        if year is not None and entry.day.year != year:
            problems.append(FileProblem(entry.line, Message(N_("日期 %(day)s 不在 %(year)s 年内"),
                                                            day=entry.day.isoformat(), year=year)))
        if entry.day in first_line:
            problems.append(FileProblem(entry.line, Message(N_("日期 %(day)s 重复（第 %(first)s 行已有）"),
                                                            day=entry.day.isoformat(), first=first_line[entry.day])))
        else:
            first_line[entry.day] = entry.line
    if not entries and not problems:
        problems.append(FileProblem(0, Message(N_("文件中没有任何日期"))))
    if len(entries) > MAX_DAYS:
        problems.append(FileProblem(0, Message(N_("日期过多（%(count)s 个，上限 %(limit)s）"), count=len(entries),
                                               limit=MAX_DAYS)))
    if problems:
        raise CalendarFileError(sorted(set(problems), key=lambda p: (p.line, str(p.reason))))
    return sorted(entries, key=lambda e: e.day)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        byte = f"0x{data[exc.start]:02X}"
        raise CalendarFileError([FileProblem(line, Message(N_("文件不是 UTF-8 编码（第 %(position)s 字节 %(byte)s）；请另存为 UTF-8"),
                                                           position=exc.start + 1, byte=byte))]) from None


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
            problems.append(FileProblem(number, Message(N_("应为 3 列 date,kind,name，实为 %(count)s 列"), count=len(row))))
            continue
        raw_day, raw_kind, name = row[0].strip(), row[1].strip(), (" ".join(row[2].split()) if len(row) == 3 else "")
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(FileProblem(number, Message(N_("date「%(value)s」不是 YYYY-MM-DD 日期"), value=raw_day[:20])))
            day = None
        kind = _kind(raw_kind)
        if kind is None:
            problems.append(FileProblem(number, Message(N_("kind「%(value)s」未知，应为 holiday 或 workday"),
                                                        value=raw_kind[:20])))
        if len(name) > 100:
            problems.append(FileProblem(number, Message(N_("name 超过 100 字"))))
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
        return [FileProblem(line, Message(N_("%(field)s「%(value)s」不是全天日期（YYYYMMDD）"), field="DTSTART", value=value))]
    try:
        end = _ics_date(event["DTEND"]) if "DTEND" in event else start + timedelta(days=1)
    except ValueError:
        value = event["DTEND"][:20]
        return [FileProblem(line, Message(N_("%(field)s「%(value)s」不是全天日期（YYYYMMDD）"), field="DTEND", value=value))]
    if not start < end or (end - start).days > 31:
        return [FileProblem(line, Message(N_("DTSTART %(start)s 至 DTEND %(end)s 不是 1-31 天的区间"),
                                          start=start.isoformat(), end=end.isoformat()))]
    summary = event.get("SUMMARY", "").strip()[:100]
    kind = _ics_kind(event.get("CATEGORIES", ""), summary)
    if kind is None:
        return [FileProblem(line, Message(N_("无法判断「%(summary)s」是放假还是上班（CATEGORIES 写 holiday 或 workday）"),
                                          summary=summary[:30]))]
    day = start
    while day < end:
        entries.append(DayEntry(day, kind, summary, line))
        day += timedelta(days=1)
    return []
