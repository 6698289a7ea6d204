"""The record list as an .xlsx file (`/records?format=xlsx`): every record the filters on screen
select, newest first, with the page's columns and labels in the page's language."""
from __future__ import annotations

from flask_babel import gettext as _

from workflows.identifiers import mask_citizen_id
from workflows.models import Record, Subject
from workflows.numbers import record_no
from workflows.sheet_export import MAX_ROWS

from ..context import db
from ..exports import remembered, xlsx_download
from ..labels import label as page_label


def records_sheet(query, filters):
    """`query`: the page's select(Record) joined to its Subject, with its filters and order; only
    the columns shown are read (no ORM objects: a long list exports several times faster)."""
    headers = [_("记录编号"), _("信用主体"), _("代码"), _("领域"), _("严重程度"), _("状态"), _("异议标注"),
               _("认定日期"), _("公示开始"), _("公示截止")]
    found = db().execute(query.with_only_columns(
        Record.id, Subject.name, Subject.kind, Subject.code, Record.field, Record.severity, Record.status,
        Record.under_objection, Record.decision_date, Record.publication_start, Record.publication_max_end)
        .limit(MAX_ROWS + 1).execution_options(yield_per=1000))
    objection, label = _("是"), remembered(page_label)
    rows = ([record_no(r.id), r.name, mask_citizen_id(r.code) if r.kind == "civil_servant" else r.code,
             label("field", r.field), label("severity", r.severity), label("status", r.status),
             objection if r.under_objection else "", r.decision_date, r.publication_start, r.publication_max_end]
            for r in found)
    return xlsx_download("records", _("失信记录"), headers, rows, filters)
