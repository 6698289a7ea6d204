"""Fixtures for the Flask test-client tests: a deployed credflow with one account per role, the
app built on the same database and FixedClock, and a small `Browser` (credflow_web.py) that keeps
its session cookie and posts the CSRF token it last saw on a rendered page (CSRF stays on)."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# pytest puts tests/ on sys.path (rootdir conftest, no __init__.py), where this folder would make
# `import webapp` an empty namespace package: put the repository first and forget such a package.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if "webapp" in sys.modules and getattr(sys.modules["webapp"], "__file__", None) is None:
    del sys.modules["webapp"]

import workflows.accounts  # noqa: E402
from webapp import create_app  # noqa: E402
from workflows.clock import CST, FixedClock  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402

from credflow_web import Browser, WebWorld  # noqa: E402


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """Overrides tests/conftest.py's template for the web tests: the migrated database with the
    processes deployed and the subjects and accounts created (WebWorld.seed), copied per test,
    so a test does not parse and deploy the BPMN again. On PostgreSQL the `world` fixture copies
    the same seeding in."""
    path = tmp_path_factory.mktemp("web-template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflows.accounts, "_N", 2 ** 8)
        WebWorld.seed(make_session_factory(engine), FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST)))
    engine.dispose()
    return path


@pytest.fixture
def instance_dir(tmp_path, monkeypatch):
    folder = tmp_path / "instance"
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(folder))
    monkeypatch.delenv("CREDFLOW_SETTINGS", raising=False)
    monkeypatch.delenv("CREDFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("CREDFLOW_MAX_UPLOAD_MB", raising=False)
    return folder


@pytest.fixture
def world_seed():
    """(kind, build): what `world` copies into an empty database (PostgreSQL) -- the seeded world,
    or a module's own kind that adds its objects to it (test_route_matrix.py: `seeded.made`)."""
    return "web", WebWorld.seed


@pytest.fixture
def world(session_factory, clock, seeded, world_seed):
    seeded(*world_seed)        # tests/database_seeds.py; on SQLite the template is seeded already
    return WebWorld(session_factory, clock)


@pytest.fixture(scope="session")
def english_catalog(tmp_path_factory):
    """The English message catalog compiled into a temporary folder (the repository's copy
    is only compiled by `make setup`, and tests write nothing outside tests/webapp)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    po = REPO / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    folder = tmp_path_factory.mktemp("translations")
    target = folder / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with po.open("rb") as fh:
        catalog = read_po(fh)
    with (target / "messages.mo").open("wb") as fh:
        write_mo(fh, catalog)
    return folder


@pytest.fixture
def app_config(database_url, clock, english_catalog):
    """Overridable by a test module (e.g. a small upload limit)."""
    return {"DATABASE_URL": database_url, "TESTING": True, "CLOCK": clock, "SECRET_KEY": "test",
            "BABEL_TRANSLATION_DIRECTORIES": str(english_catalog)}


@pytest.fixture
def app(app_config, instance_dir, world):
    app = create_app(app_config)

    @app.get("/__test__/boom")
    def _boom():  # a route that fails, for the 500 page
        raise RuntimeError("internal detail: secret-marker-7f3a in module xyz")

    yield app
    app.extensions["credflow.session_factory"].kw["bind"].dispose()


@pytest.fixture
def web(app):
    """A factory: web() anonymous, web('reviewer') logged in as that user."""
    def make(username: str | None = None, ip: str = "127.0.0.1") -> Browser:
        b = Browser(app, ip)
        if username is not None:
            response = b.login(username)
            assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
            b.get("/", follow_redirects=True)   # a fresh page (and token) after the login cleared the session
        return b
    return make
