"""会签 countersign, the pure part (standard library only, so deploy validation can use it): the user
task properties that mark a countersign, the rule's outcome over the answers, the BPMN the editor
writes for it, and what deploy refuses.

A countersign user task `<id>` (see countersign.py for how it runs) carries
- properties `countersign` = all (会签) | any (或签) | sequential (依次审批) | ratio (比例),
  `countersignRatio` (ratio only: 0.6, 2/3 or 60%), `countersigners` (comma-separated usernames
  and/or `role:<code>`: every active holder of the role); its form has the answer field
  `<id>_decision` ("approve" agrees, anything else disagrees; the editor makes this form from its
  new-form template, whose `decision` it renames) and the text field `opinion`;
- a preScript that fixes the people when the task starts: `<id>_signers = countersigners("...")`
  and `<id>_answers = []`;
- multiInstanceLoopCharacteristics (isSequential for `sequential`): one instance per person
  (loopDataInputRef `<id>_signers`, inputDataItem `<id>_signer`), each instance's answer collected
  in `<id>_answers` (loopDataOutputRef; outputDataItem `<id>_decision`: an element id, so unique in
  the file, which is why the answer field is named after the task), and the completionCondition
  `countersign_finished(rule, <id>_answers, <id>_signers[, ratio])`;
- a postScript leaving the outcome for a gateway after it: `<id>_passed = countersign_passed(...)`.
After the task the data holds `<id>_signers` (usernames, in order), `<id>_answers` (each answer, in
the order given) and `<id>_passed` (a boolean); each person's opinion with their name is an
ApprovalAction (opinions.py, listed on the task and case pages).
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

from ..messages import Message, N_

PROPERTY = "countersign"
RATIO_PROPERTY = "countersignRatio"
SIGNERS_PROPERTY = "countersigners"
APPROVE = "approve"
OPINION_FIELD = "opinion"
RULES = ("all", "any", "sequential", "ratio")
ROLE_PREFIX = "role:"
SIGNER_ROLES = ("clerk", "reviewer", "leader")
_SPLIT = re.compile(r"[,，;；、\s]+")
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,80}$")


def variables(task_id: str) -> dict[str, str]:
    """The names a countersign task `task_id` uses in the case data."""
    return {"signers": f"{task_id}_signers", "signer": f"{task_id}_signer", "answers": f"{task_id}_answers",
            "decision": f"{task_id}_decision", "passed": f"{task_id}_passed"}


def signer_entries(text) -> list[str]:
    """`countersigners` as a list: usernames and `role:<code>`, in order, each once."""
    return list(dict.fromkeys(e.strip() for e in _SPLIT.split(str(text or "")) if e.strip()))


def parse_ratio(value) -> Fraction | None:
    """0.6, 2/3 or 60% as a fraction in (0, 1]; None when it is none of these."""
    text = str(value or "").strip()
    try:
        ratio = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    return ratio if 0 < ratio <= 1 else None


def needed(rule: str, total: int, ratio=None) -> int:
    """How many approvals pass the countersign of `total` people."""
    if rule == "any":
        return min(1, total)
    if rule == "ratio":
        fraction = parse_ratio(ratio)
        if fraction is None:
            raise ValueError(f"countersign ratio {ratio!r}: give a number in (0, 1], e.g. 0.6 or 2/3")
        return max(1, math.ceil(fraction * total))
    if rule in ("all", "sequential"):
        return total
    raise ValueError(f"unknown countersign rule {rule!r} (all, any, sequential, ratio)")


def agrees(answer) -> bool:
    """An answer that approves: True or "approve"."""
    return answer is True or answer == APPROVE


def outcome(rule: str, answers, signers, ratio=None) -> bool | None:
    """True once the approvals reach what the rule needs, False once they no longer can, None
    while undecided. `answers`: each instance's answer so far."""
    answers = list(answers or [])
    total = len(signers) if not isinstance(signers, int) else signers
    need = needed(rule, total, ratio)
    yes = sum(1 for a in answers if agrees(a))
    no = len(answers) - yes
    if yes >= need:
        return True
    if no > total - need:
        return False
    return None


def finished(rule, answers, signers, ratio=None) -> bool:
    """The completionCondition: the rule is decided (the instances still open are cancelled)."""
    return outcome(rule, answers, signers, ratio) is not None


def passed(rule, answers, signers, ratio=None) -> bool:
    return outcome(rule, answers, signers, ratio) is True


def _call(name: str, rule: str, ratio, names: dict) -> str:
    ratio_arg = f', "{ratio}"' if rule == "ratio" else ""
    return f'{name}("{rule}", {names["answers"]}, {names["signers"]}{ratio_arg})'


def bpmn_parts(task_id: str, rule: str, signers: str, ratio=None) -> dict:
    """What a countersign task's BPMN holds besides its properties (what the editor writes, and
    what deploy checks a task written by hand against)."""
    names = variables(task_id)
    people = ",".join(signer_entries(signers))
    return {
        "sequential": rule == "sequential",
        "input": names["signers"], "input_item": names["signer"],
        "output": names["answers"], "output_item": names["decision"],
        "pre_script": f'{names["signers"]} = countersigners("{people}")\n{names["answers"]} = []',
        "condition": _call("countersign_finished", rule, ratio, names),
        "post_script": f'{names["passed"]} = {_call("countersign_passed", rule, ratio, names)}',
    }


def property_problems(props: dict) -> list[Message]:
    """What is wrong with a countersign task's properties (none: it may be deployed)."""
    rule = str(props.get(PROPERTY) or "").strip()
    if rule not in RULES:
        return [Message(N_("会签规则 %(property)s 须为 all（会签）、any（或签）、sequential（依次审批）或 ratio（比例）之一，"
                           "而不是 '%(rule)s'"), property=PROPERTY, rule=rule)]
    problems = []
    if rule == "ratio" and parse_ratio(props.get(RATIO_PROPERTY)) is None:
        problems.append(Message(N_("比例会签须有 0 到 1 之间的通过比例（%(property)s，如 0.6 或 2/3），而不是 '%(ratio)s'"),
                                property=RATIO_PROPERTY, ratio=str(props.get(RATIO_PROPERTY) or "")))
    entries = signer_entries(props.get(SIGNERS_PROPERTY))
    if not entries:
        problems.append(Message(N_("会签任务没有会签人（%(property)s：用户名或 role:角色，以逗号分隔）"),
                                property=SIGNERS_PROPERTY))
    for entry in entries:
        if entry.startswith(ROLE_PREFIX):
            if entry[len(ROLE_PREFIX):] not in SIGNER_ROLES:
                problems.append(Message(N_("会签人 '%(entry)s' 不是可办理任务的角色（%(roles)s）"), entry=entry,
                                        roles=", ".join(ROLE_PREFIX + r for r in SIGNER_ROLES)))
        elif not _USERNAME.match(entry) or '"' in entry:
            problems.append(Message(N_("会签人 '%(entry)s' 不是有效的用户名"), entry=entry))
    return problems


def form_problems(schema, task_id: str) -> list[Message]:
    """A countersign task's form must have its answer field and the opinion field."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    props = props if isinstance(props, dict) else {}
    field = variables(task_id)["decision"]
    missing = [name for name in (field, OPINION_FIELD) if name not in props]
    if not missing:
        return []
    return [Message(N_("会签任务的表单缺少字段 %(fields)s（意见字段 %(answer)s：approve 为同意，其他为不同意；"
                       "以及文字意见 %(opinion)s）"), fields=", ".join(missing), answer=field,
                    opinion=OPINION_FIELD)]


PARTS = {"sequential": N_("多实例方式（isSequential）"), "input": N_("输入集合（loopDataInputRef）"),
         "input_item": N_("输入元素（inputDataItem）"), "output": N_("输出集合（loopDataOutputRef）"),
         "output_item": N_("输出元素（outputDataItem）"), "condition": N_("完成条件（completionCondition）"),
         "pre_script": N_("前置脚本（preScript）"), "post_script": N_("后置脚本（postScript）")}


def _lines(text) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def spec_problems(task_id: str, props: dict, shape: dict | None, form) -> list[Message]:
    """Everything deploy refuses about a countersign task: its properties, its form, and its
    multi-instance `shape` (None: not a multi-instance task; else the values bpmn_parts names, as
    parsed) held against what its properties make the editor write."""
    problems = property_problems(props)
    if form is not None:
        problems += form_problems(form, task_id)
    if problems:
        return problems
    if shape is None:
        return [Message(N_("会签任务须为多实例任务（multiInstanceLoopCharacteristics），每位会签人一个实例；"
                           "请在编辑器中重新选择会签规则"))]
    expected = bpmn_parts(task_id, props[PROPERTY], props[SIGNERS_PROPERTY], props.get(RATIO_PROPERTY))
    for part, want in expected.items():
        have = shape.get(part)
        if part in ("pre_script", "post_script"):
            fits = all(line in _lines(have) for line in _lines(want))
        elif part == "condition":
            fits = " ".join(str(have or "").split()) == " ".join(want.split())
        else:
            fits = have == want
        if not fits:
            problems.append(Message(N_("会签任务的%(part)s与会签设置不符，应为：%(expected)s"), part=Message(PARTS[part]),
                                    expected=str(want).lower() if isinstance(want, bool) else want))
    return problems
