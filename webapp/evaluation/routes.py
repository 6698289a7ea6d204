"""The integrity evaluation routes: the rounds and a round's page (leaders, reviewers, admins),
the indicators and weights editor, the survey import, the results list, a department's own
results and objection, and the public summary. The rules are workflows/evaluation's; reviewing,
approving and confirming are inbox tasks, whose pages show the ranking (evaluation_panel)."""
from __future__ import annotations

import io
import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workflows.cases import CaseError
from workflows.evaluation.indicators import CODES, GRADE_TITLES, PARAM_TITLES, TITLES, IndicatorsInvalid
from workflows.evaluation.scoring import ranking
from workflows.evaluation.service import (case_of_round, decide_objection, department_of, edit_indicators,
                                          file_objection, get_round, list_rounds, may_manage, may_read,
                                          missing_survey, objections, open_round, own_report, own_results,
                                          published_round, published_years, reports_of_round, round_of_case,
                                          round_of_objection, start_round, window_open)
from workflows.evaluation.survey import SurveyInvalid, import_survey, survey_template

from ..context import actor, clock, db, unit_of_work
from ..exports import XLSX, wants_xlsx, xlsx_download
from ..translate import translated
from ..uploads import UploadRefused, store_upload

bp = Blueprint("evaluation", __name__, url_prefix="/evaluations")
STATUS = {"open": _l("待计算"), "review": _l("审核排名"), "approval": _l("领导审批"), "objection": _l("异议期"),
          "handling": _l("处理异议"), "confirming": _l("确认结果"), "final": _l("已公布")}
MAX_EVIDENCE = 5
TASK_PAGE = re.compile(r"/tasks/\d{1,10}")


@bp.app_template_global()
def may_see_evaluations(kind: str = "staff") -> bool:
    """For the navigation: 'staff' (the rounds), 'mine' (a department's own results)."""
    if g.get("database_down") or not current_user.is_authenticated:
        return False
    if kind == "mine":
        return department_of(db(), actor()) is not None
    return may_read(actor())


@bp.app_template_filter("evaluation_status")
def evaluation_status(code: str) -> str:
    return str(STATUS[code]) if code in STATUS else code


@bp.app_template_filter("indicator_title")
def indicator_title(code: str) -> str:
    return _(TITLES[code]) if code in TITLES else code


@bp.app_template_filter("grade_title")
def grade_title(code: str) -> str:
    return _(GRADE_TITLES[code]) if code in GRADE_TITLES else code


@bp.app_template_global()
def evaluation_panel(case_id: int):
    """The ranking a decider sees on the evaluation's task pages (None for any other case)."""
    if not current_user.is_authenticated or not may_read(actor()):
        return None
    evaluation = round_of_case(db(), case_id)
    if evaluation is None:
        return None
    return {"round": evaluation, "rows": ranking(db(), evaluation.id), "objections": objections(db(), evaluation.id)}


@bp.app_template_global()
def latest_published_evaluation() -> int | None:
    """The latest year whose results are published, for the public pages' links (none while the
    database is down: the error page must not need it)."""
    if g.get("database_down"):
        return None
    years = published_years(db())
    return years[0] if years else None


def _guard(allowed: bool) -> None:
    if not allowed:
        abort(403)


# -- the staff's pages --------------------------------------------------------------------------

@bp.get("/")
@login_required
def rounds():
    return render_template("evaluation/rounds.html", rounds=list_rounds(db(), actor()), may_manage=may_manage(actor()),
                           this_year=clock().today().year)


@bp.post("/")
@login_required
def open_year():
    _guard(may_manage(actor()))
    try:
        with unit_of_work() as uow:
            evaluation = open_round(uow, request.form.get("year", "")[:10])
            uow.commit()
    except CaseError as exc:
        flash(translated(exc), "danger")
        return redirect(url_for("evaluation.rounds"))
    return redirect(url_for("evaluation.round_page", round_id=evaluation.id))


@bp.get("/<int:round_id>")
@login_required
def round_page(round_id: int):
    evaluation = get_round(db(), actor(), round_id)
    return render_template("evaluation/round.html", round=evaluation, rows=ranking(db(), evaluation.id),
                           objections=objections(db(), evaluation.id), missing=missing_survey(db(), evaluation.id),
                           may_manage=may_manage(actor()), documents=_documents(evaluation))


def _documents(evaluation) -> dict:
    return reports_of_round(db(), evaluation)


@bp.route("/<int:round_id>/indicators", methods=["GET", "POST"])
@login_required
def indicators(round_id: int):
    evaluation = get_round(db(), actor(), round_id)
    _guard(may_manage(actor()))
    errors, form = {}, None
    if request.method == "POST":
        form = {k: v[:20] for k, v in request.form.items() if k.startswith(("weight_", "param_"))}
        try:
            with unit_of_work() as uow:
                edit_indicators(uow, round_id, form)
                uow.commit()
        except IndicatorsInvalid as exc:
            errors = {name: translated(message) for name, message in exc.errors.items()}
        except CaseError as exc:
            errors = {"_form": translated(exc)}
        else:
            flash(_("指标和权重已保存。"), "success")
            return redirect(url_for("evaluation.round_page", round_id=round_id))
    if form is None:
        form = {}
        for item in evaluation.indicators:
            form[f"weight_{item['code']}"] = item["weight"]
            for name, value in (item.get("params") or {}).items():
                form[f"param_{item['code']}_{name}"] = value
    params = {i["code"]: list((i.get("params") or {}).keys()) for i in evaluation.indicators}
    return render_template("evaluation/indicators.html", round=evaluation, form=form, errors=errors, codes=CODES,
                           params=params, param_titles={k: _(v) for k, v in PARAM_TITLES.items()}), \
        (422 if errors else 200)


@bp.get("/<int:round_id>/survey-template.xlsx")
@login_required
def survey_file(round_id: int):
    get_round(db(), actor(), round_id)
    english = str(get_locale() or "zh").startswith("en")     # headers and notes in the page's language
    data = survey_template(db(), _, english=english)
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="survey-template.xlsx")


@bp.post("/<int:round_id>/survey")
@login_required
def survey_import(round_id: int):
    evaluation = get_round(db(), actor(), round_id)
    _guard(may_manage(actor()))
    upload = request.files.get("file")
    problems = []
    if upload is None or not upload.filename:
        problems = [_("请选择要导入的 .xlsx 文件")]
    else:
        try:
            with unit_of_work() as uow:
                count = import_survey(uow, round_id, upload.filename, upload.read(2 * 1024 * 1024 + 1))
                uow.commit()
        except SurveyInvalid as exc:
            problems = [translated(p) for p in exc.problems]
        except CaseError as exc:
            problems = [translated(exc)]
        else:
            flash(_("已导入 %(count)s 个部门的第三方评估得分。", count=count), "success")
            return redirect(url_for("evaluation.round_page", round_id=round_id))
    return render_template("evaluation/round.html", round=evaluation, rows=ranking(db(), evaluation.id),
                           objections=objections(db(), evaluation.id), missing=missing_survey(db(), evaluation.id),
                           may_manage=True, documents=_documents(evaluation), survey_problems=problems), 422


@bp.post("/<int:round_id>/start")
@login_required
def start(round_id: int):
    get_round(db(), actor(), round_id)
    _guard(may_manage(actor()))
    try:
        with unit_of_work() as uow:
            start_round(uow, round_id)
            uow.commit()
    except CaseError as exc:
        flash(translated(exc), "danger")
    else:
        flash(_("得分已计算，排名已交审核人审核。"), "success")
    return redirect(url_for("evaluation.round_page", round_id=round_id))


@bp.post("/objections/<int:objection_id>")
@login_required
def decide(objection_id: int):
    _guard("reviewer" in actor().roles)
    round_id = round_of_objection(db(), objection_id)
    if round_id is None:
        abort(404)
    try:
        with unit_of_work() as uow:
            objection = decide_objection(uow, objection_id, request.form.get("outcome", ""),
                                         request.form.get("score", "")[:20], request.form.get("reason", "")[:3000])
            uow.commit()
    except CaseError as exc:
        if exc.status == 404:
            raise
        flash(translated(exc), "danger")
    else:
        flash(_("异议处理结果已保存。"), "success")
    back = request.form.get("back", "")
    if TASK_PAGE.fullmatch(back):       # decided on the handling task's own page: back there
        return redirect(back + "#evaluation-panel")
    return redirect(url_for("evaluation.round_page", round_id=round_id) + "#objections")


@bp.get("/<int:round_id>/results")
@login_required
def results(round_id: int):
    evaluation = get_round(db(), actor(), round_id)
    rows = ranking(db(), evaluation.id)
    grade = request.args.get("grade") or None
    if grade in GRADE_TITLES:
        rows = [r for r in rows if r["grade"] == grade]
    if wants_xlsx():
        headers = [_("排名"), _("部门"), _("统一社会信用代码"), *[indicator_title(i["code"]) for i in evaluation.indicators],
                   _("计算得分"), _("最终得分"), _("等次")]
        data = [[r["rank"], r["subject"].name, r["subject"].code,
                 *[r["scores"].get(i["code"], 0) for i in evaluation.indicators], r["computed"], r["final"],
                 grade_title(r["grade"])] for r in rows]
        return xlsx_download(f"evaluation-{evaluation.year}", _("%(year)s 年度政务诚信评价结果", year=evaluation.year),
                             headers, data, [(_("等次"), grade_title(grade) if grade else "")])
    return render_template("evaluation/results.html", round=evaluation, rows=rows, grade=grade, grades=GRADE_TITLES)


# -- a department's own results -------------------------------------------------------------------

@bp.get("/mine")
@login_required
def mine():
    return render_template("evaluation/mine.html", results=own_results(db(), actor()), now=clock().now(),
                           window_open=window_open, errors={}, form={})


@bp.post("/mine/<int:round_id>/objection")
@login_required
def object_to(round_id: int):
    own_results(db(), actor())      # a staff member or a civil servant: 404
    files = [f for f in request.files.getlist("evidence") if f and f.filename][:MAX_EVIDENCE]
    try:
        with unit_of_work() as uow:
            case_id = case_of_round(uow.session, round_id)
            ids = [store_upload(uow.session, f, case_id, uow.actor.user_id, uow.clock.now()).id for f in files]
            file_objection(uow, round_id, request.form.get("text", "")[:3000], ids)
            uow.commit()
    except UploadRefused as exc:
        error, status = str(exc), 422
    except CaseError as exc:
        if exc.status == 404:
            raise
        error, status = translated(exc), exc.status
    else:
        flash(_("异议已提交，审核人将在异议期满后处理。"), "success")
        return redirect(url_for("evaluation.mine"))
    return render_template("evaluation/mine.html", results=own_results(db(), actor()), now=clock().now(),
                           window_open=window_open, errors={round_id: error},
                           form={round_id: request.form.get("text", "")}), status


@bp.get("/mine/<int:round_id>/report.pdf")
@login_required
def my_report(round_id: int):
    document = own_report(db(), actor(), round_id)
    return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"evaluation-{round_id}.pdf")


# -- the public ---------------------------------------------------------------------------------

@bp.get("/public/<int:year>")
def public_summary(year: int):
    evaluation = published_round(db(), year)
    return render_template("evaluation/public.html", round=evaluation, rows=ranking(db(), evaluation.id),
                           years=published_years(db()))
