"""A refused action speaks the page's language only: the domain's refusals (workflows UserErrors
and form errors) carry a catalog id, and the web translates them -- Chinese on a Chinese page,
English on an English one, never a "中文 / English" pair."""
from __future__ import annotations

from credflow_web import CAPTURE, Page, location
from workflows.demo import make_uscc

NEW_CODE = make_uscc("91610800MA7G3K2X")


def _new_record(browser, **changes) -> Page:
    form = {**CAPTURE, "subject_mode": "new", "kind": "department", "name": "榆林市某新登记单位", "code": NEW_CODE,
            **changes}
    return Page(browser.post("/records/new", form))


def test_a_subject_form_missing_its_name_is_refused_in_the_pages_language(web, world):
    clerk = web("clerk")
    clerk.get("/records/new")
    chinese = _new_record(clerk, name="")
    assert chinese.status == 422
    assert chinese.error_for("subject") == "名称必填"
    assert _new_record(clerk, facts="").error_for("facts") == "必填"
    assert "required" not in chinese.text.lower()

    clerk.get("/records/new?lang=en")
    english = _new_record(clerk, name="")
    assert english.status == 422
    assert english.error_for("subject") == "The name is required."
    assert "名称必填" not in english.text
    missing_facts = _new_record(clerk, facts="")
    assert missing_facts.error_for("facts") == "Required" and "必填" not in missing_facts.text


def _wrong_current_password(browser) -> Page:
    response = browser.post("/account/password", {"current_password": "not-my-password",
                                                  "new_password": "A-new-long-passphrase-42",
                                                  "new_password2": "A-new-long-passphrase-42"})
    assert response.status_code == 302
    return browser.page(location(response))


def test_a_wrong_current_password_is_refused_in_the_pages_language(web, world):
    reviewer = web("reviewer")
    reviewer.get("/account/")
    chinese = _wrong_current_password(reviewer)
    assert any("当前密码不正确" in alert for alert in chinese.alerts)
    assert "current password is wrong" not in chinese.text

    reviewer.get("/account/?lang=en")
    english = _wrong_current_password(reviewer)
    assert any("The current password is wrong." in alert for alert in english.alerts)
    assert "当前密码不正确" not in english.text
    web("reviewer")   # the password was not changed: the usual one still signs in
