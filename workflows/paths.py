"""Where the shipped process definitions live, in a checkout and in an installed copy."""
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """`bpmn` or `forms`: the repository's top-level folder, or its copy inside the package."""
    for candidate in (_HERE.parent / name, _HERE / "bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped '{name}' folder is missing (looked beside {_HERE})")
