"""BPMN timers as the standard writes them, next to credflow's Python expressions.

A timer's timeDuration, timeDate or timeCycle may hold an ISO 8601 text written bare, as Camunda
Modeler, bpmn.io and the BPMN specification write it:

    timeDuration  PT5M, P3D, P1DT2H, P2W
    timeDate      2027-01-05T09:00:00+08:00, 2027-01-05 (a date or time without offset is China
                  Standard Time, never the server's own zone)
    timeCycle     R3/PT1H, R/P1D, R2/2027-01-05T09:00:00+08:00/P1D

or a Python expression over the case's data giving such a text (`workday_deadline(5)`,
`publication["min_end_at"]`, `"PT5M"`). A bare ISO text is recognised before anything is evaluated
as Python (`2027-11-05` would otherwise be the number 2011), and only in a timer.

`timer_problem` is what deploy asks of every timer; `timer_literal` is what the script engine
asks before evaluating one.
"""
from __future__ import annotations

import ast
import re
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition, DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)

from ..clock import CST
from ..messages import Joined, Message, N_, message_of

DURATION, DATE, CYCLE = "duration", "date", "cycle"
KINDS = {TimeDateEventDefinition: DATE, DurationTimerEventDefinition: DURATION, CycleTimerEventDefinition: CYCLE}
ELEMENT_OF_KIND = {DURATION: "timeDuration", DATE: "timeDate", CYCLE: "timeCycle"}
EXAMPLES = {DURATION: ("PT5M", "P3D", "P1DT2H"), DATE: ("2027-01-05T09:00:00+08:00",), CYCLE: ("R3/PT1H", "R/P1D")}
KIND_WORDS = {DURATION: N_("时长值"), DATE: N_("日期时间值"), CYCLE: N_("周期值")}

_DURATION = re.compile(r"P(?=\d|T\d)[0-9A-Z.,]*", re.I)   # P3D, PT5M; also P3X, refused later
_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:[T ][\d:.,]+(?:Z|[+-]\d\d(?::?\d\d)?)?)?", re.I)
_CYCLE = re.compile(r"R\d*/[^/\s]+(?:/[^/\s]+)?", re.I)


def kind_of(definition) -> str | None:
    """duration, date or cycle for a SpiffWorkflow timer event definition (None otherwise)."""
    return next((kind for cls, kind in KINDS.items() if isinstance(definition, cls)), None)


def bare_iso(expression) -> str | None:
    """The text if `expression` is a bare ISO 8601 duration, date(-time) or cycle, else None."""
    text = (expression or "").strip() if isinstance(expression, str) else ""
    if any(p.fullmatch(text) for p in (_DURATION, _DATE, _CYCLE)):
        return text
    return None


def _in_cst(text: str) -> str:
    """A date or date-time without a UTC offset, read as China Standard Time."""
    moment = datetime.fromisoformat(text.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CST)
    return moment.isoformat()


def normalised(text: str) -> str:
    """The ISO text SpiffWorkflow's timers read: durations upper-cased, dates given an offset."""
    text = text.strip()
    if _DURATION.fullmatch(text):
        return text.upper()
    if _DATE.fullmatch(text):
        return _in_cst(text)
    parts = text.upper().split("/")
    return "/".join(_in_cst(p) if _DATE.fullmatch(p) else p for p in parts)


def timer_definitions(task_spec) -> list:
    definition = getattr(task_spec, "event_definition", None)
    nested = getattr(definition, "event_definitions", None) or []
    return [d for d in [definition, *nested] if isinstance(d, TimerEventDefinition)]


def timer_literal(task, expression) -> str | None:
    """The ISO text to use instead of evaluating `expression`, when it is a bare ISO literal
    written in one of this task's timers; None means: evaluate it as Python."""
    text = bare_iso(expression)
    if text is None or not any(d.expression == expression for d in timer_definitions(task.task_spec)):
        return None
    return normalised(text)


def _python_string(expression: str) -> str | None:
    """`"PT5M"` written quoted: a Python string literal is also read at deploy time."""
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _kind_of_text(text: str) -> str | None:
    return DURATION if _DURATION.fullmatch(text) else DATE if _DATE.fullmatch(text) \
        else CYCLE if _CYCLE.fullmatch(text) else None


def _parse(kind: str, text: str) -> None:
    """Raise ValueError when `text` is not a valid ISO 8601 text of this kind."""
    try:
        if kind == DURATION:
            parsed = TimerEventDefinition.parse_iso_duration(text)
            if not any(parsed.values()):
                raise ValueError(Message(N_("时长为零")))
        elif kind == DATE:
            TimerEventDefinition.get_datetime(text)
        else:
            cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
            if duration <= timedelta(0):
                raise ValueError(Message(N_("周期的间隔须大于零")))
            if cycles == 0:
                raise ValueError(Message(N_("重复次数为 0（R0），什么也不会重复")))
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 -- SpiffWorkflow's parsers raise bare Exception, AttributeError ...
        raise ValueError(str(exc) or type(exc).__name__) from None


def _words(kind: str) -> dict:
    return {"element": ELEMENT_OF_KIND[kind], "kind": Message(KIND_WORDS[kind]), "examples": Joined(EXAMPLES[kind])}


def timer_problem(kind: str, expression) -> Message | None:
    """Why this timer cannot run, or None. Only ISO texts (bare or quoted) are judged here; any
    other expression is Python, checked by the sandbox and evaluated at run time."""
    if expression is None or not str(expression).strip():
        return Message(N_("定时器的 %(element)s 为空：请填写%(kind)s（如 %(examples)s）或给出%(kind)s的表达式"),
                       **_words(kind))
    text = bare_iso(expression) or _python_string(str(expression))
    if text is None:
        return None
    written = _kind_of_text(text.strip())
    if written is None:
        return Message(N_("定时器的时间 '%(text)s' 不是 ISO 8601 格式的%(kind)s（如 %(examples)s）"), text=text,
                       **_words(kind))
    if written != kind:
        return Message(N_("定时器的 %(element)s 需要%(kind)s（如 %(examples)s），'%(text)s' 是%(written)s：请写在 "
                          "%(written_element)s 中"), text=text, written=Message(KIND_WORDS[written]),
                       written_element=ELEMENT_OF_KIND[written], **_words(kind))
    try:
        _parse(kind, normalised(text))
    except ValueError as exc:
        detail = exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)
        return Message(N_("定时器的 %(element)s '%(text)s' 不是有效的 ISO 8601 %(kind)s：%(detail)s"), text=text,
                       detail=detail, **_words(kind))
    return None


SANDBOX_HINT = N_("定时器可写 ISO 8601 时间（如 PT5M、P3D、2027-01-05T09:00:00+08:00、R3/PT1H）或 Python 表达式")


def check_timer_source(element: str, source: str) -> Message | None:
    """What the editor's live check says of a timer as it is typed (`element`: timeDate,
    timeDuration or timeCycle): None when deploy would accept it, else why not."""
    from ..sandbox import SandboxError, check_expression
    kind = {v: k for k, v in ELEMENT_OF_KIND.items()}[element]
    reason = timer_problem(kind, source)
    if reason or bare_iso(source) is not None:
        return reason
    try:
        check_expression(source)
    except SandboxError as exc:
        return Message(N_("%(error)s（%(hint)s）"), error=message_of(exc), hint=Message(SANDBOX_HINT))
    return None
