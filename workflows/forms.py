"""Form data checked against a task's JSON Schema; errors come back per field."""
from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker

_FORMAT_CHECKER = FormatChecker()


class FormInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _message(error) -> str:
    kind = error.validator
    if kind == "required":
        return "必填 / required"
    if kind == "maxLength":
        return f"不能超过 {error.validator_value} 个字符 / at most {error.validator_value} characters"
    if kind == "minLength":
        return "必填 / required" if error.validator_value == 1 else f"至少 {error.validator_value} 个字符 / at least {error.validator_value} characters"
    if kind == "pattern" and error.validator_value == "\\S":
        return "必填 / required"
    if kind == "additionalProperties":
        return f"表单不含此字段 / not a field of this form: {error.message}"
    if kind == "const" and error.validator_value is True:
        return "请勾选确认 / please confirm"
    if kind == "minItems":
        return f"至少选择或上传 {error.validator_value} 项 / at least {error.validator_value} required"
    if kind in ("oneOf", "enum", "const"):
        return "请从选项中选择 / choose one of the options"
    if kind == "format":
        return f"格式不正确（{error.validator_value}） / not a valid {error.validator_value}"
    if kind == "type":
        return f"类型不正确 / must be {error.validator_value}"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"超出范围 / out of range ({kind} {error.validator_value})"
    return error.message


def validate_form(schema: dict, data: dict) -> dict:
    """Check `data` (restricted to the schema's fields: a web form also posts its CSRF token and
    buttons) and return it, or raise FormInvalid with one message per field."""
    props = schema.get("properties")
    data = {k: v for k, v in data.items() if props is None or k in props}
    errors: dict[str, str] = {}
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
