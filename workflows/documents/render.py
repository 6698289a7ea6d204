"""HTML to PDF with WeasyPrint (Noto CJK fonts), and where the seal goes on the page."""
from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..numbers import case_no, record_no

TEMPLATES = Path(__file__).resolve().parent / "templates"
PX_TO_PT = 0.75


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters.update(record_no=record_no, case_no=case_no)    # R-000012, C-000007 / A-000007
    return env


def qr_data_uri(text: str) -> str:
    import segno
    svg = segno.make(text, error="m").svg_inline(scale=4, border=1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def render_html(kind: str, context: dict) -> str:
    return _env().get_template(f"{kind}.html").render(**context)


def render_pdf(html: str) -> tuple[bytes, int, tuple[float, float, float, float]]:
    """The PDF, the 0-based page of the seal box and the box in PDF points (x1, y1, x2, y2)."""
    from weasyprint import HTML
    document = HTML(string=html, base_url=str(TEMPLATES)).render()
    page_index, box = len(document.pages) - 1, (350.0, 120.0, 520.0, 185.0)
    for index, page in enumerate(document.pages):
        found = _find_box(page._page_box, "seal")
        if found is not None:
            height = page.height
            x, y, w, h = found
            page_index = index
            box = (x * PX_TO_PT, (height - y - h) * PX_TO_PT, (x + w) * PX_TO_PT, (height - y) * PX_TO_PT)
            break
    return document.write_pdf(custom_metadata=True), page_index, box   # <meta> names into the PDF's Info


def _find_box(box, element_id: str):
    element = getattr(box, "element", None)
    if element is not None and element.get("id") == element_id and hasattr(box, "border_width"):
        return box.position_x, box.position_y, box.border_width(), box.border_height()
    for child in getattr(box, "children", []) or []:
        found = _find_box(child, element_id)
        if found is not None:
            return found
    return None
