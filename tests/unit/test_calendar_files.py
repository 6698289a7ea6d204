"""Reading a year's holiday arrangement from CSV and iCalendar: the days it sets, and every problem
named by its line and field (nothing is imported from a file with one problem)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workflows.calendar_files import CalendarFileError, parse_calendar_file

DATA = Path(__file__).resolve().parents[1] / "data" / "calendar"


def problems(data: bytes, name: str = "x.csv", year: int | None = 2027, lang: str = "en") -> list[str]:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar_file(data, name, year)
    return [p.text(lang) for p in info.value.problems]


def test_csv_rows_with_header_comment_and_bom():
    entries = parse_calendar_file((DATA / "fictional-2027.csv").read_bytes(), "fictional-2027.csv", 2027)
    assert [(e.day, e.is_workday) for e in entries][:2] == [(date(2027, 1, 1), False), (date(2027, 2, 6), True)]
    assert len(entries) == 7 and entries[0].name == "元旦（测试）" and entries[0].line == 3
    bom = parse_calendar_file("\ufeff2027-05-01,放假,劳动节\n2027-05-08,上班,\n".encode())
    assert [(e.day.isoformat(), e.is_workday, e.name) for e in bom] == [("2027-05-01", False, "劳动节"),
                                                                       ("2027-05-08", True, "")]


def test_ics_events_give_every_day_of_their_range():
    entries = parse_calendar_file((DATA / "fictional-2027.ics").read_bytes(), "fictional-2027.ics", 2027)
    assert [(e.day.isoformat(), e.is_workday) for e in entries] == [
        ("2027-02-06", True), ("2027-02-10", False), ("2027-02-11", False), ("2027-02-12", False),
        ("2027-10-01", False)]


def test_every_bad_row_is_named_at_once():
    found = problems(b"date,kind,name\n2027-01-01,holiday,a\n2027-01-01,workday,b\n2028-01-03,holiday,c\n"
                     b"2027-05-01,vacation,d\n2027/05/02,holiday,e\nonly-one-column\n")
    assert found == ["line 3: date 2027-01-01 repeats line 2",
                     "line 4: date 2028-01-03 is not in 2027",
                     "line 5: kind 'vacation' is unknown: holiday or workday",
                     "line 6: date '2027/05/02' is not a YYYY-MM-DD date",
                     "line 7: expected 3 columns date,kind,name, found 1"]


def test_problems_read_in_chinese_too():
    assert problems(b"2027-01-01,vacation,x\n", lang="zh") == ["第 1 行：kind「vacation」未知，应为 holiday 或 workday"]


def test_a_file_not_in_utf8_names_the_line_and_byte():
    data = "2027-01-01,holiday,ok\n2027-02-10,holiday,春节\n".encode("gbk")
    assert problems(data) == ["line 2: the file is not UTF-8 (byte 42, 0xB4); save it as UTF-8"]


def test_an_empty_or_oversized_file_is_refused():
    assert problems(b"date,kind,name\n") == ["the file sets no day"]
    assert problems(b"x" * (600 * 1024))[0].startswith("the file is too large")


def test_ics_events_it_cannot_read_are_problems_not_guesses():
    ics = (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270301\r\nSUMMARY:Team day\r\nEND:VEVENT\r\n"
           b"BEGIN:VEVENT\r\nDTSTART:20270302T090000Z\r\nSUMMARY:\xe4\xbc\x91\r\nEND:VEVENT\r\n"
           b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20270310\r\nDTEND;VALUE=DATE:20270305\r\nSUMMARY:\xe4\xbc\x91\r\n"
           b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert problems(ics, "a.ics") == [
        "line 2: cannot tell whether 'Team day' is a holiday or a working day (set CATEGORIES to holiday or workday)",
        "line 6: DTSTART '20270302T090000Z' is not a date (YYYYMMDD)",
        "line 10: DTSTART 2027-03-10 to DTEND 2027-03-05 is not a span of 1-31 days"]
