"""The staff's list of township commitments as an .xlsx file (`/commitments?format=xlsx`): the
rows and status filter on screen, with the page's columns (the content in full)."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.commitments.service import STATUS_TEXT
from workflows.numbers import case_no, record_no

from ..exports import xlsx_download


def commitments_sheet(rows, status: str | None, today):
    headers = [_("编号"), _("乡镇（街道）政府"), _("承诺内容"), _("履行期限"), _("已到期"), _("责任人"), _("职务"),
               _("状态"), _("失信记录")]
    lines = ([case_no(case) if case else "", subject.name, c.content, c.deadline,
              _("是") if c.status == "in_progress" and c.deadline < today else "", c.responsible_name,
              c.responsible_post, _(STATUS_TEXT[c.status]) if c.status in STATUS_TEXT else c.status,
              record_no(c.record_id) if c.record_id else ""] for c, subject, case in rows)
    return xlsx_download("commitments", _("公开承诺"), headers, lines,
                         [(_("状态"), _(STATUS_TEXT[status]) if status in STATUS_TEXT else None)])
