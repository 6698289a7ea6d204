"""A diagram drawn in Camunda Modeler, in a real browser: uploaded, refused with every problem listed
and marked on the drawn diagram; opened in the editor as a draft with the same problems marked; the
Camunda settings of a task removed with one click in the properties panel."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, select

from workflows.accounts import create_user
from workflows.models import ProcessDraft, User

MIWG = Path(__file__).resolve().parents[1] / "data" / "miwg"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MANAGER = ("uploader", "uploader-pw-2026", "周流程", ["manager"])


@pytest.fixture(scope="module")
def manager(live_server):
    username, password, display, roles = MANAGER
    with live_server.uow() as uow:
        if uow.session.scalar(select(User).where(User.username == username)) is None:
            create_user(uow, username, password, display, roles)
        uow.commit()
    yield username, password
    with live_server.uow() as uow:
        uow.session.execute(delete(ProcessDraft).where(ProcessDraft.key == "Process_order"))
        uow.commit()


def test_a_camunda_diagram_is_refused_marked_and_fixed_in_the_editor(page: Page, live_server, manager):
    page.set_default_timeout(15_000)
    page.context.set_default_navigation_timeout(30_000)
    page.goto(live_server.url + "/login")
    page.fill("#username", manager[0])
    page.fill("#password", manager[1])
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))

    page.goto(live_server.url + "/admin/upload")
    page.set_input_files('input[name="bpmn"]', str(MIWG / "C.1.0-camunda-order.bpmn"))
    page.click("#upload-form button")
    expect(page.locator("#upload-problems li")).to_have_count(15)
    expect(page.locator("#upload-diagram")).to_have_attribute("data-ready", "1")
    # every element with a problem is outlined and numbered on the drawing (the process itself: listed)
    marked = page.locator("#upload-diagram .djs-element.cf-problem")
    expect(marked).to_have_count(9)
    expect(page.locator('.cf-problem-badge[data-problem-for="Activity_check"]')).to_have_text(re.compile(r"^\d+(, \d+)*$"))
    page.screenshot(path=str(SCREENSHOTS / "admin-upload-refused.png"), full_page=True)

    page.click('button[data-open-draft="Process_order"]')
    expect(page).to_have_url(re.compile(r"/admin/processes/Process_order/editor"))
    expect(page.locator("#canvas")).to_have_attribute("data-ready", "1")
    expect(page.locator("#problems li")).to_have_count(15)
    expect(page.locator("#problems-title")).to_contain_text("草稿有 15 个问题")
    expect(page.locator("#canvas .djs-element.cf-problem")).to_have_count(9)

    # the Camunda settings of a task: listed in the panel, removed with one click
    page.locator('#problems li[data-element="Activity_check"]').first.click()
    expect(page.locator("#properties")).to_have_attribute("data-element", "Activity_check")
    settings = page.locator('[data-vendor-settings="Activity_check"]')
    expect(settings).to_contain_text('camunda:assignee="${starter}"')
    expect(settings).to_contain_text("camunda:formKey")
    page.screenshot(path=str(SCREENSHOTS / "admin-editor-imported-draft.png"))
    settings.locator("button").click()
    expect(page.locator('[data-vendor-settings="Activity_check"]')).to_have_count(0)
    page.click("#validate")
    expect(page.locator("#problems-title")).to_contain_text("校验发现 14 个问题")
    assert "camunda:assignee" not in page.evaluate("async () => (await cfEditor.modeler.saveXML()).xml")
