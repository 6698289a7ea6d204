"""The cases copied to me (抄送我的) as an .xlsx file (`/copies?format=xlsx`): the viewer's own
copies only, newest first, with the page's columns."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.approvals.copies import copied_to
from workflows.sheet_export import MAX_ROWS

from ..context import actor, db
from ..exports import xlsx_download
from ..labels import named


def copies_sheet():
    headers = [_("案件"), _("步骤"), _("抄送人"), _("附言"), _("抄送时间"), _("状态"), _("阅读时间")]
    rows = ([c.case_no, named(c.task_name), c.sender, c.reason, c.created_at, _("已读") if c.read_at else _("未读"),
             c.read_at] for c in copied_to(db(), actor().user_id, limit=MAX_ROWS + 1))
    return xlsx_download("copies", _("抄送我的"), headers, rows)
