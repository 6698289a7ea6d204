"""Shared fixtures: every integration test gets its own database, on SQLite and (when
TEST_DATABASE_URL is set) on PostgreSQL; the engine's clock is a FixedClock the test moves."""
from __future__ import annotations

import os
import shutil

import pytest

from workflows.clock import FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.engine.bundle import clear_spec_cache
from workflows.migrations import upgrade_database
from workflows.runtime import WORKFLOWS

from database_seeds import SEEDED_AT, PostgresDatabase, PostgresPair, Seeder, SqliteSeeds

PG_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL not set"))]
# the slowest set-ups (real processes, a private PostgreSQL cluster) start first, so that the other
# test workers share out the rest of the suite while they run instead of waiting for them at the end
START_FIRST = ("tests/integration/test_faults.py", "tests/integration/test_demo_any_date.py",
               "tests/integration/test_record_import_sheet.py")   # its 10,000-row import: minutes


def pytest_collection_modifyitems(config, items):
    """A test marked one_database runs on SQLite only (what it checks does not depend on the
    database); the START_FIRST modules are handed out first."""
    dropped = [i for i in items if i.get_closest_marker("one_database") and "postgresql" in getattr(
        getattr(i, "callspec", None), "id", "")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        dropped = set(dropped)
        items[:] = [i for i in items if i not in dropped]
    items.sort(key=lambda i: not any(i.nodeid.startswith(m) for m in START_FIRST))


@pytest.fixture(scope="session", autouse=True)
def _one_office_certificate(tmp_path_factory):
    """Tests move CREDFLOW_INSTANCE around; the office certificate must stay the same for the
    whole run, as it does for one installation, or documents signed in one test would not verify
    in the next."""
    if os.environ.get("CREDFLOW_SIGNING_P12"):
        yield
        return
    folder = tmp_path_factory.mktemp("office-certificate")
    old = os.environ.get("CREDFLOW_INSTANCE")
    os.environ["CREDFLOW_INSTANCE"] = str(folder)
    from workflows.documents.signing import ensure_demo_certificate
    from workflows.settings import Settings
    path = ensure_demo_certificate(Settings().office_name)
    if old is None:
        del os.environ["CREDFLOW_INSTANCE"]
    else:
        os.environ["CREDFLOW_INSTANCE"] = old
    os.environ["CREDFLOW_SIGNING_P12"] = str(path)
    yield
    del os.environ["CREDFLOW_SIGNING_P12"]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """scrypt with n=2**14 costs ~70 ms a hash; the cost is stored in each hash, so a cheaper one
    for test accounts changes nothing else (tests/unit/test_accounts checks the real cost)."""
    import workflows.accounts
    monkeypatch.setattr(workflows.accounts, "_N", 2 ** 8)


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


def _worker_database(url: str, suffix: str = "") -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (tests truncate tables)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker and not suffix:
        return url
    import psycopg
    base, _, name = url.rpartition("/")
    own = "_".join([name] + [part for part in (worker, suffix) if part])
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone():
            conn.execute(f'CREATE DATABASE "{own}"')
    return f"{base}/{own}"


@pytest.fixture(scope="session")
def _pg_migrated():
    url = _worker_database(PG_URL)
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def _pg_databases(_pg_migrated, tmp_path_factory):
    """This worker's database and a second one, used in turn (tests/database_seeds.py)."""
    second = _worker_database(PG_URL, "b")
    upgrade_database(second)
    pair = PostgresPair(PostgresDatabase(_pg_migrated, tmp_path_factory.mktemp("pg-seeds")),
                        PostgresDatabase(second, tmp_path_factory.mktemp("pg-seeds-b")))
    yield pair
    pair.close()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """A migrated database: a copy of the SQLite template (with no rows, but under tests/webapp),
    or one of this worker's two PostgreSQL databases, emptied (tests/database_seeds.py)."""
    if request.param == "sqlite":
        path = tmp_path / "credflow.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    database = request.getfixturevalue("_pg_databases").take()
    request.addfinalizer(database.empty_later)      # while the next test uses the other one
    return database.url


@pytest.fixture(scope="session")
def _sqlite_seeds(tmp_path_factory):
    return SqliteSeeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture
def seeded(request, database_url, clock, _sqlite_seeds):
    """`seeded(kind, build)`: the test's database, while still empty, made what `build(session_factory,
    clock)` makes of it, from a copy built once per session (tests/database_seeds.py). The `world`
    fixtures call it; `seeded.made` is what the build returned."""
    return Seeder(database_url, clock, _sqlite_seeds, lambda: request.getfixturevalue("_pg_databases").of(database_url))


@pytest.fixture
def session_factory(database_url):
    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return FixedClock(SEEDED_AT)
