"""Upgrading a database that holds an office's data keeps it. On SQLite a batch migration copies
and drops tables: with foreign keys enforced, dropping `user_account` used to cascade and delete
every role, API token and notification (0002 did, before migrations ran with foreign keys off)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from workflows.db import make_engine
from workflows.migrations import upgrade_database

PG_URL = __import__("os").environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL not set"))])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    import psycopg
    base, _, name = PG_URL.rpartition("/")
    own = f"{name}_upgrade_{__import__('os').environ.get('PYTEST_XDIST_WORKER', 'main')}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone():
            conn.execute(f'CREATE DATABASE "{own}"')
    # emptied by dropping its schema rather than the database (DROP DATABASE waits for a checkpoint)
    with psycopg.connect(f"{base}/{own}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return f"{base}/{own}"


def test_upgrading_from_0001_keeps_roles_tokens_and_notifications(empty_url):
    upgrade_database(empty_url, "0001")
    engine = make_engine(empty_url)
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    at = created if engine.dialect.name == "postgresql" else "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (id, username, display_name, password_hash, active, created_at) "
                          "VALUES (1, 'clerk', '张承办', 'x', true, :at)"), {"at": at})
        conn.execute(text("INSERT INTO user_role (user_id, role) VALUES (1, 'clerk'), (1, 'reviewer')"))
        conn.execute(text("INSERT INTO api_token (user_id, name, token_sha256, created_at) VALUES (1, 'n', 'h', :at)"),
                     {"at": at})
        conn.execute(text("INSERT INTO notification (user_id, kind, text, created_at) VALUES (1, 'k', 't', :at)"),
                     {"at": at})
    upgrade_database(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM user_role ORDER BY role")).scalars().all() == ["clerk", "reviewer"]
        assert conn.execute(text("SELECT count(*) FROM notification")).scalar() == 1
        assert conn.execute(text("SELECT must_change_password FROM user_account")).scalar() in (False, 0)
        expires = conn.execute(text("SELECT expires_at FROM api_token")).scalar()
    assert str(expires).startswith("2026-04-01")      # the default lifetime from its creation
    engine.dispose()
