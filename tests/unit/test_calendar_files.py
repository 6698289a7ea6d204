"""Reading a year's holiday arrangement from CSV and iCalendar: the days it sets, and every problem
named by its line and field (nothing is imported from a file with one problem)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workflows.calendar_files import CalendarFileError, parse_calendar_file

from in_english import english

DATA = Path(__file__).resolve().parents[1] / "data" / "calendar"


def problems(data: bytes, name: str = "x.csv", year: int | None = 2027, lang: str = "en") -> list[str]:
    with pytest.raises(CalendarFileError) as info:
        parse_calendar_file(data, name, year)
    return [english(p) if lang == "en" else str(p) for p in info.value.problems]


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


# -- more cases: where a header may stand, multi-line names, the ICS rule in detail ---------------

def zh(data: bytes, name: str = "x.csv", year: int | None = 2027) -> list[str]:
    return problems(data, name, year, lang="zh")


def test_a_header_after_a_comment_line_is_a_header_and_one_further_down_is_a_bad_row():
    entries = parse_calendar_file(b"# fictional\ndate,kind,name\n2027-01-01,holiday,x\n", "x.csv", 2027)
    assert [(e.day, e.line) for e in entries] == [(date(2027, 1, 1), 3)]
    assert zh(b"2027-01-01,holiday,x\ndate,kind,name\n") == ["第 2 行：date「date」不是 YYYY-MM-DD 日期",
                                                             "第 2 行：kind「kind」未知，应为 holiday 或 workday"]


def test_chinese_kinds_and_a_chinese_header():
    entries = parse_calendar_file("日期,类型,名称\n\n2027-05-03,休,劳动节\n2027-05-08, 班 ,调休\n".encode(), "x.csv", 2027)
    assert [(e.day.isoformat(), e.is_workday, e.name, e.line) for e in entries] == [
        ("2027-05-03", False, "劳动节", 3), ("2027-05-08", True, "调休", 4)]


def test_a_row_with_two_bad_fields_names_both_and_an_impossible_date_is_named():
    assert zh(b"2027-13-01,sometimes,x\n2027-02-30,holiday,y\n") == [
        "第 1 行：date「2027-13-01」不是 YYYY-MM-DD 日期", "第 1 行：kind「sometimes」未知，应为 holiday 或 workday",
        "第 2 行：date「2027-02-30」不是 YYYY-MM-DD 日期"]


def test_a_quoted_name_over_two_lines_is_named_by_the_line_its_row_starts_on():
    entries = parse_calendar_file(b'2027-01-01,holiday,"a\nb"\n2027-01-02,holiday,c\n')
    assert [(e.name, e.line) for e in entries] == [("a b", 1), ("c", 3)]


def test_the_duplicate_after_a_multi_line_row_names_the_right_lines():
    assert zh(b'2027-01-01,holiday,"a\nb"\n2027-01-01,holiday,c\n') == ["第 3 行：日期 2027-01-01 重复（第 1 行已有）"]


def test_without_a_year_any_year_is_accepted():
    assert [e.day for e in parse_calendar_file(b"2031-01-01,holiday,x\n", "x.csv")] == [date(2031, 1, 1)]


def ics(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(f"BEGIN:VEVENT\r\n{e}END:VEVENT\r\n" for e in events)
            + "END:VCALENDAR\r\n").encode()


def test_ics_categories_decide_before_the_summary_and_ban_wins_over_xiu():
    data = ics("DTSTART;VALUE=DATE:20270301\r\nSUMMARY:值班安排\r\nCATEGORIES:holiday\r\n",
               "DTSTART;VALUE=DATE:20270306\r\nSUMMARY:调休上班\r\n",        # 班 and 休: a working day
               "DTSTART;VALUE=DATE:20270308\r\nSUMMARY:春节\r\n \u653e\u5047\r\n")      # folded: 春节放假
    got = [(e.day.isoformat(), e.is_workday, e.name) for e in parse_calendar_file(data, "x.ics", 2027)]
    assert got == [("2027-03-01", False, "值班安排"), ("2027-03-06", True, "调休上班"), ("2027-03-08", False, "春节放假")]


def test_ics_days_outside_the_year_and_repeated_days_name_the_event_lines():
    data = ics("DTSTART;VALUE=DATE:20270101\r\nSUMMARY:元旦放假\r\n",                                  # line 3
               "DTSTART;VALUE=DATE:20271231\r\nDTEND;VALUE=DATE:20280102\r\nSUMMARY:元旦放假\r\n",     # line 7
               "DTSTART;VALUE=DATE:20270101\r\nSUMMARY:元旦放假\r\n")                                  # line 12
    assert zh(data, "x.ics") == ["第 7 行：日期 2028-01-01 不在 2027 年内", "第 12 行：日期 2027-01-01 重复（第 3 行已有）"]


def test_an_ics_file_is_recognised_by_its_content_whatever_its_name():
    data = "\ufeff".encode() + ics("DTSTART;VALUE=DATE:20270101\r\nSUMMARY:元旦 休\r\n")
    assert [(e.day, e.is_workday) for e in parse_calendar_file(data, "upload.txt", 2027)] == [(date(2027, 1, 1), False)]
