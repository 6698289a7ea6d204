"""What a serving process does once at start-up (`credflow serve`, gunicorn's `webapp:create_app()`):
say so when the public address printed on documents is not configured, and warm the documents
(fonts, templates, seal, signing key) in the background so the first decision is not the slow one.
Test apps (TESTING) do neither."""
from __future__ import annotations

import logging
import sys
import threading

log = logging.getLogger("credflow.startup")


def public_url_warning(settings) -> str | None:
    """The warning when CREDFLOW_PUBLIC_URL is unset (None when it is set)."""
    if settings.public_url_configured:
        return None
    return (f"CREDFLOW_PUBLIC_URL is not set: documents and their QR codes point to {settings.public_url}, "
            "which only works on this machine. Set it to the address people reach this site at "
            "(e.g. https://credit.example.gov.cn).")


def warn_public_url(settings) -> None:
    message = public_url_warning(settings)
    if message:
        log.warning(message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def _warm(settings) -> None:
    from workflows.documents.warmup import warm_documents
    try:
        warm_documents(settings)
    except Exception:  # noqa: BLE001 -- a failed warm-up only means a slower first document
        log.warning("warming the documents failed; the first document will load them", exc_info=True)


def register(app, serving: bool) -> None:
    """Called by create_app for a serving process (`create_app()` without a config, as gunicorn and
    `credflow serve` build it, or WARM_DOCUMENTS=True): warn, and start warming (the thread is
    app.extensions['credflow.warmup']; `credflow serve` waits for it before serving)."""
    wanted = app.config.get("WARM_DOCUMENTS")
    if app.config.get("TESTING") or wanted is False or not (serving or wanted):
        return
    settings = app.config["SETTINGS"]
    warn_public_url(settings)
    thread = threading.Thread(target=_warm, args=(settings,), name="credflow-warm-documents", daemon=True)
    app.extensions["credflow.warmup"] = thread
    thread.start()


def serving_settings(host: str, port: int):
    """`credflow serve`'s settings: without CREDFLOW_PUBLIC_URL, documents point at the address it
    serves on (still warned about: no other machine may reach it)."""
    from dataclasses import replace
    from workflows.settings import load_settings
    settings = load_settings()
    if settings.public_url_configured:
        return settings
    if host in ("", "0.0.0.0", "::"):
        host = _own_address()
    shown = f"[{host}]" if ":" in host else host
    return replace(settings, public_url=f"http://{shown}:{port}")


def _own_address() -> str:
    """This machine's address on its default route (no packet is sent); 127.0.0.1 without one."""
    import socket
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
