"""Which records a person may be held accountable on (追究责任): a decided record of a department
the person held a post in on the conduct date, with no case for the person yet. The rule lives
here once, as SQL conditions on Record: the personnel picker lists the records that meet them all
(records_of_persons_departments), and workflows.accountability.open_accountability refuses a
record that fails one, saying which (refuse_accountability). A 复核 (review) case is the exception:
it reconsiders a decided case (workflows.accountability.request_review checks it)."""
from __future__ import annotations

from sqlalchemy import exists, func, or_, select

from .case_errors import CaseError
from .messages import N_
from .models import Case, PostHolding, Record, Subject
from .numbers import case_no

ACCOUNTABILITY_PROCESS = "accountability"

DECIDED_STATUSES = ("confirmed", "sanctioned", "exempted", "published", "corrected", "repaired", "expired", "archived")


def original_cases(person_id, record_id) -> tuple:
    """Conditions on Case: the person's accountability case on the record, not a review of one."""
    return (Case.process_key == ACCOUNTABILITY_PROCESS, Case.record_id == record_id, Case.party_id == person_id,
            Case.parent_case_id.is_(None))


def _conduct_day():
    return func.coalesce(Record.conduct_date, Record.decision_date)


# Which records a person may be held accountable on, as SQL conditions on Record: the picker lists
# the records that meet them all, open_accountability refuses a record that fails one, saying which.
ACCOUNTABILITY_RULE = (
    ("decided", lambda person_id: Record.status.in_(DECIDED_STATUSES),
     N_("只能对已认定的失信记录启动问责（草稿、审核中、已退回、已驳回或已撤销的记录不能）")),
    ("of_department", lambda person_id: Record.subject_id.in_(select(Subject.id).where(Subject.kind == "department")),
     N_("该失信记录的信用主体不是部门")),
    ("held_post", lambda person_id: exists().where(
        PostHolding.person_id == person_id, PostHolding.department_id == Record.subject_id,
        PostHolding.start_date <= _conduct_day(),
        or_(PostHolding.end_date.is_(None), PostHolding.end_date >= _conduct_day())),
     N_("失信行为发生之日该人员未在该部门任职")),
    ("no_case_yet", lambda person_id: ~exists().where(*original_cases(person_id, Record.id)),
     N_("该人员对此失信记录已有问责案件 %(case)s")),
)


def refuse_accountability(session, record_id: int, person_id: int) -> None:
    """Raises CaseError naming the first condition of ACCOUNTABILITY_RULE the record fails."""
    met = session.execute(select(*(condition(person_id).label(name) for name, condition, _ in ACCOUNTABILITY_RULE))
                          .where(Record.id == record_id)).one()
    for (name, _, message), ok in zip(ACCOUNTABILITY_RULE, met):
        if not ok:
            if name == "no_case_yet":
                case = session.scalars(select(Case).where(*original_cases(person_id, record_id))).first()
                raise CaseError(message, case=case_no(case))
            raise CaseError(message)



def records_of_persons_departments(session, person_id: int) -> list[Record]:
    """What personnel may open an accountability case on for the person, newest first: the records
    that meet ACCOUNTABILITY_RULE (decided records of a department the person held a post in on
    the conduct date, on which the person has no case yet)."""
    return session.scalars(select(Record).where(*(condition(person_id) for _, condition, _ in ACCOUNTABILITY_RULE))
                           .order_by(Record.id.desc()).limit(200)).all()
