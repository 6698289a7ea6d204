from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from workflows.accounts import create_user
from workflows.definitions import deploy_folder
from workflows.demo import SUBJECTS
from workflows.models import HumanTask, Subject, User
from workflows.records import register_subject
from workflows.runtime import Actor, UnitOfWork

CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "逾期未支付中小企业账款。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}
ACCOUNTS = ("clerk", "reviewer", "leader", "manager", "clerk2", "subject_a", "subject_b", "subject_c")


class World:
    """A deployed credflow with subjects and one user per role, driven through the services."""

    def __init__(self, session_factory, clock):
        self.factory, self.clock = session_factory, clock
        with session_factory() as session:
            seeded = session.scalar(select(User.id).where(User.username == "subject_c")) is not None
        if not seeded:
            self.seed(session_factory, clock)
        codes = {code: i for i, (_, _, code) in enumerate(SUBJECTS)}
        with session_factory() as session:
            self.subjects = [0] * len(SUBJECTS)
            for subject in session.scalars(select(Subject).where(Subject.code.in_(codes))):
                self.subjects[codes[subject.code]] = subject.id
            self.actors = {user.username: Actor.of(user) for user in session.scalars(
                select(User).where(User.username.in_(ACCOUNTS)).order_by(User.id))}

    @staticmethod
    def seed(session_factory, clock) -> None:
        """Deploy the shipped processes, register the demo subjects, create the accounts."""
        with UnitOfWork(session_factory, Actor.system("test"), clock) as uow:
            deploy_folder(uow)
            subjects = [register_subject(uow, *s).id for s in SUBJECTS]
            for name in ("clerk", "reviewer", "leader", "manager"):
                create_user(uow, name, "pw-" + name, name, [name])
            create_user(uow, "clerk2", "pw", "clerk2", ["clerk"])
            for name, index in (("subject_a", 0), ("subject_b", 1), ("subject_c", 3)):
                create_user(uow, name, "pw", name, ["subject"], subject_id=subjects[index])
            uow.commit()

    def uow(self, actor: str | Actor | None = None) -> UnitOfWork:
        if isinstance(actor, str):
            actor = self.actors[actor]
        return UnitOfWork(self.factory, actor or Actor.system("test"), self.clock)

    def tasks(self, case_id=None):
        with self.factory() as session:
            query = select(HumanTask).order_by(HumanTask.id)
            if case_id is not None:
                query = query.where(HumanTask.case_id == case_id)
            return session.scalars(query).all()

    def task(self, case_id, bpmn_id):
        found = [t for t in self.tasks(case_id) if t.bpmn_id == bpmn_id]
        assert len(found) == 1, f"expected one open {bpmn_id} task, found {[t.bpmn_id for t in self.tasks(case_id)]}"
        return found[0]

    def run(self, actor, fn, *args, **kwargs):
        with self.uow(actor) as uow:
            result = fn(uow, *args, **kwargs)
            uow.commit()
            return result


@pytest.fixture
def world(session_factory, clock, seeded):
    seeded("world", World.seed)        # a copy of the seeded database (tests/database_seeds.py)
    return World(session_factory, clock)


@pytest.fixture
def capture():
    return dict(CAPTURE)
