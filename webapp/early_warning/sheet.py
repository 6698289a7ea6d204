"""The warnings list as an .xlsx file (`/warnings?format=xlsx`): every warning the filters on
screen select, with the page's columns and the acknowledgement in full."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.clock import CST
from workflows.early_warning.service import STATES

from ..exports import xlsx_download
from ..translate import translated


def _when(value) -> str:
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M") if value else ""


def warnings_sheet(rows, filters):
    headers = [_("编号"), _("规则"), _("预警内容"), _("部门"), _("状态"), _("首次预警"), _("最近发现"), _("解除时间"),
               _("确认人"), _("确认时间"), _("处理说明")]
    lines = ([w.id, translated(w.rule_name), translated(w.text), w.department or "", _(STATES[w.state]),
              _when(w.raised_at), _when(w.last_seen_at), _when(w.resolved_at), w.acknowledged_by or "",
              _when(w.acknowledged_at), w.note or ""] for w in rows)
    return xlsx_download("warnings", _("监测预警"), headers, lines, filters)
