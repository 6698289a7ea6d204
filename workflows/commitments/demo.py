"""Demo commitments (`credflow demo`): one fulfilled, one due in two working days (registered by the
department's own account, so `subject` sees it in the portal), and one failed, its dishonesty
record opened for the township and waiting for a clerk's capture. Dated from the demo's day."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from ..cases import complete_task, fire_due_timers
from ..clock import CST, FixedClock
from ..models import HumanTask, Subject, User
from ..runtime import Actor, UnitOfWork
from ..settings import Settings
from ..workdays import WorkdayCalendar
from .ops import workdays_before
from .service import Draft, register_commitment

TOWNSHIP = 2          # SUBJECTS[2], 某镇人民政府
STORIES = [  # (subject index, registered by, registered days before, deadline working days from the day, outcome)
    (1, "clerk", 70, -25, "fulfilled"),
    (0, "subject", 30, 2, None),
    (TOWNSHIP, "clerk", 60, -15, "failed"),
]
CONTENT = {
    "fulfilled": "三个月内完成辖区内政府拖欠中小企业账款清零。",
    None: "本年度内完成镇区老旧供水管网改造，保障居民用水安全。",
    "failed": "按期兑现招商引资优惠政策承诺，不得以换届等理由违约毁约。",
}


def demo(session_factory, settings, now) -> None:
    """`now`: the demo's clock (its today is the day the stories are set at)."""
    from ..demo import SUBJECTS      # (workflows/demo.py imports this module)
    day = now.today()
    report_days = int((settings or Settings()).commitment_report_workdays)
    with session_factory() as session:
        calendar = WorkdayCalendar.from_session(session)
        actors = {u.username: Actor.of(u) for u in session.scalars(select(User).where(
            User.username.in_(("clerk", "reviewer", "leader", "subject"))))}
        codes = {s.code: s.id for s in session.scalars(select(Subject))}
    subject_ids = [codes[code] for _, _, code in SUBJECTS]

    def at(moment: datetime, actor: str, fn, *args):
        with UnitOfWork(session_factory, actors[actor] if actor else Actor.system("demo"), FixedClock(moment),
                        settings) as uow:
            result = fn(uow, *args)
            uow.commit()
            return result

    def fire(uow):
        return fire_due_timers(uow)

    def task(case_id, bpmn_id):
        with session_factory() as session:
            return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                           HumanTask.bpmn_id == bpmn_id)).first()

    for index, by, registered_before, deadline_in, outcome in STORIES:
        registered = datetime.combine(day - timedelta(days=registered_before), time(9, 30), CST)
        deadline = (calendar.add_workdays(day, deadline_in) if deadline_in >= 0
                    else workdays_before(calendar, day, -deadline_in))
        commitment = at(registered, by, register_commitment, Draft(
            subject_ids[index], CONTENT[outcome], deadline.isoformat(), "张建国" if index else "王立新",
            "镇长" if index == TOWNSHIP else "局长"))
        if outcome is None:
            at(now.now(), None, fire)
            continue
        # the deadline has passed; nobody reported for the township within its time: the review goes on
        after = datetime.combine(calendar.add_workdays(deadline, report_days + 1), time(9, 0), CST)
        at(after, None, fire)
        row = task(commitment.case_id, "review")
        if outcome == "fulfilled":
            at(after + timedelta(hours=2), "reviewer", complete_task, row.id,
               {"review_outcome": "fulfilled", "review_opinion": "经实地核查和付款凭证比对，账款已全部结清。"})
            continue
        at(after + timedelta(hours=2), "reviewer", complete_task, row.id,
           {"review_outcome": "failed", "review_opinion": "政策兑现资金未拨付，企业投诉属实。"})
        row = task(commitment.case_id, "leader_confirm")
        at(after + timedelta(days=1), "leader", complete_task, row.id,
           {"leader_decision": "confirm", "leader_opinion": "确认未履行，启动失信记录认定。"})

