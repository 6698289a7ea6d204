"""Browser tests: a live credflow served from a thread, driven by Debian's Chromium through Playwright.

The server runs on a fresh SQLite database in a temporary folder, with the shipped processes
deployed, one user per staff role (and a second reviewer) and a fixed clock, so that what the
pages show (arrival times, deadlines, the timeline) is the same on every run.
"""
from __future__ import annotations

import os
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from workflows.accounts import create_user
from workflows.cases import complete_task
from workflows.clock import CST, FixedClock
from workflows.db import make_engine, make_session_factory
from workflows.definitions import deploy_folder
from workflows.demo import SUBJECTS
from workflows.migrations import upgrade_database
from workflows.models import HumanTask
from workflows.records import open_record, register_subject
from workflows.runtime import Actor, UnitOfWork

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
ROOT = HERE.parent.parent
# pytest puts tests/ on sys.path (rootdir conftest, no __init__.py), where the folder tests/webapp/
# would make `import webapp` a namespace package and hide the app: find the real one first.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=CST)

# username -> (password, display name, roles)
USERS = {
    "clerk": ("clerk-pw-2026", "张承办", ["clerk"]),
    "reviewer": ("reviewer-pw-2026", "李审核", ["reviewer"]),
    "reviewer2": ("reviewer2-pw-2026", "孙审核", ["reviewer"]),
    "leader": ("leader-pw-2026", "王领导", ["leader"]),
    "admin": ("admin-pw-2026", "孙系统", ["admin"]),
}

CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "未按合同约定支付中小企业账款，逾期超过180日。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}


def pytest_collection_modifyitems(config, items):
    """Every test in this folder needs the system Chromium: skip them all, saying why, without it."""
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-quic"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


class LiveServer:
    """The running app plus a way to set up data through the services (never through the pages)."""

    def __init__(self, url: str, factory, clock: FixedClock):
        self.url, self.factory, self.clock = url, factory, clock
        self.users = USERS
        self.actors: dict[str, Actor] = {}
        self.subjects: list[int] = []

    def uow(self, actor: str | None = None, clock: FixedClock | None = None) -> UnitOfWork:
        return UnitOfWork(self.factory, self.actors[actor] if actor else Actor.system("e2e"), clock or self.clock)

    def run(self, actor: str | None, fn, *args, clock: FixedClock | None = None):
        """`fn(uow, *args)` as `actor` (None: the system), committed; on `clock` if given (a story set
        on a day of its own: the server's clock stays where the other browser tests expect it)."""
        with self.uow(actor, clock) as uow:
            result = fn(uow, *args)
            uow.commit()
            return result

    def open_record(self, subject_index: int, **capture) -> tuple[int, int]:
        """A captured record waiting for legality review: (record id, case id)."""
        with self.uow("clerk") as uow:
            record, case = open_record(uow, self.subjects[subject_index], {**CAPTURE, **capture})
            uow.commit()
            return record.id, case.id

    def task_row(self, case_id: int, bpmn_id: str) -> int:
        with self.factory() as session:
            rows = session.scalars(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                              HumanTask.bpmn_id == bpmn_id)).all()
        assert len(rows) == 1, f"expected one open {bpmn_id} task in case {case_id}, found {rows}"
        return rows[0]

    def log_in(self, page, username: str) -> None:
        """Sign `page` in as one of the live server's users (base_url set), and wait for the menu."""
        from playwright.sync_api import expect
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", self.users[username][0])
        page.click("button[type=submit]")
        expect(page.locator("#user-menu")).to_have_count(1)

    def open_task_ids(self, case_id: int) -> list[str]:
        with self.factory() as session:
            return list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id)))

    def complete(self, actor: str, case_id: int, bpmn_id: str, data: dict) -> None:
        row_id = self.task_row(case_id, bpmn_id)
        with self.uow(actor) as uow:
            complete_task(uow, row_id, data)
            uow.commit()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from webapp import create_app

    folder = tmp_path_factory.mktemp("e2e-instance")
    url = f"sqlite:///{folder / 'credflow.sqlite3'}"
    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FixedClock(NOW)
    server_info = LiveServer("", factory, clock)

    with server_info.uow() as uow:
        deploy_folder(uow)
        server_info.subjects = [register_subject(uow, *s).id for s in SUBJECTS]
        for username, (password, display, roles) in USERS.items():
            server_info.actors[username] = Actor.of(create_user(uow, username, password, display, roles))
        uow.commit()

    saved = os.environ.get("CREDFLOW_INSTANCE")
    os.environ["CREDFLOW_INSTANCE"] = str(folder)
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "e2e-secret-key-not-for-production",
                          "CLOCK": clock, "TESTING": False})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="credflow-e2e", daemon=True)
        thread.start()
        server_info.url = f"http://127.0.0.1:{server.server_port}"
        yield server_info
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    finally:
        if saved is None:
            os.environ.pop("CREDFLOW_INSTANCE", None)
        else:
            os.environ["CREDFLOW_INSTANCE"] = saved
        engine.dispose()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
