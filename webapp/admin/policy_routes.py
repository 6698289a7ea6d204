"""Process managers: who may take which approval action (退回, 加签, 转办 ...) on each task of a
process, or on all its tasks at once; a cell left alone follows the default."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.approvals.policy import ACTION_TITLES, DEFAULTS, HOLDER, POLICY_ACTIONS, allowed_for, set_policy
from workflows.approvals.model import ApprovalPolicy
from workflows.definitions import latest_definition, specs_for

from ..context import db, unit_of_work
from .routes import bp

CHOICES = (HOLDER, "clerk", "reviewer", "leader")
ALL_TASKS = "*"


def _user_tasks(session, key: str) -> list:
    """The user tasks of the process's latest deployed version: bpmn_id, name, lane."""
    definition = latest_definition(session, key) or abort(404)
    parsed = specs_for(session, definition.id)
    found = {}
    for process_spec in [parsed.spec, *parsed.subprocess_specs.values()]:
        for ts in process_spec.task_specs.values():
            if getattr(ts, "manual", False) and ts.bpmn_id and ts.bpmn_id not in found:
                found[ts.bpmn_id] = SimpleNamespace(bpmn_id=ts.bpmn_id, name=ts.bpmn_name or ts.bpmn_id,
                                                    lane=getattr(ts, "lane", None))
    return list(found.values())


def _in_force(session, key: str, tasks) -> dict:
    """(task, action) -> the entry in force, for '*' and every task."""
    return {(task, action): sorted(allowed_for(session, key, task, action))
            for task in [ALL_TASKS, *(t.bpmn_id for t in tasks)] for action in POLICY_ACTIONS}


def _chosen() -> list[tuple[str, str, list[str]]]:
    """The cells the form showed, each with the boxes ticked (a cell's boxes share its name)."""
    cells = []
    for cell in request.form.getlist("cell"):
        task, _sep, action = cell.rpartition("|")
        cells.append((task, action, sorted(set(request.form.getlist(cell)) & set(CHOICES))))
    return cells


@bp.route("/processes/<key>/approval-policy", methods=["GET", "POST"])
def approval_policy(key):
    tasks = _user_tasks(db(), key)
    current = _in_force(db(), key, tasks)
    if request.method == "POST":
        changed = [(task, action, chosen) for task, action, chosen in _chosen()
                   if (task, action) in current and chosen != current[(task, action)]]
        changed.sort(key=lambda c: c[0] != ALL_TASKS)        # '*' first: the tasks' cells fall back to it
        with unit_of_work() as uow:
            for task, action, chosen in changed:
                fallback = DEFAULTS[action] if task == ALL_TASKS else allowed_for(uow.session, key, ALL_TASKS, action)
                set_policy(uow, key, task, action, None if chosen == sorted(fallback) else chosen)
            uow.commit()
        if changed:
            flash(_("已保存审批权限：%(n)s 处更改", n=len(changed)), "success")
        else:
            flash(_("审批权限没有更改"), "info")
        return redirect(url_for("admin.approval_policy", key=key))
    own = set(db().execute(select(ApprovalPolicy.task, ApprovalPolicy.action)
                           .where(ApprovalPolicy.process_key == key)).all())
    defaults = {(task, action): sorted(DEFAULTS[action]) if task == ALL_TASKS else current[(ALL_TASKS, action)]
                for task, action in current}
    return render_template("admin/approval_policy.html", key=key, tasks=tasks, actions=POLICY_ACTIONS,
                           titles=ACTION_TITLES, choices=CHOICES, current=current, own=own, defaults=defaults,
                           all_tasks=ALL_TASKS)
