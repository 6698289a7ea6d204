"""workflows/sheet_export.py's workbook read back with openpyxl: the title, filters and bold
header, Beijing time for aware datetimes, dates as dates, numbers as numbers, formula-looking text
as text, characters XML cannot carry left out, and a list past MAX_ROWS cut with its note."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

from openpyxl import load_workbook

import workflows.sheet_export as sheet_export
from workflows.sheet_export import list_xlsx


def read(data: bytes):
    return load_workbook(io.BytesIO(data)).worksheets[0]


def test_a_sheet_reads_back_as_written():
    data = list_xlsx("失信记录: [全部]", ["编号", "时间", "日期", "次数", "内容"],
                     [["R-000001", datetime(2026, 6, 1, 1, 7, tzinfo=timezone.utc), date(2026, 5, 29), 3, "=1+2"],
                      ["R-000002", None, None, 2.5, "a\x01b <&> \"c\""]],
                     [("状态", "公示中"), ("搜索", "@SUM(A1)")])
    ws = read(data)
    assert ws.title == "失信记录   全部"                    # Excel's rules for a sheet's name
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0] == "失信记录: [全部]" and ws["A1"].font.b
    assert rows[1][:2] == ["状态", "公示中"] and rows[2][:2] == ["搜索", "@SUM(A1)"] and ws["B3"].data_type == "s"
    assert all(v is None for v in rows[3]) and rows[4] == ["编号", "时间", "日期", "次数", "内容"] and ws["A5"].font.b
    assert ws.freeze_panes == "A6"                              # the header row stays in sight
    assert rows[5] == ["R-000001", datetime(2026, 6, 1, 9, 7), datetime(2026, 5, 29), 3, "=1+2"]
    assert ws["B6"].number_format == "yyyy-mm-dd hh:mm" and ws["C6"].number_format == "yyyy-mm-dd"
    assert ws["E6"].data_type == "s"                            # a formula's text, never a formula
    assert rows[6] == ["R-000002", None, None, 2.5, "ab <&> \"c\""]


def test_a_long_list_is_cut_and_says_so(monkeypatch):
    monkeypatch.setattr(sheet_export, "MAX_ROWS", 3)
    rows = ([f"R-{i}"] for i in range(10 ** 9))                  # a generator: never held whole
    values = [[c.value for c in row] for row in read(list_xlsx("list", ["编号"], rows, [], "仅导出前 3 行")).iter_rows()]
    assert [v[0] for v in values[3:]] == ["R-0", "R-1", "R-2", "仅导出前 3 行"]
