"""Checks on parsed task specs and decision tables: lanes are roles, user tasks have forms, service
tasks call known operations, every script, condition and DMN cell passes the sandbox, every timer
parses. Each problem names its file and element; none stops the others from being found."""
from __future__ import annotations

import re

from SpiffWorkflow.bpmn.specs.mixins import (ExclusiveGatewayMixin as ExclusiveGateway,
                                             InclusiveGatewayMixin as InclusiveGateway,
                                             ScriptTaskMixin as ScriptTask, UserTaskMixin as UserTask)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (MultiInstanceTask, SequentialMultiInstanceTask,
                                                                StandardLoopTask)
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from ..approvals import countersign_rule
from ..messages import Message, N_, message_of
from ..models import ROLES
from ..sandbox import SandboxError, check_expression, check_script
from .problems import Problem
from .iso_timers import SANDBOX_HINT, bare_iso, kind_of, timer_definitions, timer_problem

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueInWorkdays"
DUE_AT_PROPERTY = "dueAt"
DOSSIER_PROPERTY = "dossierFields"   # the earlier fields a task's dossier shows, comma-separated, in order
STAFF_LANES = set(ROLES) - {"manager"}

# What each checked piece of code is called (a parameter names the service parameter, the flow's
# target, the DMN rule)
WHAT = {"script": N_("脚本"), "preScript": N_("前置脚本（preScript）"), "postScript": N_("后置脚本（postScript）"),
        "parameter": N_("服务参数 '%(name)s'"), "condition": N_("通往 '%(target)s' 的连线条件"),
        "timer": N_("定时器表达式"), "payload": N_("事件数据表达式"), "loop": N_("循环条件"),
        "cardinality": N_("循环次数"), "completion": N_("完成条件"), DUE_AT_PROPERTY: N_("办理期限表达式（dueAt）"),
        "dmn_input": N_("决策表输入表达式"), "dmn_input_cell": N_("规则 '%(rule)s' 的决策表输入单元格"),
        "dmn_output_cell": N_("规则 '%(rule)s' 的决策表输出单元格")}


def refused_code(what: str, exc: Exception, hint: str = "", **params) -> Message:
    """Why the sandbox refused a piece of code (`what`: a key of WHAT, `params` its parameters)."""
    reason = Message(N_("%(what)s未通过沙箱检查：%(detail)s"), what=Message(WHAT[what], **params),
                     detail=message_of(exc))
    return Message(N_("%(error)s（%(hint)s）"), error=reason, hint=Message(hint)) if hint else reason


def check_task_spec(ts, bundle, operations: set[str], file: str) -> list[Problem]:
    problems = []
    element = ts.bpmn_id or ""
    if not element:
        return problems

    def add(reason):
        problems.append(Problem(file, element, reason, ts.bpmn_name or ""))

    def check(source, what, checker=check_expression, hint="", **params):
        try:
            checker(str(source))
        except SandboxError as exc:
            add(refused_code(what, exc, hint, **params))

    lane = getattr(ts, "lane", None)
    extensions = getattr(ts, "extensions", {}) or {}
    if isinstance(ts, UserTask):   # (a lane that is no role is reported on the lane itself, by the prescan)
        if lane is None:
            add(N_("用户任务不在任何泳道中，没有角色能办理"))
        elif lane not in STAFF_LANES:
            add(Message(N_("用户任务所在的泳道 '%(lane)s' 不是角色，没有人能办理（角色：%(roles)s）"), lane=lane,
                        roles=", ".join(sorted(STAFF_LANES))))
        form = extensions.get("properties", {}).get(FORM_PROPERTY)
        if not form:
            add(Message(N_("用户任务没有表单（属性 %(property)s）"), property=FORM_PROPERTY))
        elif form not in bundle.forms:
            add(Message(N_("表单文件 forms/%(key)s/%(form)s 不存在"), key=bundle.key, form=form))
        due = extensions.get("properties", {}).get(DUE_PROPERTY)
        if due is not None and not str(due).isdigit():
            add(Message(N_("%(property)s 须为整数个工作日"), property=DUE_PROPERTY))
        if extensions.get("properties", {}).get(DUE_AT_PROPERTY):
            check(extensions["properties"][DUE_AT_PROPERTY], DUE_AT_PROPERTY)
        if extensions.get("properties", {}).get(countersign_rule.PROPERTY):   # 会签
            for reason in countersign_rule.spec_problems(element, extensions["properties"], _loop_shape(ts),
                                                         bundle.forms.get(form) if form else None):
                add(reason)
    elif isinstance(ts, (NoneTask, ManualTask)) and lane is None:
        add(N_("任务等待有人办理（无类型的任务或人工任务），但不在任何泳道中，没有人能看到它：请把它放进角色的泳道，"
               "或改为服务任务或脚本任务"))
    for key in ("preScript", "postScript"):
        if extensions.get(key):
            check(extensions[key], key, check_script)
    if isinstance(ts, ScriptTask):
        check(ts.script, "script", check_script)
    if isinstance(ts, ServiceTask):
        if ts.operation_name not in operations:
            add(Message(N_("未知的服务操作 '%(operation)s'"), operation=ts.operation_name))
        for name, param in (ts.operation_params or {}).items():
            check(param.get("value", ""), "parameter", name=name)
    if isinstance(ts, (ExclusiveGateway, InclusiveGateway)):
        for condition, target in ts.cond_task_specs:
            if condition is not None:
                check(condition.args[0], "condition", target=target)
    if isinstance(ts, CatchingEvent):
        for timer in timer_definitions(ts):
            reason = timer_problem(kind_of(timer), timer.expression)
            if reason:
                add(reason)
            elif bare_iso(timer.expression) is None:   # not ISO text: a Python expression
                check(timer.expression, "timer", hint=SANDBOX_HINT)
    if isinstance(ts, ThrowingEvent) and isinstance(getattr(ts.event_definition, "expression", None), str):
        check(ts.event_definition.expression, "payload")
    if isinstance(ts, StandardLoopTask) and ts.condition:
        check(ts.condition, "loop")
    if isinstance(ts, MultiInstanceTask):
        if isinstance(ts.cardinality, str) and ts.cardinality:
            check(ts.cardinality, "cardinality")
        if ts.condition:
            check(ts.condition, "completion")
    return problems


def _loop_shape(ts) -> dict | None:
    """A user task's multi-instance settings as countersign_rule.bpmn_parts names them, or None."""
    activity = ts.inputs[0] if len(ts.inputs) == 1 else None
    if not isinstance(activity, MultiInstanceTask) or activity.task_spec != ts.name:
        return None
    name = lambda ref: getattr(ref, "bpmn_id", None)   # noqa: E731
    return {"sequential": isinstance(activity, SequentialMultiInstanceTask), "input": name(activity.data_input),
            "input_item": name(activity.input_item), "output": name(activity.data_output),
            "output_item": name(activity.output_item), "condition": activity.condition,
            "pre_script": getattr(activity, "prescript", None), "post_script": getattr(activity, "postscript", None)}


def decision_tables(ts):
    engine = getattr(ts, "dmnEngine", None)
    table = getattr(engine, "decision_table", None)
    return [table] if table is not None else []


def _dmn_file_of(table, bundle) -> str:
    for name, text in bundle.dmn_files.items():
        if f'id="{table.id}"' in text:
            return name
    return next(iter(bundle.dmn_files), "")


# How SpiffWorkflow's DMNEngine turns an input cell into an expression: `?` (outside quotes) is the
# input's value; otherwise `input == cell` when the cell parses alone, else `input cell` ("< 100").
_DMN_QUESTION_MARK = re.compile(r'(\?)(?=(?:[^\'"]|[\'"][^\'"]*[\'"])*$)')


def _check_input_cell(text: str) -> None:
    cell = _DMN_QUESTION_MARK.sub("dmninputexpr", text)
    if "dmninputexpr" in cell:
        check_expression(cell)
        return
    try:
        check_expression(f"(dmninputexpr) == ({cell})")
    except SandboxError as first:
        try:
            check_expression(f"dmninputexpr {cell}")
        except SandboxError:
            raise first from None


def check_decision_tables(ts, bundle, checked: set[str]) -> list[Problem]:
    """Every cell and input expression of the tables a business rule task calls, named by the DMN
    file and the cell's id (each table once, however many tasks call it)."""
    problems = []
    for table in decision_tables(ts):
        if table.id in checked:
            continue
        checked.add(table.id)
        file = _dmn_file_of(table, bundle)

        def check(element, source, what, checker=check_expression, **params):
            try:
                checker(str(source))
            except SandboxError as exc:
                problems.append(Problem(file, element, refused_code(what, exc, **params)))

        for column in table.inputs:
            if column.expression:
                check(column.id, column.expression, "dmn_input")
        for rule in table.rules:
            for entry in rule.inputEntries:
                for text in entry.lhs:
                    if text and text.strip() not in ("", "-"):
                        check(entry.id or rule.id, text, "dmn_input_cell", _check_input_cell, rule=rule.id)
            for entry in rule.outputEntries:
                if entry.text:
                    check(entry.id or rule.id, entry.text, "dmn_output_cell", rule=rule.id)
    return problems
