"""The domain's messages (workflows.messages) in the page's language."""
from __future__ import annotations

from flask_babel import gettext

from workflows.messages import Message, message_of


def translated(item) -> str:
    """An exception's or a Message's text in the request's language; anything else as it stands."""
    if isinstance(item, BaseException):
        item = message_of(item)
    if isinstance(item, Message):
        return item.render(gettext)
    return "" if item is None else str(item)
