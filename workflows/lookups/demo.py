"""Demo data for look-ups: a checker of the housing bureau (checker / credflow-demo) and a few
look-ups: a hit that went ahead with a reason, a hit that was dropped, a clear one, no match."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..accounts import create_user
from ..models import Subject
from ..runtime import Actor, UnitOfWork
from .service import look_up, record_outcome

CHECKER = ("checker", "周查询")


def demo(uow) -> None:
    """`uow`: an entered unit of work of the demo's system actor, at the demo's clock."""
    from ..demo import DEMO_PASSWORD, SUBJECTS
    subjects = {code: sid for code, sid in uow.session.execute(select(Subject.code, Subject.id))}
    department = subjects[SUBJECTS[0][2]]
    user = create_user(uow, CHECKER[0], DEMO_PASSWORD, CHECKER[1], ["checker"])
    user.department_id = department
    uow.audit("user.department_set", user_id=user.id, username=user.username, before=None, after=department)
    uow.commit()
    checker = Actor.of(user)
    plans = [("code", SUBJECTS[0][2], "procurement", "YLCG-2026-118", ("proceeded", "唯一供应商，经集体研究并报备后继续办理。")),
             ("name", SUBJECTS[2][1], "funding", "ZJAP-2026-031", ("dropped", "")),
             ("citizen_id", SUBJECTS[4][2], "honours", "PYPX-2026-007", None),
             ("code", "91610800MA700000XH", "bidding", "ZBTB-2026-052", None)]
    for n, (key_kind, value, deal_kind, deal_ref, outcome) in enumerate(plans):
        clock = _later(uow.clock, n)
        with UnitOfWork(uow.session_factory, checker, clock, uow.settings) as work:
            try:
                lookup = look_up(work, key_kind, value, deal_kind, deal_ref)
            except Exception:     # noqa: BLE001 -- a demo code that does not check out is left out
                continue
            if outcome and lookup.hit:
                record_outcome(work, lookup.id, *outcome)
            work.commit()


def _later(clock, minutes: int):
    from ..clock import FixedClock
    return FixedClock(clock.now() - timedelta(hours=2) + timedelta(minutes=10 * minutes))
