"""Through the JSON API every role sees exactly what it sees on the web (issue 15, finding 4):
the records (the staff record list, or a subject's portal), each record, each case (the staff
case page, or the portal's), the task lists (the inbox's tabs, or the portal's tasks) and each
task. Personnel read the accountability cases of the people in their charge and nothing else:
no record, no lifecycle or objection case, no task. The world is the route matrix's (department
A's record sanctioned, P1's accountability case at P1's statement, A's objection, legality
reviews of C's records), on SQLite and PostgreSQL. (The API serves no documents.)"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from test_route_matrix import USERNAMES, _sqlite_template, objects  # noqa: F401  (the matrix's world)
from workflows.models import Case, HumanTask, Record

CALLERS = ("clerk", "reviewer", "leader", "manager", "personnel", "admin", "subject", "civil_servant")


@pytest.fixture
def sides(app, web, objects):   # noqa: F811  (the imported fixture)
    """For a caller: (its browser session, a GET through its API token)."""
    def make(caller: str):
        username = USERNAMES[caller]
        bearer = {"Authorization": f"Bearer {objects.tokens[username]}"}
        client = app.test_client()
        return web(username), lambda url: client.get("/api/v1" + url, headers=bearer)
    return make


def everything(world):
    with world.factory() as session:
        records = session.scalars(select(Record.id).order_by(Record.id)).all()
        cases = session.scalars(select(Case.id).order_by(Case.id)).all()
        tasks = session.scalars(select(HumanTask.id).order_by(HumanTask.id)).all()
    return records, cases, tasks


def opens(browser, *urls) -> bool:
    """Whether one of the web pages opens for the browser (200)."""
    return any(browser.get(url).status_code == 200 for url in urls)


def api_answer(response) -> int:
    assert response.mimetype == "application/json", response.status_code
    assert response.status_code in (200, 403, 404), response.status_code
    return response.status_code


def web_record_numbers(browser) -> set[str] | None:
    """The record numbers of the staff record list (first page), or None when it is refused."""
    response = browser.get("/records")
    if response.status_code != 200:
        return None
    page = browser.page("/records")
    return {cell.text_content().strip() for cell in page.xpath('//table//tbody/tr/td[1]')} - {""}


def web_portal_records(browser) -> set[int] | None:
    response = browser.get("/portal/")
    if response.status_code != 200:
        return None
    return {int(i) for i in browser.page("/portal/").xpath('//tr[@data-record]/@data-record')}


@pytest.mark.parametrize("caller", CALLERS)
def test_the_records_are_the_record_lists_or_the_portals(world, objects, sides, caller):   # noqa: F811
    browser, api = sides(caller)
    records, _, _ = everything(world)
    listed = api("/records?per_page=100")
    staff_list, portal = web_record_numbers(browser), web_portal_records(browser)
    if staff_list is None and portal is None:
        assert api_answer(listed) == 403
    else:
        assert api_answer(listed) == 200
        body = listed.get_json()["records"]
        if staff_list is not None:
            assert {r["number"] for r in body} == staff_list and len(body) == len(records)
        else:
            assert {r["id"] for r in body} == portal
    for record in records:
        # a staff reader opens every record through the list; a subject its own through the portal
        on_web = staff_list is not None or opens(browser, f"/portal/records/{record}")
        assert (api_answer(api(f"/records/{record}")) == 200) == on_web, (caller, record)


@pytest.mark.parametrize("caller", CALLERS)
def test_each_case_opens_through_the_api_where_it_opens_on_the_web(world, objects, sides, caller):   # noqa: F811
    browser, api = sides(caller)
    _, cases, _ = everything(world)
    seen = []
    for case in cases:
        on_web = opens(browser, f"/cases/{case}", f"/portal/applications/{case}")
        assert (api_answer(api(f"/cases/{case}")) == 200) == on_web, (caller, case)
        seen.append(on_web)
    if caller == "personnel":          # the accountability case, nothing else
        with world.factory() as session:
            kinds = {session.get(Case, c).process_key for c, ok in zip(cases, seen) if ok}
        assert kinds == {"accountability"}
    assert api_answer(api("/cases/999999")) in (403, 404)


@pytest.mark.parametrize("caller", CALLERS)
def test_the_tasks_are_the_inboxs_or_the_portals(world, objects, sides, caller):   # noqa: F811
    browser, api = sides(caller)
    _, _, tasks = everything(world)
    for tab in ("mine", "group"):
        inbox = browser.get(f"/inbox?tab={tab}")
        listed = api(f"/tasks?tab={tab}&per_page=100")
        if inbox.status_code == 200:
            on_web = {int(i) for i in browser.page(f"/inbox?tab={tab}").xpath('//tr[@data-task-row]/@data-task-row')}
            assert api_answer(listed) == 200
            assert {t["id"] for t in listed.get_json()["tasks"]} == on_web, (caller, tab)
        elif browser.get("/portal/").status_code == 200:
            portal = browser.page("/portal/").xpath('//*[@id="portal-tasks"]//a/@href')
            assert api_answer(listed) == 200
            mine = {t["id"] for t in listed.get_json()["tasks"]}
            assert mine == ({int(h.rsplit("/", 1)[1]) for h in portal} if tab == "mine" else set()), (caller, tab)
        else:
            assert api_answer(listed) == 403, (caller, tab)
    for task in tasks:
        on_web = opens(browser, f"/tasks/{task}", f"/portal/tasks/{task}")
        assert (api_answer(api(f"/tasks/{task}")) == 200) == on_web, (caller, task)
