"""The accountability picker's rule, kept by the service (issue 15, finding 4): personnel open a
case by hand only on a decided record of a department the person held a post in on the conduct
date, once per person and record; each refusal says why. The picker offers exactly the records
the service accepts, and the roster's own cases keep the rule too (one per person)."""
from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from workflows.accountability import add_holding, open_accountability_by_hand, open_cases_for_record
from workflows.accountability_rule import DECIDED_STATUSES, records_of_persons_departments
from workflows.accounts import create_user
from workflows.cases import CaseError, Forbidden, complete_task
from workflows.demo import make_citizen_id
from workflows.models import RECORD_STATUSES, Case, Record, Subject
from workflows.numbers import case_no
from workflows.records import open_record, register_subject
from workflows.runtime import Actor

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
D, OTHER_DEPARTMENT, CIVIL_SERVANT = 0, 1, 3          # indexes into world.subjects (workflows.demo.SUBJECTS)


@pytest.fixture
def people(world):
    """P1 principal of D until 2026-03-31, P2 principal from 2026-04-01, Q principal of another
    department throughout; a 'personnel' account."""
    with world.uow("manager") as uow:
        made = {}
        for key, name, first17 in (("p1", "王主任", "61080219700101001"), ("p2", "李局长", "61080219720202002"),
                                   ("q", "赵主任", "61080219750303003")):
            made[key] = register_subject(uow, "civil_servant", name, make_citizen_id(first17))
        add_holding(uow, world.subjects[D], made["p1"], "principal", date(2023, 1, 1), date(2026, 3, 31), "局长")
        add_holding(uow, world.subjects[D], made["p2"], "principal", date(2026, 4, 1), None, "局长")
        add_holding(uow, world.subjects[OTHER_DEPARTMENT], made["q"], "principal", date(2020, 1, 1), None, "主任")
        world.actors["personnel"] = Actor.of(create_user(uow, "personnel", "pw", "钱人事", ["personnel"]))
        uow.commit()
        return {key: subject.id for key, subject in made.items()}


def confirmed_record(world, subject: int = D, conduct: str = "2026-02-10") -> int:
    """A record captured and approved by the legality review (confirmed: decided); the leader's
    approval, which would open the roster's cases, is not given."""
    record, lifecycle = world.run("clerk", open_record, world.subjects[subject],
                                  {"source": "administrative_penalty", "field": "government_procurement",
                                   "severity": "general", "facts": "逾期未支付中小企业账款。",
                                   "legal_basis": "《保障中小企业款项支付条例》第八条",
                                   "decision_date": "2026-05-29", "conduct_date": conduct})
    world.run("reviewer", complete_task, world.task(lifecycle.id, "legality_review").id, APPROVE)
    return record.id


def set_status(world, record_id: int, status: str) -> None:
    with world.factory() as session:
        session.get(Record, record_id).status = status
        session.commit()


def open_by_hand(world, record_id, person_id, post="principal", actor="personnel") -> int:
    return world.run(actor, open_accountability_by_hand, record_id, person_id, post).id


def refusal(world, record_id, person_id, post="principal") -> str:
    with pytest.raises(CaseError) as refused:
        open_by_hand(world, record_id, person_id, post)
    return str(refused.value)


def cases_of(world, person_id) -> list[int]:
    with world.factory() as session:
        return session.scalars(select(Case.id).where(Case.process_key == "accountability",
                                                     Case.party_id == person_id)).all()


def picker(world, person_id) -> list[int]:
    with world.factory() as session:
        return [r.id for r in records_of_persons_departments(session, person_id)]


def test_only_a_decided_record_opens_a_case(world, people):
    record = confirmed_record(world)
    for status in RECORD_STATUSES:
        if status in DECIDED_STATUSES:
            continue
        set_status(world, record, status)
        message = refusal(world, record, people["p1"])
        assert message.startswith("只能对已认定的失信记录启动问责") and "only a decided record" not in message, status
        assert picker(world, people["p1"]) == [], status
    assert cases_of(world, people["p1"]) == []
    set_status(world, record, "published")
    assert picker(world, people["p1"]) == [record]
    case = open_by_hand(world, record, people["p1"])
    assert cases_of(world, people["p1"]) == [case]


def test_a_civil_servants_own_record_is_no_departments(world, people):
    with world.uow("manager") as uow:    # the civil servant also held a post in D on the conduct date
        servant = uow.session.get(Subject, world.subjects[CIVIL_SERVANT])
        add_holding(uow, world.subjects[D], servant, "principal", date(2020, 1, 1), None, "科长")
        uow.commit()
    record = confirmed_record(world, CIVIL_SERVANT)
    assert "该失信记录的信用主体不是部门" in refusal(world, record, world.subjects[CIVIL_SERVANT])
    assert picker(world, world.subjects[CIVIL_SERVANT]) == []


def test_the_person_must_have_held_a_post_in_the_department_on_the_conduct_date(world, people):
    before, after = confirmed_record(world, conduct="2026-02-10"), confirmed_record(world, conduct="2026-04-15")
    # P1 left on 2026-03-31, P2 came on 2026-04-01, Q serves another department
    assert picker(world, people["p1"]) == [before]
    assert picker(world, people["p2"]) == [after]
    assert picker(world, people["q"]) == []
    for record, person in ((after, "p1"), (before, "p2"), (before, "q")):
        message = refusal(world, record, people[person])
        assert message == "失信行为发生之日该人员未在该部门任职", (record, person)
    assert open_by_hand(world, after, people["p2"]) in cases_of(world, people["p2"])
    assert cases_of(world, people["p1"]) == [] and cases_of(world, people["q"]) == []


def test_one_case_per_person_and_record(world, people):
    record = confirmed_record(world)
    first = open_by_hand(world, record, people["p1"])
    assert picker(world, people["p1"]) == []          # nothing left to offer
    with world.factory() as session:
        number = case_no(session.get(Case, first))
    message = refusal(world, record, people["p1"], "official_in_charge")
    assert message.startswith("该人员对此失信记录已有问责案件") and number in message
    assert cases_of(world, people["p1"]) == [first]


def test_two_people_opening_the_same_case_at_once_open_one(world, people):
    record = confirmed_record(world)
    barrier, outcomes = threading.Barrier(2), []

    def attempt():
        barrier.wait()
        try:
            outcomes.append(open_by_hand(world, record, people["p1"]))
        except CaseError as exc:
            outcomes.append(str(exc))
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2
    assert len(cases_of(world, people["p1"])) == 1
    assert sum(isinstance(o, str) and o.startswith("该人员对此失信记录已有问责案件") for o in outcomes) == 1


def test_refusals_for_what_is_not_there_and_who_is_not_personnel(world, people):
    record = confirmed_record(world)
    assert refusal(world, 999999, people["p1"]) == "失信记录不存在"
    assert refusal(world, record, world.subjects[D]) == "问责对象必须是已登记的公务员"      # a department
    assert refusal(world, record, people["p1"], "janitor") == (
        "未知职务类型“janitor”，应为 主要负责人、分管负责人、项目负责人")
    with pytest.raises(Forbidden):
        open_by_hand(world, record, people["p1"], actor="leader")
    assert cases_of(world, people["p1"]) == []


def test_the_picker_offers_exactly_what_the_service_accepts(world, people):
    records = [confirmed_record(world, D, "2026-02-10"), confirmed_record(world, D, "2026-04-15"),
               confirmed_record(world, OTHER_DEPARTMENT), confirmed_record(world, CIVIL_SERVANT)]
    set_status(world, records[0], "revoked")
    for person in people.values():
        offered = set(picker(world, person))
        for record in records:
            with world.uow("personnel") as uow:        # tried, never committed
                try:
                    open_accountability_by_hand(uow, record, person, "principal")
                    accepted = True
                except CaseError:
                    accepted = False
            assert accepted == (record in offered), (person, record)
    assert {p: set(picker(world, i)) for p, i in people.items()} == {
        "p1": set(), "p2": {records[1]}, "q": {records[2]}}


def test_the_roster_opens_one_case_per_person_and_none_twice(world, people):
    with world.uow("manager") as uow:           # two posts each, one person each
        for key, start, end in (("p1", date(2023, 1, 1), date(2026, 3, 31)), ("p2", date(2026, 4, 1), None)):
            add_holding(uow, world.subjects[D], uow.session.get(Subject, people[key]), "official_in_charge", start,
                        end, "副局长")
        uow.commit()
    before, after = confirmed_record(world, conduct="2026-02-10"), confirmed_record(world, conduct="2026-04-15")
    by_hand = open_by_hand(world, after, people["p2"])

    def open_cases(record):
        def run(uow):
            return [(c.party_id, c.id) for c in open_cases_for_record(uow, uow.session.get(Record, record))]
        return world.run("leader", run)
    opened = open_cases(before)
    assert [person for person, _ in opened] == [people["p1"]]    # one case, not one per post
    assert open_cases(after) == []                               # P2 has the hand-opened case already
    assert cases_of(world, people["p1"]) == [opened[0][1]] and cases_of(world, people["p2"]) == [by_hand]
