"""The demo's integrity evaluation (`credflow demo`): the demo year's round opened by the leader,
the third-party survey imported, the scores computed, and the ranking waiting for the reviewer
(/evaluations, the reviewer's inbox)."""
from __future__ import annotations

import io

from sqlalchemy import select

from ..models import User
from ..runtime import Actor, UnitOfWork
from .scoring import departments
from .service import open_round, start_round
from .survey import import_survey

SURVEY = (88.5, 81.0, 73.5, 90.0, 69.0)      # one per department, in the order they were registered


def _sheet(session) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(["统一社会信用代码", "部门名称", "评估得分"])
    for n, department in enumerate(sorted(departments(session), key=lambda d: d.id)):
        book.active.append([department.code, department.name, SURVEY[n % len(SURVEY)]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def demo(session_factory, settings, now) -> None:
    with session_factory() as session:
        leader = Actor.of(session.scalars(select(User).where(User.username == "leader")).one())
        sheet = _sheet(session)
    with UnitOfWork(session_factory, leader, now, settings) as uow:
        evaluation = open_round(uow, str(now.today().year))
        import_survey(uow, evaluation.id, "survey.xlsx", sheet)
        start_round(uow, evaluation.id)
        uow.commit()
