"""Logging in and out: redirects for anonymous users, wrong passwords, throttling, safe `next`."""
from __future__ import annotations

import pytest

from credflow_web import Page, location, next_param

PROTECTED = ["/inbox", "/records", "/records/new", "/cases/{case}", "/tasks/{task}"]


@pytest.mark.parametrize("template", PROTECTED)
def test_anonymous_user_is_sent_to_login_with_next(web, world, template):
    _, case_id = world.open_record()
    task = world.task(case_id, "legality_review")
    url = template.format(case=case_id, task=task.id)
    response = web().get(url)
    assert response.status_code == 302
    assert location(response).startswith("/login?")
    assert next_param(response) == url


def test_login_page_renders_form(web):
    page = Page(web().get("/login"))
    assert page.status == 200
    assert page.xpath('//input[@name="username"]') and page.xpath('//input[@name="password"]')
    assert page.xpath('//input[@name="csrf_token"]/@value')[0]


def test_wrong_password_shows_error_and_401(web):
    b = web()
    response = b.login("reviewer", "not-the-password")
    page = Page(response)
    assert page.status == 401
    assert page.text_of("login-error") == "用户名或密码错误。"
    # the typed user name is kept, the password is not
    assert page.value_of("username") == "reviewer"
    assert page.value_of("password") in ("", None)
    # still anonymous
    assert b.get("/inbox").status_code == 302


def test_unknown_user_gets_the_same_error(web):
    page = Page(web().login("nobody", "whatever"))
    assert page.status == 401
    assert page.text_of("login-error") == "用户名或密码错误。"


def test_sixth_attempt_after_five_failures_is_throttled_even_with_right_password(web, world):
    b = web()
    for _ in range(5):
        assert b.login("reviewer", "wrong").status_code == 401
    page = Page(b.login("reviewer"))  # the right password
    assert page.status == 429
    assert page.text_of("login-error") == "登录失败次数过多，请 15 分钟后再试。"
    assert b.get("/inbox").status_code == 302  # not logged in


def test_throttling_ends_after_the_window(web, world, clock):
    b = web()
    for _ in range(5):
        b.login("reviewer", "wrong")
    assert b.login("reviewer").status_code == 429
    clock.advance(minutes=16)
    response = b.login("reviewer")
    assert response.status_code == 302
    assert location(response) == "/inbox"


def test_throttling_counts_the_account_across_addresses(web):
    for n in range(5):
        assert web(ip=f"10.0.0.{n + 1}").login("reviewer", "wrong").status_code == 401
    assert web(ip="10.0.0.99").login("reviewer").status_code == 429


def test_correct_login_lands_on_the_inbox(web):
    b = web()
    response = b.login("reviewer")
    assert response.status_code == 302
    assert location(response) == "/inbox"
    page = Page(b.get("/inbox"))
    assert page.status == 200
    assert page.xpath('//h1')[0].text_content().strip() == "待办任务"
    assert "李审核" in page.text_of("user-menu")
    assert "审核人" in page.text_of("user-menu")


def test_next_survives_a_failed_attempt(web, world):
    _, case_id = world.open_record()
    b = web()
    first = b.get(f"/cases/{case_id}")
    b.get(first.headers["Location"])
    failed = Page(b.login("reviewer", "wrong", next=f"/cases/{case_id}"))
    assert failed.status == 401
    # the form posts back to the same URL, next included
    assert failed.xpath("//form[@method='post']/@action") == []
    response = b.login("reviewer", next=f"/cases/{case_id}")
    assert location(response) == f"/cases/{case_id}"


def test_session_cookie_is_http_only_and_same_site(web):
    response = web().login("reviewer")
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")][-1]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_follows_a_local_next(web, world):
    _, case_id = world.open_record()
    b = web()
    first = b.get(f"/cases/{case_id}")
    response = b.login("reviewer", next=next_param(first))
    assert response.status_code == 302
    assert location(response) == f"/cases/{case_id}"
    assert b.get(f"/cases/{case_id}").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example", "//evil.example/inbox", "https://evil.example/x",
                                    "http:evil.example", "evil.example"])
def test_login_never_redirects_off_site(web, target):
    response = web().login("reviewer", next=target)
    assert response.status_code == 302
    assert location(response) == "/inbox"


def test_login_next_with_backslash_stays_on_site(web):
    """'/\\evil.example' passes _safe_next, but the Location header is percent-encoded
    (/%5Cevil.example), which browsers do not read as another host."""
    response = web().login("reviewer", next="/\\evil.example")
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith("/") and not target.startswith("//") and "\\" not in target


def test_logged_in_user_visiting_login_goes_to_inbox(web):
    b = web("reviewer")
    response = b.get("/login")
    assert response.status_code == 302
    assert location(response) == "/inbox"


def test_logout_is_post_only(web):
    b = web("reviewer")
    response = b.get("/logout")
    assert response.status_code == 405
    assert b.get("/inbox").status_code == 200  # still logged in


def test_logout_requires_csrf(web):
    b = web("reviewer")
    page = Page(b.post("/logout", csrf=False))
    assert page.status == 400
    assert "CSRF" in page.text_of("error-message")
    assert b.get("/inbox").status_code == 200  # still logged in


def test_logout_with_csrf_logs_out(web):
    b = web("reviewer")
    response = b.post("/logout")
    assert response.status_code == 302
    assert location(response) == "/login"
    page = Page(b.get("/login"))
    assert "您已退出登录。" in page.alerts[0]
    inbox = b.get("/inbox")
    assert inbox.status_code == 302 and location(inbox).startswith("/login")


def test_home_redirects_by_login_state(web):
    assert location(web().get("/")) == "/login"
    assert location(web("clerk").get("/")) == "/inbox"


def test_failures_of_one_client_behind_the_proxy_do_not_lock_out_everyone(web):
    attacker = web()   # both reach the app through the proxy at 127.0.0.1
    attacker.client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    for n in range(5):
        assert attacker.login(f"guess{n}", "wrong").status_code == 401
    colleague = web()
    colleague.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    response = colleague.login("reviewer")
    assert response.status_code == 302


def test_failures_on_other_accounts_from_one_address_throttle_that_address(web):
    """Failures spread over many accounts from one address throttle that address (a higher bar
    than one account's, so colleagues behind one NAT are not locked out by a few typos)."""
    b = web(ip="203.0.113.9")
    for n in range(20):
        assert b.login(f"guess{n}", "wrong").status_code == 401
    assert b.login("reviewer").status_code == 429
    assert web(ip="198.51.100.7").login("reviewer").status_code == 302


def test_deactivated_user_is_logged_out_and_cannot_log_in(web, world):
    from workflows.models import User
    b = web("reviewer")
    assert b.get("/inbox").status_code == 200
    with world.factory() as session:
        session.get(User, world.user_ids["reviewer"]).active = False
        session.commit()
    response = b.get("/inbox")
    assert response.status_code == 302 and location(response).startswith("/login")
    assert web().login("reviewer").status_code == 401
