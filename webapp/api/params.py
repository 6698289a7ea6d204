"""What the API accepts: query arguments and JSON bodies checked before anything reads them."""
from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _

from workflows.forms import FormInvalid, validate_form

from ..context import MAX_PAGE
from ..formkit import fields_of
from ..input_limits import (MAX_DEPTH, PROBLEMS, TEXT_LIMITS, JsonRefused, json_problems, parse_json, text_problem,
                           too_long)
from ..uploads import check_attachment_ids
from .access import api_actor
from .errors import ApiError

MAX_ID = 2 ** 31 - 1          # ids are database integers: anything larger is simply not found


# -- input: every request has crossed webapp/input_guard.py, with the same rules and limits -------

def check_arg_text(name: str, value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ApiError(400, _("参数 %(name)s 无效", name=name), {name: problem})


def check_json(body: dict) -> None:
    """Nesting is bounded (else 400); text is storable and numbers are finite (else 422, reported
    under the innermost field's name)."""
    errors = json_problems(body, MAX_DEPTH)
    if errors.get("body") == PROBLEMS["too_deep"]:
        raise ApiError(400, PROBLEMS["too_deep"])
    if errors:
        raise ApiError(422, _("表单有误"), errors)


def json_object() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, _("请求体须为 JSON 对象"))
    try:
        body = parse_json(raw, MAX_DEPTH)
    except JsonRefused as exc:
        raise ApiError(400, PROBLEMS[exc.problem]) from None
    if not isinstance(body, dict):
        raise ApiError(400, _("请求体须为 JSON 对象"))
    check_json(body)
    return body


def is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def text_arg(name: str, choices=None) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    check_arg_text(name, value)
    if choices is not None:
        if value not in choices:
            raise ApiError(400, _("参数 %(name)s 无效", name=name),
                           {name: _("取值须为 %(choices)s 之一", choices=", ".join(choices))})
    elif len(value) > TEXT_LIMITS[name]:
        raise ApiError(400, _("参数 %(name)s 过长", name=name), {name: too_long(TEXT_LIMITS[name])})
    return value


def int_arg(name: str, default: int, maximum: int) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value) or not 1 <= int(value) <= maximum:
        raise ApiError(400, _("参数 %(name)s 无效", name=name),
                       {name: _("须为 1 到 %(maximum)s 之间的整数", maximum=maximum)})
    return int(value)


def bool_arg(name: str) -> bool:
    value = request.args.get(name)
    if value in (None, "", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ApiError(400, _("参数 %(name)s 无效", name=name), {name: _("须为 true 或 false")})


def page_args() -> tuple[int, int]:
    return int_arg("page", 1, MAX_PAGE), int_arg("per_page", 25, 100)


def check_form(session, schema: dict, data: dict, case_id: int | None) -> dict:
    """Form data as the API takes it: only the form's own, writable fields (a misspelt field is an
    error, not silently dropped), valid against its JSON Schema, attachments of this case only."""
    props = schema.get("properties") or {}
    errors = {}
    for name in data:
        if name not in props:
            errors[name] = _("表单不含此字段")
        elif props[name].get("readOnly"):
            errors[name] = _("只读字段")
    try:
        clean = validate_form(schema, {k: v for k, v in data.items() if k not in errors})
    except FormInvalid as exc:
        errors.update(exc.errors)
        clean = {}
    for f in fields_of(schema):
        ids = data.get(f.name)
        if f.widget != "file" or f.name in errors or not ids:
            continue
        if not isinstance(ids, list) or not all(is_id(i) for i in ids) \
                or not check_attachment_ids(session, [f], {f.name: ids}, case_id, api_actor().user_id):
            errors[f.name] = _("附件不存在或不属于此案件")
    if errors:
        raise FormInvalid(errors)
    return clean
