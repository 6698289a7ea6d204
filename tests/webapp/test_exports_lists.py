"""Lists to Excel: each list page's `?format=xlsx` read back with openpyxl -- the title, the
filters on screen, the page's headers in the page's language, and every row the page shows across
all its pages, in its order; another user's rows stay out; a refused user stays refused; text that
looks like a formula stays text. The world (27 records waiting in legality review, look-ups in two
departments, an account named like a formula) is built once per module and copied per test."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from credflow_web import WebWorld, password, world_template
from workflows.accounts import create_user
from workflows.approvals.copies import copy_case
from workflows.cases import claim_task
from workflows.commitments.service import Draft, register_commitment
from workflows.demo import SUBJECTS
from workflows.lookups.service import look_up
from workflows.runtime import Actor

A, B = 0, 1
RECORDS = 27                # more than one page (25) of records and of the reviewers' group tasks
FORMULA = "=HYPERLINK(\"http://evil.example\",\"x\")"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build(world: WebWorld) -> dict:
    severities = ["minor", "general", "serious"]
    for i in range(RECORDS):
        world.open_record(i % 3, severity=severities[i % 3])
    with world.uow() as uow:
        for name, department in (("checker_a", A), ("checker_b", B)):
            user = create_user(uow, name, password(name), f"查询员{name}", ["checker"])
            user.department_id = world.subjects[department]
            uow.session.flush()
            world.actors[name] = Actor.of(user)
        create_user(uow, "formula", password("formula"), FORMULA, ["clerk"])
        uow.commit()
    lookups = {}
    for name, value, ref in (("checker_a", SUBJECTS[A][2], "A-DEAL-1"), ("checker_a", SUBJECTS[B][2], FORMULA),
                             ("checker_b", SUBJECTS[B][2], "B-DEAL-1")):
        lookups.setdefault(name, []).append(world.run(name, look_up, "code", value, "procurement", ref).id)
    tasks = [t.id for t in world.tasks() if t.bpmn_id == "legality_review"]
    for row_id in tasks[:2]:                     # two of them are now reviewer's own
        world.run("reviewer", claim_task, row_id)
    world.run("reviewer", copy_case, tasks[0], [world.user_ids["leader"]], [], "请领导知悉。")
    return {"lookups": lookups, "claimed": tasks[:2]}


_TEMPLATE = {}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "exports", build)
    return path


@pytest.fixture
def world_seed():
    return "exports", lambda factory, clock: build(WebWorld(factory, clock))


@pytest.fixture
def objects(database_url, world, seeded):
    if database_url.startswith("sqlite"):
        return _TEMPLATE["objects"]
    return seeded.made if seeded.restored == "exports" else build(world)


def sheet(response) -> dict:
    """The workbook: {'title', 'filters': {label: value}, 'headers', 'rows', 'cells'}."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    book = load_workbook(io.BytesIO(response.get_data()))
    ws = book.worksheets[0]
    lines = [[c for c in row] for row in ws.iter_rows()]
    values = [[c.value for c in row] for row in lines]
    blank = next(i for i, row in enumerate(values) if i > 0 and all(v is None for v in row))
    header_at = blank + 1
    width = len([v for v in values[header_at] if v is not None])
    return {"title": values[0][0], "filters": {row[0]: row[1] for row in values[1:blank]},
            "headers": values[header_at][:width], "rows": [row[:width] for row in values[header_at + 1:]],
            "cells": lines[header_at + 1:]}


def column(data: dict, header: str) -> list:
    index = data["headers"].index(header)
    return [row[index] for row in data["rows"]]


def shown_record_numbers(me, url: str) -> list[str]:
    """The record numbers the page shows, page after page."""
    found, page = [], 1
    while True:
        doc = me.page(f"{url}{'&' if '?' in url else '?'}page={page}")
        numbers = [td.text_content().strip() for td in doc.xpath('//table[@id="record-table"]/tbody/tr/td[1]')]
        numbers = [n for n in numbers if n.startswith("R-")]
        if not numbers or page > 5:
            return found
        found += numbers
        page += 1


def test_records_export_holds_every_page_with_the_filters_and_the_page_s_columns(web, objects):
    me = web("clerk")
    page = me.page("/records")
    link = page.xpath('//a[@data-export="xlsx"]/@href')[0]
    assert "format=xlsx" in link
    data = sheet(me.get(link))
    assert data["title"] == "失信记录"
    assert data["headers"][:6] == ["记录编号", "信用主体", "代码", "领域", "严重程度", "状态"]
    shown = shown_record_numbers(me, "/records")
    assert len(shown) == RECORDS and column(data, "记录编号") == shown       # both pages, the page's order
    assert set(column(data, "状态")) == {"审核中"} and set(column(data, "严重程度")) == {"轻微", "一般", "严重"}
    # filtered: the status and the search on screen, written above the table; the same rows
    name = SUBJECTS[B][1]
    filtered_url = f"/records?status=under_review&q={name}"
    filtered = sheet(me.get(me.page(filtered_url).xpath('//a[@data-export="xlsx"]/@href')[0]))
    assert filtered["filters"] == {"搜索": name, "状态": "审核中"}
    assert column(filtered, "记录编号") == shown_record_numbers(me, filtered_url) and len(filtered["rows"]) == RECORDS // 3
    assert set(column(filtered, "信用主体")) == {name}
    # a page without a match exports a sheet with headers and no rows
    assert sheet(me.get("/records?status=revoked&format=xlsx"))["rows"] == []
    # in English: English headers and labels, no Chinese
    me.get("/records?lang=en")
    english = sheet(me.get("/records?format=xlsx&status=under_review"))
    assert english["headers"][0] == "Record no." and "Under review" in english["filters"].values()
    assert set(column(english, "Severity")) == {"Minor", "Moderate", "Serious"}
    words = [english["title"], *english["headers"], *english["filters"], *english["filters"].values(),
             *(v for row in english["rows"] for v in row[3:] if isinstance(v, str))]
    assert not [w for w in words if any("\u4e00" <= ch <= "\u9fff" for ch in w)]     # all English


def test_inbox_export_is_the_tab_the_user_sees_and_nobody_else_s(web, objects):
    reviewer, reviewer2 = web("reviewer"), web("reviewer2")
    group = reviewer.page("/inbox?tab=group&per_page=10")
    assert group.counts["group"] == RECORDS - 2
    data = sheet(reviewer.get(group.xpath('//a[@data-export="xlsx"]/@href')[0]))
    assert data["title"] == "待办任务" and data["filters"]["视图"] == "组任务"
    shown = []
    for p in range(1, 4):      # three pages of ten
        shown += reviewer.page(f"/inbox?tab=group&per_page=10&page={p}").task_rows
    assert len(data["rows"]) == len(shown) == RECORDS - 2
    assert set(column(data, "任务")) == {"合法性审核"} and set(column(data, "办理角色")) == {"审核人"}
    due = column(data, "办理期限")
    assert all(isinstance(d, datetime) for d in due) and due == sorted(due)          # the page's order: by due time
    assert column(data, "到达时间")[0] == datetime(2026, 6, 1, 9, 0)                 # Beijing time, as shown
    # the claimed two: on reviewer's own tab, not on reviewer2's, not in anyone's group tab
    mine = sheet(reviewer.get("/inbox?tab=mine&format=xlsx"))
    assert len(mine["rows"]) == 2 and set(column(mine, "办理人")) == {"李审核"}
    assert sheet(reviewer2.get("/inbox?tab=mine&format=xlsx"))["rows"] == []
    claimed_cases = set(column(mine, "案件编号"))
    assert not claimed_cases & set(column(sheet(reviewer2.get("/inbox?tab=group&format=xlsx")), "案件编号"))
    # filtered by severity: the filter's label and only those rows; the clerk's lane has none of them
    serious = sheet(reviewer.get("/inbox?tab=group&severity=serious&format=xlsx"))
    assert serious["filters"]["严重程度"] == "严重" and set(column(serious, "严重程度")) == {"严重"}
    assert len(serious["rows"]) == len(reviewer.page("/inbox?tab=group&severity=serious&per_page=100").task_rows)
    assert sheet(web("clerk").get("/inbox?tab=group&format=xlsx"))["rows"] == []
    # a user who may not open the inbox may not export it either
    assert web("manager").get("/inbox?format=xlsx").status_code == 403
    assert web().get("/inbox?format=xlsx").status_code == 302


def test_lookups_export_is_the_department_s_own_and_keeps_formula_text_as_text(web, objects):
    a, b = web("checker_a"), web("checker_b")
    data = sheet(a.get("/lookups/?format=xlsx"))
    assert column(data, "编号") == [f"#{i}" for i in sorted(objects["lookups"]["checker_a"], reverse=True)]
    shown = [f"#{i}" for i in a.page("/lookups/").xpath("//tr[@data-lookup]/@data-lookup")]
    assert column(data, "编号") == shown
    assert set(column(data, "所属部门")) == {SUBJECTS[A][1]} and set(column(data, "事项类型")) == {"政府采购"}
    # the formula-looking deal number: a text cell with exactly what was typed, never a formula
    index = data["headers"].index("事项编号")
    cells = [row[index] for row in data["cells"] if row[index].value == FORMULA]
    assert len(cells) == 1 and cells[0].data_type == "s"
    # department B's checker sees B's look-up only, not A's (one of which looked B up)
    other = sheet(b.get("/lookups/?format=xlsx"))
    assert column(other, "编号") == [f"#{objects['lookups']['checker_b'][0]}"]
    # the monthly report: the department's own row; the office sees every department's and the total
    report = sheet(a.get("/lookups/report?month=2026-06&format=xlsx"))
    assert report["filters"] == {"月份": "2026-06"} and report["headers"][:2] == ["部门", "查询次数"]
    assert [row[:2] for row in report["rows"]] == [[SUBJECTS[A][1], 2]]
    office = sheet(web("clerk").get("/lookups/report?month=2026-06&format=xlsx"))
    assert sorted(row[1] for row in office["rows"][:-1]) == [1, 2] and office["rows"][-1][:2] == ["合计", 3]
    # the credit office's staff see every department's; who may not look up is refused, as on the page
    assert len(sheet(web("clerk").get("/lookups/?format=xlsx"))["rows"]) == 3
    assert web("manager").get("/lookups/?format=xlsx").status_code == 403


def test_users_commitments_and_copies_exports(web, objects, world):
    admin = web("admin")
    data = sheet(admin.get("/system/users?format=xlsx"))
    assert column(data, "用户名") == [u for u in admin.page("/system/users").xpath("//tr[@data-user]/@data-user")]
    row = data["cells"][column(data, "用户名").index("formula")]
    assert row[1].value == FORMULA and row[1].data_type == "s"
    # the page's tools: the export link keeps the filters on screen; the printed heading has the print time
    page = admin.page("/system/users?role=checker")
    assert page.xpath('//a[@data-export="xlsx"]/@href')[0] == "/system/users?role=checker&format=xlsx"
    assert page.xpath('//button[@data-print]')
    assert "打印时间：2026-06-01 09:00" in page.xpath('//*[@data-print-head]')[0].text_content()
    checkers = sheet(admin.get("/system/users?role=checker&format=xlsx"))
    assert column(checkers, "用户名") == ["checker_a", "checker_b"] and checkers["filters"] == {"角色": "逢办必查查询人"}
    assert web("clerk").get("/system/users?format=xlsx").status_code == 403
    # commitments: registered by a clerk, exported with the status filter
    township = next(i for i, s in enumerate(SUBJECTS) if s[0] == "department")
    world.run("clerk", register_commitment, Draft(world.subjects[township], FORMULA, "2026-12-31", "刘镇长", "镇长"))
    clerk = web("clerk")
    listed = sheet(clerk.get("/commitments?format=xlsx&status=in_progress"))
    assert listed["filters"] == {"状态": "进行中"}
    assert column(listed, "承诺内容") == [FORMULA] and column(listed, "状态") == ["进行中"]
    assert listed["cells"][0][listed["headers"].index("承诺内容")].data_type == "s"
    assert sheet(clerk.get("/commitments?format=xlsx&status=fulfilled"))["rows"] == []
    assert web("checker_a").get("/commitments?format=xlsx").status_code == 403
    # the cases copied to me: the viewer's own copies only
    leader = web("leader")
    data = sheet(leader.get("/copies?format=xlsx"))
    assert data["title"] == "抄送我的" and data["headers"][:4] == ["案件", "步骤", "抄送人", "附言"]
    assert [row[1:4] for row in data["rows"]] == [["合法性审核", "李审核", "请领导知悉。"]]
    assert column(data, "状态") == ["未读"]
    assert column(data, "案件") == [c.text_content().strip() for c in leader.page("/copies").xpath("//tr[@data-copy-case]/td[1]")]
    assert sheet(web("reviewer2").get("/copies?format=xlsx"))["rows"] == []
    assert web("admin").get("/copies?format=xlsx").status_code == 403


def test_the_case_list_pages_filters_and_exports_every_case(web, objects, world):
    me = web("leader")
    assert me.page("/records").xpath('//a[@id="case-list-link"]/@href') == ["/cases"]
    first = me.page("/cases")
    assert first.status == 200
    shown = []
    for p in (1, 2):
        shown += [int(i) for i in me.page(f"/cases?page={p}").xpath("//tr[@data-case]/@data-case")]
    assert len(shown) == RECORDS and shown == sorted(shown, reverse=True)      # newest first, over two pages
    data = sheet(me.get(first.xpath('//a[@data-export="xlsx"]/@href')[0]))
    assert data["title"] == "案件列表"
    assert column(data, "案件编号") == [f"C-{i:06d}" for i in shown]
    assert set(column(data, "流程")) == {"失信记录认定与公示"} and set(column(data, "状态")) == {"办理中"}
    assert set(column(data, "当前步骤")) == {"合法性审核"}
    # a typed record number finds its case; a subject's name its cases; a status with none, nothing
    one = sheet(me.get("/cases?q=R-000003&format=xlsx"))
    assert column(one, "记录编号") == ["R-000003"] and one["filters"] == {"搜索": "R-000003"}
    named = sheet(me.get(f"/cases?q={SUBJECTS[B][1]}&status=running&format=xlsx"))
    assert len(named["rows"]) == RECORDS // 3 and set(column(named, "信用主体")) == {SUBJECTS[B][1]}
    assert named["filters"] == {"搜索": SUBJECTS[B][1], "状态": "办理中"}
    assert [int(i) for i in me.page("/cases?status=completed").xpath("//tr[@data-case]/@data-case")] == []
    assert sheet(me.get("/cases?status=completed&format=xlsx"))["rows"] == []
    # who may not read cases may not list them
    for refused in ("checker_a", "admin", "subject"):
        assert web(refused).get("/cases?format=xlsx").status_code == 403
        assert web(refused).get("/cases").status_code == 403


def test_sharing_export_lists_the_filtered_items(web, objects, world):
    record_id = 2                   # severity 一般: published now, queued for both platforms
    case_id = next(t.case_id for t in world.tasks() if t.record_id == record_id)
    world.complete("reviewer", world.task(case_id, "legality_review").id,
                   {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"})
    world.complete("leader", world.task(case_id, "leader_approval").id,
                   {"leader_decision": "approve", "leader_opinion": "同意。"})
    me = web("leader")
    shown = [f"#{i}" for i in me.page("/sharing").xpath("//tr[@data-item]/@data-item")]
    data = sheet(me.get("/sharing?format=xlsx"))
    assert shown and column(data, "条目") == shown
    assert set(column(data, "记录")) == {"R-000002"} and set(column(data, "状态")) == {"待报送"}
    assert set(column(data, "变更类型")) == {"新增"}
    platform = column(data, "平台")[0]
    code = {"省级平台": "provincial", "国家平台": "national"}[platform]
    one = sheet(me.get(f"/sharing?platform={code}&format=xlsx"))
    assert column(one, "平台") == [platform] and one["filters"] == {"平台": platform}
    assert sheet(me.get("/sharing?state=rejected&format=xlsx"))["rows"] == []
    assert web("checker_a").get("/sharing?format=xlsx").status_code == 403
