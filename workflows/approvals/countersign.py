"""会签 countersign: a user task marked in the editor runs as a multi-instance task, one instance
per person, finished by its rule (everyone, anyone, in order, a ratio).

The BPMN of such a task (properties, scripts, loop characteristics: countersign_rule.py) runs on
SpiffWorkflow's multi-instance activity. When the task starts, its preScript fixes the people
(`countersigners(...)`, the helper below: usernames and every active holder of a `role:<code>`);
each instance's READY row goes to its person (or their deputy while they are on leave) with a
notification; each answer is collected in `<id>_answers`, and the completionCondition decides by the
rule (evaluated on the activity, engine/script_engine.py), cancelling the instances still open (their
rows leave the inbox). A sequential countersign has one row at a time, in order.

Beside the workflow each instance has a tracking ApprovalAction (kind `countersigner`: open while
its person has it, done once answered, cancelled when the rule was decided without them) holding
the people, the rule and the instance's place: what `countersign_of` shows. Each answer is also an
ApprovalAction of kind `countersign` ({"approved", "opinion"}, audited as approval.countersign),
listed with the case's other opinions (opinions.py).

Two instances completed at the same moment (each person their own row): on PostgreSQL both load
the case at the same version and write it back with the version check, so one succeeds and the
other gets a Conflict (409) and counts once completed again (its row is still there unless the
first answer decided the rule); on SQLite the unit of work's write lock runs them one after the
other and both count. A completion is never lost or counted twice.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from sqlalchemy import select

from ..case_errors import CaseError
from ..messages import Message, N_
from ..models import HumanTask, User, UserRole
from ..numbers import case_no
from . import countersign_rule as rule_of
from .common import give_task, notify_task, record_action, task_words
from .model import ApprovalAction

PROPERTY = rule_of.PROPERTY
TRACKING = "countersigner"     # the per-instance ApprovalAction


# -- the helpers the case's script engine gives scripts and conditions -----------------------

def resolve_people(session, text) -> list[str]:
    """The usernames `countersigners` names, in order, each once: a username must be an active
    staff member; `role:<code>` adds every active holder of the role (by account order)."""
    people: list[str] = []
    for entry in rule_of.signer_entries(text):
        if entry.startswith(rule_of.ROLE_PREFIX):
            names = session.scalars(select(User.username).join(UserRole, UserRole.user_id == User.id).where(
                UserRole.role == entry[len(rule_of.ROLE_PREFIX):], User.active).order_by(User.id)).all()
        else:
            user = session.scalar(select(User).where(User.username == entry))
            if user is None or not user.active or not (user.role_codes & set(rule_of.SIGNER_ROLES)):
                raise CaseError(N_("会签人 %(who)s 不存在、已停用或不是工作人员"), who=entry)
            names = [user.username]
        people.extend(n for n in names if n not in people)
    if not people:
        raise CaseError(N_("会签没有可以签署的人员（%(signers)s）"), signers=str(text))
    return people


def script_helpers(uow) -> dict:
    """countersigners (reads the accounts), countersign_finished and countersign_passed (pure)."""
    return {"countersigners": lambda text: resolve_people(uow.session, text),
            "countersign_finished": rule_of.finished, "countersign_passed": rule_of.passed}


# -- the hooks (hooks.py) ---------------------------------------------------------------------

def _countersign_props(task) -> dict | None:
    """The countersign properties of a READY instance `task`, or None for any other task."""
    props = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
    activity = task.parent
    if not props.get(PROPERTY) or activity is None or not isinstance(activity.task_spec, MultiInstanceTask) \
            or activity.task_spec.task_spec != task.task_spec.name:
        return None
    return props


def assign_instance(uow, case, row, task) -> None:
    """Give a countersign instance's row to its person (their deputy while they are on leave),
    tell them, and open its tracking action."""
    props = _countersign_props(task)
    if props is None:
        return
    activity = task.parent
    spec = activity.task_spec
    item = getattr(spec.input_item, "bpmn_id", None) or rule_of.variables(row.bpmn_id)["signer"]
    people = list(activity.data.get(getattr(spec.data_input, "bpmn_id", ""), []) or [])
    username = task.data.get(item)
    user = uow.session.scalar(select(User).where(User.username == str(username))) if username else None
    if user is None:
        raise CaseError(N_("会签人 %(who)s 不存在"), who=str(username))
    holder = give_task(uow, row, user.id)
    uow.session.flush()   # the row's id, for the link
    index = task.internal_data.get("key_or_index")   # the person's place in the list
    if not isinstance(index, int):
        index = people.index(user.username) if user.username in people else len(people)
    uow.session.add(ApprovalAction(
        case_id=case.id, task_id=row.task_id, task_row_id=row.id, bpmn_id=row.bpmn_id, task_name=row.name,
        kind=TRACKING, actor_id=None, target_user_id=user.id, status="open", created_at=uow.clock.now(),
        data={"activity": str(activity.id), "index": index, "signer": user.username, "people": people,
              "rule": props.get(PROPERTY), "ratio": props.get(rule_of.RATIO_PROPERTY)}))
    notify_task(uow, [holder], "countersign", Message(N_("请您对案件 %(case)s 的「%(task)s」签署会签意见"),
                                                      case=case_no(case), task=task_words(row)), row)


def _tracking(session, case_id: int, task_id: str) -> ApprovalAction | None:
    """The tracking action of the instance `task_id` (None: no countersign instance)."""
    return session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == case_id, ApprovalAction.task_id == task_id, ApprovalAction.kind == TRACKING)
        .order_by(ApprovalAction.id.desc()).limit(1)).first()


def record_opinion(uow, row, case, data: dict) -> None:
    """A countersign instance was completed: its person's opinion joins the case's opinions."""
    if row.kind != "task":
        return
    tracking = _tracking(uow.session, case.id, row.task_id)
    if tracking is None or tracking.status != "open":
        return
    approved = rule_of.agrees(data.get(rule_of.variables(row.bpmn_id)["decision"]))
    opinion = str(data.get(rule_of.OPINION_FIELD) or "").strip()
    tracking.status, tracking.closed_at = "done", uow.clock.now()
    tracking.data = {**tracking.data, "approved": approved, "opinion": opinion, "by": uow.actor.name}
    record_action(uow, case, row, "countersign", data={"approved": approved, "opinion": opinion})


# -- what the pages show ----------------------------------------------------------------------

def countersign_of(session, row: HumanTask) -> dict | None:
    """For a countersign instance's row: the rule, the people and each one's instance (state
    waiting / approved / rejected / skipped, or pending: a later turn of a sequential countersign)
    with their opinion; None for any other row."""
    if row.kind != "task":
        return None
    mine = _tracking(session, row.case_id, row.task_id)
    if mine is None:
        return None
    activity = mine.data.get("activity")
    trackers = [a for a in session.scalars(select(ApprovalAction).where(
        ApprovalAction.case_id == row.case_id, ApprovalAction.bpmn_id == row.bpmn_id,
        ApprovalAction.kind == TRACKING).order_by(ApprovalAction.id)) if a.data.get("activity") == activity]
    people = list(mine.data.get("people") or [a.data.get("signer") for a in trackers])
    by_index = {a.data.get("index"): a for a in trackers}
    names = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(people))).all())
    states = {"open": "waiting", "cancelled": "skipped"}
    instances = []
    for index, username in enumerate(people):
        tracker = by_index.get(index)
        if tracker is None:
            state = "pending"
        elif tracker.status == "done":
            state = "approved" if tracker.data.get("approved") else "rejected"
        else:
            state = states.get(tracker.status, "waiting")
        instances.append({"username": username, "who": names.get(username, username), "state": state,
                          "opinion": (tracker.data.get("opinion") or "") if tracker else "",
                          "at": tracker.closed_at if tracker else None,
                          "row_id": tracker.task_row_id if tracker else None, "current": tracker is mine})
    rule, ratio = mine.data.get("rule"), mine.data.get("ratio")
    answers = [i["state"] == "approved" for i in instances if i["state"] in ("approved", "rejected")]
    return {"rule": rule, "ratio": ratio, "people": people, "instances": instances,
            "approved": sum(answers), "rejected": len(answers) - sum(answers),
            "needed": rule_of.needed(rule, len(people), ratio) if rule in rule_of.RULES else None,
            "outcome": rule_of.outcome(rule, answers, people, ratio) if rule in rule_of.RULES else None}


def is_instance(session, row: HumanTask) -> bool:
    """The row is one person's instance of a countersign task."""
    return row.kind == "task" and _tracking(session, row.case_id, row.task_id) is not None


def refuse_if_instance(session, row: HumanTask) -> None:
    """A countersign instance belongs to its named person: it is not put back to the group,
    reassigned or transferred (the person may still delegate it and take it back)."""
    if is_instance(session, row):
        raise CaseError(N_("会签任务属于指定的会签人，不能放回组任务、改派或转办"))
