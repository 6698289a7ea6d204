"""The script engine credflow runs every workflow with: sandboxed expressions and scripts, and
service tasks dispatched to the registered domain operations."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy.exc import InterfaceError, OperationalError
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask

from ..dates import add_months, as_date, end_of_day_cst
from ..sandbox import SandboxEnvironment
from .iso_timers import timer_literal


def sandbox_helpers(calendar, clock) -> dict:
    """The few safe functions scripts, conditions and timer expressions may call.
    `calendar` may be a callable returning the WorkdayCalendar, so it is loaded only when used."""
    if not callable(calendar):
        calendar_value = calendar
        calendar = lambda: calendar_value  # noqa: E731
    def add_workdays(day, count):
        return calendar().add_workdays(as_date(day), int(count)).isoformat()

    def workdays_between(start, end):
        return calendar().workdays_between(as_date(start), as_date(end))

    def months_after(day, months):
        return add_months(as_date(day), int(months)).isoformat()

    def today():
        return clock.today().isoformat()

    def is_workday(day):
        return calendar().is_workday(as_date(day))

    def workday_deadline(count, start=None):
        """End of the `count`-th working day after `start` (default today), as an ISO datetime in
        China Standard Time: what a timer's timeDate expression needs."""
        day = calendar().add_workdays(as_date(start) if start else clock.today(), int(count))
        return end_of_day_cst(day).isoformat()

    return {"add_workdays": add_workdays, "workdays_between": workdays_between, "add_months": months_after,
            "today": today, "is_workday": is_workday, "workday_deadline": workday_deadline}


def completing_activity(task, expression):
    """The multi-instance activity whose completionCondition `expression` is, evaluated for its
    instance `task` that just finished; else None. BPMN evaluates that condition on the activity,
    whose data holds every finished instance's output (loopDataOutputRef); SpiffWorkflow 3.2
    evaluates it on the finished instance, which sees only the data it started with and its own
    answer: a rule over all the answers (会签, workflows/approvals/countersign.py) needs the activity."""
    activity = getattr(task, "parent", None)   # (a page's preview evaluates on a stand-in without one)
    spec = getattr(activity, "task_spec", None)
    if isinstance(spec, MultiInstanceTask) and spec.condition == expression and spec.task_spec == task.task_spec.name:
        return activity
    return None


class CredflowScriptEngine(PythonScriptEngine):
    """`dispatch(task, operation_name, params)` runs a domain operation for a service task; `clock`
    is the clock the workflow's timers read."""

    def __init__(self, helpers: dict, dispatch, time_limit: float = 1.0, clock=None):
        super().__init__(environment=SandboxEnvironment(helpers=helpers, time_limit=time_limit))
        self.dispatch = dispatch
        self.clock = clock   # what timers read (engine/timers.py); None: the unit of work's context clock

    def evaluate(self, task, expression, external_context=None):
        # A timer written the BPMN way (PT5M, 2027-01-05T09:00:00+08:00, R3/PT1H) is its own value.
        literal = timer_literal(task, expression)
        if literal is not None:
            return literal
        activity = completing_activity(task, expression)
        if activity is not None:   # the instance's own data beneath the activity's
            return super().evaluate(activity, expression, {**task.data, **(external_context or {})})
        return super().evaluate(task, expression, external_context)

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        try:
            result = self.dispatch(task, operation_name, params)
        except (WorkflowTaskException, OperationalError, InterfaceError):
            raise   # the database went away: not the task's fault; the whole action is retried
        except Exception as exc:  # noqa: BLE001 -- every failure becomes the task's error
            # SpiffWorkflow 3.2's own handler here raises NameError; report the real cause.
            raise WorkflowTaskException(f"{operation_name}: {exc}", task=task, exception=exc) from exc
        return json.dumps(result, ensure_ascii=False,
                          default=lambda v: v.isoformat() if isinstance(v, date) else str(v))
