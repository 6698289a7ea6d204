"""会签 countersign: a user task marked in the editor runs as a multi-instance task, one instance
per person, finished by its rule (everyone, anyone, in order, a ratio)."""
from __future__ import annotations


def assign_instance(uow, case, row, task) -> None:
    """Give a countersign instance's row to its person."""
    return None


def record_opinion(uow, row, case, data: dict) -> None:
    """A countersign instance was completed: its person's opinion joins the case's opinions."""
    return None
