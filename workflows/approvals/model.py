"""The tables of the approval actions: what was done to a task beside its diagram, the copies
sent to people, standing delegations (leave), and who may do what per process and task."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base


class ApprovalAction(Base):
    """One approval action on a case's task: 退回 send_back, 撤回 withdraw, 转办 transfer,
    委派 delegate (open until the delegate hands it back), 加签 add_signer (open until the added
    person answers or is removed), 抄送 copy, 催办 urge. `task_id` is the workflow task it acted
    on (a task row's id changes when a step is returned to; the workflow task's stays)."""
    __tablename__ = "approval_action"
    __table_args__ = (Index("ix_approval_action_case_task", "case_id", "task_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_row_id: Mapped[int | None]            # the inbox row acted on (rows are deleted when done)
    bpmn_id: Mapped[str | None] = mapped_column(String(100))
    task_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="done")   # open, done, cancelled
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class CaseCopy(Base):
    """A case copied (抄送) to a person at a step: they may read the case; `read_at` tells the sender."""
    __tablename__ = "case_copy"
    __table_args__ = (Index("ix_case_copy_user", "user_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("approval_action.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class StandingDelegation(Base):
    """A person away (leave) from `starts_on` to `ends_on` (inclusive, China time): tasks that
    would be given to them go to `deputy_id`, and both names show."""
    __tablename__ = "standing_delegation"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class ApprovalPolicy(Base):
    """Who may take an approval action on a process's task (`task` '*' for every task of the
    process): the roles listed, or 'holder' (whoever holds the task). No row: the defaults."""
    __tablename__ = "approval_policy"
    process_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    task: Mapped[str] = mapped_column(String(100), primary_key=True)
    action: Mapped[str] = mapped_column(String(20), primary_key=True)
    allowed: Mapped[list[Any]]
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime | None]
