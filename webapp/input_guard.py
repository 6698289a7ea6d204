"""The one boundary every request crosses before a view reads it (registered in create_app as a
`before_request`): text a database can store, values of bounded length, a bounded number of
fields, JSON parsed only after its nesting was measured, uploaded file names cleaned.

A refused request answers 400 naming the field and what is wrong: a page in the visitor's language
(Chinese by default), JSON for the API (its `{"error", "fields"}`) and for the editors' endpoints.
The limits and the text rule are webapp/input_limits.py's, shared with the API's own checks.

A view whose field is checked later by a rule that says more (a diagram's XML: the NUL on which
line; a script: too long, with its length) names it with `@own_text_check(field=limit)`: the
guard then only bounds its length."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from workflows.messages import Message, N_

from .input_limits import (COOKIE_LIMIT, EDITOR_MAX_DEPTH, FORM_LIMIT, JSON_TEXT_LIMIT, MAX_DEPTH, MAX_FIELDS,
                           NAME_LIMIT, PROBLEMS, QUERY_LIMIT, QUERY_LIMITS, JsonRefused, clean_file_name,
                           json_problems, parse_json, text_problem, too_long)


class Refused(Exception):
    """`fields`: field name -> what is wrong (a Message); `message`: the API's sentence, if not the default."""

    def __init__(self, fields: dict[str, Message], status: int = 400, message: Message | None = None):
        super().__init__(fields)
        self.fields, self.status, self.message = fields, status, message


def own_text_check(**limits: int):
    """Mark a view whose named fields' text is checked by its own rule (the guard bounds only their length)."""
    def mark(view):
        view.own_text_checks = {**getattr(view, "own_text_checks", {}), **limits}
        return view
    return mark


def check_request():
    """before_request: None when the request may go on, else the 400 (or, for an API body, 422) answer."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    own = getattr(view, "own_text_checks", {})
    try:
        _check_path()
        _check_pairs(request.args.items(multi=True), lambda name: QUERY_LIMITS.get(name, QUERY_LIMIT), {})
        _check_cookies()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check_body(own)
    except Refused as refused:
        return _answer(refused)
    return None


def _check_path() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(name, value, QUERY_LIMIT)


def _check_pairs(pairs, limit_of, own: dict[str, int]) -> None:
    count = 0
    for name, value in pairs:
        count += 1
        if count > MAX_FIELDS:
            raise Refused({"*": PROBLEMS["too_many"]})
        _check_name(name)
        if name in own:
            if len(value) > own[name]:
                raise Refused({name: too_long(own[name])})
        else:
            _check_text(name, value, limit_of(name))


def _check_name(name: str) -> None:
    problem = text_problem(name) or (too_long(NAME_LIMIT) if len(name) > NAME_LIMIT else None)
    if problem:
        raise Refused({_shown(name): problem})


def _check_text(name: str, value: str, limit: int) -> None:
    problem = text_problem(value) or (too_long(limit) if len(value) > limit else None)
    if problem:
        raise Refused({name: problem})


def _check_cookies() -> None:
    """The cookies the app reads: its session and the remembered login."""
    for name in (current_app.config["SESSION_COOKIE_NAME"], current_app.config.get("REMEMBER_COOKIE_NAME",
                                                                                   "remember_token")):
        value = request.cookies.get(name)
        if value is not None:
            _check_text(name, value, COOKIE_LIMIT)


def _check_body(own: dict[str, int]) -> None:
    if request.is_json:
        raw = request.get_data(cache=True)
        if not raw.strip():
            return                      # the view says what it expected
        api = request.blueprint == "api"
        try:
            body = parse_json(raw, MAX_DEPTH if api else EDITOR_MAX_DEPTH)
        except JsonRefused as exc:
            raise Refused({"body": PROBLEMS[exc.problem]}, message=PROBLEMS[exc.problem]) from None
        problems = json_problems(body, MAX_DEPTH if api else EDITOR_MAX_DEPTH, JSON_TEXT_LIMIT, own)
        if problems:   # the API has always answered these beside the field, as a form error
            raise Refused(problems, 422 if api else 400, Message(N_("表单有误")) if api else None)
        return
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return
    form, files = request.form, request.files
    if len(form) + len(files) > MAX_FIELDS:
        raise Refused({"*": PROBLEMS["too_many"]})
    _check_pairs(form.items(multi=True), lambda name: FORM_LIMIT, own)
    for name, storage in files.items(multi=True):
        _check_name(name)
        if storage.filename:
            storage.filename = clean_file_name(storage.filename)


def _shown(name: str) -> str:
    """A field's name as it can be shown (it may be the hostile part)."""
    shown = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\x{ord(c):02x}"
                    for c in name[:60])
    return shown + ("…" if len(name) > 60 else "")


def _answer(refused: Refused):
    from .errors import render_error
    from .translate import translated
    fields = {_shown(name): translated(problem) for name, problem in refused.fields.items()}
    first, problem = next(iter(fields.items()))
    if request.blueprint == "api":
        message = translated(refused.message) if refused.message else _("参数 %(name)s 无效", name=first)
        response = jsonify({"error": message, "fields": fields})
        response.status_code = refused.status
        return response
    text = _("输入项“%(field)s”有误：%(problem)s", field=first, problem=problem)
    if request.is_json or request.accept_mimetypes.best == "application/json" or _is_editor_endpoint():
        response = jsonify({"ok": False, "error": text, "fields": fields})
        response.status_code = refused.status
        return response
    return render_error(refused.status, text)


def _is_editor_endpoint() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "__module__", "") == "webapp.admin.api"
