"""Migration 0013 (sharing upward): the models of workflows/sharing/model.py and the migrated
schema agree, and a repair result queued before 0013 survives the upgrade as a queued item."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from workflows.db import make_engine
from workflows.migrations import upgrade_database
from workflows.models import Base
import workflows.sharing.model  # noqa: F401 -- the tables compared

SHARING_TABLES = {"sharing_item", "sharing_batch", "sharing_batch_entry"}


def _tables_of(diff) -> set[str]:
    found = set()
    for entry in diff if isinstance(diff, list) else [diff]:
        for part in entry if isinstance(entry, tuple) else [entry]:
            name = getattr(part, "table", None)
            name = getattr(name, "name", name) if name is not None else getattr(part, "name", None)
            if isinstance(part, str) and part in SHARING_TABLES:
                found.add(part)
            elif name in SHARING_TABLES:
                found.add(name)
    return found


def test_the_models_and_the_migration_agree(database_url):
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    ours = [d for d in diffs if _tables_of(d)]
    assert not ours, ours


def test_a_repair_result_queued_before_0013_survives(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade_database(url, "0012")
    engine = make_engine(url)
    at = "2026-06-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO subject (id, kind, name, code, created_at) "
                          "VALUES (1, 'department', '某局', '11610800MB2981762K', :at)"), {"at": at})
        conn.execute(text("INSERT INTO record (id, subject_id, status, repair_eligible, under_objection, "
                          "sanctions_lifted, publication_rule, rule_snapshot, created_at, updated_at) "
                          "VALUES (1, 1, 'repaired', true, false, true, '2025', '{}', :at, :at)"), {"at": at})
        conn.execute(text("INSERT INTO sharing_item (record_id, kind, payload, due_at, created_at) "
                          "VALUES (1, 'repair', '{\"result\": \"repaired\"}', :at, :at)"), {"at": at})
    upgrade_database(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT change, platform, state, attempts, batch_id FROM sharing_item")).one()
    engine.dispose()
    assert tuple(row) == ("repaired", "provincial", "queued", 1, None)
