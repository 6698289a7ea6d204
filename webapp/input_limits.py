"""What text and JSON the app accepts, for its pages and its API alike: text a database can store,
how long each kind of value may be, and JSON parsed only after its nesting was measured.
webapp/input_guard.py applies these to every request; webapp/api/params.py to the API's arguments."""
from __future__ import annotations

import json
import math
import re

from workflows.messages import Message, N_

MAX_DEPTH = 16                # how deeply an API request body may nest
EDITOR_MAX_DEPTH = 64         # the editors post a diagram's form schemas, which nest deeper
TEXT_LIMITS = {"q": 200, "subject": 200, "process": 100, "task": 100, "field": 40}   # the API's query arguments
QUERY_LIMIT = 400             # any other query argument or path parameter (a search, a filter, an id)
QUERY_LIMITS = {**TEXT_LIMITS, "next": 2000, "back": 2000}   # a page to return to is a whole path
FORM_LIMIT = 20_000           # a form field (free text is a few thousand characters at most)
JSON_TEXT_LIMIT = 20_000      # a string in a JSON body
NAME_LIMIT = 100              # a field's name
COOKIE_LIMIT = 4096           # what a browser keeps per cookie
MAX_FIELDS = 500              # query arguments, form fields and files in one request
FILE_NAME_LIMIT = 200         # an uploaded file's name, its extension kept
# fields a later rule checks itself, saying where the problem is (input_guard.own_text_check): the
# guard only keeps them within reach of that rule, which refuses a diagram over 2 MB, a script over 20,000
DIAGRAM_TEXT_LIMIT = 8 * 1024 * 1024
SCRIPT_TEXT_LIMIT = 1024 * 1024

# what is wrong, as Messages: shown in the request's language (webapp.translate.translated)
PROBLEMS = {
    "nul": Message(N_("文本不能含 NUL 字符")),
    "unicode": Message(N_("文本不是有效的 Unicode")),
    "not_finite": Message(N_("数值超出范围")),
    "not_json": Message(N_("请求体不是有效的 JSON")),
    "too_deep": Message(N_("JSON 嵌套过深")),
    "too_many": Message(N_("字段过多（最多 %(limit)s 个）"), limit=MAX_FIELDS),
}


def text_problem(value: str) -> Message | None:
    """Why text cannot be stored, if it cannot (PostgreSQL refuses NUL; lone surrogates are not UTF-8)."""
    if "\x00" in value:
        return PROBLEMS["nul"]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return PROBLEMS["unicode"]
    return None


def too_long(limit: int) -> Message:
    return Message(N_("最多 %(limit)s 个字符"), limit=f"{limit:,}")


class JsonRefused(ValueError):
    """A body that is not JSON, or nests deeper than allowed: `problem` is a key of PROBLEMS."""

    def __init__(self, problem: str):
        super().__init__(PROBLEMS[problem])
        self.problem = problem


# a JSON string (escapes included) or a bracket; everything else between them is skipped
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text opens more than `limit` arrays or objects inside each other, measured
    without parsing (the parser recurses once per level: 100,000 levels is a RecursionError)."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, max_depth: int):
    """The body parsed, or JsonRefused: malformed, NaN/Infinity (not JSON), or nested too deeply."""
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError):
        raise JsonRefused("not_json") from None
    if nests_deeper_than(text, max_depth):
        raise JsonRefused("too_deep")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise JsonRefused("not_json") from None


def json_problems(body, max_depth: int = MAX_DEPTH, text_limit: int | None = None,
                  own: dict[str, int] | None = None) -> dict[str, Message]:
    """What is wrong in a parsed body, by the innermost field's name: text that cannot be stored
    (or is longer than `text_limit`), numbers beyond a float, nesting beyond `max_depth` (under
    "body"). `own` names fields whose text a later rule checks itself (with a message that says
    where), with their length limit. Walks without recursion."""
    own = own or {}
    errors: dict[str, Message] = {}
    stack = [(body, 0, "body")]
    while stack:
        item, depth, where = stack.pop()
        if depth > max_depth:
            return {"body": PROBLEMS["too_deep"]}
        if isinstance(item, str):
            limit = own.get(where, text_limit)
            problem = None if where in own else text_problem(item)
            if problem is None and limit is not None and len(item) > limit:
                problem = too_long(limit)
            if problem:
                errors.setdefault(where, problem)
        elif isinstance(item, float) and not math.isfinite(item):
            errors.setdefault(where, PROBLEMS["not_finite"])
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key) or (too_long(NAME_LIMIT) if len(key) > NAME_LIMIT else None)
                if problem:
                    errors.setdefault(where, problem)
                    continue
                stack.append((child, depth + 1, key))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, where) for child in item)
    return errors


_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff/\\]")


def clean_file_name(name: str | None, default: str = "file") -> str:
    """An uploaded file's name as it can be stored and sent back: no folders, no control, format
    (right-to-left override) or surrogate characters, at most FILE_NAME_LIMIT characters with the
    extension kept."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAMES.sub("", name).strip()
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 16 or not extension.isalnum():
        stem, extension = name, ""
    extension = "." + extension if extension else ""
    stem = stem.strip(" .")[:FILE_NAME_LIMIT - len(extension)]
    return (stem or default) + extension
