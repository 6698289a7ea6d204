"""The unit of work: one user action = one transaction, with its clock, actor and audit events."""
from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from .audit import append_events, remember_head
from .clock import SYSTEM_CLOCK, Clock, using_clock
from .settings import Settings
from .workdays import WorkdayCalendar


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (with roles and, for subject accounts, their subject) or the system."""
    name: str
    user_id: int | None = None
    roles: frozenset = field(default_factory=frozenset)
    subject_id: int | None = None
    display_name: str = ""

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(name=name)

    @classmethod
    def of(cls, user) -> "Actor":
        return cls(user.username, user.id, frozenset(user.role_codes), user.subject_id, user.display_name)


class UnitOfWork:
    """`with UnitOfWork(factory, actor=...) as uow: ...; uow.commit()` -- anything else rolls back."""

    def __init__(self, session_factory: sessionmaker, actor: Actor | None = None, clock: Clock = SYSTEM_CLOCK,
                 settings: Settings | None = None):
        self.session_factory = session_factory
        self.actor = actor or Actor.system()
        self.clock = clock
        self.settings = settings or Settings()
        self.session: Session | None = None
        self._calendar: WorkdayCalendar | None = None
        self._events: list[dict] = []
        self._after_commit: list = []
        self._on_rollback: list = []
        self._written: list = []
        # after the commit, each saved case's workflow goes to this worker's cache (case_store);
        # a bulk save of thousands of cases turns it off rather than hold them all until then
        self.caches_workflows = True

    def __enter__(self) -> "UnitOfWork":
        self.session = self.session_factory()
        self._clock_ctx = using_clock(self.clock)
        self._clock_ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.session.in_transaction():
                self.rollback()
        finally:
            self.session.close()
            self._clock_ctx.__exit__(*exc)

    @property
    def calendar(self) -> WorkdayCalendar:
        if self._calendar is None:
            self._calendar = WorkdayCalendar.from_session(self.session)
        return self._calendar

    def forget_calendar(self) -> None:
        """The calendar changed in this transaction: read it again when next asked."""
        self._calendar = None

    def audit(self, action: str, case_id: int | None = None, record_id: int | None = None, **data) -> None:
        self._events.append({"at": self.clock.now(), "actor": self.actor.name, "action": action,
                             "case_id": case_id, "record_id": record_id, "data": data})

    @contextmanager
    def savepoint(self):
        """A nested transaction: on an exception its writes and audit events are undone."""
        nested = self.session.begin_nested()
        mark, callbacks, written = len(self._events), len(self._after_commit), len(self._written)
        try:
            yield
        except BaseException:
            nested.rollback()
            del self._events[mark:]
            for obj in self._written[written:]:
                self.session.expire(obj)
            del self._written[written:]
            # what the undone work asked for after commit (a workflow back into the cache) is undone too
            del self._after_commit[callbacks:]
            raise
        nested.commit()

    def written(self, obj) -> None:
        """`obj` was written with a Core statement the session does not know of (see
        case_store.write_case): undoing a savepoint expires it, as it does what the session flushed."""
        self._written.append(obj)

    def after_commit(self, fn) -> None:
        self._after_commit.append(fn)

    def on_rollback(self, fn) -> None:
        self._on_rollback.append(fn)

    def commit(self) -> None:
        head = append_events(self.session, self._events)
        try:
            self.session.commit()
        except BaseException:
            self.rollback()
            raise
        remember_head(self.session, head)
        self._events.clear()
        self._written.clear()
        callbacks, self._after_commit, self._on_rollback = self._after_commit, [], []
        for fn in callbacks:
            fn()

    def rollback(self) -> None:
        self.session.rollback()
        self._events.clear()
        self._written.clear()
        callbacks, self._after_commit, self._on_rollback = self._on_rollback, [], []
        for fn in callbacks:
            fn()


class WorkflowCache:
    """Recently used workflows by case id, reused only while the stored version still matches.
    A workflow is taken out while a transaction uses it and put back only after its commit.
    (An item is what workflows/cases.py keeps: the workflow with the ids of its READY human tasks.)"""

    def __init__(self, size: int = 256):
        self.size = size
        self._items: OrderedDict[int, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, case_id: int, version: int):
        with self._lock:
            item = self._items.pop(case_id, None)
        if item is not None and item[0] == version:
            return item[1]
        return None

    def holds(self, case_id: int) -> bool:
        """Whether some version of the case is here (the stored one, usually)."""
        return case_id in self._items

    def put(self, case_id: int, version: int, workflow) -> None:
        with self._lock:
            self._items[case_id] = (version, workflow)
            self._items.move_to_end(case_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


WORKFLOWS = WorkflowCache()
