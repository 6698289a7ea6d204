"""Form data checked against a task's JSON Schema; errors come back per field."""
from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker

from .messages import Message, N_

_FORMAT_CHECKER = FormatChecker()


class FormInvalid(ValueError):
    """`errors`: field name -> Message (the web shows it in the page's language)."""

    def __init__(self, errors: dict[str, Message]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


REQUIRED = N_("必填")
BOUNDS = {"minimum": N_("不能小于 %(limit)s"), "maximum": N_("不能大于 %(limit)s"),
          "exclusiveMinimum": N_("须大于 %(limit)s"), "exclusiveMaximum": N_("须小于 %(limit)s")}


def _message(error) -> Message:
    kind, limit = error.validator, error.validator_value
    if kind == "required" or (kind == "minLength" and limit == 1) or (kind == "pattern" and limit == "\\S"):
        return Message(REQUIRED)
    if kind == "maxLength":
        return Message(N_("不能超过 %(limit)s 个字符"), limit=limit)
    if kind == "minLength":
        return Message(N_("至少 %(limit)s 个字符"), limit=limit)
    if kind == "additionalProperties":
        return Message(N_("表单不含此字段"))
    if kind == "const" and limit is True:
        return Message(N_("请勾选确认"))
    if kind == "minItems":
        return Message(N_("至少选择或上传 %(limit)s 项"), limit=limit)
    if kind in ("oneOf", "enum", "const"):
        return Message(N_("请从选项中选择"))
    if kind == "format":
        return Message(N_("格式不正确（%(format)s）"), format=limit)
    if kind == "type":
        return Message(N_("类型不正确"))
    if kind in BOUNDS:
        return Message(BOUNDS[kind], limit=limit)
    return Message(N_("填写有误"))


def validate_form(schema: dict, data: dict) -> dict:
    """Check `data` (restricted to the schema's fields: a web form also posts its CSRF token and
    buttons) and return it, or raise FormInvalid with one message per field."""
    props = schema.get("properties")
    data = {k: v for k, v in data.items() if props is None or k in props}
    errors: dict[str, Message] = {}

    for error in Draft202012Validator(schema, format_checker=_FORMAT_CHECKER).iter_errors(data):
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                errors.setdefault(name, _message(error))
            continue
        field = str(error.absolute_path[0]) if error.absolute_path else "_form"
        errors.setdefault(field, _message(error))
    if errors:
        raise FormInvalid(errors)
    return data
