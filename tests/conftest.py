"""Shared fixtures: every integration test gets its own database, on SQLite and (when
TEST_DATABASE_URL is set) on PostgreSQL; the engine's clock is a FixedClock the test moves."""
from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
from sqlalchemy import text

from workflows.clock import CST, FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.engine.bundle import clear_spec_cache
from workflows.migrations import upgrade_database
from workflows.models import Base
from workflows.runtime import WORKFLOWS

PG_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL not set"))]


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test's database numbers its cases and definitions from 1 again."""
    WORKFLOWS.clear()
    clear_spec_cache()
    yield
    WORKFLOWS.clear()
    clear_spec_cache()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_migrated():
    upgrade_database(PG_URL)
    return PG_URL


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "credflow.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_pg_migrated")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def session_factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
