"""A diagram drawn elsewhere, as a process manager meets it in the browser: the upload page lists
every problem at once (file, element id, name, reason in the page's language) and draws the diagram
with each problem on its element; "在编辑器中修改" keeps it as the process's draft, the editor opens it
with the same problems marked, the manager fixes lanes, forms and expressions there and deploys it,
without redrawing anything."""
from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from workflows.models import AuditEvent, ProcessDefinition, ProcessDraft

from credflow_web import Page, location

MIWG = Path(__file__).resolve().parents[1] / "data" / "miwg"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
FORM = {"type": "object", "title": "审核", "properties": {"note": {"type": "string", "title": "意见"}}}


def upload(manager, name: str, data: bytes | None = None):
    manager.get("/admin/upload")
    return Page(manager.post("/admin/upload", {"bpmn": (BytesIO(data or (MIWG / name).read_bytes()), name)},
                             content_type="multipart/form-data"))


def listed(page: Page) -> list[tuple[str, str]]:
    return [(li.get("data-element"), " ".join(li.text_content().split())) for li in
            page.xpath('//*[@id="upload-problems"]//li')]


def api(manager, method: str, url: str, body=None):
    send = manager.client.post if method == "POST" else manager.client.get
    kwargs = {"headers": {"X-CSRFToken": manager.token}}
    if body is not None:
        kwargs["json"] = body
    return send(url, **kwargs)


def test_a_camunda_diagram_is_refused_with_every_problem_listed_and_drawn(web, session_factory):
    manager = web("manager")
    page = upload(manager, "C.9.0-camunda-everything.bpmn")
    assert page.status == 422
    items = listed(page)
    assert len(items) == 19
    assert {element for element, _ in items} == {
        "Process_claims", "Lane_experts", "Start_claim", "Task_register", "DataStoreRef_crm", "Task_lookup",
        "Task_score", "Task_assess", "Call_fraud", "Gateway_any", "Wait_noon", "Throw_stop", "Flow_e"}
    for element, text in items:   # file · id 「name」：the reason, in Chinese only
        assert text.startswith(f"C.9.0-camunda-everything.bpmn · {element}")
        reason = re.split(r"：", text, maxsplit=1)[1]
        assert re.search(r"[\u4e00-\u9fff]", reason) and " / " not in reason, text
        assert "not supported" not in reason and "would be ignored" not in reason, text
    assert ("Call_fraud", "C.9.0-camunda-everything.bpmn · Call_fraud 「反欺诈检查」：调用活动不受支持，请改用子流程，"
            "或由服务操作启动的子案件") in items
    # the diagram as uploaded, with the same problems to mark on it
    assert page.one("upload-diagram") is not None
    assert page.value_of("bpmn_xml") == (MIWG / "C.9.0-camunda-everything.bpmn").read_text(encoding="utf-8")
    assert page.xpath("//button[@data-open-draft]/@value") == ["Process_claims"]
    with session_factory() as session:
        assert session.get(ProcessDraft, "Process_claims") is None
        assert session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "Process_claims")).all() == []


def test_the_page_reads_in_english_too(web):
    manager = web("manager")
    manager.get("/admin/upload?lang=en")
    page = upload(manager, "C.1.0-camunda-order.bpmn")
    assert page.html_lang == "en"
    assert "Not deployed. The problems:" in page.text and "Open in the editor" in page.text
    assert "No need to redraw it" in page.text


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_broken_upload_lists_its_problems_in_the_page_language_only(web):
    """The same refused diagram: on the Chinese page every reason is Chinese, with ?lang=en every
    reason is English (the diagram's own names, 「...」, stay as drawn)."""
    manager = web("manager")
    chinese = dict(listed(upload(manager, "C.9.0-camunda-everything.bpmn")))
    manager.get("/admin/?lang=en")
    page = upload(manager, "C.9.0-camunda-everything.bpmn")
    assert page.status == 422 and page.html_lang == "en"
    english = dict(listed(page))
    assert chinese.keys() == english.keys() and len(english) == 13
    for element, text in english.items():
        reason = re.split(r"[：:] ?", text.split(element, 1)[1], maxsplit=1)[1]
        assert not CJK.search(re.sub(r"「[^」]*」|'[^']*'", "", reason)), text   # names as drawn aside
        assert CJK.search(chinese[element].split("：", 1)[1]), chinese[element]
        assert " / " not in reason and " / " not in chinese[element]
    english_items = listed(page)
    assert any(text.endswith("call activities are not supported; use an embedded subprocess, or a sub-case started "
                             "by a service operation") for element, text in english_items if element == "Call_fraud")
    # the editor's JSON speaks the session's language too
    problems = api(manager, "POST", "/admin/processes/record_lifecycle/validate",
                   {"bpmn_xml": "<not-xml", "forms": {}}).get_json()["problems"]
    assert any(p["reason"].startswith("malformed XML") for p in problems), problems
    manager.get("/admin/upload?lang=zh_CN")
    assert any(text.endswith("调用活动不受支持，请改用子流程，或由服务操作启动的子案件")
               for element, text in listed(upload(manager, "C.9.0-camunda-everything.bpmn")) if element == "Call_fraud")
    problems = api(manager, "POST", "/admin/processes/record_lifecycle/validate",
                   {"bpmn_xml": "<not-xml", "forms": {}}).get_json()["problems"]
    assert any(p["reason"].startswith("XML 格式错误") for p in problems), problems


def camunda_fixed_in_the_editor(xml: str) -> str:
    """What the manager does in the editor to C.1.0: remove the Camunda settings (one click per
    element), name the lanes after roles, give the user tasks forms, write the conditions and the
    reminder in Python / ISO 8601, and choose an operation for the service task."""
    root = etree.fromstring(xml.encode())
    for el in root.iter():
        for key in [k for k in el.attrib if k.startswith(f"{{{CAMUNDA}}}")]:
            del el.attrib[key]
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    by_id["Lane_sales"].set("name", "clerk")
    by_id["Lane_approvers"].set("name", "reviewer")
    for task_id in ("Activity_check", "Activity_approve"):
        ext = etree.SubElement(by_id[task_id], f"{{{BPMN}}}extensionElements")
        by_id[task_id].insert(0, ext)
        props = etree.SubElement(ext, f"{{{SPIFF}}}properties")
        etree.SubElement(props, f"{{{SPIFF}}}property", name="formJsonSchemaFilename", value="check.json")
    condition = {"Flow_big": "amount > 1000", "Flow_small": "amount <= 1000 and not blocked"}
    for flow_id, python in condition.items():
        by_id[flow_id].find(f"{{{BPMN}}}conditionExpression").text = python
    by_id["Event_remind"].find(f".//{{{BPMN}}}timeDuration").text = "PT1H"
    ship = by_id["Activity_ship"]
    ext = etree.SubElement(ship, f"{{{BPMN}}}extensionElements")
    operator = etree.SubElement(ext, f"{{{SPIFF}}}serviceTaskOperator", id="notify")
    params = etree.SubElement(operator, f"{{{SPIFF}}}parameters")
    etree.SubElement(params, f"{{{SPIFF}}}parameter", id="kind", type="str", value='"shipped"')
    etree.SubElement(params, f"{{{SPIFF}}}parameter", id="lane", type="str", value='"clerk"')
    return etree.tostring(root, encoding="unicode")


def test_a_refused_diagram_opens_in_the_editor_as_a_draft_is_fixed_there_and_deploys(web, session_factory):
    manager = web("manager")
    name = "C.1.0-camunda-order.bpmn"
    refused = upload(manager, name)
    on_upload = {element for element, _ in listed(refused)}
    response = manager.post("/admin/upload/draft", {"file_name": name, "bpmn_xml": refused.value_of("bpmn_xml"),
                                                    "key": "Process_order"})
    assert response.status_code == 302 and location(response) == "/admin/processes/Process_order/editor"
    with session_factory() as session:
        draft = session.get(ProcessDraft, "Process_order")
        assert draft is not None and draft.base_version is None and draft.forms == {}
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.action == "definition.draft_imported")).all()
    # the admin page lists the new process's draft; the editor opens it with the problems marked
    assert manager.page("/admin/").xpath('//*[@data-new-draft]//a[@data-edit="Process_order"]')
    assert manager.get("/admin/processes/Process_order/editor").status_code == 200
    loaded = api(manager, "GET", "/admin/processes/Process_order/draft.json").get_json()
    assert loaded["is_draft"] and {p["element"] for p in loaded["problems"]} == on_upload
    assert all({"file", "element", "name", "reason"} <= set(p) for p in loaded["problems"])
    check = next(p for p in loaded["problems"] if p["element"] == "Activity_check")
    assert check["name"] == "检查订单"
    validated = api(manager, "POST", "/admin/processes/Process_order/validate",
                    {"bpmn_xml": loaded["bpmn_xml"], "forms": {}}).get_json()
    assert validated["problems"] == loaded["problems"]

    fixed = camunda_fixed_in_the_editor(loaded["bpmn_xml"])
    answer = api(manager, "POST", "/admin/processes/Process_order/validate", {"bpmn_xml": fixed, "forms": {}}).get_json()
    assert [(p["element"], p["reason"]) for p in answer["problems"]] == [
        ("Activity_check", "表单文件 forms/Process_order/check.json 不存在"),
        ("Activity_approve", "表单文件 forms/Process_order/check.json 不存在")]   # the form is next
    deployed = api(manager, "POST", "/admin/processes/Process_order/deploy",
                   {"bpmn_xml": fixed, "forms": {"check.json": FORM}})
    assert deployed.status_code == 200, deployed.get_json()
    assert deployed.get_json()["version"] == 1
    with session_factory() as session:
        assert session.get(ProcessDraft, "Process_order") is None
        definition = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "Process_order")).one()
        assert definition.name == "订单审批"


def test_a_diagram_not_marked_executable_opens_executable_and_a_draft_being_edited_is_not_lost_unasked(web, session_factory):
    manager = web("manager")
    page = upload(manager, "C.7.0-not-executable.bpmn")
    assert [element for element, _ in listed(page)] == ["miwg_c7_0", "c7_register"]   # not executable; no form yet
    assert page.xpath("//button[@data-open-draft]/@value") == ["miwg_c7_0"]
    xml = page.value_of("bpmn_xml")
    assert manager.post("/admin/upload/draft", {"file_name": "C.7.0-not-executable.bpmn", "bpmn_xml": xml,
                                                "key": "miwg_c7_0"}).status_code == 302
    loaded = api(manager, "GET", "/admin/processes/miwg_c7_0/draft.json").get_json()
    assert 'isExecutable="true"' in loaded["bpmn_xml"]
    assert [p["element"] for p in loaded["problems"]] == ["c7_register"]
    # uploading it again: the offer says which draft it would replace
    again = upload(manager, "C.7.0-not-executable.bpmn")
    assert "将替换该流程现有的草稿" in again.text_of("open-in-editor")
    # a key that is not a process of the file is refused, and nothing is stored
    bad = manager.post("/admin/upload/draft", {"file_name": "x.bpmn", "bpmn_xml": xml, "key": "record_lifecycle"})
    assert bad.status_code == 422 and "文件中没有此流程" in Page(bad).text
    with session_factory() as session:
        assert session.get(ProcessDraft, "record_lifecycle") is None


def test_the_editor_checks_a_timer_as_bpmn_writes_it_while_it_is_typed(web):
    manager = web("manager")
    manager.get("/admin/")

    def check(kind, source):
        return api(manager, "POST", "/admin/api/check", {"source": source, "mode": kind}).get_json()
    for kind, source in (("timeDuration", "PT5M"), ("timeDuration", "P1DT2H"), ("timeDate", "2027-01-05T09:00:00+08:00"),
                         ("timeCycle", "R3/PT1H"), ("timeDate", "workday_deadline(5)"), ("timeDuration", '"PT5M"')):
        assert check(kind, source) == {"ok": True}, (kind, source)
    wrong_kind = check("timeDate", "PT5M")
    assert not wrong_kind["ok"] and "请写在 timeDuration 中" in wrong_kind["error"]
    manager.get("/admin/?lang=en")
    wrong_kind = check("timeDate", "PT5M")
    assert not wrong_kind["ok"] and "write it in timeDuration" in wrong_kind["error"]
    unsafe = check("timeDuration", "open('/etc/passwd').read()")
    assert not unsafe["ok"] and "open" in unsafe["error"]
