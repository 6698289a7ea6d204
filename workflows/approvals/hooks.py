"""Where the case service hands over to the approval actions: before a task completes (an added
signer first, a delegated task back to its owner first), when task rows come and go (added signers'
rows go with their step; a countersign instance goes to its person)."""
from __future__ import annotations

from sqlalchemy import delete, update

from ..case_errors import CaseError
from ..messages import N_
from ..models import HumanTask
from .model import ApprovalAction


def before_complete(uow, row: HumanTask, case, data: dict) -> bool:
    """Checks before `row` completes with `data`; True: the completion waits (for signers added
    after this step) and the engine must not run now."""
    if row.kind != "task":
        raise CaseError(N_("加签任务请填写加签意见"))
    from .handover import check_completion
    check_completion(uow, row)
    from .signers import defer_completion
    return defer_completion(uow, row, case, data)


def after_complete(uow, row: HumanTask, case, data: dict) -> None:
    """`row` was completed with `data` (the engine has run): a countersign instance's opinion is kept."""
    from .countersign import record_opinion
    record_opinion(uow, row, case, data)


def task_rows_gone(uow, case, task_ids) -> None:
    """The steps `task_ids` are no longer waiting (completed, returned, cancelled by an event):
    their added signers' rows go, and actions still open on them are cancelled."""
    task_ids = list(task_ids)
    if not task_ids:
        return
    uow.session.execute(delete(HumanTask).where(HumanTask.case_id == case.id, HumanTask.parent_task_id.in_(task_ids))
                        .execution_options(synchronize_session="fetch"))
    uow.session.execute(update(ApprovalAction).where(
        ApprovalAction.case_id == case.id, ApprovalAction.task_id.in_(task_ids), ApprovalAction.status == "open")
        .values(status="cancelled", closed_at=uow.clock.now()).execution_options(synchronize_session="fetch"))


def task_row_added(uow, case, row: HumanTask, task) -> None:
    """A new row for a READY workflow task: a countersign instance goes to its person."""
    from .countersign import assign_instance
    assign_instance(uow, case, row, task)
