"""The monitoring dashboard (/dashboard): every chart's numbers against the hand-counted world of
dashboard_world.py, the filters, who sees what (the city, one department, nobody), the table view
beside each chart, and the list behind every bar, whose total is the bar's number."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from credflow_web import Page, WebWorld, world_template
from dashboard_world import SEEN_AT, build
from workflows.dashboard.figures import records_by_department
from workflows.dashboard.filters import Filters
from workflows.dashboard.scope import Scope

_TEMPLATE = {}


@pytest.fixture(scope="module")
def _sqlite_template(_sqlite_template, tmp_path_factory):
    path, _TEMPLATE["objects"] = world_template(_sqlite_template, tmp_path_factory, "dashboard", build)
    return path


@pytest.fixture
def world_seed():
    return "dashboard", lambda factory, clock: build(WebWorld(factory, clock))


@pytest.fixture
def o(database_url, world, seeded, clock):
    if database_url.startswith("sqlite"):
        made = _TEMPLATE["objects"]
    else:
        made = seeded.made if seeded.restored == "dashboard" else build(world)
    clock.at = SEEN_AT
    return made


def figures(b, **args) -> dict:
    response = b.get("/dashboard/data.json", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def chart(data: dict, chart_id: str) -> dict[str, list]:
    """category -> the values of each series, in order."""
    found = [c for c in data["charts"] if c["id"] == chart_id]
    assert found, f"no chart {chart_id}"
    c = found[0]
    return {name: [s["data"][i] for s in c["series"]] for i, name in enumerate(c["categories"])}


def test_the_leader_sees_every_chart_as_counted_by_hand(web, o):
    data = figures(web("leader"))
    assert data["open_cases"] == 5 and not data["department_only"]
    assert chart(data, "by_department") == {"榆林市某区住房和城乡建设局": [4], "榆林市某县招商服务中心": [2],
                                            "未归属部门": [1], "某镇人民政府": [1]}
    assert chart(data, "by_field") == {"招标投标": [2], "政府采购": [3], "招商引资": [1], "其他": [1],
                                       "政府和社会资本合作": [1]}
    assert chart(data, "by_severity") == {"一般": [4], "轻微": [1], "严重": [3]}
    assert chart(data, "by_month") == {"2026-06": [5], "2026-07": [3]}
    assert chart(data, "steps_by_step") == {"合法性审核 · 失信记录认定与公示": [3, 2], "领导审批 · 失信记录认定与公示": [1, 0],
                                            "自新情况评估 · 主动自新申请": [1, 0]}
    assert chart(data, "steps_by_person") == {"待认领：审核人": [3, 1], "李审核": [1, 1], "待认领：分管领导": [1, 0]}
    assert chart(data, "applications") == {"准予信用修复 · 信用修复申请": [1], "不予受理/不予采纳 · 异议申请": [1],
                                           "办理中 · 主动自新申请": [1]}
    assert chart(data, "decision_times") == {"2026-06": [4.0, 6.0, 3], "2026-07": [3.0, 3.0, 1]}


def test_the_filters_narrow_every_chart(web, o):
    b = web("admin")
    data = figures(b, department=str(o.subjects[1]))        # B: its own record and its civil servant's
    assert chart(data, "by_department") == {"榆林市某县招商服务中心": [2]}
    assert chart(data, "steps_by_step") == {"合法性审核 · 失信记录认定与公示": [2, 2]}
    assert chart(data, "applications") == {} and chart(data, "decision_times") == {}
    data = figures(b, field="government_procurement")
    assert chart(data, "by_severity") == {"一般": [1], "轻微": [1], "严重": [1]}
    assert chart(data, "decision_times") == {"2026-06": [2.0, 2.0, 1], "2026-07": [3.0, 3.0, 1]}
    assert chart(data, "applications") == {"准予信用修复 · 信用修复申请": [1]}
    data = figures(b, **{"from": "2026-07-01", "to": "2026-07-31"})
    assert chart(data, "by_month") == {"2026-07": [3]}
    assert chart(data, "steps_by_step") == {"合法性审核 · 失信记录认定与公示": [1, 0], "领导审批 · 失信记录认定与公示": [1, 0],
                                            "自新情况评估 · 主动自新申请": [1, 0]}
    assert chart(data, "applications") == {"办理中 · 主动自新申请": [1]}
    assert chart(data, "decision_times") == {"2026-07": [3.0, 3.0, 1]}
    assert figures(b, **{"from": "2026-06-08", "to": "2026-06-30"})["charts"][0]["categories"] == []


def test_a_department_account_sees_its_own_notified_records_only(web, o):
    a = web("subject")
    data = figures(a, department=str(o.subjects[1]))         # another department asked for: its own given
    assert data["department_only"] and data["filters"]["department"] == str(o.subjects[0])
    assert chart(data, "by_department") == {"榆林市某区住房和城乡建设局": [4]}
    assert "steps_by_person" not in {c["id"] for c in data["charts"]}        # not the office's workload
    assert chart(data, "steps_by_step") == {"领导审批 · 失信记录认定与公示": [1, 0], "自新情况评估 · 主动自新申请": [1, 0]}
    assert chart(data, "decision_times") == {"2026-06": [2.0, 4.0, 2], "2026-07": [3.0, 3.0, 1]}
    assert web("subject").get(f"/dashboard/steps?person={o.reviewer}").status_code == 400
    b_data = figures(web("subject_b"))        # B's only record is still under review: not notified, not shown
    assert chart(b_data, "by_department") == {} and chart(b_data, "steps_by_step") == {}
    page = Page(a.get("/dashboard/"))
    assert page.status == 200 and page.xpath('//a[@id="nav-dashboard"]') and not page.xpath('//select[@name="department"]')


@pytest.mark.one_database
def test_who_may_look(web, o):
    for who, status in (("leader", 200), ("admin", 200), ("subject", 200), ("clerk", 403), ("reviewer", 403),
                        ("manager", 403)):
        b = web(who)
        for url in ("/dashboard/", "/dashboard/data.json", "/dashboard/records", "/dashboard/steps",
                    "/dashboard/applications"):
            assert b.get(url).status_code == status, (who, url)
        assert bool(Page(b.get("/notifications")).xpath('//a[@id="nav-dashboard"]')) == (status == 200), who


@pytest.mark.one_database
def test_anonymous_is_sent_to_log_in(web, o):
    response = web().get("/dashboard/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_table_shows_the_chart_numbers_and_every_link_lists_them(web, o):
    b = web("leader")
    data = figures(b)
    page = Page(b.get("/dashboard/"))
    followed = 0
    for c in data["charts"]:
        rows = page.xpath(f'//div[@id="table-{c["id"]}"]//tbody/tr')
        assert [r.xpath("./th")[0].text_content().strip() for r in rows] == c["categories"]
        for i, row in enumerate(rows):
            cells = row.xpath("./td")
            for s, cell in zip(c["series"], cells):
                assert cell.text_content().strip() == str(s["data"][i])
                link = cell.xpath(".//a/@href")
                assert link == ([s["links"][i]] if s["links"][i] else [])
                if link and c["id"] != "decision_times":
                    listed = Page(b.get(link[0]))
                    assert listed.status == 200
                    total = int(re.search(r"\d+", listed.text_of("list-total")).group())
                    assert total == s["data"][i], (c["id"], c["categories"][i], s["name"])
                    followed += 1
    assert followed >= 20
    decided = Page(b.get(chart_link(data, "decision_times", "2026-06")))
    assert [row.get("data-record") for row in decided.xpath('//tr[@data-record]')] == [str(o.r5), str(o.r2), str(o.r1)]
    assert decided.xpath('//tr[@data-record]/td[last()]/text()') == ["6.0", "4.0", "2.0"]


def chart_link(data, chart_id, category, series=0):
    c = [c for c in data["charts"] if c["id"] == chart_id][0]
    return c["series"][series]["links"][c["categories"].index(category)]


def test_a_list_behind_a_bar_exports_every_row_with_its_filters(web, o):
    b = web("leader")
    link = chart_link(figures(b, field="government_procurement"), "by_month", "2026-06")
    response = b.get(link + "&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["领域", "政府采购"] in values
    numbers = [row[0] for row in values if row and isinstance(row[0], str) and row[0].startswith("R-")]
    assert len(numbers) == 2           # r1 and r4: captured in June, government procurement


BAD_FILTERS = [({"from": "2026-13-01"}, "起始日期“2026-13-01”无效"),
               ({"from": "2026-07-02", "to": "2026-07-01"}, "截止日期不能早于起始日期"),
               ({"department": "999999"}, "没有这个部门"), ({"field": "nonsense"}, "没有这个领域"),
               ({"from": "2000-01-01", "to": "2026-01-01"}, "统计期间不能超过十年")]


@pytest.mark.one_database
def test_bad_filters_are_refused_and_kept_on_screen(web, o):
    b = web("leader")
    for args, message in BAD_FILTERS:
        page = Page(b.get("/dashboard/", query_string=args))
        assert page.status == 400 and message in page.text_of("filter-error")
        for name, value in args.items():
            if name in ("from", "to"):       # the dates as typed (a select cannot show a value it does not offer)
                assert page.value_of(name) == value
        assert b.get("/dashboard/data.json", query_string=args).status_code == 400
    assert b.get("/dashboard/records?by=month&key=june").status_code == 400
    assert b.get("/dashboard/applications?key=complaint").status_code == 400


@pytest.mark.one_database
def test_the_page_in_english_is_english(web, o):
    b = web("leader")
    page = Page(b.get("/dashboard/?lang=en"))
    text = "".join(page.xpath("//main//text()[not(ancestor::script)]"))
    for name in ("榆林市某区住房和城乡建设局", "榆林市某县招商服务中心", "某镇人民政府", "李审核"):   # data, not words
        text = text.replace(name, "")
    assert "Records by department" in text and not re.search(r"[\u4e00-\u9fff]", text)


def test_the_smaller_departments_are_summed_into_one_bar(world, o):
    with world.factory() as session:
        bars = records_by_department(session, Filters(date(2026, 1, 1), date(2026, 7, 10)), Scope(), top=2)
    assert [(b.key, b.values["records"]) for b in bars] == [(str(o.subjects[0]), 4), (str(o.subjects[1]), 2), ("", 2)]
