"""The roster import page as a personnel officer meets it: the column names and the date format on
the page, a template to download (.xlsx and .csv) that imports as it is, and a sheet with bad rows
listing each problem by row and column, in Chinese or, with ?lang=en, in English."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from credflow_web import Page
from test_import_jobs import A, B, DEPARTMENT_CODE, count, job_url, staff, upload_roster, work  # noqa: F401
from workflows.models import PostHolding

CHINESE = ["部门统一社会信用代码", "公民身份号码", "姓名", "职务类型", "职务名称", "项目", "项目阶段", "任职开始日期",
           "任职结束日期"]


def test_the_page_names_the_columns_and_the_date_format(web, world, staff):
    page = web("personnel").page("/personnel/roster")
    assert "任职开始日期*" in page.text_of("roster-columns") and "department_code" not in page.text_of("roster-columns")
    assert "日期格式 YYYY-MM-DD" in page.text_of("roster-date-format")
    english = web("personnel").page("/personnel/roster?lang=en")
    assert "Start date*" in english.text_of("roster-columns")
    assert "Date format YYYY-MM-DD" in english.text_of("roster-date-format")


def test_the_downloaded_templates_import_as_they_are(web, world, staff):
    personnel = web("personnel")
    page = personnel.page("/personnel/roster")
    for link in ("roster-template-xlsx", "roster-template-csv"):
        url = page.one(link).get("href")
        response = personnel.get(url)
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        data = response.get_data()
        if url.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(data))
            assert [c.value for c in book.worksheets[0][1]] == CHINESE
            assert book.worksheets[0]["A2"].value == DEPARTMENT_CODE        # a department registered here
            assert any("日期格式 YYYY-MM-DD" in str(c.value) for row in book.worksheets[1].iter_rows() for c in row)
        else:
            assert data.decode("utf-8-sig").splitlines()[0] == ",".join(CHINESE)
        url = job_url(upload_roster(personnel, data, "模板." + url.rsplit(".", 1)[1]))
        work(world)
        assert "已导入 1 条任职记录" in personnel.page(url).text_of("import-outcome")
    assert count(world, PostHolding) == 2
    english = personnel.get("/personnel/roster/template.xlsx?lang=en").get_data()
    assert [c.value for c in load_workbook(io.BytesIO(english)).worksheets[0][1]][:3] == [
        "Department's unified social credit code", "Citizen ID number", "Name"]


def test_bad_rows_are_each_listed_in_the_language_of_the_page(web, world, staff):
    personnel = web("personnel")
    sheet = ("\ufeff" + ",".join(CHINESE) + "\n"
             f"{DEPARTMENT_CODE},{A},甲某,主要负责人,,,,2026/1/31,\n"
             f"{DEPARTMENT_CODE},{B},乙某,局长,,,,31.01.2026,\n"
             f"{DEPARTMENT_CODE},{B},,分管负责人,,,,2026年1月31日,2026-01-01\n").encode()
    url = job_url(upload_roster(personnel, sheet))
    work(world)
    chinese = Page(personnel.get(url))
    items = [" ".join(li.text_content().split()) for li in chinese.xpath('//*[@id="roster-errors"]//li')]
    assert items == ["第 3 行 · 职务类型：未知职务类型“局长”，应为 主要负责人、分管负责人、项目负责人",
                     "第 3 行 · 任职开始日期：“31.01.2026”不是有效日期；日期格式 YYYY-MM-DD，如 2026-01-31",
                     "第 4 行 · 姓名：必填，不能为空", "第 4 行 · 任职结束日期：任职结束日期早于开始日期"]
    english = Page(personnel.get(url + "?lang=en"))
    items = [" ".join(li.text_content().split()) for li in english.xpath('//*[@id="roster-errors"]//li')]
    assert items == ['Row 3 · Post: Unknown post "局长": use Principal, Official in charge, Project lead',
                     'Row 3 · Start date: "31.01.2026" is not a valid date; the date format is YYYY-MM-DD, '
                     "e.g. 2026-01-31", "Row 4 · Name: Required: may not be empty",
                     "Row 4 · End date: The end date is before the start date"]
    assert count(world, PostHolding) == 0
