"""The inbox as an .xlsx file (`/inbox?format=xlsx`): every task of the tab and filters on screen,
in the page's order and columns, the labels in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from workflows.inbox import InboxQuery, every_task
from workflows.models import User
from workflows.numbers import case_no, record_no
from workflows.sheet_export import MAX_ROWS

from ..approvals.panel import countersign_rows
from ..context import actor, clock, db
from ..exports import in_batches, remembered, xlsx_download
from ..labels import label as page_label, named as page_named
from ..templating import deadline

TASKS = {"capture": "录入失信记录", "legality_review": "合法性审核", "final_review": "最终审核",
         "leader_approval": "领导审批"}   # the page's task filter (templates/inbox/index.html)


def inbox_sheet(query: InboxQuery):
    tabs = {"mine": _("我的任务"), "group": _("组任务"), "all": _("全部待办")}
    headers = [_("任务"), _("流程"), _("案件编号"), _("记录编号"), _("信用主体"), _("领域"), _("严重程度"),
               _("办理角色"), _("办理人"), _("到达时间"), _("办理期限"), _("期限情况")]
    rows = _rows(every_task(db(), actor(), query, clock().now(), MAX_ROWS + 1))
    filters = [(_("视图"), tabs.get(query.tab, query.tab)), (_("信用主体"), query.subject),
               (_("任务"), _(TASKS[query.task]) if query.task in TASKS else query.task),
               (_("领域"), page_label("field", query.field) if query.field else None),
               (_("严重程度"), page_label("severity", query.severity) if query.severity else None),
               (_("流程"), page_label("process", query.process) if query.process else None),
               (_("仅看逾期"), _("是") if query.overdue else None)]
    return xlsx_download("inbox", _("待办任务"), headers, rows, filters)


def _rows(tasks):
    label, named = remembered(page_label), remembered(page_named)
    for chunk in in_batches(tasks):
        people = {i for r in chunk for i in (r.assignee_id, r.owner_id) if i}
        names = dict(db().execute(select(User.id, User.display_name).where(User.id.in_(people))).all()) if people else {}
        countersigns = countersign_rows(db(), chunk)
        for r in chunk:
            name = named(r.name)
            if r.kind == "added_signer":
                name += _("（加签）")
            elif r.id in countersigns:
                name += _("（会签）")
            holder = names.get(r.assignee_id, "") if r.assignee_id else "—"
            if r.owner_id:
                holder += _("（代 %(name)s）", name=names.get(r.owner_id, ""))
            yield [name, label("process", r.process_key), case_no(r.case_id, r.process_key), record_no(r.record_id),
                   r.subject_name or "", label("field", r.field), label("severity", r.severity), label("role", r.lane),
                   holder, r.created_at, r.due_at, deadline(r.due_at)["text"]]
