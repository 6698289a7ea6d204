"""Messages meant for a user, kept apart from the language they are read in.

The domain never writes "中文 / English" pairs. It raises a `UserError` carrying a `Message`:
a catalog id (the Chinese text, with `%(name)s` placeholders) and its parameters. The web
translates the id through the message catalog in the page's language. `str()` gives the Chinese
text for logs and the command line. `N_` marks an id for `pybabel extract` without translating it.
"""
from __future__ import annotations

from typing import Callable

Translate = Callable[[str], str]


def N_(msgid: str) -> str:
    """Mark a catalog id for extraction; the text is translated where it is shown."""
    return msgid


class Message:
    """A catalog id and its parameters; a parameter may itself be a Message (translated too)."""
    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params):
        self.msgid, self.params = msgid, params

    def render(self, translate: Translate | None = None) -> str:
        text = translate(self.msgid) if translate else self.msgid
        if not self.params:
            return text
        values = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        return text % values

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Message) and (self.msgid, self.params) == (other.msgid, other.params)

    __hash__ = None


class UserError(Exception):
    """A refusal meant for the user. `message` is the Message; str() is its Chinese text."""

    def __init__(self, msgid: "str | Message" = "", **params):
        self.message = msgid if isinstance(msgid, Message) else Message(msgid, **params)
        super().__init__(str(self.message))


def message_of(exc: BaseException) -> Message:
    """The user's message of any exception: a UserError's own, else its text as it stands."""
    message = getattr(exc, "message", None)
    if isinstance(message, Message):
        return message
    return Message("%(text)s", text=str(exc))
