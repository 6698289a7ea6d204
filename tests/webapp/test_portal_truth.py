"""The portal tells the truth about what a subject may ask for: every application it does not
offer says why and from when, and the server, asked straight at the application's URL, refuses it
with that same sentence and files nothing."""
from __future__ import annotations

from io import BytesIO

from credflow_web import Page
from test_portal import MIN_END, PDF, A, applications, objection_form, publish
from workflows.applications import file_objection

FORMS = {   # a form each application's own checks accept, so only the availability can refuse it
    "objection": objection_form(),
    "self_correction": [("measures", "recovered_loss"), ("statement", "已挽回全部损失。")],
    "credit_repair": [("obligations_fulfilled", "on"), ("statement", "已全额支付欠款。"),
                      ("commitment", (BytesIO(PDF), "承诺书.pdf"))],
}


def form(process):
    return [(k, (BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v) for k, v in FORMS[process]]


def greyed_out(page: Page) -> dict[str, str]:
    """process -> the reason the record page gives, for every application it does not offer."""
    found = {}
    for item in page.xpath('//ul[@id="actions"]/li[@data-option]'):
        process = item.get("data-option")
        if item.xpath(f'.//a[@id="apply-{process}"]'):
            continue
        found[process] = " ".join(item.text_content().split())
    return found


def refused_straight(browser, world, record_id: int, process: str) -> str:
    """Post straight to the application's URL: refused (422), nothing filed; the refusal's sentence."""
    url = f"/portal/records/{record_id}/{process}"
    before = applications(world, process)
    apply_page = browser.page(url)
    assert apply_page.xpath('//button[@id="submit-application"][@disabled]'), process
    shown = apply_page.text_of("unavailable")
    refused = Page(browser.post(url, form(process), content_type="multipart/form-data"))
    assert refused.status == 422, (process, refused.status)
    assert refused.text_of("form-error") == shown
    assert applications(world, process) == before
    return shown


def test_a_published_record_says_why_and_from_when_and_the_server_refuses_the_same(web, world):
    record_id, _ = publish(world, A)
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.xpath('//a[@id="apply-objection"]')          # offered: an objection
    reasons = greyed_out(page)
    assert set(reasons) == {"self_correction", "credit_repair"}
    assert "只能在惩戒决定作出前申请" in reasons["self_correction"]
    assert page.text_of("credit_repair-from") == f"{MIN_END} 起可申请"

    assert "只能在惩戒决定作出前申请" in refused_straight(a, world, record_id, "self_correction")
    repair = refused_straight(a, world, record_id, "credit_repair")
    assert "暂不能申请信用修复" in repair and MIN_END in repair

    english = a.page(f"/portal/records/{record_id}?lang=en")
    assert english.text_of("credit_repair-from") == f"possible from {MIN_END}"


def test_a_record_under_review_offers_only_self_correction(web, world):
    record_id, _ = world.open_record(A)
    a = web("subject")
    reasons = greyed_out(a.page(f"/portal/records/{record_id}"))
    assert set(reasons) == {"objection", "credit_repair"}
    assert "该记录当前不能提出异议" in reasons["objection"]
    assert "该记录当前不能提出异议" in refused_straight(a, world, record_id, "objection")
    assert "只有公示中的记录可以申请信用修复" in refused_straight(a, world, record_id, "credit_repair")


def test_an_open_objection_links_to_itself_and_a_second_is_refused_with_its_number(web, world):
    record_id, _ = publish(world, A)
    first = world.run("subject", file_objection, record_id, "factual_error", "金额有误", [])
    a = web("subject")
    page = a.page(f"/portal/records/{record_id}")
    assert page.xpath(f'//li[@data-option="objection"]//a[@href="/portal/applications/{first.id}"]')
    shown = refused_straight(a, world, record_id, "objection")
    assert "该记录已有异议正在处理" in shown and f"#{first.id}" in shown
