"""加签 add a signer before or after one's own step, 减签 remove one who has not acted, and the
added signer's answer."""
from __future__ import annotations


def defer_completion(uow, row, case, data: dict) -> bool:
    """True when signers were added after this step: the completion waits for their answers."""
    return False


def add_signer(uow, task_row_id: int, user_id: int, position: str, reason: str, expected_version: int | None = None):
    """加签 before ('before') or after ('after') one's own step. Returns the added signer's row."""
    raise NotImplementedError


def remove_signer(uow, task_row_id: int, reason: str, expected_version: int | None = None) -> None:
    """减签: remove an added signer (their row `task_row_id`) who has not answered yet."""
    raise NotImplementedError


def sign(uow, task_row_id: int, approved: bool, opinion: str, expected_version: int | None = None):
    """The added signer's answer on their row. Returns the case."""
    raise NotImplementedError


def added_signers(session, row) -> list:
    """The signers added on `row`'s step, open or answered (ApprovalAction rows)."""
    raise NotImplementedError
