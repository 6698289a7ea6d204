"""Both spreadsheet imports as background jobs: the upload only stores the file and answers at once
with the job's page (a bar polling a JSON status); the worker reads, checks and saves it, all or
nothing; the page then shows what was added, or every bad row. Only the uploader sees a job. A
hostile sheet is never read by the web request and ends as a failed job with a clear reason. A job
whose worker died is taken again when its lease runs out, and is never saved twice."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from credflow_web import Page, location, password, users_xlsx
from workflows import import_jobs, sheet_reader
from workflows.accounts import create_user
from workflows.demo import SUBJECTS, make_citizen_id
from workflows.import_jobs import LEASE, MAX_ATTEMPTS, ImportJob, run_import_jobs
from workflows.models import PostHolding, Subject, User
from workflows.runtime import Actor
from workflows.worker import run_once

DEPARTMENT_CODE = SUBJECTS[0][2]
ROSTER_HEADER = ("department_code", "person_id_number", "person_name", "post", "title", "project",
                 "project_phase", "start_date", "end_date")
A, B, C = (make_citizen_id(x) for x in ("61080219900101011", "61080219900202022", "61080219900303033"))


@pytest.fixture
def staff(world):
    """Two personnel accounts and a second admin, besides the seeded users."""
    with world.uow() as uow:
        for username, display, roles in (("personnel", "钱人事", ["personnel"]), ("personnel2", "孙人事", ["personnel"]),
                                          ("admin2", "周系统", ["admin"])):
            user = create_user(uow, username, password(username), display, roles)
            world.actors[username], world.user_ids[username] = Actor.of(user), user.id
        uow.commit()


def roster_csv(*rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ROSTER_HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def holding(id_number, name, post="principal", start="2026-01-01"):
    return (DEPARTMENT_CODE, id_number, name, post, "", "", "", start, "")



def upload_roster(browser, data: bytes, name="名册.csv"):
    browser.get("/personnel/roster")
    return browser.post("/personnel/roster", [("sheet", (io.BytesIO(data), name))], content_type="multipart/form-data")


def upload_users(browser, data: bytes, name="users.xlsx"):
    browser.get("/system/users")
    return browser.post("/system/users/import", {"sheet": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def job_url(response) -> str:
    assert response.status_code == 303, response.status_code
    return location(response)


def status(browser, url: str) -> dict:
    response = browser.get(url + ".json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def work(world) -> int:
    return run_import_jobs(world.factory, world.clock)


def count(world, model, *where) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


# -- the flow --------------------------------------------------------------------------------------

def test_a_roster_upload_answers_at_once_and_the_worker_imports_it(web, world, staff):
    browser = web("personnel")
    url = job_url(upload_roster(browser, roster_csv(holding(A, "甲某"), holding(B, "乙某", "official_in_charge"))))
    assert re.fullmatch(r"/personnel/roster/imports/\d+", url)
    assert count(world, PostHolding) == 0                       # nothing read yet: only stored
    page = browser.page(url)
    assert page.status == 200 and page.one("import-job").get("data-status") == "queued"
    assert page.one("import-job").get("data-status-src") == url + ".json"
    assert page.text_of("import-status-text") == "排队等候处理…"
    scripts = page.xpath("//script")
    assert all(s.get("src") for s in scripts) and any("import_progress.js" in s.get("src") for s in scripts)
    assert status(browser, url) == {"id": int(url.rsplit("/", 1)[1]), "status": "queued", "total": 0, "done": 0,
                                    "saving": False, "finished": False}

    run_once(world.factory, world.clock)                        # the worker's pass runs the job
    assert status(browser, url) | {"id": 0} == {"id": 0, "status": "done", "total": 2, "done": 2, "saving": False,
                                                "finished": True}
    page = browser.page(url)
    assert page.one("import-job").get("data-status") == "done"
    assert page.one("import-bar").get("style") == "width: 100%"
    assert page.text_of("import-outcome") == "已导入 2 条任职记录。"
    assert count(world, PostHolding) == 2
    assert count(world, Subject, Subject.code.in_([A, B])) == 2
    with world.factory() as session:
        assert session.scalar(select(ImportJob.data)) == b""     # the file is not kept once imported


def test_a_roster_with_a_bad_row_adds_nothing_and_names_the_row(web, world, staff):
    browser = web("personnel")
    bad = B[:17] + ("0" if B[17] != "0" else "1")
    url = job_url(upload_roster(browser, roster_csv(holding(A, "甲某"), holding(bad, "乙某"), holding(C, "丙某", "局长"))))
    work(world)
    page = browser.page(url)
    assert page.one("import-job").get("data-status") == "failed"
    errors = page.text_of("roster-errors")
    assert "未导入任何记录" in errors and "第 3 行 · 公民身份号码：公民身份号码校验位错误" in errors
    assert "第 4 行 · 职务类型：未知职务类型“局长”" in errors
    assert count(world, PostHolding) == 0 and count(world, Subject, Subject.code == A) == 0


def test_a_users_import_shows_each_account_with_its_code_once(web, world, staff):
    admin = web("admin")
    url = job_url(upload_users(admin, users_xlsx(("new1", "新一", "承办人", "", ""), ("new2", "新二", "审核人、分管领导", "", ""))))
    assert re.fullmatch(r"/system/users/imports/\d+", url)
    assert count(world, User, User.username.in_(["new1", "new2"])) == 0
    work(world)
    page = admin.page(url)
    assert page.text_of("import-outcome") == "已导入 2 个账户"
    assert [r.get("data-user") for r in page.xpath('//tr[@data-user]')] == ["new1", "new2"]
    codes = [c.text_content() for c in page.xpath('//tr[@data-user]/td[3]')]
    assert all(re.fullmatch(r"[A-Z0-9-]{8,}", c) for c in codes), codes
    assert page.one("codes-csv").get("href").startswith("data:text/csv;")
    again = admin.page(url)                                     # the codes were shown once
    assert again.xpath('//*[@id="codes-csv"]') == [] and "激活码已显示过一次" in again.text_of("codes-shown")
    assert not any(c in again.text for c in codes)
    with world.factory() as session:
        assert not any(c in str(session.scalar(select(ImportJob.result))) for c in codes)


def test_a_users_import_with_bad_rows_names_every_row(web, world, staff):
    admin = web("admin")
    url = job_url(upload_users(admin, users_xlsx(("new1", "新一", "承办人", "", ""), ("reviewer", "重名", "审核人", "", ""),
                                                 ("new2", "新二", "领导", "", ""))))
    work(world)
    errors = admin.page(url).text_of("user-errors")
    assert "第 3 行 · 用户名：用户名 reviewer 已存在" in errors and "第 4 行 · 角色：未知角色：领导" in errors
    assert count(world, User, User.username == "new1") == 0


# -- hostile and bad files -------------------------------------------------------------------------

def attack_sheet() -> bytes:
    """4-5 KB declaring A1:XFD1048576 with a cell in that far corner."""
    book = Workbook()
    book.active.append(["用户名", "姓名", "角色"])
    raw = io.BytesIO()
    book.save(raw)
    source, out = zipfile.ZipFile(io.BytesIO(raw.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', body).replace(
                    b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                                     b"</sheetData>")
            target.writestr(info.filename, body)
    return out.getvalue()


def laughs(data: bytes) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    entities = "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    dtd = ('<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + entities + "]>").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, dtd + body if info.filename == "xl/worksheets/sheet1.xml" else body)
    return out.getvalue()


@pytest.mark.parametrize("data, message", [
    (attack_sheet(), "表格在第 2001 行之后仍有内容"),
    (laughs(users_xlsx(("a", "b", "承办人", "", ""))), "文件含有 XML 实体声明"),
    (b"\x00garbage that is no spreadsheet", "文件不是有效的 .xlsx"),
], ids=["huge-dimension", "billion-laughs", "garbage"])
def test_a_hostile_sheet_is_stored_unread_and_fails_with_a_clear_reason(web, world, staff, monkeypatch, data, message):
    admin = web("admin")
    calls = []
    original = sheet_reader.read_sheet
    monkeypatch.setattr(sheet_reader, "read_sheet", lambda *a, **k: calls.append(1) or original(*a, **k))
    import workflows.user_sheet
    monkeypatch.setattr(workflows.user_sheet, "read_bounded_sheet", sheet_reader.read_sheet)
    url = job_url(upload_users(admin, data))
    assert calls == []                                          # the web request did not open the file
    assert work(world) == 1 and calls == [1]
    page = admin.page(url)
    assert page.status == 200 and page.one("import-job").get("data-status") == "failed"
    assert message in page.text_of("user-errors")


def test_a_file_over_the_size_bound_is_refused_by_the_upload_itself(web, world, staff):
    response = upload_roster(web("personnel"), b"x" * (sheet_reader.MAX_BYTES + 1))
    assert response.status_code == 422 and "文件超过 1024 KB" in Page(response).text_of("roster-errors")
    assert count(world, ImportJob) == 0


# -- who sees a job --------------------------------------------------------------------------------

def test_only_the_uploader_sees_a_job(web, world, staff):
    roster_url = job_url(upload_roster(web("personnel"), roster_csv(holding(A, "甲某"))))
    users_url = job_url(upload_users(web("admin"), users_xlsx(("new1", "新一", "承办人", "", ""))))
    for url in (roster_url, roster_url + ".json"):
        assert web("personnel2").get(url).status_code == 404   # another personnel clerk
        assert web("admin").get(url).status_code == 403        # not personnel at all
    for url in (users_url, users_url + ".json"):
        assert web("admin2").get(url).status_code == 404       # another admin: the codes are not theirs
        assert web("personnel").get(url).status_code == 403
    assert web().get(users_url).status_code == 302              # anonymous: to the login
    assert web("admin").get(users_url.replace("/users/imports/", "/users/imports/9")).status_code == 404


def test_an_uploader_who_lost_the_role_meanwhile_gets_nothing_imported(web, world, staff):
    url = job_url(upload_users(web("admin2"), users_xlsx(("new1", "新一", "承办人", "", ""))))
    with world.factory() as session:
        session.execute(update(User).where(User.username == "admin2").values(active=False))
        session.commit()
    work(world)
    with world.factory() as session:
        job = session.scalars(select(ImportJob)).one()
    assert (job.status, [str(m) for m in job.messages]) == ("failed", ["上传者已无权进行此导入"])
    assert count(world, User, User.username == "new1") == 0
    assert url.endswith(f"/{job.id}")


# -- the worker's lease ----------------------------------------------------------------------------

def test_a_job_whose_worker_died_is_taken_again_after_its_lease(web, world, staff):
    job_url(upload_roster(web("personnel"), roster_csv(holding(A, "甲某"), holding(B, "乙某"))))
    claimed = import_jobs._claim(world.factory, world.clock, None)      # a worker took it, then died
    assert claimed is not None
    assert work(world) == 0                                     # still leased: nobody else takes it
    world.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert work(world) == 1
    assert count(world, PostHolding) == 2
    with world.factory() as session:
        job = session.scalars(select(ImportJob)).one()
    assert (job.status, job.attempts) == ("done", 2)


def test_a_worker_that_lost_its_lease_saves_nothing(web, world, staff):
    job_url(upload_roster(web("personnel"), roster_csv(holding(A, "甲某"), holding(B, "乙某"))))
    slow = import_jobs._claim(world.factory, world.clock, None)
    world.clock.advance(seconds=LEASE.total_seconds() + 1)
    fresh = import_jobs._claim(world.factory, world.clock, None)
    assert slow[0] == fresh[0] and fresh[1] == slow[1] + 1
    import_jobs.run_job(world.factory, *slow, world.clock)      # the slow worker wakes up: fenced out
    assert count(world, PostHolding) == 0
    import_jobs.run_job(world.factory, *fresh, world.clock)
    assert count(world, PostHolding) == 2                       # saved once


def test_a_job_that_keeps_dying_is_given_up_with_a_reason(web, world, staff):
    job_url(upload_roster(web("personnel"), roster_csv(holding(A, "甲某"))))
    for _ in range(MAX_ATTEMPTS):
        assert import_jobs._claim(world.factory, world.clock, None) is not None
        world.clock.advance(seconds=LEASE.total_seconds() + 1)
    assert work(world) == 0
    with world.factory() as session:
        job = session.scalars(select(ImportJob)).one()
    assert job.status == "failed" and f"导入已中断 {MAX_ATTEMPTS} 次" in str(job.messages[0])
    assert count(world, PostHolding) == 0


def test_two_workers_never_take_the_same_job(web, world, staff, database_url):
    """On PostgreSQL a job row another worker is claiming is skipped (SKIP LOCKED), not waited for."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers queue at BEGIN IMMEDIATE: there is no row lock to skip")
    browser = web("personnel")
    first = job_url(upload_roster(browser, roster_csv(holding(A, "甲某"))))
    second = job_url(upload_roster(browser, roster_csv(holding(B, "乙某"))))
    with world.factory() as session:                            # a worker in the middle of its claim
        session.scalars(select(ImportJob).where(ImportJob.id == int(first.rsplit("/", 1)[1]))
                        .with_for_update()).one()
        claimed = import_jobs._claim(world.factory, world.clock, None)
        assert claimed[0] == int(second.rsplit("/", 1)[1])
        assert import_jobs._claim(world.factory, world.clock, None) is None
        session.rollback()
