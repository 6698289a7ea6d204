"""Loop shapes deploy refuses because the case's history could not be compacted (compaction.py).

- A parallel or inclusive gateway on a cycle of sequence flows. As a join, SpiffWorkflow decides
  whether it may fire (and which data it merges) from every earlier instance of it in the task
  tree, and from their parents: rounds that compaction dropped would change that decision. As a
  split, each round adds a branch that never finishes before the next round, so the unfinished
  work itself grows without end.
- An ad hoc subprocess: it reads its root's children as the set of activities it ran, so none of
  its history can be dropped.

A back-edge through exclusive or event-based gateways, tasks with boundary events, subprocesses,
standard loops and multi-instance activities is compacted, and allowed.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import AdHocSubprocessSpec
from SpiffWorkflow.bpmn.specs.mixins import InclusiveGatewayMixin, ParallelGatewayMixin

from ..messages import Message, N_
from .problems import Problem


def loop_problems(spec, subprocess_specs: dict, file: str) -> list[Problem]:
    problems = []
    for process_spec in [spec, *subprocess_specs.values()]:
        for cycle in _cycles(process_spec):
            names = {ts.name for ts in cycle}
            for ts in cycle:
                if isinstance(ts, (ParallelGatewayMixin, InclusiveGatewayMixin)):
                    kind = N_("并行网关") if isinstance(ts, ParallelGatewayMixin) else N_("包容网关")
                    problems.append(Problem(file, ts.bpmn_id or "", Message(
                        N_("%(kind)s位于循环回路上（经「%(back)s」回到此前的环节），引擎须保留每一轮的历史才能判断汇合，"
                           "案件状态将无限增长；请把循环改为标准循环或多实例活动，或把并行部分放进循环内的子流程"),
                        kind=Message(kind), back=_back_to(cycle, names))))
    for name, sub in subprocess_specs.items():
        if isinstance(sub, AdHocSubprocessSpec):
            owner = next((ts for p in [spec, *subprocess_specs.values()] for ts in p.task_specs.values()
                          if getattr(ts, "spec", None) == name), None)
            problems.append(Problem(file, getattr(owner, "bpmn_id", None) or name, N_(
                "自由子流程（ad hoc）保留其执行过的每个活动，案件状态无法压缩，不予部署；请改用带循环或包容分支的子流程")))
    return list(dict.fromkeys(problems))


def _back_to(cycle, names) -> str:
    """A drawn element on the cycle with an input from outside it: where the loop comes back to."""
    for ts in cycle:
        if getattr(ts, "bpmn_id", None) and any(i.name not in names for i in ts.inputs):
            return ts.bpmn_name or ts.bpmn_id
    drawn = [ts for ts in cycle if getattr(ts, "bpmn_id", None)]
    return (drawn[0].bpmn_name or drawn[0].bpmn_id) if drawn else cycle[0].name


def _cycles(process_spec) -> list[list]:
    """The strongly connected components of the task spec graph that hold a cycle (Tarjan,
    without recursion)."""
    specs = list(process_spec.task_specs.values())
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], [0]
    for root in specs:
        if root.name in index:
            continue
        work = [(root, iter(root.outputs))]
        index[root.name] = low[root.name] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root.name)
        while work:
            node, outputs = work[-1]
            advanced = False
            for child in outputs:
                if child.name not in index:
                    index[child.name] = low[child.name] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child.name)
                    work.append((child, iter(child.outputs)))
                    advanced = True
                    break
                if child.name in on_stack:
                    low[node.name] = min(low[node.name], index[child.name])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent.name] = min(low[parent.name], low[node.name])
            if low[node.name] == index[node.name]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member.name)
                    component.append(member)
                    if member is node:
                        break
                if len(component) > 1 or node in node.outputs:
                    result.append(component)
    return result
