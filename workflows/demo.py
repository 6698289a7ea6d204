"""Demo data: subjects, one user for every role, records spread over the lifecycle.

The records are dated relative to today. When the working-day calendar (the statutory data plus
the years the office has covered) does not cover the days the demo's stories need -- their
history and the deadlines computed from them -- the story is set at the latest date it does
cover, and one line says so. The demo never makes up a holiday calendar.
"""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, time, timedelta
from typing import Callable

from sqlalchemy import select

from .accounts import create_user
from .cases import complete_task, send_message
from .clock import CST, SYSTEM_CLOCK, FixedClock
from .identifiers import _ID_CHECK, _ID_WEIGHTS, USCC_ALPHABET, _USCC_WEIGHTS, _ORG_WEIGHTS, _org_value
from .accountability import add_holding
from .applications import file_objection
from .lookups.demo import demo as lookups_demo
from .sharing.demo import demo as sharing_demo
from .commitments.demo import demo as commitments_demo
from .models import HumanTask, ProcessDefinition, Record, Subject, User
from .records import open_record, register_subject
from .runtime import Actor, UnitOfWork
from .worker import run_once
from .workdays import CalendarNotCovered, WorkdayCalendar

DEMO_PASSWORD = "credflow-demo"
DEMO_USERS = [("clerk", "张承办", ["clerk"]), ("reviewer", "李审核", ["reviewer"]),
              ("leader", "王领导", ["leader"]), ("manager", "赵管理", ["manager"]), ("personnel", "钱人事", ["personnel"]),
              ("admin", "孙系统", ["admin"])]


def make_uscc(body16: str) -> str:
    """Complete 16 characters (region + organisation code without its check) to a valid code."""
    org = body16[8:16]
    total = sum(_org_value(c) * w for c, w in zip(org, _ORG_WEIGHTS))
    org_check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    first17 = body16 + org_check
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


def make_citizen_id(first17: str) -> str:
    return first17 + _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


SUBJECTS = [
    ("department", "榆林市某区住房和城乡建设局", make_uscc("11610800MB298176")),
    ("department", "榆林市某县招商服务中心", make_uscc("11610822MB035512")),
    ("department", "某镇人民政府", make_uscc("11610802MB177645")),
    ("civil_servant", "刘某某", make_citizen_id("61080219800101123")),
    ("civil_servant", "陈某某", make_citizen_id("61082219850615234")),
]

CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "未按合同约定支付中小企业账款，逾期超过180日。", "legal_basis": "《保障中小企业款项支付条例》第八条"}


PLANS = [  # (subject, decision this many days before the demo's day, severity, how far to take it)
    (0, 3, "general", "capture"),
    (1, 4, "general", "review"),
    (3, 6, "serious", "leader"),
    (2, 30, "serious", "review"),              # overdue by now
    (2, 60, "general", "published"),
    (0, 200, "general", "published"),      # minimum period passed
    (4, 400, "general", "published"),      # maximum passed: expires
    (1, 90, "serious", "revoked"),
    (3, 15, "minor", "rejected"),
]
HISTORY_DAYS = max(days for _s, days, _v, _t in PLANS) + 1
_WORKDAY_COUNTS = re.compile(r'dueInWorkdays"\s+value="(\d+)"|(?:workday_deadline|add_workdays)\((?:[^,()]*,\s*)?(\d+)\s*[,)]')


@dataclasses.dataclass(frozen=True)
class DemoDay:
    """The day the demo's stories are set at: today, or the latest day the calendar covers."""
    day: date
    today: date
    uncovered_years: tuple[int, ...] = ()

    @property
    def moved(self) -> bool:
        return self.day != self.today

    def note(self) -> str:
        years = ", ".join(str(y) for y in self.uncovered_years)
        return (f"note: the working-day calendar does not cover {years} (today is {self.today.isoformat()}), so the "
                f"demo's data is set at {self.day.isoformat()}, the latest date whose deadlines it covers; to use "
                f"today's date the admin (admin / {DEMO_PASSWORD}) enters {years} at 系统管理 › 工作日历 "
                f"or with `credflow calendar import FILE`")


def deadline_horizon(session, settings) -> int:
    """The most working days any deadline of the deployed processes counts: the settings' `*_workdays`
    and the counts written in the BPMN (`dueInWorkdays`, `workday_deadline(n)`, `add_workdays(d, n)`)."""
    counts = [v for f in dataclasses.fields(settings) if f.name.endswith("_workdays")
              and isinstance(v := getattr(settings, f.name), int)]
    for files in session.scalars(select(ProcessDefinition.bpmn_files)):
        for xml in files.values():
            counts += [int(a or b) for a, b in _WORKDAY_COUNTS.findall(xml)]
    return max(counts, default=0)


def demo_day(calendar: WorkdayCalendar, today: date, horizon_workdays: int,
             history_days: int = HISTORY_DAYS) -> DemoDay:
    """The latest day, at most `today`, whose history (`history_days` back) and deadlines
    (`horizon_workdays` ahead) the calendar covers."""
    day, missing = today, set()
    while day.year >= 2000:
        try:
            for n in range(history_days + 1):
                calendar.is_workday(day - timedelta(days=n))
            calendar.add_workdays(day, horizon_workdays)
            return DemoDay(day, today, tuple(sorted(missing)))
        except CalendarNotCovered as gap:
            missing.add(gap.day.year)
            day = min(day, date(gap.day.year, 1, 1)) - timedelta(days=1)
    raise CalendarNotCovered(today)


def load_demo(session_factory, settings=None, say: Callable[[str], None] = print) -> list[str]:
    """Load the demo once; returns the demo logins. Safe to call again (does nothing). `say` gets
    the note when the calendar made the demo set its stories before today."""
    system = Actor.system("demo")
    today = SYSTEM_CLOCK.today()
    with UnitOfWork(session_factory, system, settings=settings) as uow:
        when = demo_day(uow.calendar, today, deadline_horizon(uow.session, uow.settings))
        if uow.session.scalars(select(User).where(User.username == "clerk")).first():
            if when.moved:
                years = ", ".join(str(y) for y in when.uncovered_years)
                say(f"note: the demo was loaded earlier; the working-day calendar does not cover {years}: the admin "
                    f"(admin / {DEMO_PASSWORD}) enters {years} at 系统管理 › 工作日历 or with `credflow calendar import FILE`")
            return _logins()
        subject_ids = [register_subject(uow, *s).id for s in SUBJECTS]
        users = {name: create_user(uow, name, DEMO_PASSWORD, display, roles) for name, display, roles in DEMO_USERS}
        subject_account = create_user(uow, "subject", DEMO_PASSWORD, SUBJECTS[0][1], ["subject"],
                                      subject_id=subject_ids[0])
        create_user(uow, "subject2", DEMO_PASSWORD, SUBJECTS[3][1], ["subject"], subject_id=subject_ids[3])
        # the roster: who held the department's posts when (the accountability cases follow it)
        department, first, second = subject_ids[0], uow.session.get(Subject, subject_ids[3]), \
            uow.session.get(Subject, subject_ids[4])
        add_holding(uow, department, first, "principal", date(2020, 1, 1), None, "局长")
        add_holding(uow, department, second, "official_in_charge", date(2021, 6, 1), None, "副局长")
        uow.commit()
        actors = {name: Actor.of(u) for name, u in users.items()}
    if when.moved:
        say(when.note())
    # the stories' "now": the system clock, or the end of the office day of the day they are set at
    now = SYSTEM_CLOCK if not when.moved else FixedClock(datetime.combine(when.day, time(17, 0), CST))
    _load_records(session_factory, settings, system, actors, subject_ids, when.day)
    run_once(session_factory, clock=now, settings=settings)
    # the department's account objects to its most recent published record
    with UnitOfWork(session_factory, Actor.of(subject_account), now, settings) as uow:
        record = uow.session.scalars(select(Record).where(Record.subject_id == subject_ids[0],
                                                          Record.status == "published")
                                     .order_by(Record.id.desc())).first()
        file_objection(uow, record.id, "factual_error", "欠款已于认定前结清，请核实。", [])
        uow.commit()
    with UnitOfWork(session_factory, system, now, settings) as uow: lookups_demo(uow)   # 逢办必查: checker / credflow-demo
    with UnitOfWork(session_factory, system, now, settings) as uow: sharing_demo(uow)   # sharing upward: /sharing
    commitments_demo(session_factory, settings, now)   # 公开承诺: /commitments, /public/commitments
    from .complaints.demo import demo as complaints_demo; complaints_demo(session_factory, settings, now)   # 投诉举报: /complaints
    from .evaluation.demo import demo as evaluation_demo; evaluation_demo(session_factory, settings, now)   # 诚信评价: /evaluations
    return _logins()


def _load_records(session_factory, settings, system: Actor, actors: dict, subject_ids: list[int], day: date) -> None:
    for subject_index, days_before, severity, stage in PLANS:
        decided = day - timedelta(days=days_before)
        clock = FixedClock(datetime.combine(decided + timedelta(days=1), time(9, 30), CST))
        capture = {**CAPTURE, "severity": severity, "decision_date": decided.isoformat()}
        with UnitOfWork(session_factory, actors["clerk"], clock, settings) as uow:
            record, case = open_record(uow, subject_ids[subject_index], None if stage == "capture" else capture)
            uow.commit()
        steps = {"review": [], "leader": [("reviewer", {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"})],
                 "rejected": [("reviewer", {"review_decision": "reject", "review_opinion": "证据不足，不予认定。"})]}
        approve = [("reviewer", {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}),
                   ("leader", {"leader_decision": "approve", "leader_opinion": "同意。"})]
        for role, data in steps.get(stage, approve if stage in ("published", "revoked") else []):
            clock.advance(days=1)
            with UnitOfWork(session_factory, actors[role], clock, settings) as uow:
                row = uow.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).one()
                complete_task(uow, row.id, data)
                uow.commit()
        if stage == "revoked":
            with UnitOfWork(session_factory, system, clock, settings) as uow:
                send_message(uow, case.id, "record_revoked", {"reason": "异议成立，撤销记录"})
                uow.commit()


def _logins() -> list[str]:
    names = [u[0] for u in DEMO_USERS] + ["subject", "subject2", "checker"]   # checker: workflows/lookups/demo.py
    return [f"{name} / {DEMO_PASSWORD}" for name in names]
