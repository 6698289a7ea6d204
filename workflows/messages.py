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


class Joined(Message):
    """Several parts (Messages or plain text) shown as one, joined by a separator that is itself
    translated ("、" in Chinese, ", " in English)."""

    def __init__(self, parts, separator: str = N_("、")):
        super().__init__(separator)
        self.parts = tuple(parts)

    def render(self, translate: Translate | None = None) -> str:
        separator = translate(self.msgid) if translate else self.msgid
        return separator.join(p.render(translate) if isinstance(p, Message) else str(p) for p in self.parts)

    def __eq__(self, other) -> bool:
        return isinstance(other, Joined) and (self.msgid, self.parts) == (other.msgid, other.parts)

    def __repr__(self) -> str:
        return f"Joined({self.parts!r}, {self.msgid!r})"

    __hash__ = None


def joined(parts) -> "Message | str":
    """Several Messages (or plain texts) as one sentence, "；" between them ("; " in English)."""
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else Joined(parts, N_("；"))


def as_data(item):
    """A Message as JSON data (to store it and translate it when it is shown); text and numbers as
    they are."""
    if isinstance(item, Joined):
        return {"joined": [as_data(p) for p in item.parts], "separator": item.msgid}
    if isinstance(item, Message):
        return {"msgid": item.msgid, "params": {k: as_data(v) for k, v in item.params.items()}}
    if item is None or isinstance(item, (str, int, float, bool)):
        return item
    return str(item)


def from_data(item):
    """What `as_data` stored, as a Message again (anything else as it is)."""
    if isinstance(item, dict) and "joined" in item:
        return Joined([from_data(p) for p in item["joined"]], item.get("separator", N_("、")))
    if isinstance(item, dict) and "msgid" in item:
        return Message(item["msgid"], **{k: from_data(v) for k, v in (item.get("params") or {}).items()})
    return item
