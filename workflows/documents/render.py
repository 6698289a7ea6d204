"""HTML to PDF with WeasyPrint (Noto CJK fonts), and where the seal goes on the page."""
from __future__ import annotations

import atexit
import base64
import threading
from contextlib import contextmanager
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


_font_configs: list = []          # WeasyPrint font configurations not in use (a Pango font map each)
_pool_lock = threading.Lock()
atexit.register(_font_configs.clear)   # each removes its temporary folder while the interpreter still can


@contextmanager
def _font_config():
    """A WeasyPrint FontConfiguration for one rendering, with the documents' @font-face rules
    (workflows/documents/fonts.py) loaded into it. Reusing one keeps Pango's loaded fonts and
    shaping caches (a fresh one per document costs 20-30 ms); a font map is not shared between
    threads, so each rendering takes one from the pool and gives it back."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from .fonts import font_face_css
    with _pool_lock:
        entry = _font_configs.pop() if _font_configs else None
    if entry is None:
        config = FontConfiguration()
        entry = (config, CSS(string=font_face_css() or "/* system fonts */", font_config=config))
    try:
        yield entry
    finally:
        with _pool_lock:
            if len(_font_configs) < 4:
                _font_configs.append(entry)


def render_pdf(html: str) -> tuple[bytes, int, tuple[float, float, float, float]]:
    """The PDF, the 0-based page of the seal box and the box in PDF points (x1, y1, x2, y2)."""
    from weasyprint import HTML
    with _font_config() as (font_config, font_faces):
        document = HTML(string=html, base_url=str(TEMPLATES)).render(font_config=font_config,
                                                                     stylesheets=[font_faces])
        pdf = document.write_pdf(custom_metadata=True)   # <meta> names into the PDF's Info
    page_index, box = len(document.pages) - 1, (350.0, 120.0, 520.0, 185.0)
    for index, page in enumerate(document.pages):
        found = _find_box(page._page_box, "seal")
        if found is not None:
            height = page.height
            x, y, w, h = found
            page_index = index
            box = (x * PX_TO_PT, (height - y - h) * PX_TO_PT, (x + w) * PX_TO_PT, (height - y) * PX_TO_PT)
            break
    return pdf, page_index, box


def _find_box(box, element_id: str):
    element = getattr(box, "element", None)
    if element is not None and element.get("id") == element_id and hasattr(box, "border_width"):
        return box.border_box_x(), box.border_box_y(), box.border_width(), box.border_height()
    for child in getattr(box, "children", []) or []:
        found = _find_box(child, element_id)
        if found is not None:
            return found
    return None
