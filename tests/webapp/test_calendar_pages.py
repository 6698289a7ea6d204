"""The system administrator's working-day calendar: the year as month grids with each day's
source, days entered one by one, a year imported after a preview, a year marked covered; the
banner of November; and what a user sees when a deadline falls in an uncovered year."""
from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import func, select

from credflow_web import Page
from workflows.clock import CST
from workflows.models import AuditEvent, CalendarYear, HumanTask, WorkdayOverride

# fictional test data in the shape of a State Council notice: NOT the official 2027 arrangement
CSV_2027 = ("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-05,holiday,春节\n2027-02-08,holiday,春节\n"
            "2027-02-06,workday,春节调休上班\n")


def upload(b, year: int, text: str | bytes, name: str = "2027.csv", cover: bool = True):
    data = {"year": str(year), "file": (io.BytesIO(text.encode() if isinstance(text, str) else text), name)}
    if cover:
        data["cover"] = "1"
    return Page(b.post("/system/calendar/import", data, content_type="multipart/form-data"))


def day_cell(page: Page, day: str):
    return page.xpath(f'//td[@data-day="{day}"]')[0]


def test_a_statutory_year_shows_each_day_with_its_source(web):
    page = web("admin").page("/system/calendar?year=2026")
    assert page.status == 200
    assert len(page.xpath('//table[contains(@class, "cal-month")]')) == 12
    national_day = day_cell(page, "2026-10-01")
    assert national_day.get("data-workday") == "0" and national_day.get("data-source") == "statutory"
    assert "国庆节" in national_day.get("title")
    makeup = day_cell(page, "2026-10-10")             # a Saturday worked for the National Day week
    assert makeup.get("data-workday") == "1" and "cal-makeup" in makeup.get("class")
    assert "法定节假日数据覆盖" in page.text_of("coverage")


def test_an_uncovered_year_says_so_and_marks_no_day(web):
    page = web("admin").page("/system/calendar?year=2027")
    assert "2027 年未覆盖" in page.text_of("coverage")
    assert {c.get("data-workday") for c in page.xpath("//td[@data-day]")} == {"unknown"}


def test_importing_a_year_previews_then_saves_and_the_grid_changes(web, world):
    b = web("admin")
    b.get("/system/calendar?year=2027")
    preview = upload(b, 2027, CSV_2027)
    assert preview.status == 200
    assert len(preview.xpath('//table[@id="preview-days"]//tr[@data-kind="new"]')) == 4
    with world.factory() as session:       # nothing saved by the preview
        assert session.scalar(select(func.count()).select_from(WorkdayOverride)) == 0
    form = {i.get("name"): i.get("value") for i in preview.xpath('//form[@id="confirm-form"]//input')}
    done = b.post("/system/calendar/apply", form, follow_redirects=True)
    page = Page(done)
    assert page.status == 200
    assert day_cell(page, "2027-02-05").get("data-workday") == "0"
    assert day_cell(page, "2027-02-06").get("data-workday") == "1"      # a Saturday worked
    assert day_cell(page, "2027-03-01").get("data-source") == "weekday_rule"
    assert "已标记为覆盖" in page.text_of("coverage") and "admin" in page.text_of("coverage")
    with world.factory() as session:
        row = session.get(WorkdayOverride, datetime(2027, 2, 5).date())
        assert (row.is_workday, row.note, row.entered_by) == (False, "春节", "admin")
        assert session.get(CalendarYear, 2027).covered_by == "admin"
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "calendar.changed")) == 1


def test_a_bad_file_names_every_row_and_saves_nothing(web, world):
    b = web("admin")
    b.get("/system/calendar?year=2027")
    page = upload(b, 2027, "2027-01-01,holiday,元旦\n2027-01-01,holiday,again\n2028-01-01,holiday,x\n"
                           "2027-05-01,vacation,劳动节\n")
    assert page.status == 422
    problems = page.text_of("calendar-problems")
    assert "第 2 行" in problems and "重复" in problems
    assert "第 3 行" in problems and "不在 2027 年内" in problems
    assert "第 4 行" in problems and "vacation" in problems
    page = upload(b, 2027, "2027-01-01,holiday,\xd4\xaa\xb5\xa9\n".encode("latin-1"))
    assert page.status == 422 and "UTF-8" in page.text_of("calendar-problems")
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(WorkdayOverride)) == 0
        assert session.get(CalendarYear, 2027) is None


def test_confirming_a_tampered_preview_is_checked_again(web, world):
    b = web("admin")
    b.get("/system/calendar?year=2027")
    page = Page(b.post("/system/calendar/apply", {"year": "2027", "entries": "2026-10-01,workday,x\n"}))
    assert page.status == 422 and "不在 2027 年内" in page.text_of("calendar-problems")
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(WorkdayOverride)) == 0


def test_a_day_that_moves_open_deadlines_lists_them_before_saving(web, world, clock):
    """The legality review captured 2026-06-01 is due 5 working days later (2026-06-08); making
    2026-06-03 a holiday moves it to 2026-06-09, shown first, saved on confirmation."""
    _, case_id = world.open_record()
    task = world.task(case_id, "legality_review")
    assert task.due_at.astimezone(CST).date().isoformat() == "2026-06-08"
    b = web("admin")
    b.get("/system/calendar?year=2026")
    preview = Page(b.post("/system/calendar/day", {"year": "2026", "day": "2026-06-03", "kind": "holiday",
                                                   "name": "临时调整"}))
    rows = preview.xpath('//table[@id="preview-tasks"]//tr[@data-task]')
    assert [r.get("data-task") for r in rows] == [str(task.id)]
    assert "2026-06-09" in rows[0].text_content()
    with world.factory() as session:
        assert session.get(HumanTask, task.id).due_at == task.due_at      # not yet
    form = {i.get("name"): i.get("value") for i in preview.xpath('//form[@id="confirm-form"]//input')}
    b.post("/system/calendar/apply", form)
    with world.factory() as session:
        assert session.get(HumanTask, task.id).due_at.astimezone(CST).date().isoformat() == "2026-06-09"
        moved = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.deadline_moved")).one()
        assert moved.case_id == case_id and moved.actor == "admin"


def test_marking_a_year_covered_needs_its_holidays_first(web, world):
    b = web("admin")
    b.get("/system/calendar?year=2027")
    page = Page(b.post("/system/calendar/coverage", {"year": "2027", "action": "cover"}))
    assert page.status == 409 and "尚未录入任何节假日" in page.text_of("calendar-problems")
    with world.factory() as session:
        assert session.get(CalendarYear, 2027) is None


def test_only_the_admin_reaches_the_calendar(web):
    for user in ("clerk", "reviewer", "leader", "manager"):
        assert web(user).get("/system/calendar?year=2027").status_code == 403, user


def test_the_november_banner_shows_admins_and_leaders_the_uncovered_next_year(web, clock):
    clock.at = datetime(2026, 11, 2, 9, 0, tzinfo=CST)
    admin = web("admin").page("/system/calendar?year=2026")
    assert "2027" in admin.text_of("calendar-banner")
    assert admin.xpath('//div[@id="calendar-banner"]//a/@href') == ["/system/calendar?year=2027"]
    leader = web("leader").page("/tasks")
    assert "2027" in leader.text_of("calendar-banner") and not leader.xpath('//div[@id="calendar-banner"]//a')
    assert not web("clerk").page("/tasks").xpath('//*[@id="calendar-banner"]')
    clock.at = datetime(2026, 10, 30, 9, 0, tzinfo=CST)
    assert not web("admin").page("/system/calendar").xpath('//*[@id="calendar-banner"]')


def test_the_banner_goes_once_the_year_is_imported_and_covered(web, clock):
    clock.at = datetime(2026, 12, 1, 9, 0, tzinfo=CST)
    b = web("admin")
    b.get("/system/calendar?year=2027")
    preview = upload(b, 2027, CSV_2027)
    form = {i.get("name"): i.get("value") for i in preview.xpath('//form[@id="confirm-form"]//input')}
    page = Page(b.post("/system/calendar/apply", form, follow_redirects=True))
    assert not page.xpath('//*[@id="calendar-banner"]')


def test_the_calendar_page_in_english(web):
    b = web("admin")
    page = b.page("/system/calendar?year=2027&lang=en")
    assert "2027 is not covered" in page.text_of("coverage")
    page = upload(b, 2027, "2027-01-01,vacation,x\n")
    assert "line 1: kind 'vacation' is unknown" in page.text_of("calendar-problems")
