"""The leave page /account/leave: a staff member records a leave with a deputy (CSRF on), sees it
listed (the deputy sees it too, without the cancel button), an overlapping one is refused on the
page with what was typed kept, and cancels it; English through the catalog; not for non-staff."""
from __future__ import annotations

from datetime import timedelta

import pytest

from credflow_web import Page, location

pytestmark = pytest.mark.one_database   # the services are tested on both databases (tests/integration/test_leave.py)


def test_a_reviewer_records_a_leave_the_deputy_sees_it_and_it_is_cancelled(web, world):
    reviewer = web("reviewer")
    page = reviewer.page("/account/leave")
    assert page.status == 200 and page.html_lang.startswith("zh")
    assert "已认领、尚未办结的任务仍由您办理" in page.text_of("leave-explained")
    deputies = page.xpath('//select[@name="deputy_id"]/option/@value')
    assert str(world.user_ids["reviewer2"]) in deputies and str(world.user_ids["reviewer"]) not in deputies
    assert str(world.user_ids["subject"]) not in deputies

    start, end = world.clock.today() + timedelta(days=1), world.clock.today() + timedelta(days=5)
    form = {"deputy_id": str(world.user_ids["reviewer2"]), "starts_on": start.isoformat(),
            "ends_on": end.isoformat(), "reason": "年休假"}
    assert reviewer.post("/account/leave", form, csrf=False).status_code == 400     # CSRF stays on
    response = reviewer.post("/account/leave", form)
    assert response.status_code == 302 and location(response) == "/account/leave"
    page = reviewer.page("/account/leave")
    [row] = page.xpath("//tr[@data-leave]")
    assert "周审核" in row.text_content() and "未开始" in row.text_content()

    clash = Page(reviewer.post("/account/leave", {**form, "starts_on": end.isoformat(),
                                                  "ends_on": (end + timedelta(days=2)).isoformat()}))
    assert clash.status == 422 and "重叠" in clash.text_of("leave-error")
    assert clash.value_of("deputy_id") == str(world.user_ids["reviewer2"]) and clash.value_of("reason") == "年休假"

    deputy = web("reviewer2").page("/account/leave")
    [row] = deputy.xpath("//tr[@data-leave]")
    assert "由我代理" in row.text_content() and not row.xpath(".//button[@data-cancel-leave]")

    leave_id = row.get("data-leave")
    reviewer.post(f"/account/leave/{leave_id}/cancel")
    page = reviewer.page("/account/leave")
    assert "已取消" in page.xpath("//td[@data-leave-status]")[0].text_content()
    assert not page.xpath("//button[@data-cancel-leave]")


def test_the_page_in_english_and_only_for_staff(web):
    leader = web("leader")
    page = leader.page("/account/leave?lang=en")
    assert page.status == 200 and "Tasks you have already claimed" in page.text_of("leave-explained")
    assert page.xpath('//a[@id="my-leave"]')                  # reachable from the user menu
    assert web("manager").get("/account/leave").status_code == 403
    assert web("subject").get("/account/leave").status_code == 403
    assert web().get("/account/leave").status_code == 302     # to the login page
