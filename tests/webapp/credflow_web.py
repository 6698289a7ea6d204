"""Helpers for the web tests: the WebWorld (services), Page (parsed HTML), Browser (test client)."""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

from lxml import html as lxml_html
from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from workflows.accounts import create_user
from workflows.cases import complete_task
from workflows.definitions import deploy_folder
from workflows.demo import SUBJECTS
from workflows.models import HumanTask, Subject, User
from workflows.records import open_record, register_subject
from workflows.runtime import Actor, UnitOfWork

CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "逾期未支付中小企业账款。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}

# username -> (display name, roles); display names differ from usernames on purpose
STAFF = {
    "clerk": ("张承办", ["clerk"]),
    "reviewer": ("李审核", ["reviewer"]),
    "reviewer2": ("周审核", ["reviewer"]),
    "leader": ("王领导", ["leader"]),
    "manager": ("赵管理", ["manager"]),
    "admin": ("孙系统", ["admin"]),
}
SUBJECT_USER = "subject"   # tied to SUBJECTS[0]


def password(username: str) -> str:
    return "pw-" + username


CSRF_RE = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


class WebWorld:
    """Deployed processes, the demo subjects and the accounts, driven through the services."""

    def __init__(self, session_factory, clock):
        self.factory, self.clock = session_factory, clock
        with session_factory() as session:
            if session.scalar(select(User.id).where(User.username == SUBJECT_USER)) is None:
                self.seed(session_factory, clock)
            codes = {code: i for i, (_, _, code) in enumerate(SUBJECTS)}
            self.subjects = [0] * len(SUBJECTS)
            for subject in session.scalars(select(Subject)):
                self.subjects[codes[subject.code]] = subject.id
            self.subject_names = [name for _, name, _ in SUBJECTS]
            self.actors, self.user_ids = {}, {}
            for user in session.scalars(select(User)):
                self.actors[user.username], self.user_ids[user.username] = Actor.of(user), user.id

    @staticmethod
    def seed(session_factory, clock) -> None:
        """Deploy the shipped processes, register the demo subjects, create the accounts."""
        with UnitOfWork(session_factory, Actor.system("test"), clock) as uow:
            deploy_folder(uow)
            subjects = [register_subject(uow, *s).id for s in SUBJECTS]
            for name, (display, roles) in STAFF.items():
                create_user(uow, name, password(name), display, roles)
            create_user(uow, SUBJECT_USER, password(SUBJECT_USER), SUBJECTS[0][1], ["subject"],
                        subject_id=subjects[0])
            uow.commit()

    def uow(self, actor: str | Actor | None = None) -> UnitOfWork:
        if isinstance(actor, str):
            actor = self.actors[actor]
        return UnitOfWork(self.factory, actor or Actor.system("test"), self.clock)

    def run(self, actor, fn, *args, **kwargs):
        with self.uow(actor) as uow:
            result = fn(uow, *args, **kwargs)
            uow.commit()
            return result

    def open_record(self, subject: int = 0, **capture) -> tuple[int, int]:
        """A captured record (its case waits in legality review): (record id, case id)."""
        record, case = self.run("clerk", open_record, self.subjects[subject], {**CAPTURE, **capture})
        return record.id, case.id

    def tasks(self, case_id: int | None = None) -> list[HumanTask]:
        with self.factory() as session:
            query = select(HumanTask).order_by(HumanTask.id)
            if case_id is not None:
                query = query.where(HumanTask.case_id == case_id)
            return session.scalars(query).all()

    def task(self, case_id: int, bpmn_id: str) -> HumanTask:
        found = [t for t in self.tasks(case_id) if t.bpmn_id == bpmn_id]
        assert len(found) == 1, f"expected one open {bpmn_id}, found {[t.bpmn_id for t in self.tasks(case_id)]}"
        return found[0]

    def complete(self, actor: str, row_id: int, data: dict):
        return self.run(actor, complete_task, row_id, data)

    def leader_task(self) -> HumanTask:
        """A record taken through legality review: its leader_approval task."""
        _, case_id = self.open_record()
        review = self.task(case_id, "legality_review")
        self.complete("reviewer", review.id, {"review_decision": "approve", "review_opinion": "事实清楚。"})
        return self.task(case_id, "leader_approval")


class Page:
    """A rendered response, parsed."""

    def __init__(self, response):
        self.response = response
        self.status = response.status_code
        self.text = response.get_data(as_text=True)
        self.doc = lxml_html.fromstring(self.text) if self.text.strip() else None

    def xpath(self, expr):
        return self.doc.xpath(expr)

    def one(self, css_id: str):
        found = self.doc.xpath(f'//*[@id="{css_id}"]')
        assert len(found) == 1, f"#{css_id} not on the page"
        return found[0]

    def text_of(self, css_id: str) -> str:
        return self.one(css_id).text_content().strip()

    @property
    def task_rows(self) -> list[int]:
        return [int(v) for v in self.doc.xpath("//tr[@data-task-row]/@data-task-row")]

    @property
    def counts(self) -> dict[str, int]:
        return {span.get("data-count"): int(span.text_content().strip())
                for span in self.doc.xpath("//span[@data-count]")}

    def error_for(self, name: str) -> str | None:
        found = self.doc.xpath(f'//*[@data-error-for="{name}"]')
        return found[0].text_content().strip() if found else None

    def value_of(self, name: str):
        """What a form control named `name` shows: input value, textarea text, selected or checked option."""
        for el in self.doc.xpath(f'//*[@name="{name}"]'):
            if el.tag == "textarea":
                return el.text or ""
            if el.tag == "select":
                chosen = el.xpath("./option[@selected]/@value")
                return chosen[0] if chosen else ""
            if el.get("type") in ("radio", "checkbox"):
                if el.get("checked") is not None:
                    return el.get("value")
                continue
            return el.get("value", "")
        return None

    @property
    def alerts(self) -> list[str]:
        return [" ".join(a.text_content().split()) for a in self.doc.xpath('//div[contains(@class, "alert")]')]

    @property
    def html_lang(self) -> str:
        return self.doc.get("lang")


class Browser:
    """A test client with its own cookie jar (one per person) that posts the page's CSRF token."""

    def __init__(self, app, ip: str = "127.0.0.1"):
        self.app = app
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = ip
        self.token: str | None = None

    def _seen(self, response):
        if response.mimetype == "text/html":
            match = CSRF_RE.search(response.get_data(as_text=True))
            if match:
                self.token = match.group(1)
        return response

    def get(self, url: str, **kwargs):
        return self._seen(self.client.get(url, **kwargs))

    def post(self, url: str, data: dict | list | None = None, csrf: bool = True, **kwargs):
        if isinstance(data, list):   # [(name, value)] for repeated names
            items = list(data)
        else:
            items = list((data or {}).items())
        if csrf and not any(k == "csrf_token" for k, _ in items):
            assert self.token, "no CSRF token seen yet: GET a page first"
            items.append(("csrf_token", self.token))
        return self._seen(self.client.post(url, data=MultiDict(items), **kwargs))

    def page(self, url: str, **kwargs) -> Page:
        return Page(self.get(url, **kwargs))

    def login(self, username: str, pw: str | None = None, next: str | None = None):
        self.get("/login")
        url = "/login" + ("?" + urlencode({"next": next}) if next is not None else "")
        return self.post(url, {"username": username, "password": password(username) if pw is None else pw})


def location(response) -> str:
    """The redirect target's path and query (the test client's host stripped)."""
    parts = urlsplit(response.headers["Location"])
    if parts.netloc in ("", "localhost"):
        return parts.path + ("?" + parts.query if parts.query else "")
    return response.headers["Location"]


def next_param(response) -> str | None:
    values = parse_qs(urlsplit(response.headers["Location"]).query).get("next")
    return values[0] if values else None




def world_template(seeded_template, tmp_path_factory, label: str, make_objects):
    """A module's SQLite template: the seeded database (tests/webapp/conftest.py's) copied, with
    `make_objects(WebWorld)` run on it once at 2026-06-01 09:00 (CST); copied per test after that.
    Returns (the template's path, what make_objects returned)."""
    import shutil
    from datetime import datetime

    import pytest

    import workflows.accounts
    from workflows.clock import CST, FixedClock
    from workflows.db import make_engine, make_session_factory
    from workflows.engine.bundle import clear_spec_cache
    from workflows.runtime import WORKFLOWS

    path = tmp_path_factory.mktemp(f"{label}-template") / "template.sqlite3"
    shutil.copy(seeded_template, path)
    engine = make_engine(f"sqlite:///{path}")
    WORKFLOWS.clear()
    clear_spec_cache()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CREDFLOW_INSTANCE", str(tmp_path_factory.mktemp(f"{label}-instance")))
            mp.setattr(workflows.accounts, "_N", 2 ** 8)
            objects = make_objects(WebWorld(make_session_factory(engine),
                                            FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))))
    finally:
        WORKFLOWS.clear()
        clear_spec_cache()
        engine.dispose()
    return path, objects


def users_xlsx(*rows) -> bytes:
    """A staff import sheet (the Chinese headers) with these rows."""
    book = Workbook()
    book.active.append(["用户名", "姓名", "角色", "邮箱", "电话"])
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
