"""The dashboard's charts as the page and its script see them: titles, named categories, series
and each bar's click-through, built from workflows/dashboard's figures. The same structure gives
the JSON (/dashboard/data.json), the <script type="application/json"> block that static/dashboard.js
draws, and the accessible tables beside each chart."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from ..labels import label, named

NO_VALUE = "—"


def _records_link(filters, by: str, key: str) -> str | None:
    return url_for("dashboard.records", **filters.as_args(), by=by, key=key) if key != "" or by != "department" else None


def _chart(chart_id, title, kind, head, categories, series, note=""):
    return {"id": chart_id, "title": title, "type": kind, "head": head, "categories": categories,
            "series": series, "note": note}


def _record_chart(board, chart_id, title, kind, by, name_of):
    bars = board.charts[chart_id]
    return _chart(chart_id, title, kind, _("记录数"), [name_of(b) for b in bars], [{
        "name": _("记录数"), "data": [b.values["records"] for b in bars],
        "links": [_records_link(board.filters, by, b.key) for b in bars]}])


def _department_name(bar) -> str:
    if bar.key == "":
        return _("其他部门")
    return bar.label or (_("未归属部门") if bar.key == "none" else bar.key)


def _holder_name(bar) -> str:
    if bar.values["person"]:
        return bar.label
    return _("待认领：%(group)s", group=label("role", bar.label) or NO_VALUE)


def _step_chart(board, chart_id, title, param, name_of):
    bars, args = board.charts[chart_id], board.filters.as_args()
    return _chart(chart_id, title, "bar", _("办理环节") if param == "step" else _("办理人"),
                  [name_of(b) for b in bars], [
        {"name": _("在办"), "data": [b.values["open"] for b in bars],
         "links": [url_for("dashboard.steps", **args, **{param: b.key}) for b in bars]},
        {"name": _("已超期"), "data": [b.values["overdue"] for b in bars],
         "links": [url_for("dashboard.steps", **args, **{param: b.key}, overdue="1") for b in bars]}])


def build_charts(board) -> list[dict]:
    """Every chart the viewer may see, in the order of the page."""
    f = board.filters
    charts = [
        _record_chart(board, "by_department", _("失信记录（按部门）"), "bar", "department", _department_name),
        _record_chart(board, "by_field", _("失信记录（按领域）"), "pie", "field",
                      lambda b: label("field", b.key) if b.key else _("未填写")),
        _record_chart(board, "by_severity", _("失信记录（按严重程度）"), "pie", "severity",
                      lambda b: label("severity", b.key) if b.key else _("未填写")),
        _record_chart(board, "by_month", _("失信记录（按录入月份）"), "bar", "month", lambda b: b.key),
        _step_chart(board, "steps_by_step", _("在办与超期环节（按环节）"), "step",
                    lambda b: f"{named(b.label)} · {label('process', b.values['process'])}"),
    ]
    if "steps_by_person" in board.charts:
        charts.append(_step_chart(board, "steps_by_person", _("在办与超期环节（按办理人）"), "person", _holder_name))
    bars = board.charts["applications"]
    charts.append(_chart("applications", _("异议、主动自新与信用修复（按结果）"), "bar", _("申请与结果"),
                         [f"{outcome_name(b.label)} · {label('process', b.values['process'])}" for b in bars], [{
                             "name": _("件数"), "data": [b.values["cases"] for b in bars],
                             "links": [url_for("dashboard.applications", **f.as_args(), key=b.key) for b in bars]}]))
    bars = board.charts["decision_times"]
    links = [url_for("dashboard.records", **f.as_args(), by="decided", key=b.key) for b in bars]
    charts.append(_chart("decision_times", _("从录入到作出决定的天数（按决定月份）"), "line", _("决定月份"),
                         [b.key for b in bars], [
                             {"name": _("中位数（天）"), "data": [b.values["median"] for b in bars], "links": links},
                             {"name": _("第90百分位（天）"), "data": [b.values["p90"] for b in bars], "links": links},
                             {"name": _("决定件数"), "data": [b.values["decided"] for b in bars], "links": links,
                              "table_only": True}],
                         note=_("录入：记录创建的时间；决定：该记录第一份惩戒（或免予惩戒）决定书的出具时间。"
                                "百分位取最近秩：至少一半（或 90%）的记录不超过该天数。")))
    return charts


def outcome_name(code: str) -> str:
    return {"pending": _("办理中"), "closed": _("已办结")}.get(code) or label("outcome", code)
