"""The operations bpmn/commitment.bpmn's service tasks call: publish the commitment and plan its
reminders, remind, open the township's report at the deadline, conclude the review, and on a
confirmed failure open a dishonesty record (违约/失信承诺) for the township with the commitment
attached and linked both ways."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ..clock import CST
from ..dates import as_date, end_of_day_cst
from ..messages import Message, N_
from ..models import Attachment, Case
from ..notifications import accounts_of_subject, holders_of_role, notify_users
from ..operations import OperationError, operation
from .model import Commitment
from .service import STATUS_TEXT, commitment_no

REMIND_AT = time(9, 0)          # a reminder goes out at the start of the office day
SOURCE, FIELD = "breach_of_promise", "township_commitment"   # the record's codes (models / capture form)


def _commitment(ctx) -> Commitment:
    commitment_id = ctx.data.get("commitment_id")
    commitment = ctx.session.get(Commitment, commitment_id) if isinstance(commitment_id, int) else None
    if commitment is None or commitment.case_id not in (None, ctx.case.id):
        raise OperationError(N_("案件没有对应的公开承诺"))
    commitment.case_id = ctx.case.id
    return commitment


def workdays_before(calendar, day: date, count: int) -> date:
    """The `count`-th working day before `day` (day itself not counted)."""
    while count > 0:
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            count -= 1
    return day


def reminder_times(calendar, deadline: date, counts, now: datetime) -> list[str]:
    """When to remind: 09:00 of the day `n` working days before the deadline for each n of the
    setting, the ones still ahead of `now`, earliest first."""
    times = {datetime.combine(workdays_before(calendar, deadline, int(n)), REMIND_AT, CST) for n in counts}
    return [t.isoformat() for t in sorted(times) if t > now]


def _tell(ctx, commitment: Commitment, kind: str, text: Message, clerks: bool = True) -> None:
    users = accounts_of_subject(ctx.session, commitment.subject_id)
    notify_users(ctx.uow, users, kind, text, f"/portal/commitments/{commitment.id}", ctx.case.id)
    if clerks:
        notify_users(ctx.uow, holders_of_role(ctx.session, "clerk"), kind, text, f"/cases/{ctx.case.id}",
                     ctx.case.id)


@operation("publish_commitment", N_("公示公开承诺"), describe=lambda ctx, **_: Message(N_("在信用网站公示承诺")))
def publish_commitment(ctx):
    commitment = _commitment(ctx)
    commitment.published_at = ctx.uow.clock.now()
    ctx.audit("commitment.published", commitment_id=commitment.id)
    reminders = reminder_times(ctx.calendar, commitment.deadline, ctx.settings.commitment_reminder_workdays,
                               ctx.uow.clock.now())
    return {"reminders": reminders, "deadline_at": end_of_day_cst(commitment.deadline).isoformat()}


@operation("remind_commitment", N_("提醒承诺即将到期"))
def remind_commitment(ctx):
    """Tell the township and the clerks the deadline is near; returns the plan without this reminder."""
    commitment = _commitment(ctx)
    plan = dict(ctx.data.get("plan") or {})
    left = ctx.calendar.workdays_between(ctx.today, commitment.deadline)
    if commitment.status == "in_progress":
        _tell(ctx, commitment, "commitment_due", Message(
            N_("公开承诺 %(number)s 将于 %(deadline)s 到期（还有 %(days)s 个工作日），请按期履行并准备报告履行情况。"),
            number=commitment_no(commitment), deadline=commitment.deadline.isoformat(), days=left))
        ctx.audit("commitment.reminded", commitment_id=commitment.id, workdays_left=left)
    plan["reminders"] = list(plan.get("reminders") or [])[1:]
    return plan


@operation("open_commitment_report", N_("请乡镇报告履行情况"))
def open_commitment_report(ctx):
    """At the deadline: the township is asked for its report, due N working days later."""
    commitment = _commitment(ctx)
    due = ctx.calendar.add_workdays(as_date(commitment.deadline), int(ctx.settings.commitment_report_workdays))
    _tell(ctx, commitment, "commitment_report", Message(
        N_("公开承诺 %(number)s 已到期，请于 %(due)s 前报告履行情况并上传证明材料。"),
        number=commitment_no(commitment), due=due.isoformat()), clerks=False)
    return end_of_day_cst(due).isoformat()


@operation("note_no_report", N_("乡镇逾期未报告"))
def note_no_report(ctx):
    commitment = _commitment(ctx)
    ctx.audit("commitment.not_reported", commitment_id=commitment.id)
    return True


def _conclude(ctx, commitment: Commitment, outcome: str, opinion: str) -> None:
    if outcome not in STATUS_TEXT or outcome == "in_progress":
        raise OperationError(N_("履行结论须为已履行、部分履行或未履行"))
    commitment.status, commitment.opinion = outcome, opinion
    commitment.concluded_at = ctx.uow.clock.now()
    ctx.case.outcome, ctx.case.outcome_reason = outcome, opinion
    ctx.audit("commitment.concluded", commitment_id=commitment.id, outcome=outcome)
    _tell(ctx, commitment, "commitment_concluded", Message(
        N_("公开承诺 %(number)s 的履行情况审核结论：%(outcome)s。"), number=commitment_no(commitment),
        outcome=Message(STATUS_TEXT[outcome])), clerks=False)


def _describe_conclusion(ctx, outcome="", **_):
    return Message(N_("公示履行结论：%(outcome)s"), outcome=Message(STATUS_TEXT.get(outcome, N_("进行中"))))


@operation("conclude_commitment", N_("公示承诺履行结论"), describe=_describe_conclusion, outcome="str", opinion="str")
def conclude_commitment(ctx, outcome: str, opinion: str):
    _conclude(ctx, _commitment(ctx), outcome, opinion)


@operation("fail_commitment", N_("认定未履行并启动失信记录认定"), opinion="str",
           describe=lambda ctx, **_: Message(N_("公示为未履行，对乡镇政府启动政务失信记录认定")))
def fail_commitment(ctx, opinion: str):
    """A confirmed failure: the commitment shows 未履行, and a dishonesty record is opened for the
    township (its capture prefilled for a clerk), with the commitment attached and linked both ways."""
    from ..records import open_record
    commitment = _commitment(ctx)
    _conclude(ctx, commitment, "failed", opinion)
    number = commitment_no(commitment)
    record, lifecycle = open_record(ctx.uow, commitment.subject_id)
    record.source, record.field = SOURCE, FIELD
    record.facts = (f"来源：公开承诺 {number}。承诺内容：{commitment.content}（履行期限 {commitment.deadline.isoformat()}，"
                    f"责任人 {commitment.responsible_name}，{commitment.responsible_post}）。经履行情况审核认定未履行：{opinion}")[:5000]
    record.legal_basis = "榆政办函〔2019〕1号（街道和乡镇政府公开承诺）"
    record.decision_date = ctx.today
    commitment.record_id = record.id
    ctx.case.record_id = record.id          # the record's pages list this case among its cases
    _attach(ctx, lifecycle, commitment)
    ctx.audit("commitment.record_opened", commitment_id=commitment.id, opened_record_id=record.id,
              lifecycle_case_id=lifecycle.id)
    notify_users(ctx.uow, holders_of_role(ctx.session, "clerk"), "commitment_failed", Message(
        N_("公开承诺 %(number)s 认定未履行，已启动政务失信记录认定，请录入。"), number=number),
        f"/cases/{lifecycle.id}", lifecycle.id)
    return {"record_id": record.id, "lifecycle_case_id": lifecycle.id}


def _attach(ctx, lifecycle: Case, commitment: Commitment) -> None:
    """The commitment's evidence files go with the record's case too (the same stored files)."""
    for att in ctx.session.scalars(select(Attachment).where(Attachment.case_id == ctx.case.id).order_by(Attachment.id)):
        ctx.session.add(Attachment(case_id=lifecycle.id, uploaded_by_id=att.uploaded_by_id, filename=att.filename,
                                   content_type=att.content_type, size=att.size, sha256=att.sha256,
                                   created_at=ctx.uow.clock.now()))

