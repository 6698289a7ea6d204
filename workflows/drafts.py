"""Task form drafts and case comments: small writes beside the engine."""
from __future__ import annotations

from sqlalchemy import select

from .cases import CaseError, Forbidden, NotFound, can_work
from .messages import N_
from .models import Case, Comment, HumanTask, TaskDraft


def save_draft(uow, task_row_id: int, data: dict) -> TaskDraft:
    row = uow.session.get(HumanTask, task_row_id)
    if row is None:
        raise NotFound(N_("任务不存在或已完成"))
    actor = uow.actor
    if row.assignee_id not in (None, actor.user_id) or (row.assignee_id is None and not can_work(actor, row)):
        raise Forbidden(N_("您不能办理此任务"))
    draft = uow.session.get(TaskDraft, (task_row_id, actor.user_id))
    if draft is None:
        draft = TaskDraft(task_row_id=task_row_id, user_id=actor.user_id, data=data, saved_at=uow.clock.now())
        uow.session.add(draft)
    else:
        draft.data, draft.saved_at = data, uow.clock.now()
    return draft


def draft_for(session, task_row_id: int, user_id: int | None) -> TaskDraft | None:
    if user_id is None:
        return None
    return session.get(TaskDraft, (task_row_id, user_id))


def add_comment(uow, case_id: int, body: str) -> Comment:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise CaseError(N_("意见不能为空"))
    if len(body) > 5000:
        raise CaseError(N_("意见不能超过 %(limit)s 字"), limit=5000)
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("案件不存在"))

    comment = Comment(case_id=case_id, author_id=uow.actor.user_id, author_name=uow.actor.shown_name, body=body,
                      created_at=uow.clock.now())
    uow.session.add(comment)
    uow.audit("comment.added", case_id=case_id, record_id=case.record_id, length=len(body))
    return comment


def comments_of(session, case_id: int) -> list[Comment]:
    return session.scalars(select(Comment).where(Comment.case_id == case_id).order_by(Comment.id)).all()
