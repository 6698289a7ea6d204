"""The signed report each department receives (政务诚信评价结果通知书, 榆信评〔year〕n号): its total,
rank and grade, each indicator with what was counted, and an upheld objection's adjustment."""
from __future__ import annotations

from sqlalchemy import select

from ..documents import issue_document
from .indicators import GRADE_TITLES, PARAM_TITLES, TITLES
from .model import EvaluationObjection, EvaluationRound, EvaluationScore
from .scoring import ranking

OUTCOME = {"upheld": "异议成立", "rejected": "异议不成立"}


def _counted(code: str, counts: dict, params: dict) -> str:
    """What an indicator counted, in the report's words."""
    if code == "records":
        return (f"轻微 {counts.get('minor', 0)} 条、一般 {counts.get('general', 0)} 条、严重 {counts.get('serious', 0)} 条"
                f"（每条分别扣 {params.get('minor', 0)}、{params.get('general', 0)}、{params.get('serious', 0)} 分）")
    if code == "objections":
        return f"已决异议 {counts.get('decided', 0)} 件，成立 {counts.get('upheld', 0)} 件"
    if code == "repairs":
        return f"准予修复 {counts.get('repaired', 0)} 件，年度记录 {counts.get('records', 0)} 条"
    if code == "commitments":
        return (f"办结承诺 {counts.get('concluded', 0)} 项，已履行 {counts.get('fulfilled', 0)} 项、"
                f"部分履行 {counts.get('partly', 0)} 项")
    if code == "lookups":
        return f"查询 {counts.get('lookups', 0)} 次（年度目标 {params.get('target', 0)} 次）"
    return f"评估得分 {counts.get('survey', 0):g}"


def report_data(evaluation: EvaluationRound, row: dict, total: int, objection: EvaluationObjection | None) -> dict:
    weights = {i["code"]: i for i in evaluation.indicators}
    lines = [{"title": TITLES[code], "weight": weights[code]["weight"], "score": row["scores"].get(code, 0),
              "counted": _counted(code, row["counts"], weights[code].get("params") or {})}
             for code in weights]
    return {"year": evaluation.year, "rank": row["rank"], "total": total, "score": f"{row['final']:.2f}",
            "computed": f"{row['computed']:.2f}", "adjusted": row["adjusted"],
            "grade": GRADE_TITLES[row["grade"]], "indicators": lines,
            "objection": {"outcome": OUTCOME.get(objection.outcome, ""), "reason": objection.reason or ""}
            if objection is not None and objection.outcome else None,
            "param_titles": dict(PARAM_TITLES)}


def issue_reports(uow, case, evaluation: EvaluationRound) -> list:
    """One signed report per department, in ranking order; a department that has one keeps it."""
    rows = ranking(uow.session, evaluation.id)
    objections = {o.subject_id: o for o in uow.session.scalars(
        select(EvaluationObjection).where(EvaluationObjection.round_id == evaluation.id))}
    documents = []
    for row in rows:
        score: EvaluationScore = row["score"]
        if score.document_id is not None:
            continue
        data = report_data(evaluation, row, len(rows), objections.get(row["subject"].id))
        document = issue_document(uow, "evaluation_report", case, None, data, party=row["subject"])
        score.document_id = document.id
        documents.append(document)
    return documents
