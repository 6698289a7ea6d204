"""Server-side forms from a task's JSON Schema: field descriptions to render, and posted values
turned back into typed data for validation. Presentation hints: `x-widget` and `x-order`."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Field:
    name: str
    title: str
    widget: str                 # text, textarea, select, radio, checkbox, checkboxes, date, number, file
    required: bool = False
    description: str = ""
    options: list = field(default_factory=list)   # [(value, title)]
    max_length: int | None = None
    multiple_of: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    accept: list = field(default_factory=list)


def _options(prop: dict) -> list:
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    if "oneOf" in source:
        return [(o.get("const"), o.get("title", o.get("const"))) for o in source["oneOf"] if "const" in o]
    return [(v, v) for v in source.get("enum", [])]


def _widget(prop: dict) -> str:
    hint = prop.get("x-widget")
    kind = prop.get("type")
    if hint == "file":
        return "file"
    if kind == "array":
        return "checkboxes"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return "number"
    if _options(prop):
        return hint if hint in ("radio", "select") else "select"
    if prop.get("format") == "date" or hint == "date":
        return "date"
    return "textarea" if hint == "textarea" else "text"


def _named(text):
    """A form's title, description or option in the page's language (the Chinese text is the
    catalog id; a text a manager wrote that the catalog lacks shows as written)."""
    from flask import has_request_context
    if not text or not isinstance(text, str) or not has_request_context():
        return text
    from .labels import named
    return named(text)


def fields_of(schema: dict) -> list[Field]:
    """The form's fields, worded in the request's language."""
    props = schema.get("properties", {})
    order = schema.get("x-order") or list(props)
    order += [name for name in props if name not in order]
    required = set(schema.get("required", []))
    result = []
    for name in order:
        prop = props.get(name)
        if prop is None or prop.get("readOnly"):
            continue
        result.append(Field(
            name=name, title=_named(prop.get("title", name)), widget=_widget(prop), required=name in required,
            description=_named(prop.get("description", "")),
            options=[(value, _named(title)) for value, title in _options(prop)], max_length=prop.get("maxLength"),
            minimum=prop.get("minimum"), maximum=prop.get("maximum"),
            multiple_of=1 if prop.get("type") == "integer" else prop.get("multipleOf"),
            accept=prop.get("x-accept", [])))
    return result


def _number(text: str, integer: bool):
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return text  # validation reports it beside the field


def parse_post(schema: dict, form, uploaded: dict[str, list[int]] | None = None) -> dict:
    """Typed data from a posted form (a MultiDict). Empty inputs are left out, so `required`
    reports them; file fields take the attachment ids already stored plus new uploads."""
    props = schema.get("properties", {})
    data = {}
    for f in fields_of(schema):
        prop = props[f.name]
        if f.widget == "file":
            ids = [int(v) for v in form.getlist(f.name + "__kept") if v.isascii() and v.isdigit() and len(v) <= 9]
            ids += (uploaded or {}).get(f.name, [])
            if ids:
                data[f.name] = ids
        elif f.widget == "checkbox":
            data[f.name] = form.get(f.name) in ("on", "true", "1")
        elif f.widget == "checkboxes":
            data[f.name] = form.getlist(f.name)
        else:
            value = form.get(f.name, "")
            if value.strip() == "":
                continue
            if f.widget == "number":
                data[f.name] = _number(value.strip(), prop.get("type") == "integer")
            else:
                data[f.name] = value.replace("\r\n", "\n")
    return data


# -- after a refused submit: what the page says, and what was typed ------------------------------

def refusal_notice(exc, case_endpoint: str, case_kind: str = "case") -> dict:
    """What a form page says on top after a refused submit (a workflows CaseError): the refusal's
    own sentence (the domain rule's, the one its page warned with), and a link to where it is
    resolved, for a viewer who may open it: the case that blocks it (`case_endpoint` takes case_id;
    `case_kind`: may_open's kind of that page), the calendar's uncovered year."""
    from flask import url_for
    from flask_babel import gettext as _

    from workflows.cases import CalendarGap
    from workflows.choices import operation_refusal
    from workflows.messages import message_of

    from .templating import may_open
    from .translate import translated
    if isinstance(exc, CalendarGap):   # the calendar page is the system administrator's: a link for them only
        gap = exc.uncovered
        return {"text": translated(gap), "message": None, "href": gap.link if may_open("system") else None,
                "link": _("打开工作日历（%(year)s 年）", year=gap.year)}
    refused = operation_refusal(exc)
    if refused is not None:
        case_id = refused.blocking_case_id
        shown = case_id is not None and may_open(case_kind, case_id)
        return {"text": translated(refused), "message": message_of(refused),
                "href": url_for(case_endpoint, case_id=case_id) if shown else None, "link": _("查看该案件")}
    return {"text": translated(exc), "message": message_of(exc), "href": None, "link": None}



def typed_values(schema: dict | None, data: dict | None, form) -> list[tuple[str, object, str]]:
    """What a user typed, to show back read-only for copying: (label, value, kind), kind 'text',
    'long' or 'files' (attachment ids); choices in words. Without the form's schema, the posted
    texts as they came, unlabelled (label None: a field's key is no label)."""
    if schema is None:
        skip = {"csrf_token", "task_id", "action"}
        return [(None, value, "long") for name, value in form.items(multi=True)
                if name not in skip and not name.endswith("__kept") and isinstance(value, str) and value.strip()]
    from flask_babel import gettext as _
    found = []
    for f in fields_of(schema):
        value = (data or {}).get(f.name)
        if value in (None, "", [], False):
            continue
        if f.widget == "file":
            found.append((f.title, [i for i in value if isinstance(i, int)], "files"))
        elif f.widget == "checkbox":
            found.append((f.title, _("是"), "text"))
        elif f.options:
            titles = dict(f.options)
            found.append((f.title, "、".join(str(titles.get(v, v)) for v in (value if isinstance(value, list) else [value])),
                          "text"))
        else:
            found.append((f.title, str(value), "long" if f.widget == "textarea" or len(str(value)) > 60 else "text"))
    return found
