"""The case list (/cases): every case, newest first, filtered by process, status and a typed
number or name, with the list tools (the whole filtered list as .xlsx, printing). Case staff only
(the blueprint's check in routes.py; the service checks again)."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from workflows.case_list import STATUSES, CaseQuery, every_case, list_cases
from workflows.numbers import case_no, record_no
from workflows.sheet_export import MAX_ROWS

from ..context import actor, db, db_int, page_arg
from ..exports import xlsx_download, wants_xlsx
from ..labels import PROCESS, label, named
from .routes import bp


@bp.get("/cases")
def case_list():
    args = request.args
    query = CaseQuery(process=args.get("process") or None, status=args.get("status") or None,
                      search=(args.get("q") or "").strip()[:100] or None, page=page_arg(),
                      per_page=args.get("per_page", 25, type=db_int))
    if wants_xlsx():
        return _sheet(query)
    return render_template("cases/list.html", page=list_cases(db(), actor(), query), query=query,
                           processes=list(PROCESS), statuses=STATUSES)


def _sheet(query: CaseQuery):
    headers = [_("案件编号"), _("流程"), _("记录编号"), _("信用主体"), _("状态"), _("当前步骤"), _("办理结果"),
               _("开始时间"), _("更新时间"), _("办结时间")]
    rows = ([case_no(c.id, c.process_key), label("process", c.process_key), record_no(c.record_id), c.subject_name,
             label("case_status", c.status), _("、").join(named(s) for s in c.steps), label("outcome", c.outcome),
             c.created_at, c.updated_at, c.completed_at] for c in every_case(db(), actor(), query, MAX_ROWS + 1))
    filters = [(_("搜索"), query.search), (_("流程"), label("process", query.process) if query.process else None),
               (_("状态"), label("case_status", query.status) if query.status in STATUSES else None)]
    return xlsx_download("cases", _("案件列表"), headers, rows, filters)
