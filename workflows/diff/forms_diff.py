"""Form changes, field by field, told on the task whose form it is (a form no task uses, such as an
application's start form, is told on its file)."""
from __future__ import annotations

import json

from ..messages import Message
from .bpmn_facts import Element
from .changes import OPTIONAL, REQUIRED, Change

FORM_FILE = ("form", "file")


def _value(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(o, dict) and "const" in o for o in value):
        return "; ".join(f"{o['const']}={o.get('title', '')}" for o in value)   # options: code=words
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _flatten(schema, path: str = "", out: dict | None = None) -> dict[str, str]:
    """`field:<path>:<key>` (or `form:<key>` for the form itself) -> value; `field:<path>:` is the
    field's presence (its title), and each field's required-ness is its own fact."""
    out = {} if out is None else out
    if not isinstance(schema, dict):
        return out
    required = set(schema.get("required") or [])
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                field_path = f"{path}.{name}" if path else name
                out[f"field:{field_path}:"] = (sub.get("title") if isinstance(sub, dict) else None) or field_path
                out[f"field:{field_path}:required"] = REQUIRED if name in required else OPTIONAL
                _flatten(sub, field_path, out)
        elif key == "items" and isinstance(value, dict) and "properties" in value:
            _flatten(value, f"{path}[]", out)
            out.update({f"{'field:' + path if path else 'form'}:items.{k}": _value(v)
                        for k, v in value.items() if k not in ("properties", "required")})
        elif key != "required":
            out[f"field:{path}:{key}" if path else f"form:{key}"] = _value(value)
    return out


def _compare(old_schema, new_schema, element: tuple[str, str, str], marks: tuple[str, ...]) -> list[Change]:
    old, new = _flatten(old_schema or {}), _flatten(new_schema or {})
    changes = []
    gone = {k.split(":")[1] for k in old if k.endswith(":") and k not in new}
    came = {k.split(":")[1] for k in new if k.endswith(":") and k not in old}
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key) or (key.endswith(":") and key in old and key in new):
            continue
        field_path = key.split(":")[1] if key.startswith("field:") else None
        if field_path and not key.endswith(":") and (field_path in gone or field_path in came
                                                     or field_path.rpartition(".")[0] in gone | came):
            continue   # the field's own line says it came or went
        changes.append(Change(*element, "form", key, _show(old.get(key)), _show(new.get(key)), marks))
    return changes


def _show(value):
    return Message(value) if value in (REQUIRED, OPTIONAL) else value


def form_changes(old_forms: dict, new_forms: dict, old: dict[str, Element], new: dict[str, Element]) -> list[Change]:
    changes, told = [], set()
    for element_id in [*new, *(i for i in old if i not in new)]:
        before, after = old.get(element_id), new.get(element_id)
        old_file = before.facts.get(FORM_FILE) if before else None
        new_file = after.facts.get(FORM_FILE) if after else None
        if before is None or after is None or not (old_file or new_file):
            told.update(f for f in (old_file, new_file) if f)   # an added or removed task says it all
            continue
        told.update(f for f in (old_file, new_file) if f)
        ref = (element_id, after.name, after.type)
        changes += _compare(old_forms.get(old_file), new_forms.get(new_file), ref, (element_id,))
    for file in sorted((set(old_forms) | set(new_forms)) - told):
        title = _value((new_forms.get(file) or old_forms.get(file) or {}).get("title", ""))
        ref = (file, title, "form")
        if file not in old_forms or file not in new_forms:
            changes.append(Change(*ref, "form", "file", file if file in old_forms else None,
                                  file if file in new_forms else None))
        else:
            changes += _compare(old_forms[file], new_forms[file], ref, ())
    return changes
