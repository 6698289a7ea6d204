"""The bulk import pages of records: a clerk downloads the template, fills it in, uploads it and
follows the job's page to its outcome (the records imported, or every problem by row and column,
in the page's language); a second upload of the same file is refused on the page; only clerks
import, and a job's page is its uploader's alone."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from credflow_web import Page, location, password
from workflows.accounts import create_user
from workflows.demo import SUBJECTS
from workflows.import_jobs import run_import_jobs
from workflows.models import HumanTask, Record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def clerk2(world):
    with world.uow() as uow:
        create_user(uow, "clerk2", password("clerk2"), "吴承办", ["clerk"])
        uow.commit()


def template(browser, english=False) -> tuple[list, list, list]:
    response = browser.get("/records/import/template.xlsx?lang=" + ("en" if english else "zh_CN"))
    assert (response.status_code, response.mimetype) == (200, XLSX)
    book = load_workbook(io.BytesIO(response.data))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    notes = [r[0] for r in book.worksheets[1].iter_rows(values_only=True) if r and r[0]]
    return rows[0], rows[1:], notes


def filled(header, rows) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(header)
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(browser, data: bytes, name="records.xlsx"):
    browser.get("/records/import")
    return browser.post("/records/import", [("sheet", (io.BytesIO(data), name))], content_type="multipart/form-data")


def record_count(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(Record))


def test_template_round_trip_in_both_languages(world, web):
    clerk = web("clerk")
    records_page = Page(clerk.get("/records"))
    assert records_page.one("record-import-link").get("href") == "/records/import"
    header, examples, notes = template(clerk)
    assert header[:3] == ["信用主体代码", "信用主体名称", "主体类型"] and len(header) == 12
    assert examples[0][:2] == [SUBJECTS[0][2], SUBJECTS[0][1]]           # a department registered here
    assert any("同一文件只能导入一次" in n for n in notes)
    more = [SUBJECTS[3][2], SUBJECTS[3][1], None, "问责处理", "其他", "严重", "未按期整改。", "《公务员法》第五十九条",
            date(2026, 4, 30), None, None, None]
    response = upload(clerk, filled(header, [*examples, more]))
    assert response.status_code == 303
    job_url = location(response)
    queued = Page(clerk.get(job_url))
    assert queued.one("import-job").get("data-status") == "queued" and record_count(world) == 0
    run_import_jobs(world.factory, world.clock)
    done = Page(clerk.get(job_url))
    assert "已导入 3 条失信记录，新登记 1 个信用主体" in done.text_of("import-outcome")
    assert clerk.get(job_url + ".json").get_json()["finished"] is True
    with world.factory() as session:
        reviews = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == "legality_review"))
        case_id = session.scalar(select(HumanTask.case_id).order_by(HumanTask.id).limit(1))
    assert (record_count(world), reviews) == (3, 3)
    timeline = Page(clerk.get(f"/cases/{case_id}")).text_of("timeline")
    assert "从表格批量导入" in timeline and "record.imported" not in timeline

    header, examples, _ = template(clerk, english=True)               # English headers and option names
    assert header[:3] == ["Subject code", "Subject name", "Kind of subject"] and examples[0][3] == "Administrative penalty"
    response = upload(clerk, filled(header, examples), "records-en.xlsx")
    run_import_jobs(world.factory, world.clock)
    assert Page(clerk.get(location(response))).text_of("import-outcome") == (   # the page now in English
        "Imported 2 records and registered 0 new subjects; each record is now in legality review. "
        "Record numbers R-000004 to R-000005.")


def test_a_failed_import_lists_every_problem_in_the_page_language(world, web):
    clerk = web("clerk")
    header, examples, _ = template(clerk)
    examples[0][5], examples[1][8] = "很严重", "昨天"
    job_url = location(upload(clerk, filled(header, examples)))
    run_import_jobs(world.factory, world.clock)
    page = Page(clerk.get(job_url))
    assert [li.text_content() for li in page.xpath('//*[@id="record-errors"]//li')] == [
        "第 2 行 · 失信程度：“很严重”不是可选值；可选：轻微、一般、严重",
        "第 3 行 · 认定日期：“昨天”不是有效日期；日期格式 YYYY-MM-DD，如 2026-01-31"]
    english = Page(clerk.get(job_url + "?lang=en"))
    items = [li.text_content() for li in english.xpath('//*[@id="record-errors"]//li')]
    assert items[0] == 'Row 2 · Severity: "很严重" is not one of the options: Minor, Moderate, Serious', items
    assert items[1] == ('Row 3 · Determination date: "昨天" is not a valid date; '
                        "the date format is YYYY-MM-DD, e.g. 2026-01-31")
    assert record_count(world) == 0


def test_the_same_file_uploaded_twice_is_refused_on_the_page(world, web):
    clerk = web("clerk")
    header, examples, _ = template(clerk)
    data = filled(header, examples)
    assert upload(clerk, data).status_code == 303
    again = upload(clerk, data)
    assert again.status_code == 422
    assert "该文件正在导入（导入任务 1，张承办），请勿重复上传" in Page(again).text_of("record-import-errors")
    run_import_jobs(world.factory, world.clock)
    again = upload(clerk, data)
    assert again.status_code == 422 and "不再重复导入" in Page(again).text_of("record-import-errors")
    assert record_count(world) == 2
    empty = clerk.post("/records/import", {})
    assert empty.status_code == 422 and "请选择要导入的 .xlsx 文件" in Page(empty).text_of("record-import-errors")


def test_only_clerks_import_and_a_job_is_its_uploaders(world, web, clerk2):
    clerk = web("clerk")
    header, examples, _ = template(clerk)
    job_url = location(upload(clerk, filled(header, examples)))
    for user in ("reviewer", "leader", "manager"):
        browser = web(user)
        for url in ("/records/import", "/records/import/template.xlsx", job_url, job_url + ".json"):
            assert browser.get(url).status_code == 403, (user, url)
        browser.get("/records")
        assert browser.post("/records/import", [("sheet", (io.BytesIO(b"x"), "x.xlsx"))],
                            content_type="multipart/form-data").status_code == 403
        assert Page(browser.get("/records")).xpath('//*[@id="record-import-link"]') == []
    other = web("clerk2")
    assert other.get(job_url).status_code == 404 and other.get(job_url + ".json").status_code == 404
    assert "/login" in location(web().get("/records/import"))
