"""The warnings page (/warnings): leaders and system administrators only; its filters (rule, state,
department); acknowledging with a note (required: the error beside the note, nothing lost; a double
submit is harmless; CSRF is on); "evaluate now"; the list as .xlsx read back with openpyxl; the
page in English; the dashboard's panel."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook
from sqlalchemy import select

from credflow_web import Page, location
from workflows.commitments.service import Draft, register_commitment
from workflows.early_warning.model import EarlyWarning
from workflows.early_warning.service import open_warnings

A, B = 0, 1


def add_warnings(world) -> dict:
    """Four warnings: A's records (open), a commitment of B's (open), a step (acknowledged), one resolved."""
    now = world.clock.now()
    a, b = world.subjects[A], world.subjects[B]
    rows = {
        "records": EarlyWarning(rule="department_records", key=f"department_records:{a}", about="department",
                                about_id=a, department_id=a, raised_at=now, last_seen_at=now,
                                params={"department": world.subject_names[A], "months": 12, "count": 3, "threshold": 2}),
        "commitment": EarlyWarning(rule="commitment_due", key="commitment_due:99", about="commitment", about_id=99,
                                   department_id=b, raised_at=now, last_seen_at=now,
                                   params={"township": world.subject_names[B], "case": "C-000099", "date": "2026-06-10",
                                           "threshold": 10}),
        "step": EarlyWarning(rule="overdue_step", key="overdue_step:98", about="task", about_id=98, raised_at=now,
                             last_seen_at=now, acknowledged_by="leader", acknowledged_by_name="王领导",
                             acknowledged_at=now, acknowledgement_note="已督办",
                             params={"case": "C-000098", "task": {"msgid": "合法性审核"}, "date": "2026-05-20",
                                     "days": 7, "threshold": 3}),
        "resolved": EarlyWarning(rule="department_records", key=f"department_records:{b}", about="department",
                                 about_id=b, department_id=b, raised_at=now - timedelta(days=3), last_seen_at=now,
                                 resolved_at=now, params={"department": world.subject_names[B], "months": 12,
                                                          "count": 2, "threshold": 2}),
    }
    with world.uow() as uow:
        uow.session.add_all(rows.values())
        uow.commit()
        return {name: row.id for name, row in rows.items()}


@pytest.fixture
def warnings(world):
    return add_warnings(world)


def shown(page: Page) -> set[int]:
    return {int(i) for i in page.xpath('//table[@id="warnings"]//tr/@data-warning')}


def test_leaders_and_administrators_only(web, warnings):
    for username in ("leader", "admin"):
        page = web(username).page("/warnings")
        assert shown(page) == {warnings["records"], warnings["commitment"], warnings["step"]}
        assert page.xpath('//a[@id="nav-warnings"]')
    for username in ("clerk", "reviewer", "manager", "subject"):
        b = web(username)
        assert b.get("/warnings").status_code == 403
        assert not b.page("/").xpath('//a[@id="nav-warnings"]')
        assert b.post(f"/warnings/{warnings['records']}/acknowledge", {"note": "x"}).status_code == 403
        assert b.post("/warnings/evaluate").status_code == 403
    assert "/login" in location(web().get("/warnings"))


def test_the_filters_and_the_page_in_english(web, world, warnings):
    b = web("leader")
    assert shown(b.page("/warnings?rule=department_records")) == {warnings["records"]}
    assert shown(b.page("/warnings?state=open")) == {warnings["records"], warnings["commitment"]}
    assert shown(b.page("/warnings?state=acknowledged")) == {warnings["step"]}
    assert shown(b.page("/warnings?state=resolved")) == {warnings["resolved"]}
    assert shown(b.page("/warnings?state=all")) == set(warnings.values())
    assert shown(b.page(f"/warnings?department={world.subjects[B]}&state=all")) == \
        {warnings["commitment"], warnings["resolved"]}
    assert shown(b.page("/warnings?rule=nonsense&department=x")) == shown(b.page("/warnings"))
    page = b.page("/warnings")                      # A's records link to its records; the leader reads them
    link = page.xpath(f'//tr[@data-warning="{warnings["records"]}"]//a[@data-warning-link]/@href')
    assert link and link[0].startswith("/records?q=")
    assert b.get(link[0]).status_code == 200
    assert not web("admin").page("/warnings").xpath('//a[@data-warning-link][starts-with(@href, "/records")]')
    page = b.page("/warnings?lang=en&state=all")    # in English: every word (the data aside)
    text = page.xpath('string(//table[@id="warnings"])')
    assert "records in the last 12 months" in text and "Acknowledged" in text and "Resolved" in text
    assert "Legality review" in text                # the step's name, translated
    visible = page.xpath('string(//main)')
    for data in (*world.subject_names, "王领导", "已督办"):
        visible = visible.replace(data, "")
    assert not re.findall(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]+", visible)


def test_acknowledging_with_a_note(web, world, warnings):
    b = web("leader")
    target = warnings["commitment"]
    url = f"/warnings/{target}/acknowledge"
    b.get("/warnings?state=open")
    assert b.post(url, {"note": "x"}, csrf=False).status_code == 400
    response = b.post(url, {"note": "   ", "back": "state=open"})
    assert response.status_code == 422
    page = Page(response)
    assert page.xpath(f'//tr[@data-warning="{target}"]//*[@data-error-for="note"]')
    assert b.post("/warnings/99999/acknowledge", {"note": "已核实"}).status_code == 404
    response = b.post(url, {"note": "已约谈东镇，月底前履行。", "back": "state=open"})
    assert response.status_code == 303 and location(response) == "/warnings?state=open"
    again = b.post(url, {"note": "第二次提交"})      # a double submit: harmless, the first note stays
    assert again.status_code == 303
    with world.factory() as session:
        row = session.get(EarlyWarning, target)
        assert (row.acknowledged_by, row.acknowledgement_note) == ("leader", "已约谈东镇，月底前履行。")
    page = b.page("/warnings?state=acknowledged")
    assert target in shown(page)
    assert "已约谈东镇，月底前履行。" in page.xpath(f'string(//tr[@data-warning="{target}"]//*[@data-acknowledgement])')


def test_evaluate_now_raises_what_the_rules_find(web, world):
    due = (world.clock.today() + timedelta(days=5)).isoformat()
    commitment = world.run("clerk", register_commitment, Draft(world.subjects[A], "本月内清偿欠款。", due, "张某", "局长"))
    b = web("leader")
    b.get("/warnings")
    response = b.post("/warnings/evaluate", {"back": ""})
    assert response.status_code == 303
    page = b.page("/warnings?rule=commitment_due")
    (row,) = page.xpath('//table[@id="warnings"]//tr[@data-warning]')
    assert row.xpath('.//a[@data-warning-link]/@href') == [f"/cases/{commitment.case_id}"]
    assert b.post("/warnings/evaluate").status_code == 303          # again: still the one warning
    assert len(b.page("/warnings?state=all").xpath('//tr[@data-warning]')) == 1


def test_the_export_reads_back(web, world, warnings):
    b = web("leader")
    response = b.get(f"/warnings?format=xlsx&state=all&department={world.subjects[B]}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c for c in r] for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "监测预警"
    assert ["状态", "全部"] == list(rows[1][:2]) and ["部门", world.subject_names[B]] == list(rows[2][:2])
    header = rows.index(next(r for r in rows if r[0] == "编号"))
    body = rows[header + 1:]
    assert sorted(r[0] for r in body) == sorted([warnings["commitment"], warnings["resolved"]])
    states = {r[0]: r[4] for r in body}
    assert states == {warnings["commitment"]: "待处理", warnings["resolved"]: "已解除"}
    acknowledged = b.get("/warnings?format=xlsx&state=acknowledged")
    sheet = load_workbook(io.BytesIO(acknowledged.data)).active
    (line,) = [r for r in sheet.iter_rows(values_only=True) if r[0] == warnings["step"]]
    assert line[8:] == ("王领导", "2026-06-01 09:00", "已督办")
    english = load_workbook(io.BytesIO(b.get("/warnings?format=xlsx&lang=en").data)).active
    assert [c.value for c in next(english.iter_rows(min_row=1, max_row=1))][0] == "Early warnings"


def test_the_dashboard_panel(web, world, warnings):
    with world.factory() as session:
        leader = open_warnings(session, world.actors["leader"], limit=10)
        assert [w.id for w in leader] == [warnings["commitment"], warnings["records"]]   # newest first, open only
        assert open_warnings(session, world.actors["subject"]) == []
    html = web("leader").get("/dashboard/").get_data(as_text=True)
    assert 'id="warnings-panel"' not in web("subject").get("/dashboard/").get_data(as_text=True)
    with world.uow() as uow:
        for row in uow.session.scalars(select(EarlyWarning)):
            row.resolved_at = world.clock.now()
        uow.commit()
    empty = web("admin").get("/dashboard/").get_data(as_text=True)
    tree = lxml_html.fromstring(html)
    assert tree.xpath('//a[@id="warnings-panel-all"]/@href') == ["/warnings"]
    assert tree.xpath('//li[@data-warning]//a/@href') == [f"/warnings#warning-{warnings['commitment']}",
                                                          f"/warnings#warning-{warnings['records']}"]
    assert 'id="warnings-panel-empty"' in empty
