"""Timers that read the clock they are given.

SpiffWorkflow's timer event definitions ask `datetime.now()` whether they are due. credflow's
timers must follow the unit of work's clock (tests and the demo move it; a worker fires what is due
by that clock), so the parser makes these subclasses instead, which ask the workflow's script
engine for its clock (`CredflowScriptEngine.clock`, the unit of work's), or the context's clock
(`workflows.clock.current_clock()`) when the engine has none. They keep SpiffWorkflow's class names
(what `waiting_events()` reports as the event type, and the serializer's type names).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.event_parsers import (SpiffBoundaryEventParser, SpiffIntermediateCatchEventParser,
                                                      SpiffStartEventParser)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from ..clock import current_clock


def engine_now(my_task) -> datetime:
    """Now, by the clock of the engine running `my_task` (UTC)."""
    clock = getattr(my_task.workflow.script_engine, "clock", None) or current_clock()
    return clock.now().astimezone(timezone.utc)


class TimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):
    def has_fired(self, my_task):
        internal = my_task.internal_data
        if internal.get("event_value") is None:
            internal["event_value"] = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        if TimerEventDefinition.parse_time_or_duration(internal["event_value"]) < engine_now(my_task):
            internal["event_fired"] = True
        return internal.get("event_fired", False)


class DurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):
    def has_fired(self, my_task):
        internal, now = my_task.internal_data, engine_now(my_task)
        if internal.get("event_value") is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = TimerEventDefinition.parse_iso_duration(expression)
            internal["event_value"] = (now + TimerEventDefinition.get_timedelta_from_start(parsed, now)).isoformat()
        if TimerEventDefinition.get_datetime(internal["event_value"]) < now:
            internal["event_fired"] = True
        return internal.get("event_fired", False)


class CycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):
    def cycle_complete(self, my_task):
        internal, now = my_task.internal_data, engine_now(my_task)
        event_value = internal.get("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _recurring_interval(expression, now)
            event_value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event < now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            internal["event_fired"] = True
        internal["event_value"] = event_value
        return ready


def _recurring_interval(expression: str, now: datetime):
    """SpiffWorkflow's `parse_iso_recurring_interval`, with "now" given rather than read."""
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        duration = TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(components[1]), now)
        return cycles, now + duration, duration
    return TimerEventDefinition.parse_iso_recurring_interval(expression)


CLOCKED = {spiff_timer.TimeDateEventDefinition: TimeDateEventDefinition,
           spiff_timer.DurationTimerEventDefinition: DurationTimerEventDefinition,
           spiff_timer.CycleTimerEventDefinition: CycleTimerEventDefinition}
CLOCKED_TIMER_CONVERTERS = {cls: TimerConditionalEventDefinitionConverter for cls in CLOCKED.values()}


class _ClockedTimerParsing:
    def parse_timer_event(self, event):
        definition = super().parse_timer_event(event)
        clocked = CLOCKED.get(type(definition))
        if clocked is None:
            return definition
        return clocked(definition.name, definition.expression, description=definition.description)


class _StartEventParser(_ClockedTimerParsing, SpiffStartEventParser):
    pass


class _BoundaryEventParser(_ClockedTimerParsing, SpiffBoundaryEventParser):
    pass


class _IntermediateCatchEventParser(_ClockedTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class CredflowBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser, making timers that follow the engine's clock."""
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (_IntermediateCatchEventParser, IntermediateCatchEvent),
    }
