"""Demo data: subjects, one user for every role, records spread over the lifecycle."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from .accounts import create_user
from .cases import complete_task, send_message
from .clock import CST, FixedClock
from .identifiers import _ID_CHECK, _ID_WEIGHTS, USCC_ALPHABET, _USCC_WEIGHTS, _ORG_WEIGHTS, _org_value
from .accountability import add_holding
from .applications import file_objection
from .models import HumanTask, Record, Subject, User
from .records import open_record, register_subject
from .runtime import Actor, UnitOfWork
from .worker import run_once

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


def load_demo(session_factory, settings=None) -> list[str]:
    """Load the demo once; returns the demo logins. Safe to call again (does nothing)."""
    system = Actor.system("demo")
    with UnitOfWork(session_factory, system, settings=settings) as uow:
        if uow.session.scalars(select(User).where(User.username == "clerk")).first():
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

    today = datetime.now(CST).date()
    plans = [  # (subject, decision date, severity, how far to take it)
        (0, today - timedelta(days=3), "general", "capture"),
        (1, today - timedelta(days=4), "general", "review"),
        (3, today - timedelta(days=6), "serious", "leader"),
        (2, today - timedelta(days=30), "serious", "review"),              # overdue by now
        (2, today - timedelta(days=60), "general", "published"),
        (0, today - timedelta(days=200), "general", "published"),      # minimum period passed
        (4, today - timedelta(days=400), "general", "published"),      # maximum passed: expires
        (1, today - timedelta(days=90), "serious", "revoked"),
        (3, today - timedelta(days=15), "minor", "rejected"),
    ]
    for subject_index, decided, severity, stage in plans:
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
    run_once(session_factory, settings=settings)
    # the department's account objects to its most recent published record
    with UnitOfWork(session_factory, Actor.of(subject_account), settings=settings) as uow:
        record = uow.session.scalars(select(Record).where(Record.subject_id == subject_ids[0],
                                                          Record.status == "published")
                                     .order_by(Record.id.desc())).first()
        file_objection(uow, record.id, "factual_error", "欠款已于认定前结清，请核实。", [])
        uow.commit()
    return _logins()


def _logins() -> list[str]:
    names = [u[0] for u in DEMO_USERS] + ["subject", "subject2"]
    return [f"{name} / {DEMO_PASSWORD}" for name in names]
