"""What changed in meaning between two versions of a process: its BPMN (lanes and roles, forms,
deadlines, service operations and parameters, conditions, timers, scripts, names, elements added
or removed), its forms field by field, and its decision tables rule by rule. Layout (where a shape
is drawn) is left out unless asked for. Each change names its element (id and name), the kind of
property, and the old and new value; the diagram colours the same elements.

A version is anything with `bpmn_files`, `dmn_files` and `forms` (a ProcessDefinition, a Bundle)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .bpmn_facts import Element, elements
from .changes import KIND_WORDS, Change, sort_key, type_words
from .dmn_diff import decision_changes
from .forms_diff import form_changes
from .layout import layout_facts

__all__ = ["Change", "DefinitionDiff", "ElementChanges", "KIND_WORDS", "diff_definitions"]


@dataclass
class ElementChanges:
    """One element's changes, for the list beside the diagram."""
    id: str
    name: str
    type: str
    status: str                     # added, removed or changed
    changes: list[Change] = field(default_factory=list)

    @property
    def type_words(self):
        return type_words(self.type)


@dataclass
class DefinitionDiff:
    changes: list[Change]

    def _group(self) -> list[ElementChanges]:
        groups: dict[str, ElementChanges] = {}
        for change in self.changes:
            group = groups.get(change.element_id)
            if group is None:
                status = change.kind if change.is_element_change else "changed"
                group = groups[change.element_id] = ElementChanges(change.element_id, change.element_name,
                                                                   change.element_type, status)
            group.changes.append(change)
        return list(groups.values())

    def elements(self, status: str) -> list[ElementChanges]:
        return [g for g in self._group() if g.status == status]

    @property
    def added(self) -> list[ElementChanges]:
        return self.elements("added")

    @property
    def removed(self) -> list[ElementChanges]:
        return self.elements("removed")

    @property
    def changed(self) -> list[ElementChanges]:
        return self.elements("changed")

    def markers(self) -> dict[str, list[str]]:
        """Diagram ids to colour: added (new elements) and changed (any change told on them)."""
        added = {c.element_id for c in self.changes if c.kind == "added"}
        changed = {m for c in self.changes if c.kind != "removed" for m in (c.marks or (c.element_id,))} - added
        return {"added": sorted(added), "changed": sorted(changed)}

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def _element_changes(old: dict[str, Element], new: dict[str, Element]) -> list[Change]:
    changes = []
    for element_id in [*new, *(i for i in old if i not in new)]:
        before, after = old.get(element_id), new.get(element_id)
        if before is None or after is None:
            e = after or before
            changes.append(Change(e.id, e.name, e.type, "added" if before is None else "removed"))
            continue
        ref = (element_id, after.name, after.type)
        found = []
        if before.type != after.type:
            found.append(Change(*ref, "type", "", type_words(before.type), type_words(after.type)))
        for key in [*after.facts, *(k for k in before.facts if k not in after.facts)]:
            if before.facts.get(key) != after.facts.get(key):
                found.append(Change(*ref, key[0], key[1], before.facts.get(key), after.facts.get(key)))
        if before.lane != after.lane and not (before.lane and after.lane and before.lane[0] == after.lane[0]):
            # a node moved to another lane (a renamed lane is told once, on the lane)
            found.append(Change(*ref, "lane", "", before.lane and before.lane[1], after.lane and after.lane[1]))
        changes += sorted(found, key=sort_key)
    return changes


def _layout_changes(old_files: dict, new_files: dict, old: dict[str, Element], new: dict[str, Element]) -> list[Change]:
    before, after = layout_facts(old_files), layout_facts(new_files)
    changes = []
    for element_id, element in new.items():
        if element_id not in old:
            continue   # an added element's place is part of its being added
        a, b = before.get(element_id, {}), after.get(element_id, {})
        for key in [*b, *(k for k in a if k not in b)]:
            if a.get(key) != b.get(key):
                changes.append(Change(element_id, element.name, element.type, key[0], key[1], a.get(key), b.get(key)))
    return changes


def diff_definitions(old_version, new_version, *, layout: bool = False) -> DefinitionDiff:
    """The changes from `old_version` to `new_version`; with `layout`, the drawing's changes too."""
    old, new = elements(old_version.bpmn_files), elements(new_version.bpmn_files)
    changes = _element_changes(old, new)
    changes += form_changes(old_version.forms or {}, new_version.forms or {}, old, new)
    changes += decision_changes(old_version.dmn_files or {}, new_version.dmn_files or {}, old, new)
    if layout:
        changes += _layout_changes(old_version.bpmn_files, new_version.bpmn_files, old, new)
    order = {element_id: n for n, element_id in enumerate([*new, *(i for i in old if i not in new)])}
    changes.sort(key=lambda c: (order.get(c.element_id, len(order)), c.is_element_change is False))
    return DefinitionDiff(changes)
