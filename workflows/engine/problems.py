"""What is wrong with a bundle: each problem names the file, the element (its id and its name as
drawn) and the reason, "中文 / English"."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    reason: str
    name: str = ""   # the element's name as drawn (empty when it has none)

    def __str__(self):
        where = f"{self.file}" + (f", element '{self.element}'" if self.element else "")
        if self.element and self.name and self.name != self.element:
            where += f" 「{self.name}」"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "element": self.element, "name": self.name, "reason": self.reason}


class InvalidBundle(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def named(problems, names_by_file: dict[str, dict[str, str]]) -> list[Problem]:
    """The problems, each once, with the element's name filled in where the file has one, in the
    order of the elements in their file (`names_by_file` is in document order), so the problems
    of one element stand together; a file's own problems first."""
    result = []
    for p in dict.fromkeys(problems):
        if not p.name and p.element:
            name = names_by_file.get(p.file, {}).get(p.element, "")
            p = replace(p, name=name) if name else p
        if p not in result:
            result.append(p)
    files = list(dict.fromkeys(p.file for p in result))
    positions = {file: {element: i for i, element in enumerate(names)} for file, names in names_by_file.items()}

    def place(p: Problem):
        position = positions.get(p.file, {}).get(p.element, -1 if not p.element else len(positions.get(p.file, {})))
        return files.index(p.file), position
    return sorted(result, key=place)
