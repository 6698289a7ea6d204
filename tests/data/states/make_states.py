"""Writes the stored-state fixtures of this folder: real case states as the release of 2026-06
(state format "credflow-1/1.5", before SpiffWorkflow's versioned serializer was used) wrote them,
each with the definition bundle it was written under. tests/unit/test_stored_states.py loads them
with the current code and runs each case to its end.

Kept to show how the files were made; running it again with a newer build writes that build's
format instead, which is not what the fixtures are for.

    python tests/data/states/make_states.py
"""
from __future__ import annotations

import json
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from workflows.accountability import add_holding, open_cases_for_record  # noqa: E402
from workflows.accounts import create_user  # noqa: E402
from workflows.applications import file_objection  # noqa: E402
from workflows.cases import complete_task, send_message  # noqa: E402
from workflows.clock import CST, FixedClock  # noqa: E402
from workflows.db import make_engine, make_session_factory  # noqa: E402
from workflows.definitions import deploy_folder  # noqa: E402
from workflows.demo import SUBJECTS, make_citizen_id  # noqa: E402
from workflows.migrations import upgrade_database  # noqa: E402
from workflows.models import Case, HumanTask, ProcessDefinition, Record, Subject  # noqa: E402
from workflows.records import open_record, register_subject  # noqa: E402
from workflows.runtime import Actor, UnitOfWork  # noqa: E402
from workflows.worker import run_once  # noqa: E402

HERE = Path(__file__).resolve().parent
CAPTURE = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
           "facts": "逾期未支付中小企业账款。", "legal_basis": "《保障中小企业款项支付条例》第八条",
           "decision_date": "2026-05-29"}
APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


class World:
    def __init__(self, url: str):
        self.factory = make_session_factory(make_engine(url))
        self.clock = FixedClock(datetime(2026, 6, 1, 9, 0, tzinfo=CST))
        with self.uow() as uow:
            deploy_folder(uow)
            self.subjects = [register_subject(uow, *s).id for s in SUBJECTS]
            self.actors = {name: Actor.of(create_user(uow, name, "pw", name, [name]))
                           for name in ("clerk", "reviewer", "leader", "manager")}
            self.actors["subject_a"] = Actor.of(create_user(uow, "subject_a", "pw", "subject_a", ["subject"],
                                                            subject_id=self.subjects[0]))
            uow.commit()

    def uow(self, actor=None):
        return UnitOfWork(self.factory, self.actors[actor] if actor else Actor.system("fixtures"), self.clock)

    def run(self, actor, fn, *args):
        with self.uow(actor) as uow:
            result = fn(uow, *args)
            uow.commit()
            return result

    def task(self, case_id, bpmn_id):
        with self.factory() as session:
            return session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                           HumanTask.bpmn_id == bpmn_id)).one()

    def complete(self, actor, case_id, bpmn_id, data):
        self.run(actor, complete_task, self.task(case_id, bpmn_id).id, data)

    def save(self, name: str, case_id: int, note: str) -> None:
        with self.factory() as session:
            case = session.get(Case, case_id)
            definition = session.get(ProcessDefinition, case.definition_id)
            ready = sorted(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id)))
            fixture = {
                "note": note, "process_key": case.process_key, "clock": self.clock.now().isoformat(),
                "ready": ready, "next_due_at": case.next_due_at.isoformat() if case.next_due_at else None,
                "definition": {"key": definition.key, "name": definition.name, "bpmn_files": definition.bpmn_files,
                               "dmn_files": definition.dmn_files, "forms": definition.forms},
                "state": case.state,
            }
        (HERE / f"{name}.json").write_text(json.dumps(fixture, ensure_ascii=False, indent=1), encoding="utf-8")
        print(name, len(fixture["state"]), "bytes;", ready)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/states.sqlite3"
        upgrade_database(url)
        world = World(url)

        record, case = world.run("clerk", open_record, world.subjects[0], CAPTURE)
        world.complete("reviewer", case.id, "legality_review", {"review_decision": "return", "review_opinion": "补证据"})
        world.save("lifecycle_returned", case.id, "a record returned for correction once: the capture task "
                                                  "again after a gateway back-edge")
        world.complete("clerk", case.id, "capture", {**CAPTURE, "facts": "补正后的事实。"})
        world.complete("reviewer", case.id, "legality_review", APPROVE)
        world.save("lifecycle_leader_approval", case.id, "approved by the reviewer, waiting for the leader")
        world.complete("leader", case.id, "leader_approval", LEADER_OK)
        for n in range(3):
            world.run(None, send_message, case.id, "record_corrected", {"facts": f"更正 {n}"})
        world.save("lifecycle_published", case.id, "published, three corrections delivered, waiting for the "
                                                   "minimum-period timer, the maximum and more messages")
        world.clock.advance(days=92)
        run_once(world.factory, world.clock)
        world.save("lifecycle_repair_eligible", case.id, "the minimum period has passed (timer fired): "
                                                         "waiting for the maximum period")

        record2, case2 = world.run("clerk", open_record, world.subjects[0], {**CAPTURE, "decision_date": "2026-08-28"})
        world.complete("reviewer", case2.id, "legality_review", APPROVE)
        world.complete("leader", case2.id, "leader_approval", LEADER_OK)
        objection = world.run("subject_a", file_objection, record2.id, "factual_error", "金额有误", [])
        world.complete("clerk", objection.id, "acceptance_check", {"acceptance": "accept", "acceptance_reason": "齐全"})
        world.complete("reviewer", objection.id, "verification",
                       {"verification_outcome": "extend", "verification_reason": "需调取更多材料"})
        world.save("objection_verification_extended", objection.id,
                   "an objection whose verification was extended once (a gateway back-edge with a boundary "
                   "timer): verification waits again")

        with world.uow("manager") as uow:
            person = register_subject(uow, "civil_servant", "王主任", make_citizen_id("61080219700101001"))
            add_holding(uow, world.subjects[0], person, "principal", date(2023, 1, 1), None, "局长")
            uow.commit()
            person_id = person.id
        record3, _ = world.run("clerk", open_record, world.subjects[0], CAPTURE)

        def open_cases(uow):
            return {c.party_id: c.id for c in open_cases_for_record(uow, uow.session.get(Record, record3.id))}
        cases = world.run("leader", open_cases)
        accountability = cases[person_id]
        world.complete("clerk", accountability, "confirm_person",
                       {"person_confirmed": "confirm", "confirm_reason": "经核对任职文件，失信行为发生时在岗。"})
        world.save("accountability_statement", accountability, "an accountability case waiting for the person's "
                                                              "statement, with the statement deadline's boundary timer")
        with world.factory() as session:
            assert session.get(Subject, person_id) is not None


if __name__ == "__main__":
    main()
