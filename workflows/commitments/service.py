"""Registering a township's commitment, the rules of who sees and works on it, and the lists the
pages show. A commitment is registered by its township's own subject account or by a clerk for
any department; registering starts its case (bpmn/commitment.bpmn), which publishes it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from ..case_errors import CaseError, Forbidden, NotFound
from ..messages import Message, N_
from ..models import Case, HumanTask, Subject
from ..numbers import case_no
from .model import Commitment

PROCESS = "commitment"
LIMITS = {"content": 2000, "responsible_name": 100, "responsible_post": 100}
STATUS_TEXT = {"in_progress": N_("进行中"), "fulfilled": N_("已履行"), "partly": N_("部分履行"), "failed": N_("未履行")}


class CommitmentInvalid(CaseError):
    """The form's values were refused: `errors` says why, field by field; nothing was saved."""
    status = 422

    def __init__(self, errors: dict[str, Message]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


@dataclass(frozen=True)
class Draft:
    """What a person typed: the township (its subject id), the content, the deadline (ISO date),
    the person responsible (name and post)."""
    subject_id: int | None
    content: str
    deadline: str
    responsible_name: str
    responsible_post: str


# -- who may do what (each rule once; the routes and the links use them) --------------------------

STAFF = ("clerk", "reviewer", "leader", "manager")


def is_township_account(session, actor) -> bool:
    """A department's own subject account: it registers its commitments in the portal."""
    if "subject" not in actor.roles or actor.subject_id is None:
        return False
    subject = session.get(Subject, actor.subject_id)
    return subject is not None and subject.kind == "department"


def may_register_any(actor) -> bool:
    """Clerks register a commitment for any department (/commitments/new)."""
    return "clerk" in actor.roles


def may_list(actor) -> bool:
    """The staff list /commitments and each commitment's page there."""
    return bool(actor.roles.intersection(STAFF))


def township_owns(actor, commitment: Commitment | None) -> bool:
    """The township's own accounts see their commitment's private steps (its report task)."""
    return (commitment is not None and "subject" in actor.roles and actor.subject_id is not None
            and commitment.subject_id == actor.subject_id)


# -- registering ------------------------------------------------------------------------------

def check_draft(session, draft: Draft, today: date) -> tuple[Subject | None, date | None]:
    errors: dict[str, Message] = {}
    subject = session.get(Subject, draft.subject_id) if draft.subject_id else None
    if subject is None or subject.kind != "department":
        errors["subject_id"] = Message(N_("请选择已登记的乡镇（街道）政府"))
    content = (draft.content or "").strip()
    if not content:
        errors["content"] = Message(N_("承诺内容必填"))
    deadline = None
    try:
        deadline = date.fromisoformat((draft.deadline or "").strip())
    except ValueError:
        errors["deadline"] = Message(N_("请填写承诺履行期限（日期，如 2026-12-31）"))
    if deadline is not None and deadline < today:
        errors["deadline"] = Message(N_("履行期限 %(day)s 已过，请填写今天或以后的日期"), day=deadline.isoformat())
    if not (draft.responsible_name or "").strip():
        errors["responsible_name"] = Message(N_("责任人姓名必填"))
    if not (draft.responsible_post or "").strip():
        errors["responsible_post"] = Message(N_("责任人职务必填"))
    for name, limit in LIMITS.items():
        if len((getattr(draft, name) or "").strip()) > limit:
            errors[name] = Message(N_("不能超过 %(limit)s 字"), limit=limit)
    if errors:
        raise CommitmentInvalid(errors)
    return subject, deadline


def register_commitment(uow, draft: Draft) -> Commitment:
    """Register and publish a commitment: the actor's own township (a subject account) or any
    department (a clerk). Its case starts in the same transaction."""
    from ..cases import start_case
    actor = uow.actor
    if is_township_account(uow.session, actor):
        draft = Draft(actor.subject_id, draft.content, draft.deadline, draft.responsible_name, draft.responsible_post)
    elif not may_register_any(actor):
        raise Forbidden(N_("只有乡镇（街道）政府的账户或承办人可以登记公开承诺"))
    subject, deadline = check_draft(uow.session, draft, uow.clock.today())
    same = uow.session.scalars(select(Commitment).where(   # a double submit registers once
        Commitment.subject_id == subject.id, Commitment.content == draft.content.strip(),
        Commitment.deadline == deadline, Commitment.registered_by == actor.name,
        Commitment.status == "in_progress")).first()
    if same is not None:
        return same
    commitment = Commitment(subject_id=subject.id, content=draft.content.strip(), deadline=deadline,
                            responsible_name=draft.responsible_name.strip(),
                            responsible_post=draft.responsible_post.strip(), status="in_progress",
                            registered_by=actor.name, created_at=uow.clock.now())
    uow.session.add(commitment)
    uow.session.flush()
    uow.audit("commitment.registered", commitment_id=commitment.id, subject_id=subject.id,
              deadline=deadline.isoformat())
    filing = {"commitment_id": commitment.id, "commitment_content": commitment.content,   # forms/commitment/start.json
              "commitment_deadline": deadline.isoformat(), "responsible_name": commitment.responsible_name,
              "responsible_post": commitment.responsible_post}
    case = start_case(uow, PROCESS, filing, party_id=subject.id)
    commitment.case_id = case.id
    uow.session.flush()
    return commitment


def commitment_no(commitment: Commitment) -> str:
    """A commitment is known by its case's number (C-000012)."""
    return case_no(commitment.case_id, PROCESS) if commitment.case_id else ""


# -- reading ----------------------------------------------------------------------------------

def commitment_of_case(session, case_id: int | None) -> Commitment | None:
    if case_id is None:
        return None
    return session.scalars(select(Commitment).where(Commitment.case_id == case_id)).first()


def public_commitments(session, limit: int = 500) -> list[tuple[Commitment, Subject]]:
    """What the public site lists: every commitment with its township, nearest deadline first."""
    return session.execute(select(Commitment, Subject).join(Subject, Subject.id == Commitment.subject_id)
                           .order_by(Commitment.status != "in_progress", Commitment.deadline, Commitment.id)
                           .limit(limit)).all()


def staff_commitments(session, actor, status: str | None = None) -> list[tuple[Commitment, Subject, Case | None]]:
    if not may_list(actor):
        raise Forbidden(N_("您的角色不能查看公开承诺"))
    query = (select(Commitment, Subject, Case).join(Subject, Subject.id == Commitment.subject_id)
             .outerjoin(Case, Case.id == Commitment.case_id))
    if status in STATUS_TEXT:
        query = query.where(Commitment.status == status)
    return session.execute(query.order_by(Commitment.deadline, Commitment.id).limit(1000)).all()


def own_commitments(session, actor) -> list[Commitment]:
    if not is_township_account(session, actor):
        return []
    return list(session.scalars(select(Commitment).where(Commitment.subject_id == actor.subject_id)
                                .order_by(Commitment.deadline.desc(), Commitment.id.desc())))


def own_commitment(session, actor, commitment_id: int) -> Commitment:
    """The township's own commitment; anyone else's is 'not found' (404), never 'forbidden'."""
    commitment = session.get(Commitment, commitment_id)
    if not township_owns(actor, commitment):
        raise NotFound(N_("公开承诺不存在"))
    return commitment


def report_task(session, actor, commitment: Commitment) -> HumanTask | None:
    """The township's open report task on its own commitment, if any."""
    if not township_owns(actor, commitment) or commitment.case_id is None:
        return None
    return session.scalars(select(HumanTask).where(HumanTask.case_id == commitment.case_id,
                                                   HumanTask.lane == "subject",
                                                   HumanTask.subject_id == actor.subject_id)).first()


def staff_tasks(session, commitment: Commitment) -> list[HumanTask]:
    if commitment.case_id is None:
        return []
    return list(session.scalars(select(HumanTask).where(HumanTask.case_id == commitment.case_id)))
