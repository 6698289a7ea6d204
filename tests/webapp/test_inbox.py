"""The inbox: tabs and their counts, filters, sorting, pagination and deadlines, on 30 records
made through the services (not HTTP)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from credflow_web import Page, WebWorld
from workflows.cases import claim_task
from workflows.clock import CST

SEVERITIES = ["minor", "general", "serious"]
FIELDS = ["government_procurement", "ppp", "bidding", "investment_promotion"]
FIRST_BATCH = 12            # made on Mon 2026-06-01, due Mon 2026-06-08 (5 working days)
TOTAL = 30                  # the rest made on Mon 2026-06-08, due Mon 2026-06-15
REVIEWER_CLAIMS = [3, 17, 25]     # indexes of the records whose review `reviewer` claimed
REVIEWER2_CLAIMS = [4, 20]


@dataclass
class Item:
    index: int
    row_id: int
    subject: str
    severity: str
    field: str
    due_day: str
    assignee: str | None = None


def make_items(world) -> list[Item]:
    clock, made = world.clock, []
    for i in range(TOTAL):
        if i == FIRST_BATCH:
            clock.advance(days=7)
        subject = i % 5
        _, case_id = world.open_record(subject=subject, severity=SEVERITIES[i % 3], field=FIELDS[i % 4])
        row = world.task(case_id, "legality_review")
        made.append(Item(i, row.id, world.subject_names[subject], SEVERITIES[i % 3], FIELDS[i % 4],
                         "2026-06-08" if i < FIRST_BATCH else "2026-06-15"))
    for user, claims in (("reviewer", REVIEWER_CLAIMS), ("reviewer2", REVIEWER2_CLAIMS)):
        for i in claims:
            world.run(user, claim_task, made[i].row_id)
            made[i].assignee = user
    return made


@pytest.fixture
def world_seed(request):
    """On PostgreSQL a test with `items` gets them copied in with the seeded world, built once
    (tests/database_seeds.py); on SQLite, and for the other tests, the `world` fixture's own."""
    if "items" in request.fixturenames:
        return "inbox", lambda factory, clock: make_items(WebWorld(factory, clock))
    return "web", WebWorld.seed


@pytest.fixture
def items(world, clock, seeded):
    made = seeded.made if seeded.restored == "inbox" else make_items(world)
    clock.at = datetime(2026, 6, 10, 9, 0, tzinfo=CST)   # the first batch is overdue now
    return made


def _by_due(items):
    return [it.row_id for it in sorted(items, key=lambda it: (it.due_day, it.row_id))]


def _group(items):
    return [it for it in items if it.assignee is None]


def test_default_tab_and_counts(web, items):
    page = Page(web("reviewer").get("/inbox"))
    assert page.status == 200
    assert page.xpath('//a[@data-tab="mine"][contains(@class, "active")]')   # the reviewer holds tasks
    assert page.counts == {"mine": 3, "group": TOTAL - 5}
    assert page.task_rows == _by_due([items[i] for i in REVIEWER_CLAIMS])
    group = Page(web("reviewer").get("/inbox?tab=group"))
    assert group.task_rows == _by_due(_group(items))   # 25 rows: exactly one page
    assert group.xpath('//*[@id="pager"]') == []
    # a reviewer asking for the leaders' "all" tab gets the group tab
    assert Page(web("reviewer").get("/inbox?tab=all")).task_rows == group.task_rows
    leader = Page(web("leader").get("/inbox"))
    assert leader.counts == {"mine": 0, "group": 0, "all": TOTAL}
    assert Page(web("clerk").get("/inbox")).counts == {"mine": 0, "group": 0}


def test_subject_filter(web, items):
    b = web("reviewer")
    page = Page(b.get("/inbox?tab=group&subject=招商"))
    expected = [it for it in _group(items) if "招商" in it.subject]
    assert expected and page.task_rows == _by_due(expected)
    assert page.counts == {"mine": sum(1 for i in REVIEWER_CLAIMS if "招商" in items[i].subject),
                           "group": len(expected)}
    assert page.value_of("subject") == "招商"
    # the filter is a "contains" match, and LIKE wildcards are taken literally
    assert Page(b.get("/inbox?tab=group&subject=某")).counts["group"] == len(_group(items))
    assert Page(b.get("/inbox?tab=group&subject=%25")).task_rows == []
    assert Page(b.get("/inbox?tab=group&subject=_")).task_rows == []


def test_severity_and_field_filters(web, items):
    b = web("reviewer")
    serious = Page(b.get("/inbox?tab=group&severity=serious"))
    expected = [it for it in _group(items) if it.severity == "serious"]
    assert serious.task_rows == _by_due(expected)
    assert serious.counts["group"] == len(expected)
    assert serious.value_of("severity") == "serious"
    for row_id in serious.task_rows:
        assert serious.xpath(f'//tr[@data-task-row="{row_id}"]/td')[3].text_content().strip() == "严重"

    ppp = Page(b.get("/inbox?tab=group&field=ppp"))
    expected = [it for it in _group(items) if it.field == "ppp"]
    assert ppp.task_rows == _by_due(expected)
    for row_id in ppp.task_rows:
        assert ppp.xpath(f'//tr[@data-task-row="{row_id}"]/td')[2].text_content().strip() == "政府和社会资本合作"

    both = Page(b.get("/inbox?tab=group&field=ppp&severity=minor"))
    expected = [it for it in _group(items) if it.field == "ppp" and it.severity == "minor"]
    assert both.task_rows == _by_due(expected)
    assert both.counts == {"mine": sum(1 for i in REVIEWER_CLAIMS if items[i].field == "ppp"
                                       and items[i].severity == "minor"), "group": len(expected)}

    none = Page(b.get("/inbox?tab=group&task=leader_approval"))
    assert none.task_rows == [] and none.xpath('//*[@id="no-tasks"]')


def test_overdue_filter_and_deadline_marks(web, items):
    b = web("reviewer")
    page = Page(b.get("/inbox?tab=group&overdue=1"))
    expected = [it for it in _group(items) if it.index < FIRST_BATCH]
    assert page.task_rows == _by_due(expected)
    assert page.counts == {"mine": 1, "group": len(expected)}    # index 3 of the reviewer's claims is overdue
    assert page.xpath('//input[@name="overdue"]/@checked')
    for row_id in page.task_rows:
        row = page.xpath(f'//tr[@data-task-row="{row_id}"]')[0]
        assert "table-danger" in row.get("class")
        assert row.xpath(".//*[@data-deadline]")[0].text_content().strip() == "逾期 2 个工作日"
    everything = Page(b.get("/inbox?tab=group"))
    later = [it for it in _group(items) if it.index >= FIRST_BATCH][0]
    row = everything.xpath(f'//tr[@data-task-row="{later.row_id}"]')[0]
    assert "table-danger" not in row.get("class")
    assert row.xpath(".//*[@data-deadline]")[0].text_content().strip() == "剩余 3 个工作日"
    assert "2026-06-15" in row.xpath("./td")[7].text_content()


def test_sort_by_subject_both_ways(web, items):
    b = web("reviewer")
    page = Page(b.get("/inbox?tab=group&sort=subject"))
    expected = sorted(_group(items), key=lambda it: (it.subject, it.row_id))
    assert page.task_rows == [it.row_id for it in expected]
    down = Page(b.get("/inbox?tab=group&sort=subject&desc=1"))
    # descending on the subject, ties still by id
    expected = sorted(_group(items), key=lambda it: it.row_id)
    expected = sorted(expected, key=lambda it: it.subject, reverse=True)
    assert down.task_rows == [it.row_id for it in expected]
    # an unknown sort key falls back to the due date
    assert Page(b.get("/inbox?tab=group&sort=password_hash")).task_rows == _by_due(_group(items))


def test_pagination(web, items):
    b = web("leader")
    first = Page(b.get("/inbox?tab=all"))
    all_rows = _by_due(items)
    assert first.task_rows == all_rows[:25]
    assert "共 30 条，第 1 / 2 页" in first.text_of("pager")
    second = Page(b.get("/inbox?tab=all&page=2"))
    assert second.task_rows == all_rows[25:]
    assert "共 30 条，第 2 / 2 页" in second.text_of("pager")
    assert second.counts == {"mine": 0, "group": 0, "all": TOTAL}
    # page links keep the filters and the sort
    filtered = Page(b.get("/inbox?tab=all&sort=subject&per_page=4&severity=general"))
    general = sorted([it for it in items if it.severity == "general"], key=lambda it: (it.subject, it.row_id))
    assert filtered.task_rows == [it.row_id for it in general[:4]]
    links = filtered.xpath('//*[@id="pager"]//a[text()="3"]/@href')
    assert links
    third = Page(b.get(links[0]))
    assert third.task_rows == [it.row_id for it in general[8:12]]
    # out-of-range and nonsense page numbers
    assert Page(b.get("/inbox?tab=all&page=0")).task_rows == all_rows[:25]
    assert Page(b.get("/inbox?tab=all&page=abc")).task_rows == all_rows[:25]
    assert Page(b.get("/inbox?tab=all&page=9")).task_rows == []
    assert len(Page(b.get("/inbox?tab=all&per_page=100000")).task_rows) == TOTAL


def test_reviewer_mine_tab_with_filters(web, items):
    page = Page(web("reviewer2").get("/inbox?tab=mine&severity=" + items[20].severity))
    expected = [items[i] for i in REVIEWER2_CLAIMS if items[i].severity == items[20].severity]
    assert page.task_rows == _by_due(expected)
    cells = page.xpath(f'//tr[@data-task-row="{items[20].row_id}"]/td')
    assert cells[5].text_content().strip() == "周审核"
    assert cells[8].xpath('.//a[text()="办理"]')


def test_huge_page_number_is_not_a_server_error(web, world):
    world.open_record()
    b = web("reviewer")
    assert b.get("/inbox?page=100000000000000000000").status_code == 200
    assert b.get("/records?page=100000000000000000000").status_code == 200


# -- the "next task" button -----------------------------------------------------------------------

def _claim_next(browser, inbox_url: str = "/inbox?tab=group"):
    """Press the button on the inbox page, sending the hidden fields the page rendered."""
    page = Page(browser.get(inbox_url))
    form = page.one("claim-next")
    fields = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    return browser.post(form.get("action"), fields, csrf=False)


def test_next_task_claims_the_first_row_of_the_group_tab_and_opens_it(web, world, items):
    b = web("reviewer")
    first = _by_due(_group(items))[0]
    response = _claim_next(b)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{first}")
    assert "已认领下一个任务。" in Page(b.get(f"/tasks/{first}")).alerts
    mine = Page(b.get("/inbox?tab=mine"))
    assert first in mine.task_rows and mine.counts == {"mine": 4, "group": TOTAL - 6}


def test_next_task_follows_the_filters_and_order_on_screen(web, items):
    b = web("reviewer")
    expected = _by_due([it for it in _group(items) if it.severity == "serious"])
    response = _claim_next(b, "/inbox?tab=group&severity=serious&sort=due&desc=1")
    # the last-due serious task first: due descending, then by id
    latest = max(it.due_day for it in _group(items) if it.severity == "serious")
    wanted = [r for r in expected if next(it for it in items if it.row_id == r).due_day == latest][0]
    assert response.headers["Location"].endswith(f"/tasks/{wanted}")


def test_two_reviewers_pressing_next_get_different_tasks(web, items):
    first, second = _by_due(_group(items))[:2]
    a, b = _claim_next(web("reviewer")), _claim_next(web("reviewer2"))
    assert a.headers["Location"].endswith(f"/tasks/{first}")
    assert b.headers["Location"].endswith(f"/tasks/{second}")


def test_next_task_on_an_empty_queue_says_so(web, world):
    b = web("reviewer")
    assert Page(b.get("/inbox?tab=group")).xpath('//*[@id="claim-next"]') == []   # no button with nothing to claim
    response = b.post("/tasks/next", {})
    assert response.status_code == 302 and "tab=group" in response.headers["Location"]
    assert "组任务中没有可认领的任务。" in Page(b.get("/inbox?tab=group")).alerts


def test_next_task_never_hands_out_another_lanes_task(web, world):
    world.leader_task()     # a task in the leaders' lane only
    b = web("reviewer")
    assert b.post("/tasks/next", {}).headers["Location"].endswith("tab=group")
    assert [t.assignee_id for t in world.tasks() if t.lane == "leader"] == [None]
