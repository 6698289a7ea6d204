"""Warming a serving process for its first document: without it, the first decision after start-up
pays for importing WeasyPrint and pyHanko, loading the office's key, drawing the seal, compiling
the templates and Pango's first loading of the CJK fonts (several seconds, with no progress shown).

`warm_documents(settings)` renders and signs one specimen page (kept nowhere) and compiles every
template; a serving process calls it once at start-up (webapp/startup.py)."""
from __future__ import annotations

import logging
import time

log = logging.getLogger("credflow.documents")


def warm_documents(settings) -> float:
    """Load everything the first document needs; the seconds it took."""
    started = time.perf_counter()
    from .content import TITLES
    from .render import _env, qr_data_uri, render_html, render_pdf
    from .seal import seal_image
    from .signing import sign_pdf, signer

    for kind in TITLES:
        _env().get_template(f"{kind}.html")
    signer(settings.office_name)               # the key (made on first use of a demo instance)
    seal_image(settings.office_name)           # the seal drawn once
    url = settings.public_url.rstrip("/") + "/public/verify/SPECIMEN"
    html = render_html("receipt", {
        "title": TITLES["receipt"], "office_name": settings.office_name, "number": "", "addressee": "",
        "verification_code": "SPECIMEN", "verify_url": url, "qr_data_uri": qr_data_uri(url),
        "you": "你单位", "application_text": "申请", "record_name": "R-000000", "date_text": "2026年1月1日",
        "filed_date": "2026年1月1日", "case": None, "record": None, "remedy": "", "supersedes": None,
        "decision_due": "2026年1月1日", "anchor_hash": None})
    pdf, page, box = render_pdf(html)
    sign_pdf(pdf, settings.office_name, box, page, reason=TITLES["receipt"])
    seconds = time.perf_counter() - started
    log.info("documents warmed in %.2f s (fonts, templates, seal, signing key)", seconds)
    return seconds
