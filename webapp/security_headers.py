"""The security headers every response carries, and how stored files leave the app.

Every answer (pages, error pages, the JSON API, static files) gets a Content-Security-Policy that
runs only the app's own script files (no inline script, no inline event handler, no plugin, no
foreign form target, no framing by other sites), plus nosniff, a referrer policy and the
X-Frame-Options that matches the policy's frame-ancestors. A download (Content-Disposition:
attachment) gets a policy that runs nothing, and a response that already chose its own policy (the
sandboxed inline preview of an attachment) keeps it.

A file whose bytes someone stored (a deployed diagram, an uploaded file, a generated document) is
never rendered by the browser as a page of this origin: `stored_file` sends it as a download with
nosniff and a policy that runs nothing even if a browser did render it.
"""
from __future__ import annotations

import io

from flask import Flask, send_file

# style-src keeps 'unsafe-inline': templates use style="..." attributes and <style> blocks, and
# bpmn-js/diagram-js set style attributes on the SVG it draws. Styles cannot run script.
# img-src/font-src allow data: for Bootstrap's inline SVG icons and the bpmn-js font and icons.
PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",          # the dossier's PDF preview, an attachment of this app, in an iframe
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# A stored file: nothing runs, nothing loads, a unique (sandboxed) origin, framed by nobody.
STORED_FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _frame_options(policy: str) -> str:
    """X-Frame-Options saying what the policy's frame-ancestors says (for browsers without CSP 2)."""
    return "SAMEORIGIN" if "frame-ancestors 'self'" in policy else "DENY"


def add_security_headers(response):
    for name, value in COMMON_HEADERS.items():
        response.headers[name] = value
    if "Content-Security-Policy" not in response.headers:
        is_download = response.headers.get("Content-Disposition", "").startswith("attachment")
        response.headers["Content-Security-Policy"] = STORED_FILE_POLICY if is_download else PAGE_POLICY
    policy = response.headers["Content-Security-Policy"]
    response.headers["X-Frame-Options"] = _frame_options(policy)
    return response


def stored_file(body: bytes | str, filename: str, mimetype: str):
    """Stored content as a download (attachment; add_security_headers adds nosniff and the policy
    that runs nothing). A page's script that needs it fetches it all the same."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if isinstance(body, str) and mimetype.split(";")[0] in ("application/xml", "text/xml", "text/plain"):
        mimetype += "; charset=utf-8"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
