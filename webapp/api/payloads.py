"""What the API answers: records and tasks as JSON objects."""
from __future__ import annotations


from sqlalchemy import select

from workflows.models import HumanTask, Record, User
from workflows.numbers import record_no

from ..context import db
from .access import api_clock

# -- output ---------------------------------------------------------------------------------------

def iso(value):
    return value.isoformat() if value is not None else None


def record_json(record: Record, case_id: int | None) -> dict:
    subject = record.subject
    return {
        "id": record.id, "number": record_no(record), "status": record.status,
        "subject": {"id": subject.id, "kind": subject.kind, "name": subject.name, "code": subject.display_code},
        "source": record.source, "field": record.field, "severity": record.severity, "facts": record.facts,
        "legal_basis": record.legal_basis, "decision_date": iso(record.decision_date),
        "conduct_date": iso(record.conduct_date), "project": record.project, "project_phase": record.project_phase,
        "publication_rule": record.publication_rule, "sanctions": record.sanctions,
        "publication_start": iso(record.publication_start), "publication_min_end": iso(record.publication_min_end),
        "publication_max_end": iso(record.publication_max_end), "publication_end": iso(record.publication_end),
        "repair_eligible": bool(record.repair_eligible), "under_objection": bool(record.under_objection),
        "created_at": iso(record.created_at), "updated_at": iso(record.updated_at), "case_id": case_id,
    }


def assignee_names(rows) -> dict[int, str]:
    ids = {r.assignee_id for r in rows if r.assignee_id}
    if not ids:
        return {}
    return dict(db().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def task_json(row: HumanTask, names: dict[int, str], show_assignee: bool = True) -> dict:
    assignee = None
    if show_assignee and row.assignee_id:
        assignee = {"id": row.assignee_id, "name": names.get(row.assignee_id, "")}
    return {
        "id": row.id, "case_id": row.case_id, "record_id": row.record_id, "process": row.process_key,
        "bpmn_id": row.bpmn_id, "name": row.name, "lane": row.lane,
        "subject": {"id": row.subject_id, "name": row.subject_name} if row.subject_id else None,
        "field": row.field, "severity": row.severity, "due_at": iso(row.due_at),
        "overdue": bool(row.due_at and row.due_at < api_clock().now()), "created_at": iso(row.created_at),
        "assignee": assignee, "claimed_at": iso(row.claimed_at) if show_assignee else None,
    }


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))
