"""The third-party survey scores from an .xlsx sheet: one row per department (its unified social
credit code, its name, the score 0-100). Every row is checked and every problem named by row and
column; the scores go in all together or not at all, replacing the round's earlier import. The
template lists every department, its score cell empty."""
from __future__ import annotations

from sqlalchemy import delete

from ..messages import Message, N_, message_of
from ..sheet_columns import Column, cell_text, listed, problem, require_columns, rows_of, template_xlsx
from ..sheet_reader import SheetError, SheetLimits, read_sheet
from .model import EvaluationSurvey
from .scoring import departments
from .service import EvaluationRefused, _locked, _require, may_manage

SURVEY_LIMITS = SheetLimits(max_rows=5000, max_columns=10)
SURVEY_SHEET = (
    Column("code", N_("统一社会信用代码"), "Unified social credit code", True, N_("部门的 18 位统一社会信用代码"),
           ("信用代码",)),
    Column("name", N_("部门名称"), "Department", False, N_("核对用，可不填；填写的须与登记的名称一致")),
    Column("score", N_("评估得分"), "Score", True, N_("第三方评估得分，0 到 100，最多两位小数")),
)
NOTES = (N_("第 1 行为列名，不要改动；每个部门一行，模板已列出全部部门。"),
         N_("有任何一行不合格时整个表格都不导入，页面列出每个问题所在的行和列；导入成功后替换本年度之前导入的得分。"))
IMPORTABLE = ("open", "review")      # before the ranking is approved: a correction, then a recompute


class SurveyInvalid(EvaluationRefused):
    """The sheet was refused: `problems` names each; nothing was imported."""
    status = 422

    def __init__(self, problems: list[Message]):
        super().__init__(problems[0])
        self.problems = problems


def survey_template(session, translate=None, english: bool = False) -> bytes:
    rows = [[d.code, d.name, ""] for d in departments(session)]
    return template_xlsx(SURVEY_SHEET, rows, N_("第三方评估得分"), list(NOTES), translate, english)


def _score(value) -> float | None:
    text = cell_text(value)
    try:
        score = float(text)
    except ValueError:
        return None
    if not 0 <= score <= 100 or round(score, 2) != score:
        return None
    return score


def import_survey(uow, round_id: int, filename: str, data: bytes) -> int:
    """The number of scores imported; SurveyInvalid (nothing imported) otherwise."""
    _require(may_manage(uow.actor), N_("只有分管领导或系统管理员可以导入评估结果"))
    evaluation = _locked(uow.session, round_id)
    if evaluation.status not in IMPORTABLE:
        raise EvaluationRefused(N_("%(year)s 年度评价的排名已报领导审批，不能再导入评估结果"), year=evaluation.year)
    try:
        sheet = read_sheet(filename or "survey.xlsx", data, SURVEY_LIMITS, csv_allowed=False)
        fields = require_columns(sheet, SURVEY_SHEET)
    except SheetError as exc:
        raise SurveyInvalid([message_of(exc)]) from None
    column = {c.field: c for c in SURVEY_SHEET}
    by_code = {d.code: d for d in departments(uow.session)}
    problems, bad_rows, seen, scores = [], set(), {}, {}
    for number, row in rows_of(sheet, fields):
        if not any(cell_text(v) for v in row.values()):
            continue
        before = len(problems)
        code = cell_text(row.get("code")).upper()
        department = by_code.get(code)
        if not code:
            problems.append(problem(number, column["code"], Message(N_("必填，不能为空"))))
        elif department is None:
            problems.append(problem(number, column["code"], Message(N_("“%(code)s”不是已登记部门的代码"), code=code[:40])))
        elif code in seen:
            problems.append(problem(number, column["code"], Message(N_("与第 %(row)s 行重复"), row=seen[code])))
        else:
            seen[code] = number
            name = cell_text(row.get("name"))
            if name and name != department.name:
                problems.append(problem(number, column["name"], Message(
                    N_("“%(name)s”与该代码登记的名称“%(registered)s”不一致"), name=name[:60], registered=department.name)))
        score = _score(row.get("score"))
        if score is None:
            problems.append(problem(number, column["score"], Message(
                N_("“%(value)s”不是 0 到 100 之间的得分（最多两位小数）"), value=cell_text(row.get("score"))[:40])))
        if len(problems) > before:
            bad_rows.add(number)
        else:
            scores[department.id] = score
    if not problems and not scores:
        problems.append(Message(N_("表格中没有任何得分")))
    if problems:
        raise SurveyInvalid(listed(problems, len(bad_rows)))
    uow.session.execute(delete(EvaluationSurvey).where(EvaluationSurvey.round_id == evaluation.id))
    now = uow.clock.now()
    uow.session.add_all([EvaluationSurvey(round_id=evaluation.id, subject_id=subject_id, score=score,
                                          imported_by=uow.actor.name, imported_at=now)
                         for subject_id, score in scores.items()])
    uow.session.flush()
    uow.audit("evaluation.survey_imported", case_id=evaluation.case_id, round_id=evaluation.id, count=len(scores))
    return len(scores)
