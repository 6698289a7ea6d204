"""Timers written the BPMN way: ISO 8601 durations, date-times and cycles, bare as Camunda Modeler
and bpmn.io write them (`PT5M`, `2026-06-03T09:00:00+08:00`, `R3/PT1H`), next to the working-day
helpers. Each kind deploys and fires when its moment has come, not before, with the clock moved
explicitly and the timer worker doing the firing; a timer that cannot be read is refused at deploy,
on its element."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workflows.cases import complete_task, start_case
from workflows.definitions import deploy_folder
from workflows.engine.problems import InvalidBundle
from workflows.models import Case, HumanTask, Notification
from workflows.worker import run_once

from in_english import english

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs_{key}" targetNamespace="http://credflow/test">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:laneSet id="lanes_{key}"><bpmn:lane id="lane_{key}" name="clerk">{refs}</bpmn:lane></bpmn:laneSet>
"""
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"
FORM = {"type": "object", "properties": {"note": {"type": "string"}}}


def user_task(task_id: str, name: str) -> str:
    return (f'<bpmn:userTask id="{task_id}" name="{name}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="check.json" />'
            f'</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def timer(kind: str, text: str) -> str:
    return (f'<bpmn:timerEventDefinition id="def_{kind}"><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{text}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition>')


def waiting_process(key: str, kind: str, text: str) -> str:
    """start -> timer (catch) -> user task `check` -> end"""
    nodes = ["start", "wait", "check", "end"]
    return (HEAD.format(key=key, refs="".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes))
            + '<bpmn:startEvent id="start" />'
            + f'<bpmn:intermediateCatchEvent id="wait" name="等待">{timer(kind, text)}</bpmn:intermediateCatchEvent>'
            + user_task("check", "核对") + '<bpmn:endEvent id="end" />'
            + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
            + '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="check" />'
            + '<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />' + TAIL)


def timer_start_process(key: str, text: str) -> str:
    """a timer start event (timeDate) -> user task `check` -> end"""
    return (HEAD.format(key=key, refs="<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>check"
                                      "</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef>")
            + f'<bpmn:startEvent id="start" name="到期开始">{timer("timeDate", text)}</bpmn:startEvent>'
            + user_task("check", "核对") + '<bpmn:endEvent id="end" />'
            + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />'
            + '<bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />' + TAIL)


def reminding_process(key: str, cycle: str) -> str:
    """a user task `work` with a non-interrupting cycle timer that notifies the clerks each time"""
    nodes = ["start", "work", "end", "remind", "notify_clerks", "reminded"]
    return (HEAD.format(key=key, refs="".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes))
            + '<bpmn:startEvent id="start" />' + user_task("work", "办理") + '<bpmn:endEvent id="end" />'
            + f'<bpmn:boundaryEvent id="remind" name="每小时提醒" cancelActivity="false" attachedToRef="work">'
            + timer("timeCycle", cycle) + '</bpmn:boundaryEvent>'
            + '<bpmn:serviceTask id="notify_clerks" name="提醒承办人"><bpmn:extensionElements>'
            + '<spiffworkflow:serviceTaskOperator id="notify"><spiffworkflow:parameters>'
            + '<spiffworkflow:parameter id="kind" type="str" value="\'overdue\'" />'
            + '<spiffworkflow:parameter id="lane" type="str" value="\'clerk\'" />'
            + '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>'
            + '<bpmn:endEvent id="reminded" />'
            + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
            + '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
            + '<bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="notify_clerks" />'
            + '<bpmn:sequenceFlow id="f4" sourceRef="notify_clerks" targetRef="reminded" />' + TAIL)


def deploy(world, tmp_path, diagrams: dict[str, str]):
    folder = tmp_path / "bpmn"
    folder.mkdir(exist_ok=True)
    for key, xml in diagrams.items():
        (folder / f"{key}.bpmn").write_text(xml, encoding="utf-8")
        (tmp_path / "forms" / key).mkdir(parents=True, exist_ok=True)
        (tmp_path / "forms" / key / "check.json").write_text(json.dumps(FORM), encoding="utf-8")
    with world.uow("manager") as uow:
        results = deploy_folder(uow, folder, tmp_path / "forms")
        uow.commit()
    return results


def open_tasks(world, case_id) -> list[str]:
    with world.factory() as session:
        return session.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id)).all()


def next_due(world, case_id):
    with world.factory() as session:
        return session.get(Case, case_id).next_due_at


def reminders(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "overdue"))


@pytest.mark.parametrize("kind, text, due_after", [
    ("timeDuration", "PT5M", timedelta(minutes=5)),
    ("timeDuration", "P3D", timedelta(days=3)),
    ("timeDuration", "P1DT2H", timedelta(days=1, hours=2)),
    ("timeDuration", '"PT5M"', timedelta(minutes=5)),                              # quoted: Python, as before
    ("timeDate", "2026-06-03T09:00:00+08:00", timedelta(days=2)),                  # the clock: 2026-06-01 09:00 CST
    ("timeDate", "2026-06-03T09:00:00", timedelta(days=2)),                        # no offset: China Standard Time
    ("timeDate", "2026-06-03T01:00:00Z", timedelta(days=2)),
    ("timeDate", "workday_deadline(1)", timedelta(days=1, hours=14, minutes=59, seconds=59)),  # end of 06-02
])
def test_a_timer_fires_at_its_moment_and_not_before(world, tmp_path, kind, text, due_after):
    deploy(world, tmp_path, {"waits": waiting_process("waits", kind, text)})
    started = world.clock.now()
    case = world.run(None, start_case, "waits")
    assert open_tasks(world, case.id) == []
    assert next_due(world, case.id) == started + due_after

    world.clock.at = started + due_after - timedelta(seconds=1)
    assert run_once(world.factory, world.clock) == {"fired": 0, "failed": 0}
    assert open_tasks(world, case.id) == []

    world.clock.at = started + due_after + timedelta(seconds=1)
    assert run_once(world.factory, world.clock) == {"fired": 1, "failed": 0}
    assert open_tasks(world, case.id) == ["check"]
    assert next_due(world, case.id) is None


def test_a_timer_start_event_starts_the_work_on_its_date(world, tmp_path):
    deploy(world, tmp_path, {"starts": timer_start_process("starts", "2026-06-05T09:00:00+08:00")})
    case = world.run(None, start_case, "starts")
    assert open_tasks(world, case.id) == []
    world.clock.advance(days=3)                       # 2026-06-04 09:00
    assert run_once(world.factory, world.clock)["fired"] == 0
    world.clock.advance(days=1, seconds=1)            # just past 2026-06-05 09:00
    assert run_once(world.factory, world.clock)["fired"] == 1
    assert open_tasks(world, case.id) == ["check"]


def test_a_cycle_reminds_the_clerks_each_hour_three_times_then_stops(world, tmp_path):
    deploy(world, tmp_path, {"reminds": reminding_process("reminds", "R3/PT1H")})
    case = world.run(None, start_case, "reminds")
    assert open_tasks(world, case.id) == ["work"] and reminders(world) == 0
    seen = []
    for _ in range(5):
        world.clock.advance(minutes=30)
        run_once(world.factory, world.clock)
        seen.append(reminders(world))
        world.clock.advance(minutes=31)
        run_once(world.factory, world.clock)
        seen.append(reminders(world))
    clerks = 2                                        # clerk and clerk2 are each told
    assert seen == [0, clerks, clerks, 2 * clerks, 2 * clerks, 3 * clerks, 3 * clerks, 3 * clerks,
                    3 * clerks, 3 * clerks]
    assert open_tasks(world, case.id) == ["work"]     # the reminders never took the task away
    world.run("clerk", complete_task, world.task(case.id, "work").id, {"note": "办结"})
    with world.factory() as session:
        assert session.get(Case, case.id).status == "completed"


@pytest.mark.parametrize("kind, text, says", [
    ("timeDuration", "PT5X", r"'PT5X' is not valid ISO 8601 text for a duration"),
    ("timeDuration", "2027-01-05T09:00:00+08:00", r"needs a duration .* is a date-time: write it in timeDate"),
    ("timeDate", "PT5M", r"needs a date-time .* is a duration: write it in timeDuration"),
    ("timeDate", "2027-13-45T09:00:00+08:00", r"not valid ISO 8601 text for a date-time"),
    ("timeCycle", "PT1H", r"needs a cycle .* is a duration"),
    ("timeCycle", "R3/PT0S", r"longer than zero"),
    ("timeDuration", '"five minutes"', r"'five minutes' is not ISO 8601 text for a duration"),
    ("timeDuration", "", r"timeDuration is empty"),
    ("timeDate", "open('/etc/passwd').read()", r"timer expression refused by the sandbox: .*open"),
])
def test_a_timer_that_cannot_be_read_is_refused_on_its_element(world, tmp_path, kind, text, says):
    with pytest.raises(InvalidBundle) as refused:
        deploy(world, tmp_path, {"waits": waiting_process("waits", kind, text)})
    [problem] = refused.value.problems
    assert (problem.file, problem.element, problem.name) == ("waits.bpmn", "wait", "等待")
    chinese, english_text = str(problem.reason), english(problem.reason)
    assert re.search(r"[\u4e00-\u9fff]", chinese) and not re.search(r"[\u4e00-\u9fff]", english_text)  # one language each
    assert re.search(says, english_text), english_text
