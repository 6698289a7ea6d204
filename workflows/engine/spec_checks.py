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
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from ..models import ROLES
from ..sandbox import SandboxError, check_expression, check_script
from .problems import Problem
from .iso_timers import SANDBOX_HINT, bare_iso, kind_of, timer_definitions, timer_problem

FORM_PROPERTY = "formJsonSchemaFilename"
DUE_PROPERTY = "dueInWorkdays"
DUE_AT_PROPERTY = "dueAt"
DOSSIER_PROPERTY = "dossierFields"   # the earlier fields a task's dossier shows, comma-separated, in order
STAFF_LANES = set(ROLES) - {"manager"}

# What each checked piece of code is called, in Chinese, for the "中文 / English" reason.
_WHAT_ZH = [("script", "脚本"), ("preScript", "前置脚本"), ("postScript", "后置脚本"), ("parameter", "服务参数"),
            ("condition towards", "连线条件"), ("timer expression", "定时器表达式"),
            ("event payload expression", "事件数据表达式"), ("loop condition", "循环条件"),
            ("loop cardinality", "循环次数"), ("completion condition", "完成条件"), (DUE_AT_PROPERTY, "办理期限表达式"),
            ("DMN input expression", "决策表输入表达式"), ("DMN input cell", "决策表输入单元格"),
            ("DMN output cell", "决策表输出单元格")]


def refused_code(what: str, exc: Exception) -> str:
    zh = next((z for prefix, z in _WHAT_ZH if what.startswith(prefix)), "表达式")
    return f"{zh}未通过沙箱检查 / {what}: {exc}"


def check_task_spec(ts, bundle, operations: set[str], file: str) -> list[Problem]:
    problems = []
    element = ts.bpmn_id or ""
    if not element:
        return problems

    def add(reason):
        problems.append(Problem(file, element, reason, ts.bpmn_name or ""))

    def check(source, what, checker=check_expression, hint=""):
        try:
            checker(str(source))
        except SandboxError as exc:
            add(refused_code(what, exc) + (f" ({hint})" if hint else ""))

    lane = getattr(ts, "lane", None)
    extensions = getattr(ts, "extensions", {}) or {}
    if isinstance(ts, UserTask):   # (a lane that is no role is reported on the lane itself, by the prescan)
        if lane is None:
            add("用户任务不在任何泳道中，没有角色能办理 / user task is in no lane, so no role can work it")
        elif lane not in STAFF_LANES:
            add(f"用户任务所在的泳道 '{lane}' 不是角色，没有人能办理 / lane '{lane}' is not a role, so no one can "
                f"work this user task (roles: {', '.join(sorted(STAFF_LANES))})")
        form = extensions.get("properties", {}).get(FORM_PROPERTY)
        if not form:
            add(f"用户任务没有表单 / user task has no form (property {FORM_PROPERTY})")
        elif form not in bundle.forms:
            add(f"表单文件不存在 / form forms/{bundle.key}/{form} does not exist")
        due = extensions.get("properties", {}).get(DUE_PROPERTY)
        if due is not None and not str(due).isdigit():
            add(f"办理期限须为整数个工作日 / {DUE_PROPERTY} must be a whole number of working days")
        if extensions.get("properties", {}).get(DUE_AT_PROPERTY):
            check(extensions["properties"][DUE_AT_PROPERTY], DUE_AT_PROPERTY)
    elif isinstance(ts, (NoneTask, ManualTask)) and lane is None:
        add("任务等待有人办理，但不在任何泳道中，没有人能看到它 / this task waits for a person (a task without a type, "
            "or a manual task) but is in no lane, so no one sees it: put it in a role's lane, or make it a service "
            "or script task")
    for key in ("preScript", "postScript"):
        if extensions.get(key):
            check(extensions[key], key, check_script)
    if isinstance(ts, ScriptTask):
        check(ts.script, "script", check_script)
    if isinstance(ts, ServiceTask):
        if ts.operation_name not in operations:
            add(f"未知的服务操作 / unknown service operation '{ts.operation_name}'")
        for name, param in (ts.operation_params or {}).items():
            check(param.get("value", ""), f"parameter '{name}'")
    if isinstance(ts, (ExclusiveGateway, InclusiveGateway)):
        for condition, target in ts.cond_task_specs:
            if condition is not None:
                check(condition.args[0], f"condition towards '{target}'")
    if isinstance(ts, CatchingEvent):
        for timer in timer_definitions(ts):
            reason = timer_problem(kind_of(timer), timer.expression)
            if reason:
                add(reason)
            elif bare_iso(timer.expression) is None:   # not ISO text: a Python expression
                check(timer.expression, "timer expression", hint=SANDBOX_HINT)
    if isinstance(ts, ThrowingEvent) and isinstance(getattr(ts.event_definition, "expression", None), str):
        check(ts.event_definition.expression, "event payload expression")
    if isinstance(ts, StandardLoopTask) and ts.condition:
        check(ts.condition, "loop condition")
    if isinstance(ts, MultiInstanceTask):
        if isinstance(ts.cardinality, str) and ts.cardinality:
            check(ts.cardinality, "loop cardinality")
        if ts.condition:
            check(ts.condition, "completion condition")
    return problems


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

        def check(element, source, what, checker=check_expression):
            try:
                checker(str(source))
            except SandboxError as exc:
                problems.append(Problem(file, element, refused_code(what, exc)))

        for column in table.inputs:
            if column.expression:
                check(column.id, column.expression, "DMN input expression")
        for rule in table.rules:
            for entry in rule.inputEntries:
                for text in entry.lhs:
                    if text and text.strip() not in ("", "-"):
                        check(entry.id or rule.id, text, f"DMN input cell of rule '{rule.id}'", _check_input_cell)
            for entry in rule.outputEntries:
                if entry.text:
                    check(entry.id or rule.id, entry.text, f"DMN output cell of rule '{rule.id}'")
    return problems
