"""The operations bpmn/integrity_evaluation.bpmn's service tasks call: compute the scores (a
bounded number of times), move the round along, open the departments' objection window and
close it, check every objection is answered, and issue the results (a signed report per
department, the published summary)."""
from __future__ import annotations

from sqlalchemy import select

from ..dates import end_of_day_cst
from ..messages import Message, N_
from ..notifications import accounts_of_subject, holders_of_role, notify_users
from ..operations import Blocked, OperationError, operation
from .model import STATUSES, EvaluationObjection, EvaluationRound
from .report import issue_reports
from .scoring import compute, departments


def _round(ctx) -> EvaluationRound:
    round_id = ctx.data.get("round_id")
    evaluation = ctx.session.get(EvaluationRound, round_id, with_for_update=True) if isinstance(round_id, int) else None
    if evaluation is None or evaluation.case_id not in (None, ctx.case.id):
        raise OperationError(N_("案件没有对应的评价轮次"))
    return evaluation


@operation("compute_evaluation_scores", N_("计算诚信评价得分"),
           describe=lambda ctx, **_: Message(N_("按本年度指标和权重计算各部门得分和排名")))
def compute_evaluation_scores(ctx):
    evaluation = _round(ctx)
    limit = int(ctx.settings.evaluation_recomputations)
    if evaluation.computations > limit:
        raise OperationError(N_("得分已重新计算 %(count)s 次，达到上限，请审核现有排名"), count=limit)
    rows = compute(ctx.session, evaluation)
    evaluation.computations += 1
    evaluation.computed_at = ctx.uow.clock.now()
    evaluation.status = "review"
    ctx.audit("evaluation.computed", round_id=evaluation.id, departments=len(rows), computation=evaluation.computations)
    return evaluation.computations


@operation("mark_evaluation", N_("更新评价阶段"), status="str")
def mark_evaluation(ctx, status: str):
    if status not in STATUSES:
        raise OperationError(N_("未知的评价阶段"))
    _round(ctx).status = status
    return status


@operation("open_evaluation_objections", N_("通知各部门并开放异议期"),
           describe=lambda ctx, **_: Message(N_("通知各部门评价结果，异议期内可提出异议")))
def open_evaluation_objections(ctx):
    """Each department's accounts are told their score; the window closes at the end of the N-th
    working day (a setting). Returns when, for the timer."""
    evaluation = _round(ctx)
    days = int(ctx.settings.evaluation_objection_workdays)
    deadline = end_of_day_cst(ctx.calendar.add_workdays(ctx.today, days))
    evaluation.status, evaluation.objection_deadline = "objection", deadline
    text = Message(N_("%(year)s 年度政务诚信评价结果已出，请查看本部门得分；如有异议，请于 %(deadline)s 前提出。"),
                   year=evaluation.year, deadline=deadline.strftime("%Y-%m-%d"))
    for department in departments(ctx.session):
        notify_users(ctx.uow, accounts_of_subject(ctx.session, department.id), "evaluation_result", text,
                     "/evaluations/mine", ctx.case.id)
    ctx.audit("evaluation.objections_opened", round_id=evaluation.id, deadline=deadline.isoformat())
    return deadline.isoformat()


@operation("close_evaluation_objections", N_("异议期届满"))
def close_evaluation_objections(ctx):
    """The window has closed (the timer): the number of objections filed."""
    evaluation = _round(ctx)
    count = len(ctx.session.scalars(select(EvaluationObjection.id).where(
        EvaluationObjection.round_id == evaluation.id)).all())
    evaluation.status = "handling" if count else "confirming"
    ctx.audit("evaluation.objections_closed", round_id=evaluation.id, objections=count)
    return count


def _undecided(ctx, **_):
    evaluation = _round(ctx)
    left = ctx.session.scalars(select(EvaluationObjection.id).where(EvaluationObjection.round_id == evaluation.id,
                                                                   EvaluationObjection.outcome.is_(None))).all()
    if left:
        return Blocked(Message(N_("还有 %(count)s 件评价异议没有处理，请在评价页面逐件处理后再提交"), count=len(left)))
    return None


@operation("check_evaluation_objections", N_("核对异议处理结果"), precheck=_undecided)
def check_evaluation_objections(ctx):
    evaluation = _round(ctx)
    evaluation.status = "confirming"
    return True


@operation("publish_evaluation_results", N_("出具评价报告并公布结果"),
           describe=lambda ctx, **_: Message(N_("向每个部门出具签章的评价报告，并在公开网站公布排名")))
def publish_evaluation_results(ctx):
    evaluation = _round(ctx)
    documents = issue_reports(ctx.uow, ctx.case, evaluation)
    evaluation.status, evaluation.published_at = "final", ctx.uow.clock.now()
    notify_users(ctx.uow, holders_of_role(ctx.session, "leader"), "evaluation_published", Message(
        N_("%(year)s 年度政务诚信评价结果已公布。"), year=evaluation.year), f"/evaluations/{evaluation.id}", ctx.case.id)
    ctx.audit("evaluation.published", round_id=evaluation.id, reports=len(documents))
    return len(documents)
