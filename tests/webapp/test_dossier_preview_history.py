"""The dossier's file previews and the record's history, through the Flask test client.

A PDF or an image filed with a case opens inline for whoever may download it, with nosniff and a
policy that lets it run nothing; any other type, or a file whose bytes are not what its type says,
stays a download; nobody else gets it. The record's earlier decisions and applications are listed
with who and when, and each link opens for the viewer: staff reach every case and document, a
subject only their own, through the portal."""
from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from sqlalchemy import select

from test_dossier import PDF
from test_dossier_processes import PNG, apply_in_portal, history, history_text, publish
from test_portal import subject_b  # noqa: F401  (a fixture: a second subject's account)
from workflows.models import Attachment, Document
from workflows.worker import run_once

SAFE_POLICY = ("sandbox", "default-src 'none'")


def objection_with_files(web, world, clock) -> tuple[int, int, dict[str, int]]:
    """A published record and an objection filed in the portal with a PDF and a PNG:
    (record id, objection case id, {file name: attachment id})."""
    record_id, _, _ = publish(world, clock)
    case_id = apply_in_portal(web("subject"), record_id, "objection", [
        ("grounds", "factual_error"), ("statement", "异议陈述-7f3a"),
        ("evidence", (BytesIO(PDF), "结清凭证.pdf")), ("evidence", (BytesIO(PNG), "回单照片.png"))])
    with world.factory() as session:
        files = dict(session.execute(select(Attachment.filename, Attachment.id).where(Attachment.case_id == case_id)).all())
    return record_id, case_id, files


def stored(app, world, case_id: int, body: bytes, name: str, content_type: str) -> int:
    """A file kept as it would be, under the type given (which the upload check would never give it)."""
    digest = hashlib.sha256(body).hexdigest()
    path = Path(app.config["UPLOAD_FOLDER"]) / digest[:2] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    with world.factory() as session:
        att = Attachment(case_id=case_id, uploaded_by_id=world.user_ids["subject"], filename=name,
                         content_type=content_type, size=len(body), sha256=digest, created_at=world.clock.now())
        session.add(att)
        session.commit()
        return att.id


def shown_inline(response, mimetype: str, body: bytes) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.mimetype == mimetype and response.data == body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert all(p in policy for p in SAFE_POLICY) and "script-src" not in policy


def downloaded(response) -> None:
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_pdf_and_a_png_preview_inline_on_the_task_pages_and_nothing_loads_before(web, world, clock):
    _, case_id, files = objection_with_files(web, world, clock)
    clerk = web("clerk")
    page = clerk.page(f"/tasks/{world.task(case_id, 'acceptance_check').id}")
    panels = page.xpath('//section[@id="dossier"]//details[contains(@class, "cf-preview")]')
    assert [(p.get("data-preview-kind"), p.get("data-preview-title")) for p in panels] == [
        ("pdf", "结清凭证.pdf"), ("image", "回单照片.png")]
    # closed, the panels hold no frame and no image: the files load only when a panel is opened
    assert not page.xpath('//section[@id="dossier"]//details//iframe | //section[@id="dossier"]//details//img')
    # the script that opens them is a file of its own, never inline
    scripts = page.xpath('//section[@id="dossier"]/following-sibling::script[1]')
    assert scripts and scripts[0].get("src", "").endswith("/static/dossier_preview.js") and not scripts[0].text
    assert clerk.get(scripts[0].get("src")).status_code == 200

    pdf_url, png_url = (p.get("data-preview-src") for p in panels)
    assert pdf_url == f"/attachments/{files['结清凭证.pdf']}?inline=1"
    shown_inline(clerk.get(pdf_url), "application/pdf", PDF)
    shown_inline(clerk.get(png_url), "image/png", PNG)
    downloaded(clerk.get(pdf_url.replace("?inline=1", "")))          # the link itself stays a download

    # the same file from the subject's side: their own case, through the portal
    subject = web("subject")
    shown_inline(subject.get(f"/portal/attachments/{files['回单照片.png']}?inline=1"), "image/png", PNG)
    downloaded(subject.get(f"/portal/attachments/{files['回单照片.png']}"))


def test_any_other_type_or_a_disguised_file_stays_a_download(app, web, world, clock):
    _, case_id, _ = objection_with_files(web, world, clock)
    html = b"<html><script>alert('7f3a')</script></html>"
    others = {stored(app, world, case_id, html, "page.html", "text/html"): "application/octet-stream",
              stored(app, world, case_id, b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>",
                     "drawing.svg", "image/svg+xml"): "application/octet-stream",
              stored(app, world, case_id, html + b" ", "photo.png", "image/png"): "image/png"}   # not a PNG inside
    clerk, subject = web("clerk"), web("subject")
    for attachment_id, mimetype in others.items():
        for browser, url in ((clerk, f"/attachments/{attachment_id}?inline=1"),
                             (subject, f"/portal/attachments/{attachment_id}?inline=1")):
            response = browser.get(url)
            downloaded(response)
            assert response.mimetype == mimetype, url
            assert "Content-Security-Policy" not in response.headers or "sandbox" in response.headers[
                "Content-Security-Policy"]


def test_a_preview_is_refused_to_whoever_may_not_download_the_file(web, world, clock, subject_b):
    _, case_id, files = objection_with_files(web, world, clock)
    pdf = files["结清凭证.pdf"]
    other_subject = web(subject_b)
    assert other_subject.get(f"/portal/attachments/{pdf}?inline=1").status_code == 404
    assert other_subject.get(f"/attachments/{pdf}?inline=1").status_code == 403
    assert web("subject").get(f"/attachments/{pdf}?inline=1").status_code == 403   # staff pages are staff's
    anonymous = web().get(f"/attachments/{pdf}?inline=1")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert web().get(f"/portal/attachments/{pdf}?inline=1").status_code == 302
    assert web("clerk").get("/attachments/99999?inline=1").status_code == 404


def test_the_record_history_for_staff_and_for_the_subject(web, world, clock, subject_b):
    """An objection decided (the record corrected), then a credit repair sent back for a supplement:
    the repair's pages list the record's decisions and the objection, each link opening for its viewer."""
    record_id, objection_id, _ = objection_with_files(web, world, clock)
    world.complete("clerk", world.task(objection_id, "acceptance_check").id,
                   {"acceptance": "accept", "acceptance_reason": "受理审查意见-7f3a"})
    world.complete("reviewer", world.task(objection_id, "verification").id,
                   {"verification_outcome": "keep", "verification_reason": "核查意见-7f3a"})
    world.complete("leader", world.task(objection_id, "leader_approval").id,
                   {"final_outcome": "keep", "decision_reason": "领导审批意见-7f3a"})
    decided_at = clock.now().strftime("%Y-%m-%d %H:%M")
    clock.advance(days=100)                                        # past the minimum publication period
    run_once(world.factory, clock)
    subject = web("subject")
    repair_id = apply_in_portal(subject, record_id, "credit_repair", [
        ("obligations_fulfilled", "on"), ("statement", "修复申请说明-7f3a"), ("commitment", (BytesIO(PDF), "承诺书.pdf"))])
    with world.factory() as session:
        documents = session.execute(select(Document.id, Document.title, Document.number, Document.verification_code)
                                    .where(Document.record_id == record_id).order_by(Document.id)).all()
    assert [d.title for d in documents] == ["失信惩戒决定书", "受理回执", "异议处理决定书"]

    clerk = web("clerk")
    check = world.task(repair_id, "completeness_check")
    page = clerk.page(f"/tasks/{check.id}")
    links = history(page)
    assert links["documents"] == [f"/documents/{d.id}" for d in documents]
    assert links["verify"] == [f"/public/verify?code={d.verification_code}" for d in documents]
    assert links["cases"] == [f"/cases/{objection_id}"]          # not the repair itself
    text = history_text(page)
    assert all(d.number in text for d in documents)
    assert "异议申请" in text and "维持记录" in text and "已办结" in text and f"办结 {decided_at}" in text
    for url in links["documents"] + links["cases"]:
        assert clerk.get(url).status_code == 200, url
    for d, url in zip(documents, links["verify"]):                # anyone may verify a document
        verified = web().page(url)
        assert verified.status == 200 and d.number in verified.text

    # the subject, on the supplement asked of them: their documents and their objection, in the portal
    world.complete("clerk", check.id, {"completeness": "supplement", "missing_items": "需补正的材料-7f3a",
                                       "supplement_days": 5, "completeness_reason": "审查意见-7f3a"})
    page = subject.page(f"/portal/tasks/{world.task(repair_id, 'supplement').id}")
    links = history(page)
    assert links["cases"] == [f"/portal/applications/{objection_id}"]
    assert [u.rsplit("/", 1)[1] for u in links["documents"]][:3] == [str(d.id) for d in documents]
    assert "补正材料通知书" in history_text(page)                # the notice asking for the supplement
    for url in links["documents"] + links["cases"] + links["verify"]:
        assert subject.get(url).status_code == 200, url
    other = web(subject_b)
    for url in links["documents"] + links["cases"]:
        assert other.get(url).status_code == 404, url

    english = subject.page(f"/portal/tasks/{world.task(repair_id, 'supplement').id}?lang=en")
    assert "The record's earlier decisions and applications" in english.text_of("record-history")


def test_no_history_section_for_a_record_without_decisions_or_applications(web, world):
    _, lifecycle_id = world.open_record()
    page = web("reviewer").page(f"/tasks/{world.task(lifecycle_id, 'legality_review').id}")
    assert page.xpath('//section[@id="dossier"]') and not page.xpath('//*[@id="record-history"]')
