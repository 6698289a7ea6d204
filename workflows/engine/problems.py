"""What is wrong with a bundle: each problem names the file, the element and the reason."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    reason: str

    def __str__(self):
        where = f"{self.file}" + (f", element '{self.element}'" if self.element else "")
        return f"{where}: {self.reason}"


class InvalidBundle(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
