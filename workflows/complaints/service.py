"""Filing a complaint, reading its status by query code, and who sees the complainant.

The rule on identity lives here once (`sees_identity`): a complainant's name, phone and e-mail
are shown only to the staff on the case, those who hold or held one of its tasks. Every page,
panel and link asks it; nothing else reads the identity columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..clock import CST
from ..messages import Message, N_, UserError
from ..models import Attachment, AuditEvent, Document, HumanTask
from ..numbers import DIGITS
from ..runtime import Actor
from .guard import check_answer, code_digest, new_code, use_challenge
from .model import Complaint

PROCESS = "complaint"
PREFIX = "T"                      # 投诉: T-000012, written like the other case numbers (workflows/numbers.py)
STAFF = frozenset({"clerk", "reviewer", "leader"})
LIMITS = {"concerned": 200, "facts": 5000, "contact_name": 100, "contact_phone": 40, "contact_email": 200}
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ComplaintInvalid(UserError):
    """The form cannot be accepted: one message per field. Nothing was stored."""

    def __init__(self, errors: dict):
        super().__init__(N_("请检查标出的栏目"))
        self.errors = errors


def complaint_no(complaint) -> str:
    number = complaint if isinstance(complaint, int) else getattr(complaint, "id", None)
    return "" if number is None else f"{PREFIX}-{int(number):0{DIGITS}d}"


@dataclass
class ComplaintForm:
    """What the public form posts, as text."""
    concerned: str = ""
    facts: str = ""
    happened_on: str = ""
    anonymous: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    challenge_token: str = ""
    challenge_answer: str = ""

    def clean(self) -> "ComplaintForm":
        strip = {k: (getattr(self, k) or "").strip() for k in LIMITS}
        return ComplaintForm(**strip, happened_on=(self.happened_on or "").strip(), anonymous=bool(self.anonymous),
                             challenge_token=self.challenge_token or "", challenge_answer=self.challenge_answer or "")


def check_form(form: ComplaintForm, today: date, secret, now) -> dict:
    """Every problem of the form at once (field -> Message); the challenge is checked, not used up."""
    errors = {}
    if not form.concerned:
        errors["concerned"] = Message(N_("请填写被投诉的部门或人员"))
    if not form.facts:
        errors["facts"] = Message(N_("请说明发生了什么"))
    for name, limit in LIMITS.items():
        if len(getattr(form, name)) > limit and name not in errors:
            errors[name] = Message(N_("不能超过 %(limit)s 字"), limit=limit)
    try:
        happened = date.fromisoformat(form.happened_on) if form.happened_on else None
    except ValueError:
        happened = None
    if happened is None:
        errors["happened_on"] = Message(N_("请填写发生日期（年-月-日）"))
    elif happened > today:
        errors["happened_on"] = Message(N_("发生日期不能晚于今天"))
    if not form.anonymous:
        if not form.contact_name:
            errors["contact_name"] = Message(N_("请填写姓名，或选择匿名投诉"))
        if not form.contact_phone and not form.contact_email:
            errors["contact_phone"] = Message(N_("请至少填写电话或电子邮箱之一，或选择匿名投诉"))
        if form.contact_phone and not _PHONE.match(form.contact_phone):
            errors["contact_phone"] = Message(N_("电话号码格式不正确"))
        if form.contact_email and not _EMAIL.match(form.contact_email):
            errors["contact_email"] = Message(N_("电子邮箱格式不正确"))
    problem = check_answer(secret, form.challenge_token, form.challenge_answer, now)
    if problem == "expired":
        errors["challenge"] = Message(N_("验证题已过期，请回答新的题目"))
    elif problem:
        errors["challenge"] = Message(N_("验证题答案不正确"))
    return errors


def file_complaint(uow, form: ComplaintForm, attachment_ids: list[int], secret) -> tuple[Complaint, str]:
    """File a complaint from the public form and start its case: (complaint, query code). The code
    is returned once and kept only as its hash. An anonymous complaint keeps no identity at all."""
    from ..cases import start_case   # the case services import the operations, which import this module
    form = form.clean()
    now = uow.clock.now()
    errors = check_form(form, uow.clock.today(), secret, now)
    if errors:
        raise ComplaintInvalid(errors)
    if not use_challenge(uow.session, form.challenge_token, now):
        raise ComplaintInvalid({"challenge": Message(N_("此表单已提交过，请勿重复提交；如需再次投诉请刷新页面"))})
    code = new_code()
    identity = {} if form.anonymous else {"contact_name": form.contact_name,
                                          "contact_phone": form.contact_phone or None,
                                          "contact_email": form.contact_email or None}
    complaint = Complaint(concerned=form.concerned, facts=form.facts, happened_on=date.fromisoformat(form.happened_on),
                          anonymous=form.anonymous, code_sha256=code_digest(code), stage="registering",
                          overdue=False, created_at=now, updated_at=now, **identity)
    uow.session.add(complaint)
    uow.session.flush()
    number = complaint_no(complaint)
    # the case's data: what was reported, never who reported it
    case = start_case(uow, PROCESS, {"complaint_id": complaint.id, "complaint_no": number,
                                     "concerned": form.concerned, "complaint_facts": form.facts,
                                     "happened_on": form.happened_on, "has_contact": not form.anonymous,
                                     "evidence": list(attachment_ids)})
    complaint.case_id = case.id
    for attachment in uow.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids))) \
            if attachment_ids else []:
        attachment.case_id = case.id
    uow.audit("complaint.filed", case_id=case.id, complaint=number, anonymous=form.anonymous,
              files=len(attachment_ids))
    return complaint, code


def complaint_of_case(session, case_id: int) -> Complaint | None:
    return session.scalars(select(Complaint).where(Complaint.case_id == case_id)).first()


def complaint_of_record(session, record_id: int | None) -> Complaint | None:
    """The complaint a record was opened from (来源：投诉 T-...), if any."""
    if record_id is None:
        return None
    return session.scalars(select(Complaint).where(Complaint.record_id == record_id)).first()


# -- who sees the complainant ------------------------------------------------------------------

def sees_identity(session, actor: Actor | None, case_id: int) -> bool:
    """THE rule: staff who hold one of the case's tasks (claimed or given it) or held one (claimed or
    completed it). Nobody else: not a clerk of another case, not a manager, not a leader who only
    handed a task on, not an API caller, not the public."""
    if actor is None or actor.user_id is None or not (set(actor.roles) & STAFF):
        return False
    holds = session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                      HumanTask.assignee_id == actor.user_id).limit(1))
    if holds is not None:
        return True
    held = session.scalar(select(AuditEvent.id).where(
        AuditEvent.case_id == case_id, AuditEvent.actor == actor.name,
        AuditEvent.action.in_(("task.claimed", "task.completed"))).limit(1))
    return held is not None


@dataclass(frozen=True)
class IdentityPanel:
    """What the complainant panel of a staff page shows."""
    number: str
    anonymous: bool
    visible: bool
    name: str = ""
    phone: str = ""
    email: str = ""
    stage: str = ""
    overdue: bool = False
    record_id: int | None = None            # the record a founded complaint opened
    record_case_id: int | None = None       # its lifecycle case (where the record is shown)


def identity_panel(session, actor: Actor | None, case_id: int) -> IdentityPanel | None:
    """The complaint panel of a complaint case's pages: its number, stage and record, and the
    complainant only if `sees_identity`."""
    from ..records import lifecycle_case
    complaint = complaint_of_case(session, case_id)
    if complaint is None:
        return None
    lifecycle = lifecycle_case(session, complaint.record_id) if complaint.record_id else None
    common = {"stage": complaint.stage, "overdue": complaint.overdue, "record_id": complaint.record_id,
              "record_case_id": lifecycle.id if lifecycle else None}
    number = complaint_no(complaint)
    if complaint.anonymous:
        return IdentityPanel(number, True, False, **common)
    if not sees_identity(session, actor, case_id):
        return IdentityPanel(number, False, False, **common)
    return IdentityPanel(number, False, True, complaint.contact_name or "", complaint.contact_phone or "",
                         complaint.contact_email or "", **common)


PUBLIC_UPLOADER = "public-complaints"


def public_uploader(uow) -> int:
    """The account public evidence files are recorded as uploaded by (an attachment names its
    uploader): inactive, no roles, no password that can ever match; made at the first need."""
    from ..models import User
    found = uow.session.scalar(select(User.id).where(User.username == PUBLIC_UPLOADER))
    if found is not None:
        return found
    from sqlalchemy.exc import IntegrityError
    try:
        with uow.session.begin_nested():   # two first complaints at once: one makes it, the other reads it
            user = User(username=PUBLIC_UPLOADER, display_name="公众投诉（系统）", password_hash="!", active=False,
                        created_at=uow.clock.now())
            uow.session.add(user)
            uow.session.flush()
            return user.id
    except IntegrityError:
        return uow.session.scalar(select(User.id).where(User.username == PUBLIC_UPLOADER))


def masked_name(name: str | None) -> str:
    """How the reply letter addresses the complainant: the family name and asterisks (张**)."""
    name = (name or "").strip()
    return f"{name[0]}{'*' * max(1, len(name) - 1)}" if name else ""


# -- the status page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ComplaintStatus:
    """What the complainant reads with the query code: the stage and the answers given to them."""
    number: str
    stage: str
    filed_on: date
    concerned: str
    refusal_reason: str | None
    reply: str | None
    letter_number: str | None


def status_by_code(session, code: str) -> ComplaintStatus | None:
    complaint = _by_code(session, code)
    if complaint is None:
        return None
    letter = session.get(Document, complaint.reply_document_id) if complaint.reply_document_id else None
    decided = complaint.stage in ("unfounded", "founded")
    return ComplaintStatus(complaint_no(complaint), complaint.stage, complaint.created_at.astimezone(CST).date(), complaint.concerned,
                           complaint.refusal_reason if complaint.stage == "refused" else None,
                           complaint.reply if decided else None, letter.number if letter else None)


def letter_by_code(session, code: str) -> Document | None:
    complaint = _by_code(session, code)
    if complaint is None or complaint.reply_document_id is None:
        return None
    return session.get(Document, complaint.reply_document_id)


def _by_code(session, code: str) -> Complaint | None:
    digest = code_digest(code)
    if digest is None:
        return None
    return session.scalars(select(Complaint).where(Complaint.code_sha256 == digest)).first()
