"""The case page: comments (escaped), the diagram source, a missing case."""
from __future__ import annotations

import pytest

from credflow_web import Page, location

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_comment_is_added_and_shown_escaped(web, world):
    _, case_id = world.open_record()
    b = web("reviewer")
    page = Page(b.get(f"/cases/{case_id}"))
    assert "暂无意见" in page.one("comments").text_content()
    response = b.post(f"/cases/{case_id}/comments", {"body": "第一行\n" + XSS})
    assert response.status_code == 302
    assert location(response) == f"/cases/{case_id}"
    assert response.headers["Location"].endswith("#comments")
    page = Page(b.get(f"/cases/{case_id}"))
    assert any("意见已添加。" in a for a in page.alerts)
    comments = page.one("comments")
    bodies = [d.text_content() for d in comments.xpath('.//div[@class="pre-wrap"]')]
    assert bodies == ["第一行\n" + XSS]
    # shown as text: no script or img element came from the comment
    assert comments.xpath(".//script") == [] and comments.xpath(".//img") == []
    assert XSS not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    # others see it too, and the timeline records it
    other = Page(web("clerk").get(f"/cases/{case_id}"))
    assert [d.text_content() for d in other.one("comments").xpath('.//div[@class="pre-wrap"]')] == bodies
    assert "添加意见" in other.one("timeline").text_content()


def test_comments_keep_their_order_and_time(web, world, clock):
    _, case_id = world.open_record()
    b = web("reviewer")
    b.get(f"/cases/{case_id}")
    b.post(f"/cases/{case_id}/comments", {"body": "甲"})
    clock.advance(hours=3, minutes=15)
    b.post(f"/cases/{case_id}/comments", {"body": "乙"})
    page = Page(b.get(f"/cases/{case_id}"))
    entries = page.one("comments").xpath('./div[@class="card-body"]/div[contains(@class, "border-bottom")]')
    assert [e.xpath('.//div[@class="pre-wrap"]')[0].text_content() for e in entries] == ["甲", "乙"]
    assert "2026-06-01 09:00" in entries[0].text_content()
    assert "2026-06-01 12:15" in entries[1].text_content()


def test_empty_comment_is_refused(web, world):
    _, case_id = world.open_record()
    b = web("reviewer")
    b.get(f"/cases/{case_id}")
    page = Page(b.post(f"/cases/{case_id}/comments", {"body": "   \n  "}))
    assert page.status == 400
    assert "意见不能为空" in page.text_of("error-message")
    assert "暂无意见" in Page(b.get(f"/cases/{case_id}")).one("comments").text_content()


def test_comment_on_a_missing_case_is_404(web, world):
    b = web("reviewer")
    b.get("/inbox")
    assert b.post("/cases/4242/comments", {"body": "x"}).status_code == 404
    assert b.get("/cases/4242").status_code == 404
    assert b.get("/cases/4242/diagram.bpmn").status_code == 404


def test_comment_is_signed_with_the_authors_display_name(web, world):
    _, case_id = world.open_record()
    b = web("reviewer")
    b.get(f"/cases/{case_id}")
    b.post(f"/cases/{case_id}/comments", {"body": "同意"})
    entry = Page(b.get(f"/cases/{case_id}")).one("comments").xpath('.//div[contains(@class, "border-bottom")]')[0]
    header = entry.xpath('./div[contains(@class, "small")]')[0].text_content()
    assert header.startswith("李审核 ·")


def test_case_page_shows_the_case_and_its_diagram_source(web, world):
    record_id, case_id = world.open_record(subject=3)
    b = web("clerk")
    page = Page(b.get(f"/cases/{case_id}"))
    assert page.status == 200
    assert "失信记录认定与公示" in page.xpath("//h1")[0].text_content()
    assert f"失信记录 R-{record_id:06d}" in page.text
    summary = page.text_of("record-summary")
    assert world.subject_names[3] in summary
    assert "**********" in summary       # the citizen ID is masked
    import json
    states = json.loads(page.one("element-states").text)
    assert states["capture"] == "completed" and states["legality_review"] == "current"
    diagram = b.get(f"/cases/{case_id}/diagram.bpmn")
    assert diagram.status_code == 200
    assert diagram.mimetype == "application/xml"
    assert b'id="legality_review"' in diagram.data


def test_a_comment_as_long_as_the_textarea_allows_is_accepted(web, world):
    _, case_id = world.open_record()
    b = web("reviewer")
    page = Page(b.get(f"/cases/{case_id}"))
    limit = int(page.xpath('//textarea[@name="body"]/@maxlength')[0])
    lines = ["意" * 999] * 5
    typed = "\n".join(lines) + "见"              # what the textarea holds
    assert len(typed) == limit
    response = b.post(f"/cases/{case_id}/comments", {"body": typed.replace("\n", "\r\n")})   # as submitted
    assert response.status_code == 302
