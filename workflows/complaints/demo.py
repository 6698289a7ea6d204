"""Demo complaints at different stages (workflows/demo.py calls `demo` once): an anonymous one
waiting for registration, one being verified, and one answered with a signed reply letter. The
demo's query codes are printed nowhere: the citizen's side is shown by filing one on /complaints/new."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from ..cases import claim_task, complete_task
from ..models import HumanTask, Subject, User
from ..runtime import Actor, UnitOfWork
from .guard import make_challenge
from .service import ComplaintForm, file_complaint

STORIES = [
    # (concerned, facts, happened_on, anonymous, contact, stage reached)
    ("某县招商服务中心", "招商引资协议约定的奖励资金，企业投产已满两年仍未兑现，多次催告无果。", "2026-01-15", True, None,
     "registration"),
    ("某区住房和城乡建设局", "保障房项目招标结束后，中标通知书发出已三个月仍拒不签订合同，也不退还投标保证金。",
     "2026-03-02", False, ("赵先生", "13800001234", None), "verification"),
    ("某镇人民政府", "承诺年底前清偿的工程款至今未付，涉及农民工工资。", "2025-12-31", False,
     ("钱女士", None, "qian@example.cn"), "answered"),
]


def _answered(secret: str, now) -> tuple[str, str]:
    challenge = make_challenge(secret, now, 30)
    a, b = (int(x) for x in challenge.question.replace("= ?", "").split("+"))
    return challenge.token, str(a + b)


def demo(session_factory, settings, clock) -> None:
    secret = secrets.token_hex(16)   # the demo answers its own challenges
    with session_factory() as session:
        actors = {u.username: Actor.of(u) for u in session.scalars(
            select(User).where(User.username.in_(("clerk", "reviewer", "leader"))))}
        department = session.scalars(select(Subject).where(Subject.kind == "department").order_by(Subject.id)).first()

    def act(actor, fn, *args):
        with UnitOfWork(session_factory, actors[actor] if actor else Actor.system("public"), clock, settings) as uow:
            result = fn(uow, *args)
            uow.commit()
            return result

    def work(case_id, bpmn_id, actor, data):
        with session_factory() as session:
            row = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                          HumanTask.bpmn_id == bpmn_id)).one()
        act(actor, claim_task, row.id)
        act(actor, complete_task, row.id, data)

    for concerned, facts, happened, anonymous, contact, reached in STORIES:
        token, answer = _answered(secret, clock.now())
        name, phone, email = contact or ("", "", "")
        form = ComplaintForm(concerned=concerned, facts=facts, happened_on=happened, anonymous=anonymous,
                             contact_name=name or "", contact_phone=phone or "", contact_email=email or "",
                             challenge_token=token, challenge_answer=answer)
        complaint, _ = act(None, lambda uow: file_complaint(uow, form, [], secret))
        if reached == "registration":
            continue
        work(complaint.case_id, "registration", "clerk",
             {"registration_decision": "accept", "subject_code": department.code,
              "registration_reason": "属于政务失信投诉范围，予以受理。"})
        if reached == "verification":
            continue
        work(complaint.case_id, "verification", "reviewer",
             {"findings": "调取付款台账核实，工程款已于投诉受理后结清。", "proposed_outcome": "unfounded"})
        work(complaint.case_id, "leader_outcome", "leader",
             {"outcome": "unfounded", "reply": "经核查，所涉工程款已全部支付，未发现失信行为。感谢您的监督。"})
