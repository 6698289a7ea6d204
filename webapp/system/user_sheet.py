"""The user list as an .xlsx file (`/system/users?format=xlsx`, administrators): every account the
search on screen selects (the page shows the first 200), with the page's columns."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.sheet_export import MAX_ROWS
from workflows.users import list_users

from ..context import db
from ..exports import xlsx_download
from ..labels import label


def users_sheet(q: str, status: str, role: str):
    headers = [_("用户名"), _("姓名"), _("角色"), _("状态"), _("上次登录")]
    states = {"active": _("正常"), "deactivated": _("已停用")}
    rows = ([u.username, u.display_name, _("、").join(label("role", r) for r in sorted(u.role_codes)),
             _("已停用") if not u.active else (_("待激活") if u.password_hash == "!" else _("正常")),
             u.last_login_at or "—"] for u in list_users(db(), q, status, role, limit=MAX_ROWS + 1))
    filters = [(_("搜索"), q), (_("角色"), label("role", role) if role else None), (_("状态"), states.get(status))]
    return xlsx_download("users", _("用户管理"), headers, rows, filters)
