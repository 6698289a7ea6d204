"""The roster import as a personnel officer fills it in: Chinese headers (English accepted), dates
written the ways people write them, the template imported as it is downloaded, and a sheet with
several bad rows naming every problem by row and column while nothing is saved."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from workflows.accountability import ROSTER_SHEET, import_roster, roster_template
from workflows.demo import SUBJECTS, make_citizen_id
from workflows.models import PostHolding, Subject
from workflows.sheet_columns import sheet_date
from workflows.sheet_reader import SheetError

DEPARTMENT = SUBJECTS[0][2]               # the World's first subject, a registered department
CHINESE = [c.title for c in ROSTER_SHEET]
ENGLISH = [c.english for c in ROSTER_SHEET]
A, B, C = (make_citizen_id(x) for x in ("61080219900101011", "61080219900202022", "61080219900303033"))


def as_csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(header, rows) -> bytes:
    book = Workbook()
    book.active.append(list(header))
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_import(world, filename, data):
    with world.uow("manager") as uow:
        result = import_roster(uow, filename, data)
        if not result.errors:
            uow.commit()
    return result


def holdings(world):
    with world.factory() as session:
        names = {s.id: s.name for s in session.scalars(select(Subject))}
        return [(names[h.person_id], h.post, h.title, h.start_date, h.end_date)
                for h in session.scalars(select(PostHolding).order_by(PostHolding.id))]


def test_chinese_headers_and_chinese_post_names(world):
    rows = [(DEPARTMENT, A, "甲某", "主要负责人", "局长", "", "", "2025-01-01", "2026-03-31"),
            (DEPARTMENT, B, "乙某", "分管负责人", "", "", "", "2025/6/1", "")]
    for name, data in (("名册.csv", as_csv(CHINESE, rows)), ("名册.xlsx", as_xlsx(CHINESE, rows))):
        result = run_import(world, name, data)
        assert (result.added, result.errors) == (2, []), [str(e) for e in result.errors]
    assert holdings(world)[:2] == [("甲某", "principal", "局长", date(2025, 1, 1), date(2026, 3, 31)),
                                   ("乙某", "official_in_charge", "分管负责人", date(2025, 6, 1), None)]


def test_english_headers_and_codes_are_accepted_too(world):
    rows = [(DEPARTMENT, A, "甲某", "Principal", "", "", "", "2025-01-01", ""),
            (DEPARTMENT, B, "乙某", "official_in_charge", "", "", "", "2025-01-01", "")]
    for header in (ENGLISH, [h.lower().replace(" ", "_") for h in ENGLISH], [c.field for c in ROSTER_SHEET]):
        with world.factory() as session:
            session.execute(PostHolding.__table__.delete())
            session.commit()
        result = run_import(world, "roster.csv", as_csv(header, rows))
        assert (result.added, result.errors) == (2, []), (header, [str(e) for e in result.errors])


def test_a_missing_column_is_named_in_the_language_of_the_page(world):
    header = [h for h in CHINESE if h not in ("任职开始日期", "姓名")]
    with pytest.raises(SheetError) as refused:
        run_import(world, "名册.csv", as_csv(header, [(DEPARTMENT, A, "主要负责人", "", "", "", "")]))
    assert str(refused.value) == "第一行缺少列：姓名、任职开始日期（列名见导入模板）"
    english = {"第一行缺少列：%(columns)s（列名见导入模板）": "The first row lacks the columns %(columns)s (see the "
               "import template for the column names)", "、": ", ", "姓名": "Name", "任职开始日期": "Start date"}
    assert refused.value.message.render(lambda m: english.get(m, m)) == (
        "The first row lacks the columns Name, Start date (see the import template for the column names)")


def test_every_bad_row_is_listed_with_its_column_and_nothing_is_saved(world):
    bad_id = A[:17] + ("0" if A[17] != "0" else "1")
    rows = [(DEPARTMENT, B, "乙某", "主要负责人", "", "", "", "2025-01-01", ""),            # row 2: good
            (DEPARTMENT, bad_id, "甲某", "局长", "", "", "", "2025-13-01", ""),             # row 3: three problems
            (DEPARTMENT, C, "", "项目负责人", "", "", "", "", ""),                          # row 4: three problems
            (DEPARTMENT, C, "丙某", "分管负责人", "", "", "", "2026-02-01", "2026-01-31"),   # row 5: end before start
            ("91610800MA0000000X", C, "丙某", "主要负责人", "", "", "", "2026年1月31日", "")]  # row 6: the code
    for name, data in (("名册.csv", as_csv(CHINESE, rows)), ("名册.xlsx", as_xlsx(CHINESE, rows))):
        result = run_import(world, name, data)
        assert result.added == 0
        assert [str(e) for e in result.errors] == [
            "第 3 行 · 公民身份号码：公民身份号码校验位错误",
            "第 3 行 · 职务类型：未知职务类型“局长”，应为 主要负责人、分管负责人、项目负责人",
            "第 3 行 · 任职开始日期：“2025-13-01”不是有效日期；日期格式 YYYY-MM-DD，如 2026-01-31",
            "第 4 行 · 姓名：必填，不能为空",
            "第 4 行 · 任职开始日期：必填，不能为空",
            "第 4 行 · 项目：项目负责人须填写项目",
            "第 5 行 · 任职结束日期：任职结束日期早于开始日期",
            "第 6 行 · 部门统一社会信用代码：组织机构代码校验位错误"]
    assert holdings(world) == []
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(Subject).where(Subject.code == B)) == 0


@pytest.mark.parametrize("written", ["2026-01-31", "2026/1/31", "2026/01/31", "2026年1月31日", "2026.1.31",
                                     "2026-01-31 00:00:00", datetime(2026, 1, 31), date(2026, 1, 31)])
def test_each_accepted_way_of_writing_a_date(written):
    assert sheet_date(written) == date(2026, 1, 31)


@pytest.mark.parametrize("written", ["31/01/2026", "2026-02-30", "20260131", "明年", "2026-1"])
def test_a_date_written_otherwise_is_refused_naming_the_format(written):
    with pytest.raises(ValueError, match="日期格式 YYYY-MM-DD"):
        sheet_date(written)


def test_dates_in_each_accepted_format_import(world):
    rows = [(DEPARTMENT, A, "甲某", "主要负责人", "", "", "", "2025-01-02", "2025/2/3"),
            (DEPARTMENT, B, "乙某", "分管负责人", "", "", "", "2025年3月4日", datetime(2025, 5, 6))]
    result = run_import(world, "名册.xlsx", as_xlsx(CHINESE, rows))
    assert result.errors == []
    assert [(s, e) for _n, _p, _t, s, e in holdings(world)] == [(date(2025, 1, 2), date(2025, 2, 3)),
                                                                (date(2025, 3, 4), date(2025, 5, 6))]


def test_the_template_has_chinese_headers_notes_and_imports_as_it_is(world):
    with world.factory() as session:
        xlsx, text = roster_template(session, "xlsx"), roster_template(session, "csv")
    book = load_workbook(io.BytesIO(xlsx))
    first, notes = book.worksheets
    assert [c.value for c in first[1]] == CHINESE
    example = [c.value for c in first[2]]
    assert example[0] == DEPARTMENT and isinstance(example[7], datetime)     # an Excel date cell
    assert first.cell(row=2, column=2).number_format == "@"                  # the ID stays text
    noted = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "日期格式 YYYY-MM-DD" in noted and "任职开始日期" in noted and "第 2 行是示例" in noted
    assert text.decode("utf-8-sig").splitlines()[0] == ",".join(CHINESE)
    for name, data in (("模板.xlsx", xlsx), ("模板.csv", text)):
        result = run_import(world, name, data)
        assert (result.added, result.errors) == (1, []), [str(e) for e in result.errors]
    assert holdings(world) == [("张三", "principal", "局长", date(2024, 1, 1), None)] * 2


def test_an_id_number_excel_stored_as_a_number_is_named_as_such(world):
    rows = [(DEPARTMENT, float(A[:17] + "0") if A[17] == "X" else float(A), "甲某", "主要负责人", "", "", "",
             "2025-01-01", "")]
    result = run_import(world, "名册.xlsx", as_xlsx(CHINESE, rows))
    assert [str(e) for e in result.errors] == [
        "第 2 行 · 公民身份号码：被 Excel 存成了数字，末几位已丢失：请把此列设为文本格式后重新填写"]
    with world.factory() as session:
        template = load_workbook(io.BytesIO(roster_template(session, "xlsx"))).worksheets[0]
    assert template.column_dimensions["B"].number_format == "@"              # rows added later stay text too
    assert template.column_dimensions["H"].number_format == "yyyy-mm-dd"


def test_a_sheet_bad_throughout_lists_a_thousand_problems_and_counts_the_rest(world):
    rows = [(DEPARTMENT, B, f"人{i}", "主要负责人", "", "", "", "31.01.2026", "") for i in range(1200)]
    result = run_import(world, "名册.csv", as_csv(CHINESE, rows))
    assert len(result.errors) == 1001 and str(result.errors[0]).startswith("第 2 行 · 任职开始日期：")
    assert str(result.errors[-1]) == "另有 200 处问题未列出；共 1200 行有问题"
