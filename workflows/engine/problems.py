"""What is wrong with a bundle: each problem names the file, the element (its id and its name as
drawn), the line where one is known, and the reason: a Message (a catalog id and its parameters),
shown in the reader's language."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..messages import Message


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    reason: Message   # a catalog id given as a str becomes a Message without parameters
    name: str = ""    # the element's name as drawn (empty when it has none)
    line: int = 0     # the line in the file, when the reason comes with one

    def __post_init__(self):
        if not isinstance(self.reason, Message):
            object.__setattr__(self, "reason", Message(str(self.reason)))

    def __hash__(self):
        return hash((self.file, self.element, self.name, self.line, str(self.reason)))

    def __str__(self):
        return self.text()

    def text(self, translate: Callable[[str], str] | None = None) -> str:
        """'file, element 'id' 「name」: reason' with the reason in the language of `translate`
        (Chinese without one)."""
        where = f"{self.file}" + (f", element '{self.element}'" if self.element else "")
        if self.element and self.name and self.name != self.element:
            where += f" 「{self.name}」"
        return f"{where}: {self.reason.render(translate)}"

    def as_dict(self, render: Callable[[Message], str] = str) -> dict:
        """For JSON and templates; `render` gives the reason's text (the web passes `translated`)."""
        return {"file": self.file, "element": self.element, "name": self.name, "line": self.line,
                "reason": render(self.reason)}


class InvalidBundle(ValueError):
    """Nothing deployed: `problems` says why, each a Message on its own (str(): all, in Chinese)."""

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
