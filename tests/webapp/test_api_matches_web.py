"""Through the JSON API every role sees exactly what it sees on the web (issue 15, finding 4):
the records (the staff record list, or a subject's portal), each record, each case (the staff
case page, or the portal's), the task lists (the inbox's tabs, or the portal's tasks) and each
task. Personnel read the accountability cases of the people in their charge and nothing else:
no record, no lifecycle or objection case, no task. The world is the route matrix's (department
A's record sanctioned, P1's accountability case at P1's statement, A's objection, legality
reviews of C's records), on SQLite and PostgreSQL. (The API serves no documents.)

The callers take turns on one world per database (building it is most of the cost; they only
read), and every disagreement is listed, naming the caller, the URL and what differs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from test_route_matrix import USERNAMES, _sqlite_template, objects, world_seed  # noqa: F401  (the matrix's world)
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


class Api:
    """A caller's GETs through its API token; an answer that is not JSON 200/403/404 is a problem."""

    def __init__(self, get, caller: str, problems: list[str]):
        self.get, self.caller, self.problems = get, caller, problems

    def __call__(self, url: str):
        response = self.get(url)
        if response.mimetype != "application/json":
            self.problems.append(f"{self.caller}: GET /api/v1{url} answers {response.mimetype}, not JSON")
        if response.status_code not in (200, 403, 404):
            self.problems.append(f"{self.caller}: GET /api/v1{url} answers {response.status_code}")
        return response

    def opens(self, url: str) -> bool:
        return self(url).status_code == 200

    def agrees(self, url: str, on_web: bool, web_urls: str) -> None:
        """The API opens `url` exactly when the web opens one of `web_urls`."""
        status = self(url).status_code
        if (status == 200) != on_web:
            self.problems.append(f"{self.caller}: GET /api/v1{url} answers {status}, while on the web "
                                 f"{web_urls} {'opens' if on_web else 'does not open'}")


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


def check_records(browser, api: Api, records) -> None:
    """The records are the staff record list's, or the subject's portal's; each record opens through
    the API where a staff reader (through the list) or the subject (through the portal) opens it."""
    problems, caller = api.problems, api.caller
    listed = api("/records?per_page=100")
    staff_list, portal = web_record_numbers(browser), web_portal_records(browser)
    if staff_list is None and portal is None:
        if listed.status_code != 403:
            problems.append(f"{caller}: GET /api/v1/records answers {listed.status_code}, the web refuses "
                            "/records and /portal/ (expected 403)")
    elif listed.status_code != 200:
        problems.append(f"{caller}: GET /api/v1/records answers {listed.status_code}, the web lists records")
    else:
        body = listed.get_json()["records"]
        if staff_list is not None:
            numbers = {r["number"] for r in body}
            if numbers != staff_list or len(body) != len(records):
                problems.append(f"{caller}: GET /api/v1/records lists {sorted(numbers)} ({len(body)} of "
                                f"{len(records)}), the web's /records {sorted(staff_list)}")
        elif {r["id"] for r in body} != portal:
            problems.append(f"{caller}: GET /api/v1/records lists ids {sorted(r['id'] for r in body)}, "
                            f"the web's /portal/ {sorted(portal)}")
    for record in records:
        on_web = staff_list is not None or opens(browser, f"/portal/records/{record}")
        api.agrees(f"/records/{record}", on_web, "/records" if staff_list is not None else f"/portal/records/{record}")


def check_cases(browser, api: Api, cases, kind_of) -> None:
    """Each case opens through the API where its case page or portal page opens; personnel see
    accountability cases only; an unknown case is refused."""
    seen = set()
    for case in cases:
        web_urls = (f"/cases/{case}", f"/portal/applications/{case}")
        on_web = opens(browser, *web_urls)
        api.agrees(f"/cases/{case}", on_web, " or ".join(web_urls))
        if on_web:
            seen.add(kind_of[case])
    if api.caller == "personnel" and seen != {"accountability"}:   # the accountability case, nothing else
        api.problems.append(f"personnel: the web opens cases of the kinds {sorted(seen)}, "
                            "expected only accountability")
    unknown = api("/cases/999999")
    if unknown.status_code not in (403, 404):
        api.problems.append(f"{api.caller}: GET /api/v1/cases/999999 answers {unknown.status_code}")


def check_tasks(browser, api: Api, tasks) -> None:
    """The task lists are the inbox's tabs, or the portal's tasks ('mine'; 'group' is empty); each
    task opens through the API where its task page or portal page opens."""
    problems, caller = api.problems, api.caller
    for tab in ("mine", "group"):
        url = f"/tasks?tab={tab}&per_page=100"
        inbox = browser.get(f"/inbox?tab={tab}")
        listed = api(url)
        if inbox.status_code == 200:
            on_web = {int(i) for i in browser.page(f"/inbox?tab={tab}").xpath('//tr[@data-task-row]/@data-task-row')}
            where = f"/inbox?tab={tab}"
        elif browser.get("/portal/").status_code == 200:
            portal = browser.page("/portal/").xpath('//*[@id="portal-tasks"]//a/@href')
            on_web = {int(h.rsplit("/", 1)[1]) for h in portal} if tab == "mine" else set()
            where = "/portal/"
        else:
            if listed.status_code != 403:
                problems.append(f"{caller}: GET /api/v1{url} answers {listed.status_code}, the web refuses "
                                "the inbox and the portal (expected 403)")
            continue
        if listed.status_code != 200:
            problems.append(f"{caller}: GET /api/v1{url} answers {listed.status_code}, the web shows {where}")
        elif (ids := {t["id"] for t in listed.get_json()["tasks"]}) != on_web:
            problems.append(f"{caller}: GET /api/v1{url} lists {sorted(ids)}, the web's {where} {sorted(on_web)}")
    for task in tasks:
        web_urls = (f"/tasks/{task}", f"/portal/tasks/{task}")
        api.agrees(f"/tasks/{task}", opens(browser, *web_urls), " or ".join(web_urls))


def test_every_caller_sees_through_the_api_what_it_sees_on_the_web(world, objects, sides):   # noqa: F811
    records, cases, tasks = everything(world)
    with world.factory() as session:
        kind_of = {case: session.get(Case, case).process_key for case in cases}
    problems: list[str] = []
    for caller in CALLERS:
        browser, get = sides(caller)
        api = Api(get, caller, problems)
        check_records(browser, api, records)
        check_cases(browser, api, cases, kind_of)
        check_tasks(browser, api, tasks)
    assert not problems, f"{len(problems)} disagreements between the API and the web:\n" + "\n".join(problems)
