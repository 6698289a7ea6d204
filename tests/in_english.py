"""The domain's messages as an English page shows them: rendered through the English catalog
(webapp/translations/en/LC_MESSAGES/messages.po), for tests that read what a message says."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

PO = Path(__file__).resolve().parents[1] / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=1)
def _catalog() -> dict[str, str]:
    with PO.open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if isinstance(m.id, str) and m.id and m.string}


def translate(msgid: str) -> str:
    return _catalog().get(msgid) or msgid


def english(item) -> str:
    """A Message, a bundle Problem (with its file and element), a calendar FileProblem (with its
    line) or a domain error, in English."""
    from workflows.messages import Message, message_of
    if hasattr(item, "element") and hasattr(item, "reason") and hasattr(item, "text"):
        return item.text(translate)
    if isinstance(getattr(item, "message", None), Message):
        return item.message.render(translate)
    if isinstance(item, BaseException):
        return message_of(item).render(translate)
    if isinstance(item, Message):
        return item.render(translate)
    return str(item)
