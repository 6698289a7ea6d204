"""credflow uses only SpiffWorkflow's public API: a private name of SpiffWorkflow in workflows/ is
a bug waiting for its next release. Fails on
- an import of a SpiffWorkflow module or name starting with `_`;
- an attribute (or getattr/setattr/hasattr name) that SpiffWorkflow defines with a leading `_`,
  unless the module using it defines that name itself (its own private attribute);
- an assignment to an attribute of something imported from SpiffWorkflow (patching it);
- a task state compared with a number instead of a `TaskState` name."""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

import SpiffWorkflow

ROOT = Path(__file__).resolve().parents[2]
SPIFF = Path(SpiffWorkflow.__file__).resolve().parent


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _defined_names(tree) -> set[str]:
    """Names a module defines for itself: functions, classes, class attributes, self.x = ..."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
                    elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == "self":
                        names.add(sub.attr)
    return names


@lru_cache(maxsize=1)
def spiff_private_names() -> frozenset[str]:
    names = set()
    for path in SPIFF.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n for n in _defined_names(tree) if _private(n)}
        names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and _private(node.attr)}
    return frozenset(names)


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _defined_names(tree)
    private = spiff_private_names() - own
    imported_from_spiff = set()
    found = []

    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name

    def report(node, what):
        found.append(f"{shown}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("SpiffWorkflow"):
            if any(_private(part) for part in node.module.split(".")):
                report(node, f"import from private module {node.module}")
            for alias in node.names:
                imported_from_spiff.add(alias.asname or alias.name)
                if _private(alias.name):
                    report(node, f"import of private name {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("SpiffWorkflow"):
                    imported_from_spiff.add((alias.asname or alias.name).split(".")[0])
                    if any(_private(part) for part in alias.name.split(".")):
                        report(node, f"import of private module {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private:
            report(node, f"SpiffWorkflow private attribute .{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and node.args[1].value in private):
            report(node, f"SpiffWorkflow private attribute {node.args[1].value!r} through {node.func.id}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(target, ast.Attribute) and isinstance(base, ast.Name) and base.id in imported_from_spiff:
                    report(node, f"patches SpiffWorkflow's {base.id}.{target.attr}")
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "state" for s in sides):
                for side in sides:
                    numbers = [side] if isinstance(side, ast.Constant) else getattr(side, "elts", [])
                    if any(isinstance(n, ast.Constant) and isinstance(n.value, int) and not isinstance(n.value, bool)
                           for n in numbers):
                        report(node, "task state compared with a number (use TaskState)")
    return found


def test_workflows_use_only_spiffworkflows_public_api():
    found = [v for path in sorted((ROOT / "workflows").rglob("*.py")) for v in violations(path)]
    assert found == []


def test_the_scan_finds_what_the_previous_release_did(tmp_path):
    """The scan itself: each way the previous release reached into SpiffWorkflow is found."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from SpiffWorkflow.bpmn.specs.control import _EndJoin\n"
        "from SpiffWorkflow.bpmn.specs.event_definitions import timer\n"
        "def f(registry, task, serializer, workflow):\n"
        "    registry._encoder_mode = True\n"
        "    serializer._encoder_cls\n"
        "    task._children.remove(1)\n"
        "    task.task_spec._predict(task)\n"
        "    timer.datetime = None\n"
        "    if task.state == 16 or task.state in {1, 2, 4}:\n"
        "        getattr(task, '_parent')\n", encoding="utf-8")
    found = "\n".join(violations(sample))
    for expected in ("_EndJoin", "._encoder_mode", "._encoder_cls", "._children", "._predict",
                     "timer.datetime", "'_parent'", "compared with a number"):
        assert expected in found, (expected, found)
    assert found.count("compared with a number") == 2
