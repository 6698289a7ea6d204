"""JSON routes behind the BPMN editor and the form editor (managers only, CSRF in a header)."""
from __future__ import annotations

from flask import abort, jsonify, render_template, request
from flask_babel import gettext

from workflows.engine.bundle import InvalidBundle
from workflows.engine.iso_timers import check_timer_source
from workflows.messages import N_
from workflows.operations import OPERATIONS
from workflows.process_admin import check_edited, deploy_edited, discard_draft, load_draft, save_draft
from workflows.sandbox import SandboxError, check_expression, check_script

from ..context import db, unit_of_work
from ..formkit import fields_of
from ..input_guard import own_text_check
from ..input_limits import DIAGRAM_TEXT_LIMIT, SCRIPT_TEXT_LIMIT
from .editor_text import editor_texts
from ..translate import translated
from .routes import bp

# a new form starts as this; its titles are catalog ids, shown in the task page's language
FORM_TEMPLATE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": N_("新表单"), "type": "object",
    "additionalProperties": False, "required": ["decision", "opinion"], "x-order": ["decision", "opinion"],
    "properties": {
        "decision": {"type": "string", "title": N_("结论"), "x-widget": "radio",
                     "oneOf": [{"const": "approve", "title": N_("同意")}, {"const": "reject", "title": N_("不同意")}]},
        "opinion": {"type": "string", "title": N_("意见"), "x-widget": "textarea", "minLength": 1, "maxLength": 2000,
                    "pattern": "\\S"}}}


def _payload() -> tuple[str, dict]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("bpmn_xml"), str):
        abort(400, "expected JSON {bpmn_xml, forms}")
    forms = body.get("forms") or {}
    if not isinstance(forms, dict):
        abort(400, "forms must be an object")
    return body["bpmn_xml"], forms


def _problems(problems) -> list[dict]:
    return [p.as_dict(translated) for p in problems]


@bp.get("/processes/<key>/editor")
def editor(key):
    try:
        load_draft(db(), key)
    except LookupError:
        abort(404)
    return render_template("admin/editor.html", key=key, texts=editor_texts())


@bp.get("/processes/<key>/draft.json")
def draft(key):
    try:
        loaded = load_draft(db(), key)
    except LookupError:
        abort(404)
    if loaded["is_draft"]:   # a draft opens with its problems marked (an imported diagram has some)
        try:
            loaded["problems"] = _problems(check_edited(db(), key, loaded["bpmn_xml"], loaded["forms"]))
        except InvalidBundle as exc:
            loaded["problems"] = _problems(exc.problems)
    return jsonify(loaded)


@bp.post("/processes/<key>/draft")
@own_text_check(bpmn_xml=DIAGRAM_TEXT_LIMIT)   # the NUL, the surrogate: on which line of the diagram
def save(key):
    xml, forms = _payload()
    with unit_of_work() as uow:
        try:
            draft = save_draft(uow, key, xml, forms)
        except InvalidBundle as exc:
            return jsonify(ok=False, problems=_problems(exc.problems)), 422
        uow.commit()
    return jsonify(ok=True, saved_at=draft.saved_at.isoformat())


@bp.post("/processes/<key>/draft/discard")
def discard(key):
    with unit_of_work() as uow:
        discard_draft(uow, key)
        uow.commit()
    return jsonify(ok=True)


@bp.post("/processes/<key>/validate")
@own_text_check(bpmn_xml=DIAGRAM_TEXT_LIMIT)
def validate(key):
    xml, forms = _payload()
    try:
        problems = check_edited(db(), key, xml, forms)
    except InvalidBundle as exc:
        problems = exc.problems
    return jsonify(ok=not problems, problems=_problems(problems))


@bp.post("/processes/<key>/deploy")
@own_text_check(bpmn_xml=DIAGRAM_TEXT_LIMIT)
def deploy(key):
    xml, forms = _payload()
    with unit_of_work() as uow:
        try:
            result = deploy_edited(uow, key, xml, forms)
        except InvalidBundle as exc:
            return jsonify(ok=False, problems=_problems(exc.problems)), 422
        uow.commit()
    return jsonify(ok=True, version=result.version, created=result.created)


@bp.post("/api/check")
@own_text_check(source=SCRIPT_TEXT_LIMIT)   # the sandbox says what is wrong with the code
def check():
    """Is this expression (or script) accepted by the sandbox? Asked as a manager types."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "expected JSON {source, mode}")
    source, mode = body.get("source", ""), body.get("mode", "eval")
    if not isinstance(source, str):
        abort(400)
    if mode in ("timeDate", "timeDuration", "timeCycle"):   # ISO 8601 as BPMN writes it, or Python
        error = check_timer_source(mode, source)
        return jsonify(ok=error is None, **({"error": translated(error)} if error else {}))
    try:   # too long or too deeply nested is the sandbox's answer too, shown like any other
        (check_script if mode == "exec" else check_expression)(source)
    except SandboxError as exc:
        return jsonify(ok=False, error=translated(exc))
    return jsonify(ok=True)


@bp.get("/api/operations")
def operations():
    return jsonify([{"name": op.name, "title": gettext(op.title), "params": op.params} for op in OPERATIONS.values()])


@bp.get("/api/form-template")
def form_template():
    return jsonify(FORM_TEMPLATE)


@bp.post("/api/form-preview")
def form_preview():
    """The form rendered as the task page will show it, or why the schema is refused."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError
    schema = request.get_json(silent=True)
    if not isinstance(schema, dict):
        return jsonify(ok=False, error="not a JSON object"), 422
    try:
        Draft202012Validator.check_schema(schema)
        fields = fields_of(schema)
    except (SchemaError, AttributeError, TypeError) as exc:
        return jsonify(ok=False, error=getattr(exc, "message", str(exc))), 422
    html = render_template("admin/_form_preview.html", fields=fields, values={}, errors={})
    return jsonify(ok=True, html=html)
