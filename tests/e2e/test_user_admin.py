"""Accounts in a real browser: the admin adds a clerk and sees the one-time code once; the new
clerk activates the account with it, chooses a password and logs in; the admin deactivates the
account and the clerk's open page is logged out at its next click. Screenshots of the users page
at 1366x768 and on a 390 px phone."""
from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from workflows.users import add_staff

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
PASSWORD = "Yuyang-dunes-2026"
PHONE = {"width": 390, "height": 844}


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_admin_adds_a_user_who_activates_and_is_logged_out_at_deactivation(
        page: Page, browser: Browser, browser_context_args, live_server, screenshots):
    with live_server.uow("admin") as uow:      # a few colleagues so the list looks like an office's
        for username, name, roles in (("chen.jing", "陈静", ["reviewer"]), ("liu.yang", "刘洋", ["leader", "reviewer"]),
                                      ("ma.li", "马丽", ["personnel"])):
            add_staff(uow, username, name, roles, f"{username}@yl.gov.cn", "0912-3851234")
        uow.commit()

    login(page, "admin", live_server.users["admin"][0])
    expect(page).to_have_url(re.compile(r"/system/users$"))
    page.fill("#add-username", "he.xin")
    page.fill("#add-name", "何欣")
    page.check("#add-role-clerk")
    page.fill("#add-email", "he.xin@yl.gov.cn")
    page.fill("#add-phone", "0912-3851288")
    page.click("#add-submit")
    code = page.locator("#activation-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)

    page.goto("/system/users")
    expect(page.locator('tr[data-user="he.xin"]')).to_contain_text("待激活")
    page.screenshot(path=str(screenshots / "users-admin.png"), full_page=True)

    clerk = browser.new_context(**browser_context_args).new_page()
    clerk.goto("/account/activate")
    clerk.fill("#username", "he.xin")
    clerk.fill("#code", code.lower())
    clerk.fill("#new_password", PASSWORD)
    clerk.fill("#new_password2", PASSWORD)
    clerk.click("#activate-submit")
    expect(clerk.locator(".alert-success")).to_contain_text("账户已激活")
    login(clerk, "he.xin", PASSWORD)
    expect(clerk).to_have_url(re.compile(r"/inbox$"))
    expect(clerk.locator("#user-menu")).to_contain_text("何欣")

    page.locator('tr[data-user="he.xin"] a').click()
    page.on("dialog", lambda d: d.accept())
    page.click("#deactivate")
    expect(page.locator("#user-status")).to_have_text("已停用")

    clerk.reload()
    expect(clerk).to_have_url(re.compile(r"/login\?next="))
    login(clerk, "he.xin", PASSWORD)
    expect(clerk.locator("#login-error")).to_have_text("用户名或密码错误。")

    phone = browser.new_context(**{**browser_context_args, "viewport": PHONE}).new_page()
    login(phone, "admin", live_server.users["admin"][0])
    expect(phone).to_have_url(re.compile(r"/system/users$"))
    phone.screenshot(path=str(screenshots / "users-admin-phone.png"), full_page=True)
