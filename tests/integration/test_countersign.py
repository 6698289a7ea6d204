"""会签 countersign: a user task run as one instance per person, finished by its rule (或签 anyone,
会签 everyone, 依次审批 in order, a ratio), on SQLite and PostgreSQL: each person's inbox row and
notice, the opinions listed, the rows the rule makes needless leaving the inbox, the gateway after it
taking the outcome, two answers at once, and deploy refusing a countersign it could not run."""
from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from workflows.approvals import countersign_rule
from workflows.approvals.countersign import countersign_of
from workflows.approvals.model import ApprovalAction, StandingDelegation
from workflows.approvals.opinions import opinions_of
from workflows.case_errors import CaseError
from workflows.cases import complete_task, start_case
from workflows.definitions import deploy_bundle
from workflows.engine.bundle import read_folder
from workflows.engine.problems import InvalidBundle
from workflows.models import AuditEvent, Notification
from workflows.runtime import WORKFLOWS

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "approvals"
[BUNDLE] = [b for b in read_folder(FIXTURES / "bpmn", FIXTURES / "forms") if b.key == "countersign"]
SIGNERS = ("clerk", "clerk2", "reviewer")
YES = {"cs_decision": "approve", "opinion": "同意。"}
NO = {"cs_decision": "reject", "opinion": "证据不足，不同意。"}


def variant(rule="any", ratio=None, signers="clerk,clerk2,reviewer", **replace):
    """The fixture with another rule (the BPMN the editor writes for it); `replace`: text to swap."""
    text = BUNDLE.bpmn_files["countersign.bpmn"]
    old, new = countersign_rule.bpmn_parts("cs", "any", "clerk,clerk2,reviewer"), \
        countersign_rule.bpmn_parts("cs", rule, signers, ratio)
    for part in ("pre_script", "condition", "post_script"):
        text = text.replace(old[part], new[part])
    text = text.replace('value="any"', f'value="{rule}"').replace(
        'value="clerk,clerk2,reviewer"', f'value="{signers}"')
    if ratio is not None:
        text = text.replace('<spiffworkflow:property name="countersign" ',
                            f'<spiffworkflow:property name="countersignRatio" value="{ratio}"/>'
                            '<spiffworkflow:property name="countersign" ')
    if rule == "sequential":
        text = text.replace('isSequential="false"', 'isSequential="true"')
    for before, after in replace.items():
        text = text.replace(before, after)
    return type(BUNDLE)(BUNDLE.key, BUNDLE.name, {"countersign.bpmn": text}, {}, dict(BUNDLE.forms))


def started(world, **kw) -> int:
    world.run("manager", deploy_bundle, variant(**kw))
    return world.run("clerk", start_case, "countersign", {}).id


def rows(world, case_id):
    """Open rows: (bpmn id, holder's username)."""
    names = {a.user_id: n for n, a in world.actors.items()}
    return [(t.bpmn_id, names.get(t.assignee_id)) for t in world.tasks(case_id)]


def row_of(world, case_id, username):
    [row] = [t for t in world.tasks(case_id) if t.bpmn_id == "cs" and t.assignee_id == world.actors[username].user_id]
    return row


def answer(world, case_id, username, data):
    world.run(username, complete_task, row_of(world, case_id, username).id, data)


def states(world, case_id, username):
    with world.factory() as session:
        shown = countersign_of(session, row_of(world, case_id, username))
    return [(i["username"], i["state"]) for i in shown["instances"]]


def opinions(world, case_id):
    with world.factory() as session:
        return [(o.who, o.approved, o.opinion) for o in opinions_of(session, case_id)]


def audited(world, case_id, action="approval.countersign"):
    with world.factory() as session:
        return [(e.actor, e.data["approved"]) for e in session.scalars(select(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == action).order_by(AuditEvent.id))]


def notified(world, case_id):
    with world.factory() as session:
        users = {a.user_id: n for n, a in world.actors.items()}
        return sorted(users[n.user_id] for n in session.scalars(select(Notification).where(
            Notification.case_id == case_id, Notification.kind == "countersign")))


def test_any_of_three_finishes_on_the_second_approval_after_the_first_disagreed(world):
    """或签, the reviewer on leave: the leader holds the reviewer's instance until it is cancelled."""
    with world.uow("reviewer") as uow:
        uow.session.add(StandingDelegation(user_id=world.actors["reviewer"].user_id,
                                           deputy_id=world.actors["leader"].user_id, starts_on=date(2026, 5, 1),
                                           ends_on=date(2026, 6, 30), created_at=world.clock.now()))
        uow.commit()
    case_id = started(world)
    assert rows(world, case_id) == [("cs", "clerk"), ("cs", "clerk2"), ("cs", "leader")]
    assert notified(world, case_id) == ["clerk", "clerk2", "leader"]
    leader_row = row_of(world, case_id, "leader")
    assert leader_row.owner_id == world.actors["reviewer"].user_id   # on the reviewer's behalf
    assert states(world, case_id, "clerk") == [("clerk", "waiting"), ("clerk2", "waiting"), ("reviewer", "waiting")]

    answer(world, case_id, "clerk", NO)
    assert rows(world, case_id) == [("cs", "clerk2"), ("cs", "leader")]
    assert states(world, case_id, "clerk2") == [("clerk", "rejected"), ("clerk2", "waiting"), ("reviewer", "waiting")]
    answer(world, case_id, "clerk2", YES)

    assert rows(world, case_id) == [("carry_out", None)]    # the reviewer's row is gone: the rule is decided
    with world.factory() as session:
        tracked = session.scalars(select(ApprovalAction).where(ApprovalAction.case_id == case_id,
                                                               ApprovalAction.kind == "countersigner")
                                  .order_by(ApprovalAction.id)).all()
        note = session.scalars(select(Notification).where(Notification.kind == "countersign")).first()
    assert [(a.data["signer"], a.status) for a in tracked] == [("clerk", "done"), ("clerk2", "done"),
                                                              ("reviewer", "cancelled")]
    assert "签署会签意见" in note.text and note.link.startswith("/tasks/")
    assert opinions(world, case_id) == [("clerk", False, NO["opinion"]), ("clerk2", True, YES["opinion"])]
    assert audited(world, case_id) == [("clerk", False), ("clerk2", True)]


def test_everyone_must_agree_and_one_disagreement_ends_it(world):
    """会签: three approvals pass it; in a second case the second answer, a disagreement, fails it."""
    passing = started(world, rule="all")
    for username in SIGNERS:
        answer(world, passing, username, YES)
        WORKFLOWS.clear()   # each step from the stored state, as after a restart
    assert rows(world, passing) == [("carry_out", None)]
    assert [o[1] for o in opinions(world, passing)] == [True, True, True]

    failing = world.run("clerk", start_case, "countersign", {}).id
    answer(world, failing, "clerk", YES)
    answer(world, failing, "clerk2", NO)
    assert rows(world, failing) == [("rework", None)]
    assert audited(world, failing) == [("clerk", True), ("clerk2", False)]


def test_in_order_one_row_at_a_time(world):
    """依次审批: each person's row appears once the one before has agreed."""
    case_id = started(world, rule="sequential")
    assert rows(world, case_id) == [("cs", "clerk")]
    assert states(world, case_id, "clerk") == [("clerk", "waiting"), ("clerk2", "pending"), ("reviewer", "pending")]
    answer(world, case_id, "clerk", YES)
    WORKFLOWS.clear()
    assert rows(world, case_id) == [("cs", "clerk2")]
    assert notified(world, case_id) == ["clerk", "clerk2"]
    answer(world, case_id, "clerk2", YES)
    assert rows(world, case_id) == [("cs", "reviewer")]
    assert states(world, case_id, "reviewer") == [("clerk", "approved"), ("clerk2", "approved"),
                                                  ("reviewer", "waiting")]
    answer(world, case_id, "reviewer", NO)
    assert rows(world, case_id) == [("rework", None)]


def test_two_thirds_with_two_answers_at_once(world):
    """A ratio of 2/3 with two people answering at the same moment. On PostgreSQL both read the case
    at the same version: one write wins, the other is a Conflict (409) and counts once answered again;
    on SQLite the unit of work's write lock runs them one after the other and both count at once.
    Two approvals of three pass it and the third row leaves the inbox."""
    case_id = started(world, rule="ratio", ratio="2/3")
    barrier = threading.Barrier(2)
    outcomes = {}

    def complete(username, row_id):
        try:
            with world.uow(username) as uow:
                barrier.wait()
                complete_task(uow, row_id, YES)
                uow.commit()
            outcomes[username] = "ok"
        except CaseError as exc:
            outcomes[username] = exc.status

    threads = [threading.Thread(target=complete, args=(u, row_of(world, case_id, u).id)) for u in ("clerk", "clerk2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with world.factory() as session:
        postgresql = session.bind.dialect.name == "postgresql"
    assert sorted(outcomes.values(), key=str) == ([409, "ok"] if postgresql else ["ok", "ok"]), outcomes
    for loser in [u for u, o in outcomes.items() if o == 409]:
        assert rows(world, case_id) == [("cs", loser), ("cs", "reviewer")]
        answer(world, case_id, loser, YES)
    assert rows(world, case_id) == [("carry_out", None)]
    assert sorted(who for who, *_ in opinions(world, case_id)) == ["clerk", "clerk2"]


@pytest.mark.one_database   # deploy validation and the rule's arithmetic: no database involved
def test_deploy_refuses_a_countersign_it_could_not_run(world):
    def problems(bundle):
        with pytest.raises(InvalidBundle) as refused:
            world.run("manager", deploy_bundle, bundle)
        return " ".join(str(p.reason) for p in refused.value.problems)

    assert "没有会签人" in problems(variant(signers=""))
    assert "通过比例" in problems(variant(rule="ratio", ratio="1.5"))
    assert "role:clerk" in problems(variant(signers="clerk,role:boss"))
    edited = problems(variant(**{'countersign_finished("any"': 'countersign_finished("all"'}))
    assert "完成条件" in edited and 'countersign_finished("any", cs_answers, cs_signers)' in edited
    assert "多实例方式" in problems(variant(rule="sequential", **{'isSequential="true"': 'isSequential="false"'}))

    outcome = countersign_rule.outcome
    assert outcome("ratio", ["approve", "reject"], 5, "0.6") is None            # 1 of the 3 needed
    assert outcome("ratio", ["reject", "reject", "reject"], 5, "0.6") is False  # 3 can no longer come
    assert outcome("ratio", ["approve"] * 3, 5, "60%") is True
    assert outcome("any", ["reject"] * 3, 3) is False and outcome("all", ["approve"] * 2, 3) is None
