"""The version comparison page: a manager who changed a deadline from 2 to 3 working days and moved
the task's box sees that one change on that task, with the old and new value, and the diagram
colours that task alone; the moved box shows only when layout changes are asked for."""
from __future__ import annotations

import json
import re

from workflows.definitions import latest_definition
from workflows.process_admin import deploy_edited, main_file

URL = "/admin/processes/objection/diff"


def _second_version(world) -> None:
    with world.factory() as session:
        first = latest_definition(session, "objection")
        xml, forms = main_file(first)[1], dict(first.forms)
    form = '<spiffworkflow:property name="formJsonSchemaFilename" value="acceptance_check.json" />\n'
    due = '          <spiffworkflow:property name="dueInWorkdays" value="%s" />'
    assert xml.count(form + due % 2) == 1
    xml = xml.replace(form + due % 2, form + due % 3)
    shape = re.search(r'(<bpmndi:BPMNShape id="acceptance_check_di"[^>]*>\s*<dc:Bounds x=")(\d+)', xml)
    xml = xml.replace(shape.group(0), f"{shape.group(1)}{int(shape.group(2)) + 30}")
    result = world.run("manager", deploy_edited, "objection", xml, forms)
    assert result.version == 2 and result.created


def _changes(page) -> list[tuple[str, str, str, str, str]]:
    return [(item.getparent().getparent().get("data-changed"), item.get("data-kind"), item.get("data-detail"),
             item.xpath("string(.//*[contains(@class, 'cf-old')])").strip(),
             item.xpath("string(.//*[contains(@class, 'cf-new')])").strip())
            for item in page.xpath('//li[@data-changed]//div[@data-kind]')]


def test_a_changed_deadline_is_the_one_change_and_layout_shows_when_asked(world, web):
    _second_version(world)
    manager = web("manager")
    page = manager.page(URL)
    assert page.status == 200
    assert page.counts == {"changed": 1, "added": 0, "removed": 0}
    assert _changes(page) == [("acceptance_check", "deadline", "dueInWorkdays", "2", "3")]
    item = " ".join(page.xpath('//li[@data-changed="acceptance_check"]')[0].text_content().split())
    assert "受理审查" in item and "办理期限" in item and "工作日数" in item
    assert json.loads(page.text_of("diff-markers")) == {"added": [], "changed": ["acceptance_check"]}
    assert page.value_of("layout") is None                                   # the toggle, unticked

    with_layout = manager.page(URL + "?layout=1")
    assert with_layout.value_of("layout") == "1"
    assert [c[:3] for c in _changes(with_layout)] == [("acceptance_check", "deadline", "dueInWorkdays"),
                                                      ("acceptance_check", "layout", "bounds")]

    english = manager.page(URL + "?lang=en")
    item = " ".join(english.xpath('//li[@data-changed="acceptance_check"]')[0].text_content().split())
    assert "Deadline" in item and "Working days" in item and "办理期限" not in item


def test_the_same_version_on_both_sides_shows_no_change(world, web):
    with world.factory() as session:
        only = latest_definition(session, "objection")
    page = web("manager").page(f"{URL}?a={only.id}&b={only.id}")
    assert page.counts == {"changed": 0, "added": 0, "removed": 0}
    assert _changes(page) == []
