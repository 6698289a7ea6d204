"""The dossier's file previews in a real browser: a subject files an objection with a PDF and a PNG
through the portal; the clerk's task page lists both files, loads neither until its panel is
opened, then shows the PDF in the browser's viewer and the image on the page, at 1366 and at 390
pixels wide. The file answers inline with nosniff and a sandboxing policy."""
from __future__ import annotations

import os
import re
import struct
import zlib
from io import BytesIO

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from workflows.accounts import create_user
from workflows.demo import make_uscc
from workflows.records import open_record, register_subject

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")

SUBJECT_NAME = "榆林市某区自然资源局"
SUBJECT_USER = ("subject_land", "subject-land-pw-2026")
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "未按合同约定支付测绘企业账款 20 万元，逾期超过180日。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}
PDF_VIEWER = "chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/"   # Chromium's built-in PDF viewer


def one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF that says `text` (ASCII), with a correct cross-reference table."""
    stream = f"BT /F1 28 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png(width: int, height: int, rgb=(13, 110, 253)) -> bytes:
    """A valid PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def objection_task(live_server, browser: Browser, browser_context_args):
    """A published record whose subject filed an objection in the portal with a PDF and a PNG:
    the acceptance check's task row id."""
    with live_server.uow() as uow:
        subject = register_subject(uow, "department", SUBJECT_NAME, make_uscc("11610802MB503259"))
        create_user(uow, SUBJECT_USER[0], SUBJECT_USER[1], SUBJECT_NAME, ["subject"], subject_id=subject.id)
        uow.commit()
        subject_id = subject.id
    with live_server.uow("clerk") as uow:
        record, case = open_record(uow, subject_id, CAPTURE)
        uow.commit()
        record_id, lifecycle_id = record.id, case.id
    live_server.complete("reviewer", lifecycle_id, "legality_review",
                         {"review_decision": "approve", "review_opinion": "事实清楚，证据充分。"})
    live_server.complete("leader", lifecycle_id, "leader_approval",
                         {"leader_decision": "approve", "leader_opinion": "同意。"})
    page = browser.new_context(**browser_context_args).new_page()
    try:
        login(page, *SUBJECT_USER, r"/portal/$")
        page.goto(f"/portal/records/{record_id}/objection")
        page.get_by_label("事实错误").check()
        page.fill("#f_statement", "欠款已于认定前结清，附银行回单和现场照片。")
        page.set_input_files("#f_evidence", files=[
            {"name": "银行回单.pdf", "mimeType": "application/pdf", "buffer": one_page_pdf("Bank receipt 7f3a")},
            {"name": "现场照片.png", "mimeType": "image/png", "buffer": png(320, 200)}])
        page.click("#submit-application")
        expect(page).to_have_url(re.compile(r"/portal/applications/\d+$"))
        case_id = int(page.url.rsplit("/", 1)[1])
    finally:
        page.context.close()
    return live_server.task_row(case_id, "acceptance_check")


def login(page: Page, username: str, password: str, lands_on: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(lands_on))


def pdf_viewer_shown(page: Page) -> bool:
    return any(frame.url.startswith(PDF_VIEWER) for frame in page.frames)


def paper_shown(screenshot: bytes) -> bool:
    """A white sheet in the frame: the viewer has drawn the PDF's page (before that it is all dark grey)."""
    histogram = Image.open(BytesIO(screenshot)).convert("L").histogram()
    return sum(histogram[246:]) > sum(histogram) * 0.15


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_a_pdf_and_a_png_preview_on_the_clerks_task_page(browser: Browser, browser_context_args, live_server,
                                                          objection_task, width, height, tmp_path):
    context = browser.new_context(**{**browser_context_args, "viewport": {"width": width, "height": height}})
    page = context.new_page()
    previews_requested = []
    page.on("request", lambda r: previews_requested.append(r.url) if "inline=1" in r.url else None)
    try:
        login(page, "clerk", live_server.users["clerk"][0], r"/inbox")
        page.goto(f"/tasks/{objection_task}")
        evidence = page.locator('#dossier [data-dossier-field="evidence"]')
        expect(evidence.locator("a[data-attachment]")).to_have_text(["银行回单.pdf", "现场照片.png"])
        pdf_panel = evidence.locator('details.cf-preview[data-preview-kind="pdf"]')
        image_panel = evidence.locator('details.cf-preview[data-preview-kind="image"]')
        expect(pdf_panel).to_have_count(1)
        expect(image_panel).to_have_count(1)
        page.wait_for_load_state("networkidle")
        assert previews_requested == [] and not pdf_viewer_shown(page)     # nothing loads until asked

        # the PDF: a frame in the page, showing the browser's PDF viewer
        pdf_panel.locator("summary").click()
        frame = pdf_panel.locator("iframe.cf-preview-frame")
        expect(frame).to_be_visible()
        frame.scroll_into_view_if_needed()
        for _ in range(100):                    # the viewer starts in a frame of its own, then draws the page
            if pdf_viewer_shown(page) and paper_shown(frame.screenshot()):
                break
            page.wait_for_timeout(200)
        assert pdf_viewer_shown(page), [f.url for f in page.frames]
        assert paper_shown(frame.screenshot()), "the PDF's page is not drawn"
        box = frame.bounding_box()
        assert box["width"] >= min(width - 80, 600) * 0.5 and box["height"] >= 300
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        page.screenshot(path=str(tmp_path / f"dossier-preview-pdf-{width}.png"))

        # the image: shown on the page, scaled to fit
        image_panel.locator("summary").click()
        image = image_panel.locator("img.cf-preview-image")
        expect(image).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=image.element_handle())
        box = image.bounding_box()
        assert 0 < box["width"] <= min(320 + 2, width) and box["x"] + box["width"] <= width   # (a 1px border)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width   # nothing sticks out
        assert len(set(previews_requested)) == 2          # the two files, once opened (the viewer may fetch again)

        # each answer: inline, nosniff, sandboxed, nothing allowed to run
        for url in set(previews_requested):
            response = context.request.get(url)
            assert response.status == 200
            assert response.headers["content-disposition"].startswith("inline")
            assert response.headers["x-content-type-options"] == "nosniff"
            policy = response.headers["content-security-policy"]
            assert "sandbox" in policy and "default-src 'none'" in policy and "script-src" not in policy
        page.screenshot(path=str(tmp_path / f"dossier-preview-{width}.png"), full_page=True)
    finally:
        context.close()
