"""The rounds, who may do what with them, the survey import, and the departments' objections.
A round is opened for a year (its indicators start from the plan's defaults), edited and given
its survey scores, then started: starting begins its case (bpmn/integrity_evaluation.bpmn),
which computes the scores; from then on the indicators are frozen."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..case_errors import CaseError, Forbidden, NotFound
from ..clock import CST
from ..messages import Message, N_
from ..models import Document, Subject
from .indicators import default_indicators, parse_indicators
from .model import EvaluationObjection, EvaluationRound, EvaluationScore, EvaluationSurvey
from .scoring import departments, ranking

PROCESS = "integrity_evaluation"
READERS = frozenset({"reviewer", "leader", "admin"})
MANAGERS = frozenset({"leader", "admin"})
SHOWN_TO_DEPARTMENTS = ("objection", "handling", "confirming", "final")
OBJECTION_LIMIT = 2000
FIRST_YEAR, LAST_YEAR = 2019, 2100


class EvaluationRefused(CaseError):
    """A rule refused the action; nothing was changed."""
    status = 409


class EvaluationInvalid(CaseError):
    """What was typed was refused; nothing was changed."""
    status = 422


# -- who may do what (each rule once) -----------------------------------------------------------

def may_read(actor) -> bool:
    return bool(READERS & set(actor.roles))


def may_manage(actor) -> bool:
    return bool(MANAGERS & set(actor.roles))


def department_of(session, actor) -> Subject | None:
    """The department a subject account speaks for (None for anyone else)."""
    if "subject" not in actor.roles or actor.subject_id is None:
        return None
    subject = session.get(Subject, actor.subject_id)
    return subject if subject is not None and subject.kind == "department" else None


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def get_round(session, actor, round_id: int) -> EvaluationRound:
    _require(may_read(actor), N_("您的角色不能查看诚信评价"))
    evaluation = session.get(EvaluationRound, round_id)
    if evaluation is None:
        raise NotFound(N_("评价轮次不存在"))
    return evaluation


def _locked(session, round_id: int) -> EvaluationRound:
    evaluation = session.get(EvaluationRound, round_id, with_for_update=True)
    if evaluation is None:
        raise NotFound(N_("评价轮次不存在"))
    return evaluation


def list_rounds(session, actor) -> list[EvaluationRound]:
    _require(may_read(actor), N_("您的角色不能查看诚信评价"))
    return list(session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc())))


# -- opening, editing, starting -------------------------------------------------------------------

def open_round(uow, year_text: str) -> EvaluationRound:
    _require(may_manage(uow.actor), N_("只有分管领导或系统管理员可以开启评价"))
    try:
        year = int(str(year_text).strip())
    except ValueError:
        year = None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise EvaluationInvalid(N_("请填写评价年度（%(first)s 到 %(last)s）"), first=FIRST_YEAR, last=LAST_YEAR)
    existing = uow.session.scalars(select(EvaluationRound).where(EvaluationRound.year == year)).first()
    if existing is not None:      # a double submit, or the year is open already: the same round
        return existing
    evaluation = EvaluationRound(year=year, status="open", indicators=default_indicators(), computations=0,
                                 created_by=uow.actor.name, created_at=uow.clock.now())
    uow.session.add(evaluation)
    uow.session.flush()
    uow.audit("evaluation.opened", round_id=evaluation.id, year=year)
    return evaluation


def edit_indicators(uow, round_id: int, form: dict) -> EvaluationRound:
    _require(may_manage(uow.actor), N_("只有分管领导或系统管理员可以修改指标和权重"))
    evaluation = _locked(uow.session, round_id)
    if evaluation.status != "open":
        raise EvaluationRefused(N_("%(year)s 年度评价已计算得分，指标和权重不能再修改"), year=evaluation.year)
    indicators = parse_indicators(form)
    before = evaluation.indicators
    evaluation.indicators = indicators
    uow.audit("evaluation.indicators_edited", round_id=evaluation.id, before=before, after=indicators)
    return evaluation


def start_round(uow, round_id: int) -> EvaluationRound:
    """Begin the round's case, which computes the scores at once; a second start changes nothing."""
    from ..cases import start_case
    _require(may_manage(uow.actor), N_("只有分管领导或系统管理员可以开始评价"))
    evaluation = _locked(uow.session, round_id)
    if evaluation.case_id is not None:
        return evaluation
    weights = {i["code"]: i["weight"] for i in evaluation.indicators}
    if weights.get("survey"):
        missing = missing_survey(uow.session, evaluation.id)
        if missing:
            raise EvaluationRefused(N_("还有 %(count)s 个部门没有第三方评估得分（如 %(name)s），请先导入评估结果"),
                                    count=len(missing), name=missing[0].name)
    if not departments(uow.session):
        raise EvaluationRefused(N_("还没有登记任何部门，无法评价"))
    uow.audit("evaluation.started", round_id=evaluation.id, year=evaluation.year)
    case = start_case(uow, PROCESS, {"round_id": evaluation.id, "evaluation_year": evaluation.year})
    evaluation.case_id = case.id
    uow.session.flush()
    return evaluation


def missing_survey(session, round_id: int) -> list[Subject]:
    have = set(session.scalars(select(EvaluationSurvey.subject_id).where(EvaluationSurvey.round_id == round_id)))
    return [d for d in departments(session) if d.id not in have]


def case_of_round(session, round_id: int) -> int | None:
    """The round's case: a department's evidence files are kept with it."""
    evaluation = session.get(EvaluationRound, round_id)
    return evaluation.case_id if evaluation is not None else None


def round_of_case(session, case_id: int | None) -> EvaluationRound | None:
    if case_id is None:
        return None
    return session.scalars(select(EvaluationRound).where(EvaluationRound.case_id == case_id)).first()


# -- the departments' objections ------------------------------------------------------------------

def own_results(session, actor) -> list[tuple[EvaluationRound, dict, EvaluationObjection | None]]:
    """A department account's rounds once shown to departments: the round, its row of the ranking, its objection."""
    _require("subject" in actor.roles, N_("只有部门的账户有诚信评价结果"))
    department = department_of(session, actor)
    if department is None:          # a civil servant's account: as if there were no such page
        raise NotFound(N_("只有部门的账户有诚信评价结果"))
    out = []
    for evaluation in session.scalars(select(EvaluationRound).where(EvaluationRound.status.in_(SHOWN_TO_DEPARTMENTS))
                                      .order_by(EvaluationRound.year.desc())):
        row = next((r for r in ranking(session, evaluation.id) if r["subject"].id == department.id), None)
        if row is not None:
            out.append((evaluation, row, objection_of(session, evaluation.id, department.id)))
    return out


def objection_of(session, round_id: int, subject_id: int) -> EvaluationObjection | None:
    return session.scalars(select(EvaluationObjection).where(EvaluationObjection.round_id == round_id,
                                                             EvaluationObjection.subject_id == subject_id)).first()


def window_open(evaluation: EvaluationRound, now: datetime) -> bool:
    return (evaluation.status == "objection" and evaluation.objection_deadline is not None
            and now <= evaluation.objection_deadline)


def file_objection(uow, round_id: int, text: str, evidence: list[int] | None = None) -> EvaluationObjection:
    department = department_of(uow.session, uow.actor)
    if department is None:
        raise NotFound(N_("只有部门的账户可以对评价结果提出异议"))
    evaluation = _locked(uow.session, round_id)
    if evaluation.status not in SHOWN_TO_DEPARTMENTS:
        raise NotFound(N_("评价轮次不存在"))
    now = uow.clock.now()
    if not window_open(evaluation, now):
        raise EvaluationRefused(N_("异议期已于 %(deadline)s 结束，不能再对 %(year)s 年度评价结果提出异议"),
                                deadline=evaluation.objection_deadline.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
                                year=evaluation.year)
    text = (text or "").strip()
    if not text:
        raise EvaluationInvalid(N_("请写明异议的事实和理由"))
    if len(text) > OBJECTION_LIMIT:
        raise EvaluationInvalid(N_("异议不能超过 %(limit)s 字"), limit=OBJECTION_LIMIT)
    existing = objection_of(uow.session, round_id, department.id)
    if existing is not None:
        if existing.text == text:      # a double submit
            return existing
        raise EvaluationRefused(N_("本部门已对 %(year)s 年度评价结果提出过异议"), year=evaluation.year)
    objection = EvaluationObjection(round_id=round_id, subject_id=department.id, text=text, evidence=evidence or [],
                                    filed_by=uow.actor.name, filed_at=now)
    uow.session.add(objection)
    uow.session.flush()
    uow.audit("evaluation.objection_filed", case_id=evaluation.case_id, round_id=round_id, subject_id=department.id,
              objection_id=objection.id)
    return objection


def decide_objection(uow, objection_id: int, outcome: str, score_text: str, reason: str) -> EvaluationObjection:
    """The reviewer's answer while the round is handling objections: upheld (the department's
    score becomes the adjusted one) or rejected; a reason either way. Deciding again replaces it."""
    _require("reviewer" in uow.actor.roles, N_("只有审核人可以处理评价异议"))
    objection = uow.session.get(EvaluationObjection, objection_id)
    if objection is None:
        raise NotFound(N_("评价异议不存在"))
    evaluation = _locked(uow.session, objection.round_id)
    if evaluation.status != "handling":
        raise EvaluationRefused(N_("现在不是处理评价异议的阶段"))
    reason = (reason or "").strip()
    errors = {}
    if outcome not in ("upheld", "rejected"):
        errors["outcome"] = Message(N_("请选择异议成立或不成立"))
    if not reason or len(reason) > OBJECTION_LIMIT:
        errors["reason"] = Message(N_("请填写理由（不超过 %(limit)s 字）"), limit=OBJECTION_LIMIT)
    adjusted = None
    if outcome == "upheld":
        try:
            adjusted = round(float(str(score_text).strip()), 2)
        except ValueError:
            adjusted = None
        if adjusted is None or not 0 <= adjusted <= 100:
            errors["score"] = Message(N_("异议成立的，请填写调整后的得分（0 到 100）"))
    if errors:
        raise EvaluationInvalid(next(iter(errors.values())))
    score = uow.session.scalars(select(EvaluationScore).where(EvaluationScore.round_id == evaluation.id,
                                                              EvaluationScore.subject_id == objection.subject_id)).one()
    objection.outcome, objection.reason, objection.adjusted_score = outcome, reason, adjusted
    objection.decided_by, objection.decided_at = uow.actor.name, uow.clock.now()
    score.final_score = adjusted if outcome == "upheld" else score.computed_score
    score.adjustment_reason = reason if outcome == "upheld" else None
    uow.audit("evaluation.objection_decided", case_id=evaluation.case_id, round_id=evaluation.id,
              objection_id=objection.id, outcome=outcome, score=score.final_score)
    return objection


def round_of_objection(session, objection_id: int) -> int | None:
    objection = session.get(EvaluationObjection, objection_id)
    return objection.round_id if objection is not None else None


def objections(session, round_id: int) -> list[tuple[EvaluationObjection, Subject]]:
    return session.execute(select(EvaluationObjection, Subject)
                           .join(Subject, Subject.id == EvaluationObjection.subject_id)
                           .where(EvaluationObjection.round_id == round_id).order_by(EvaluationObjection.id)).all()


# -- published results ----------------------------------------------------------------------------

def published_round(session, year: int) -> EvaluationRound:
    evaluation = session.scalars(select(EvaluationRound).where(EvaluationRound.year == year,
                                                               EvaluationRound.status == "final")).first()
    if evaluation is None:
        raise NotFound(N_("%(year)s 年度诚信评价结果尚未公布"), year=year)
    return evaluation


def reports_of_round(session, evaluation: EvaluationRound) -> dict[int, Document]:
    """{department id: its signed report} once issued."""
    if evaluation.case_id is None:
        return {}
    return {d.subject_id: d for d in session.scalars(select(Document).where(
        Document.case_id == evaluation.case_id, Document.kind == "evaluation_report"))}


def published_years(session) -> list[int]:
    return list(session.scalars(select(EvaluationRound.year).where(EvaluationRound.status == "final")
                                .order_by(EvaluationRound.year.desc())))


def own_report(session, actor, round_id: int) -> Document:
    _require("subject" in actor.roles, N_("只有部门的账户有诚信评价结果"))
    department = department_of(session, actor)
    score = None if department is None else session.scalars(select(EvaluationScore).where(
        EvaluationScore.round_id == round_id, EvaluationScore.subject_id == department.id)).first()
    if score is None or score.document_id is None:
        raise NotFound(N_("评价报告不存在"))
    return session.get(Document, score.document_id)
