"""Reference diagrams of the kinds in the OMG BPMN Model Interchange test suite (A.1-C.9: tasks,
gateways, events, subprocesses, pools and lanes, data objects, larger mixed processes, and diagrams
drawn for Camunda and Flowable), in tests/data/miwg/. Each either deploys, and a case of each of its
processes starts and runs to its first wait, or is refused with every element credflow cannot run
listed, at once, each with its file, id, name and a reason in Chinese and English, and nothing
stored. Then `credflow deploy` itself on folders of them: the exit code and no traceback."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from workflows.cases import start_case
from workflows.definitions import deploy_folder
from workflows.engine.problems import InvalidBundle
from workflows.models import Case, HumanTask, ProcessDefinition

from in_english import english

MIWG = Path(__file__).resolve().parent.parent / "data" / "miwg"
CREDFLOW = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "credflow"
CST = timezone(timedelta(hours=8))

# file -> {process key: what its first case waits for: open tasks, or a timer due after this long (or at)}
DEPLOYS = {
    "A.1.0-tasks-in-sequence.bpmn": {"miwg_a1_0": ["a1_register"]},
    "A.2.0-gateways.bpmn": {"miwg_a2_0": ["a2_accept"]},
    "A.3.0-events.bpmn": {"miwg_a3_0": timedelta(minutes=5)},                      # PT5M, written bare
    "A.3.1-timer-start.bpmn": {"miwg_a3_1": datetime(2027, 1, 5, 9, 0, tzinfo=CST)},
    "A.4.0-subprocesses.bpmn": {"miwg_a4_0": ["a4_supplement"]},
    "A.4.1-loops.bpmn": {"miwg_a4_1": ["a41_collect"]},
    "B.1.0-pools-lanes-data.bpmn": {"miwg_b1_0": ["b1_register"]},                 # the party's pool is not executable
    "B.2.0-two-executable-pools.bpmn": {"miwg_b2_0_intake": ["b2_i_register"], "miwg_b2_0_review": ["b2_r_review"]},
    "C.8.0-credflow-mixed.bpmn": {"miwg_c8_0": ["c8_register"]},
}
# file -> the exact set of elements refused ("" = the file itself)
REFUSED = {
    "C.1.0-camunda-order.bpmn": {"Process_order", "Lane_sales", "Lane_approvers", "StartEvent_1", "Activity_check",
                                 "Activity_approve", "Event_remind", "Activity_ship", "Flow_big", "Flow_small"},
    "C.2.0-flowable-leave.bpmn": {"lane_employee", "lane_manager", "startLeave", "fillLeave", "approveLeave", "onCancel",
                                  "recordLeave", "sendMail", "approvedFlow", "rejectedFlow"},
    "C.3.0-call-signal-datastore.bpmn": {"c3_call_check", "c3_announce", "c3_wait_checked", "c3_all", "c3_registry_ref"},
    "C.4.0-transaction-compensation.bpmn": {"c4_payment", "c4_on_undo", "c4_when_paid", "c4_send", "c4_receive"},
    "C.5.0-empty-process.bpmn": {"miwg_c5_0"},
    "C.6.0-no-process.bpmn": {""},
    "C.7.0-not-executable.bpmn": {"miwg_c7_0"},
    "C.9.0-camunda-everything.bpmn": {"Process_claims", "Lane_experts", "Start_claim", "Task_register", "DataStoreRef_crm",
                                      "Task_lookup", "Task_score", "Task_assess", "Call_fraud", "Gateway_any", "Wait_noon",
                                      "Throw_stop", "Flow_e"},
}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"


def test_the_corpus_is_every_file_and_each_is_valid_bpmn_with_a_diagram():
    assert sorted(p.name for p in MIWG.glob("*.bpmn")) == sorted([*DEPLOYS, *REFUSED])
    from SpiffWorkflow.spiff.parser.process import VALIDATOR
    for path in MIWG.glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        VALIDATOR.validator.assertValid(root)
        drawn = set(root.xpath("//bpmndi:BPMNShape/@bpmnElement | //bpmndi:BPMNEdge/@bpmnElement",
                               namespaces={"bpmndi": DI}))
        nodes = set(root.xpath("//bpmn:process//*[@id][not(self::bpmn:laneSet) and not(ancestor-or-self::"
                               "bpmn:extensionElements) and not(self::bpmn:conditionExpression) and not(contains("
                               "local-name(), 'EventDefinition')) and not(self::bpmn:dataObject) and not(self::"
                               "bpmn:property) and not(self::bpmn:multiInstanceLoopCharacteristics) and not("
                               "self::bpmn:standardLoopCharacteristics)]/@id", namespaces={"bpmn": BPMN}))
        assert nodes <= drawn, f"{path.name}: not drawn: {sorted(nodes - drawn)}"


def one_file_folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "bpmn"
    folder.mkdir()
    shutil.copy(MIWG / name, folder / name)
    return folder


def open_tasks(world, case_id) -> list[str]:
    with world.factory() as session:
        return sorted(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == case_id)))


@pytest.mark.parametrize("name", sorted(DEPLOYS))
def test_each_diagram_credflow_can_run_deploys_and_its_case_runs_to_the_first_wait(world, tmp_path, name):
    with world.uow("manager") as uow:
        results = deploy_folder(uow, one_file_folder(tmp_path, name), MIWG / "forms")
        uow.commit()
    assert {r.key: (r.version, r.created) for r in results} == {key: (1, True) for key in DEPLOYS[name]}
    for key, first_wait in DEPLOYS[name].items():
        case = world.run(None, start_case, key)
        with world.factory() as session:
            stored = session.get(Case, case.id)
            assert stored.status == "running", stored.error
            due = stored.next_due_at
        if isinstance(first_wait, list):
            assert open_tasks(world, case.id) == first_wait
        else:
            assert open_tasks(world, case.id) == []
            expected = first_wait if isinstance(first_wait, datetime) else world.clock.now() + first_wait
            assert due == expected


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_diagram_credflow_cannot_run_is_refused_element_by_element_and_nothing_is_stored(world, tmp_path, name):
    with world.uow("manager") as uow:
        with pytest.raises(InvalidBundle) as refused:
            deploy_folder(uow, one_file_folder(tmp_path, name), MIWG / "forms")
    problems = refused.value.problems
    assert {p.element for p in problems} == REFUSED[name]
    root = etree.parse(str(MIWG / name)).getroot()
    names = {el.get("id"): " ".join((el.get("name") or "").split()) for el in root.iter() if el.get("id")}
    for p in problems:
        assert p.file == name
        assert p.name == names.get(p.element, ""), p      # the element's name as drawn
        chinese, english_text = str(p.reason), english(p.reason)    # the Chinese page's text, the English page's
        assert re.search(r"[\u4e00-\u9fff]", chinese) and re.search(r"[a-z]{3}", english_text) \
            and english_text != chinese and " / " not in chinese, (chinese, english_text)
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)
                              .where(ProcessDefinition.key.notin_(["record_lifecycle", "objection", "self_correction",
                                                                   "credit_repair", "accountability",
                                                                   "complaint", "commitment", "integrity_evaluation"]))) == 0


# ------------------------------------------------------------------ `credflow deploy PATH`

def credflow_deploy(database_url: str, folder: Path):
    env = {**{k: v for k, v in os.environ.items() if k.startswith(("CREDFLOW_", "PATH", "HOME", "LANG"))},
           "DATABASE_URL": database_url}
    return subprocess.run([str(CREDFLOW), "deploy", str(folder)], capture_output=True, text=True, env=env,
                          timeout=120)


def folder_of(tmp_path: Path, label: str, *names: str) -> Path:
    folder = tmp_path / label / "bpmn"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(MIWG / name, folder / name)
    shutil.copytree(MIWG / "forms", tmp_path / label / "forms")
    return folder


@pytest.mark.one_database
def test_credflow_deploy_exits_non_zero_listing_every_problem_whenever_nothing_deployed(world, tmp_path, database_url):
    cases = {
        "no process": (["C.6.0-no-process.bpmn"], 1),
        "data store": (["C.3.0-call-signal-datastore.bpmn"], 5),
        "data object and call activity beside a good file": (["B.1.0-pools-lanes-data.bpmn",
                                                               "C.3.0-call-signal-datastore.bpmn"], 5),
        "empty process": (["C.5.0-empty-process.bpmn"], 1),
        "not executable": (["C.7.0-not-executable.bpmn"], 1),
        "camunda": (["C.9.0-camunda-everything.bpmn"], 19),
        "no .bpmn at all": ([], 1),
    }
    for label, (names, count) in cases.items():
        result = credflow_deploy(database_url, folder_of(tmp_path, re.sub(r"\W+", "_", label), *names))
        shown = result.stdout + result.stderr
        assert result.returncode == 1, f"{label}: exit {result.returncode}\n{shown}"
        assert "Traceback" not in shown, f"{label}:\n{shown}"
        refused = [line for line in result.stderr.splitlines() if line.startswith("refused: ")]
        assert len(refused) == count, f"{label}:\n{result.stderr}"
        assert "未部署任何流程" in result.stderr and "nothing deployed" not in result.stderr   # Chinese only
    with world.factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)
                              .where(ProcessDefinition.key.like("miwg%"))) == 0

    # the same folder with only what credflow runs: deployed, exit 0
    good = credflow_deploy(database_url, folder_of(tmp_path, "good", "B.1.0-pools-lanes-data.bpmn",
                                                   "B.2.0-two-executable-pools.bpmn"))
    assert good.returncode == 0, good.stderr
    assert sorted(good.stdout.split("\n")[:-1]) == ["miwg_b1_0: version 1", "miwg_b2_0_intake: version 1",
                                                    "miwg_b2_0_review: version 1"]


def test_credflow_deploy_without_a_database_says_so_in_one_line(tmp_path):
    result = credflow_deploy(f"sqlite:///{tmp_path}/missing/dir/credflow.sqlite3",
                             folder_of(tmp_path, "good", "A.1.0-tasks-in-sequence.bpmn"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "未部署任何流程" in result.stderr
