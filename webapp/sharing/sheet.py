"""The sharing items as an .xlsx file (`/sharing?format=xlsx`): every item the filters on screen
select, newest first, with the page's columns (the names as templates/sharing/index.html gives them)."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l

from workflows.sharing.service import Filters, every_row
from workflows.sheet_export import MAX_ROWS

from ..context import actor, clock, db
from ..exports import xlsx_download
from ..templating import deadline

PLATFORMS = {"provincial": _l("省级平台"), "national": _l("国家平台")}
STATES = {"queued": _l("待报送"), "sent": _l("已报送"), "acknowledged": _l("已接收"), "rejected": _l("被退回")}
CHANGES = {"published": _l("新增"), "corrected": _l("变更"), "objection": _l("异议标注"), "revoked": _l("撤销"),
           "repaired": _l("修复"), "ended": _l("终止公示")}


def sharing_sheet(filters: Filters):
    headers = [_("条目"), _("报送次数"), _("记录"), _("信用主体"), _("平台"), _("变更类型"), _("状态"), _("批次"),
               _("报送期限"), _("期限情况"), _("退回原因")]

    def name(names, code):
        return str(names.get(code, code)) if code else ""

    rows = ([f"#{r.item.id}", r.item.attempts, r.record_no, r.subject_name, name(PLATFORMS, r.item.platform),
             name(CHANGES, r.item.change), name(STATES, r.item.state), r.batch_number or "",
             r.item.due_at or _("工作日历未覆盖"),
             deadline(r.item.due_at)["text"] if r.item.due_at and r.item.state != "acknowledged" else "",
             r.item.rejection_reason or ""]
            for r in every_row(db(), actor(), clock().now(), filters, MAX_ROWS + 1))
    shown = [(_("平台"), name(PLATFORMS, filters.platform)), (_("状态"), name(STATES, filters.state)),
             (_("变更类型"), name(CHANGES, filters.change)), (_("仅看逾期"), _("是") if filters.overdue else None)]
    return xlsx_download("sharing", _("数据报送"), headers, rows, shown)
