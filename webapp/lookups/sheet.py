"""The look-ups list as an .xlsx file (`/lookups/?format=xlsx`): every look-up its viewer may see
(all departments', or their own department's), newest first, with the page's columns."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.lookups.search import shown_query
from workflows.lookups.service import department_names, every_visible_lookup, sees_every_lookup
from workflows.sheet_export import MAX_ROWS

from ..context import actor, db
from ..exports import in_batches, xlsx_download


def lookups_sheet(deal_names: dict, outcome_names: dict):
    title = _("全部部门的查询记录") if sees_every_lookup(actor()) else _("本部门的查询记录")
    headers = [_("编号"), _("查询时间"), _("查询人"), _("所属部门"), _("查询对象"), _("事项类型"), _("事项编号"),
               _("结果"), _("办理情况")]

    def rows():
        for chunk in in_batches(every_visible_lookup(db(), actor(), MAX_ROWS + 1)):
            departments = department_names(db(), [r.department_id for r in chunk])
            for r in chunk:
                yield [f"#{r.id}", r.created_at, r.checker_name, departments.get(r.department_id, ""),
                       shown_query(r.key_kind, r.query), str(deal_names.get(r.deal_kind, r.deal_kind)), r.deal_ref,
                       _("需审慎办理") if r.hit else _("无失信记录"),
                       str(outcome_names[r.outcome]) if r.hit and r.outcome in outcome_names else ""]
    return xlsx_download("lookups", _("逢办必查"), headers, rows(), [(_("范围"), title)])


def report_sheet(rows, totals: dict, month: str):
    """The monthly report (`/lookups/report?month=...&format=xlsx`): a row per department, and the total."""
    headers = [_("部门"), _("查询次数"), _("发现失信记录"), _("仍继续办理"), _("未办理"), _("待登记结果")]
    lines = [[r.name or _("未设部门"), r.made, r.hits, r.proceeded, r.dropped, r.open] for r in rows]
    if len(rows) > 1:
        lines.append([_("合计"), totals["made"], totals["hits"], totals["proceeded"], totals["dropped"], totals["open"]])
    return xlsx_download("lookups-report", _("逢办必查月度统计"), headers, lines, [(_("月份"), month)])
