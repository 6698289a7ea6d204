"""The dashboard's indexes on other areas' tables (migration 0014): the period's records by capture
time with the columns the charts group by, and the first sanction decisions by time of issue.
On PostgreSQL the migration adds `ix_record_capture` (id INCLUDE created_at): the capture-to-
decision chart joins its decisions to their records' capture times from that narrow index instead
of the wide table (bench/dashboard.py). SQLite has no INCLUDE and reads a record by its rowid, so
it is not declared here."""
from __future__ import annotations

from sqlalchemy import Index, text

from ..models import Document, Record

RECORD_DASHBOARD = Index("ix_record_dashboard", Record.created_at, Record.field, Record.severity, Record.subject_id)
SANCTION_DECISION = text("kind = 'sanction' AND supersedes_id IS NULL")
DOCUMENT_SANCTION = Index("ix_document_sanction", Document.issued_at, Document.record_id,
                          postgresql_where=SANCTION_DECISION, sqlite_where=SANCTION_DECISION)
