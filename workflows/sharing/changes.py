"""What is queued for sharing upward, and when: every publication of a record and every later
change of a published record queues one item per platform (settings.sharing_platforms), in the
transaction of the change, with a snapshot of the national catalogue's fields as they are then.

The hooks: operations.set_record_status (every status change of a record goes through it),
operations.apply_correction and application_ops (a correction, the objection mark set and lifted),
all calling `share_change`.

The subject's code: a department's unified social credit code goes in full (it is public); a
civil servant's citizen ID goes in full too, because the platforms match records to people by it
(GB/T 39445's 证件号码 is a required element of a natural person's record). The batch files are
therefore personal data: they leave only to the platforms, and every screen shows the ID masked.
"""
from __future__ import annotations

from datetime import datetime

from ..dates import end_of_day_cst
from ..messages import N_
from ..numbers import record_no
from ..workdays import CalendarNotCovered
from .model import SharingItem

# change type -> its catalogue name (变更类型); the order is the page's filter order
CHANGES = {"published": N_("新增"), "corrected": N_("变更"), "objection": N_("异议标注"), "revoked": N_("撤销"),
           "repaired": N_("修复"), "ended": N_("终止公示")}
# a record status reached -> the change it shares (other statuses are not shared)
STATUS_CHANGES = {"published": "published", "corrected": "corrected", "revoked": "revoked",
                  "repaired": "repaired", "expired": "ended"}
# the catalogue's names of a record's kind (认定依据类别) and of the subject's code type
RECORD_KINDS = {"court_judgment": "司法判决", "administrative_penalty": "行政处罚", "disciplinary_sanction": "纪律处分",
                "accountability": "问责处理", "breach_of_promise": "违约/失信承诺"}
CODE_TYPES = {"department": "统一社会信用代码", "civil_servant": "居民身份证"}
SEVERITY_NAMES = {"minor": "轻微", "general": "一般", "serious": "严重"}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(record, change: str, office_name: str, **extra) -> dict:
    """The catalogue's fields of `record` now (docs/sharing-format.md lists each)."""
    subject = record.subject
    return {
        "record_no": record_no(record),
        "change": change,
        "change_name": CHANGES[change],
        "subject_name": subject.name,
        "subject_kind": subject.kind,
        "subject_code_type": CODE_TYPES.get(subject.kind, ""),
        "subject_code": subject.code,
        "record_kind": record.source,
        "record_kind_name": RECORD_KINDS.get(record.source or "", record.source or ""),
        "field": record.field,
        "severity": record.severity,
        "severity_name": SEVERITY_NAMES.get(record.severity or "", ""),
        "facts": record.facts,
        "legal_basis": record.legal_basis,
        "decision_date": _iso(record.decision_date),
        "publication_start": _iso(record.publication_start),
        "publication_end": _iso(record.publication_end or record.publication_max_end),
        "issuing_authority": office_name,
        "under_objection": bool(record.under_objection),
        "reason": extra.get("reason") or "",
    }


def was_published(record) -> bool:
    """Whether the record has been shared as published (publish_record sets its start)."""
    return record.publication_start is not None


def deadline(uow) -> datetime | None:
    """`sharing_workdays` working days after the event; None where the calendar does not reach."""
    try:
        return end_of_day_cst(uow.calendar.add_workdays(uow.clock.today(), uow.settings.sharing_workdays))
    except CalendarNotCovered:
        return None


def share_change(uow, record, change: str, audit=None, **extra) -> list[SharingItem]:
    """Queue `change` of `record` for every platform, if the record is or was published.
    `audit(action, **data)`: the caller's audit (an operation's, with its case); else the uow's."""
    if change not in CHANGES or not (change == "published" or was_published(record)):
        return []
    now = uow.clock.now()
    due = deadline(uow)
    payload = snapshot(record, change, uow.settings.office_name, **extra)
    items = []
    for platform in uow.settings.sharing_platforms:
        item = SharingItem(record_id=record.id, platform=platform, change=change, state="queued",
                           payload=dict(payload), attempts=1, due_at=due, created_at=now)
        uow.session.add(item)
        items.append(item)
    uow.session.flush()
    data = {"change": change, "items": [i.id for i in items], "due_at": _iso(due)}
    if audit is not None:
        audit("sharing.queued", **data)
    else:
        uow.audit("sharing.queued", record_id=record.id, **data)
    return items


def share_status(uow, record, old: str, new: str, audit=None, **data) -> list[SharingItem]:
    """The hook of set_record_status: the change a new status shares, if any."""
    change = STATUS_CHANGES.get(new)
    if change is None or old == new:
        return []
    return share_change(uow, record, change, audit, reason=data.get("reason") or "")
