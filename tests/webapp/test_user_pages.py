"""The accounts pages: the admin adds a user and sees a one-time code once; the user activates with it
(a second use is refused on the page); an account with an initial password must choose its own
before anything else; the sheet import (a background job) names every bad row and a malformed file is a clear error."""
from __future__ import annotations

import io


from credflow_web import Page, location, users_xlsx
from workflows.import_jobs import run_import_jobs
from workflows.users import add_staff

GOOD = "Yulin-camel-2026"


def activate(browser, username, code, pw=GOOD):
    browser.get("/account/activate")
    return browser.post("/account/activate", {"username": username, "code": code, "new_password": pw,
                                              "new_password2": pw})


def test_the_admin_adds_a_user_who_activates_once_and_logs_in(web, world):
    admin = web("admin")
    admin.get("/system/users")
    page = Page(admin.post("/system/users/add", [("username", "zhou"), ("display_name", "周新"),
                                                  ("roles", "clerk"), ("roles", "reviewer"), ("email", "")]))
    assert page.status == 200
    code = page.text_of("activation-code")
    assert page.text_of("code-username") == "zhou"
    listing = Page(admin.get("/system/users?q=zhou"))
    assert "待激活" in listing.xpath('//tr[@data-user="zhou"]')[0].text_content()
    assert code not in listing.text                         # shown once, never again

    person = web()
    response = activate(person, "zhou", code)
    assert response.status_code == 302 and location(response) == "/login"
    assert person.login("zhou", GOOD).status_code == 302
    assert person.get("/inbox").status_code == 200

    again = Page(activate(web(), "zhou", code, "Another-pass-77"))
    assert again.status == 422 and "激活码已使用过" in again.text_of("activate-error")
    assert web().login("zhou", "Another-pass-77").status_code == 401


def test_a_wrong_code_on_the_page_names_the_problem_and_keeps_the_user_name(web):
    page = Page(activate(web(), "reviewer", "ABCD-EFGH-JKLM"))
    assert page.status == 422
    assert "激活码无效或不属于该用户" in page.text_of("activate-error")
    assert page.value_of("username") == "reviewer"


def test_an_account_with_an_initial_password_must_choose_its_own_first(web, world):
    world.run("admin", add_staff, "gao", "高明", ["clerk"], password="Initial-pass-2026")
    b = web()
    assert b.login("gao", "Initial-pass-2026").status_code == 302
    response = b.get("/inbox")
    assert response.status_code == 302 and location(response) == "/account/password/new"
    b.get("/account/password/new")
    page = Page(b.post("/account/password/new", {"new_password": "Initial-pass-2026",
                                                 "new_password2": "Initial-pass-2026"}))
    assert page.status == 422 and "新密码不能与当前密码相同" in page.text_of("password-error")
    page = Page(b.post("/account/password/new", {"new_password": "qwertyuiop", "new_password2": "qwertyuiop"}))
    assert page.status == 422 and "常见密码" in page.text_of("password-error")
    assert b.post("/account/password/new", {"new_password": GOOD, "new_password2": GOOD}).status_code == 302
    assert b.get("/inbox").status_code == 200           # the same browser carries on


def test_the_admin_resets_a_password_and_the_old_one_stops(web, world):
    admin = web("admin")
    admin.get(f"/system/users/{world.user_ids['clerk']}")
    page = Page(admin.post(f"/system/users/{world.user_ids['clerk']}/reset"))
    code = page.text_of("activation-code")
    assert web().login("clerk").status_code == 401
    assert activate(web(), "clerk", code).status_code == 302
    assert web().login("clerk", GOOD).status_code == 302


def test_the_admins_own_page_has_no_deactivate_button_and_the_service_refuses(web, world):
    admin = web("admin")
    page = Page(admin.get(f"/system/users/{world.user_ids['admin']}"))
    assert not page.xpath('//*[@id="deactivate"]')
    admin.post(f"/system/users/{world.user_ids['admin']}/deactivate")
    page = Page(admin.get(f"/system/users/{world.user_ids['admin']}"))
    assert "不能停用自己的账户" in " ".join(page.alerts)
    assert page.text_of("user-status") == "正常"



def upload(browser, data: bytes, name="users.xlsx"):
    browser.get("/system/users")
    return browser.post("/system/users/import", {"sheet": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def imported(browser, world, response) -> Page:
    """The upload answered with its job's page; the worker ran the job; that page again."""
    assert response.status_code == 303
    run_import_jobs(world.factory, world.clock)
    return Page(browser.get(location(response)))


def test_an_import_with_a_bad_row_adds_nobody_and_names_the_rows(web, world):
    admin = web("admin")
    page = imported(admin, world, upload(admin, users_xlsx(("new1", "新一", "承办人", "", ""), ("reviewer", "重名", "审核人", "", ""),
                                                       ("new2", "新二", "领导", "", ""))))
    assert page.status == 200
    errors = page.text_of("user-errors")
    assert "第 3 行 · 用户名：用户名 reviewer 已存在" in errors
    assert "第 4 行 · 角色：未知角色：领导" in errors
    assert not Page(admin.get("/system/users?q=new1")).xpath('//tr[@data-user="new1"]')


def test_an_import_lists_each_new_account_with_its_code_and_a_csv(web, world):
    admin = web("admin")
    page = imported(admin, world, upload(admin, users_xlsx(("new1", "新一", "承办人", "", ""),
                                                       ("new2", "新二", "分管领导、审核人", "", ""))))
    assert page.status == 200
    assert [r.get("data-user") for r in page.xpath('//tr[@data-user]')] == ["new1", "new2"]
    assert page.one("codes-csv").get("href").startswith("data:text/csv;")


def test_a_malformed_upload_is_a_clear_error_not_a_500(web, world):
    admin = web("admin")
    page = imported(admin, world, upload(admin, b"\x00garbage that is no spreadsheet"))
    assert page.status == 200 and "文件不是有效的 .xlsx" in page.text_of("user-errors")


def test_the_template_downloads_as_xlsx(web):
    response = web("admin").get("/system/users/template.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"


def test_the_account_page_in_english(web):
    page = Page(web("reviewer").get("/account/?lang=en"))
    assert page.status == 200 and page.html_lang == "en"
    assert "Change password" in page.text and "Log out everywhere" in page.text
