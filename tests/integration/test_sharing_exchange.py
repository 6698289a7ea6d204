"""Batch files out and acknowledgements in: an export -> ack round trip where one item is
rejected, retried, re-exported and acknowledged; bad ack files change nothing; the same ack twice
is harmless; the CLI both ways."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from workflows.cases import complete_task
from workflows.models import AuditEvent
from workflows.records import open_record
from workflows.sharing.access import SharingError
from workflows.sharing.exchange import ACK_FORMAT, CSV_COLUMNS, FORMAT, export_batch, import_ack
from workflows.sharing.model import SharingBatch, SharingItem
from workflows.sharing.service import retry_item

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}


def publish(world, capture, subject=0):
    record, case = world.run("clerk", open_record, world.subjects[subject], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    return record.id


def states(world, platform="provincial"):
    with world.factory() as session:
        return [(i.id, i.state, i.attempts, i.rejection_reason) for i in session.scalars(
            select(SharingItem).where(SharingItem.platform == platform).order_by(SharingItem.id))]


def ack(batch: str, *answers) -> bytes:
    items = [{"item_id": i, "result": r, **({"reason": why} if why else {})} for i, r, why in answers]
    return json.dumps({"format": ACK_FORMAT, "batch": batch, "items": items}).encode()   # \u escapes


def test_round_trip_with_a_rejected_item_retried(world, capture):
    publish(world, capture)
    publish(world, capture, subject=3)
    first = world.run("clerk", export_batch, "provincial", "json")
    document = json.loads(first.content)
    assert (document["format"], document["batch"], document["platform"], document["item_count"]) == (
        FORMAT, first.number, "provincial", 2)
    a, b = [i["item_id"] for i in document["items"]]
    assert document["items"][1]["subject_code_type"] == "居民身份证"
    assert [s[1] for s in states(world)] == ["sent", "sent"]
    assert [s[1] for s in states(world, "national")] == ["queued", "queued"]   # its own batches
    assert world.run("clerk", export_batch, "provincial", "json") is None      # nothing left to send

    result = world.run("clerk", import_ack, ack(first.number, (a, "accepted", None), (b, "rejected", "证件号码有误")))
    assert (result.accepted, result.rejected, result.unchanged) == (1, 1, 0)
    assert states(world) == [(a, "acknowledged", 1, None), (b, "rejected", 1, "证件号码有误")]
    again = world.run("clerk", import_ack, ack(first.number, (a, "accepted", None), (b, "rejected", "证件号码有误")))
    assert (again.accepted, again.rejected, again.unchanged) == (0, 0, 2)
    assert states(world)[1] == (b, "rejected", 1, "证件号码有误")

    world.run("leader", retry_item, b)
    assert states(world)[1][:3] == (b, "queued", 2)
    with pytest.raises(SharingError, match="未被退回"):       # a double submit: one effect
        world.run("leader", retry_item, b)
    second = world.run("clerk", export_batch, "provincial", "csv")
    rows = list(csv.DictReader(io.StringIO(second.content)))
    assert [(int(r["item_id"]), int(r["attempt"]), r["batch"]) for r in rows] == [(b, 2, second.number)]
    assert tuple(rows[0]) == CSV_COLUMNS
    # the first batch's ack imported once more (say, by a job retrying) changes nothing of the retry
    world.run("clerk", import_ack, ack(first.number, (a, "accepted", None), (b, "rejected", "证件号码有误")))
    assert states(world)[1][:2] == (b, "sent")
    csv_ack = f"batch,item_id,result,reason\r\n{second.number},{b},accepted,\r\n".encode("utf-8-sig")
    assert world.run("clerk", import_ack, csv_ack).accepted == 1
    assert states(world) == [(a, "acknowledged", 1, None), (b, "acknowledged", 2, None)]
    with world.factory() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("sharing.%"))).all()
    assert actions.count("sharing.exported") == 2 and actions.count("sharing.ack_imported") == 4
    assert "sharing.retried" in actions


@pytest.mark.parametrize("make, problem", [
    (lambda n, i: b"not json, not csv", "CSV"),
    (lambda n, i: b"{broken", "JSON"),
    (lambda n, i: json.dumps({"format": "other/1", "batch": n, "items": []}).encode(), "format"),
    (lambda n, i: ack("CF-provincial-20990101-999999", (i, "accepted", None)), "从未报送"),
    (lambda n, i: ack(n, (i + 1000, "accepted", None)), "不在批次"),
    (lambda n, i: ack(n, (i, "rejected", None)), "原因"),
    (lambda n, i: ack(n, (i, "maybe", None)), "accepted 或 rejected"),
    (lambda n, i: ack(n, (i, "accepted", None), (i, "accepted", None)), "重复"),
    (lambda n, i: "\ufeffbatch,item_id,result\r\n".encode() + f"{n},x{i},accepted\r\n".encode(), "数字"),
    (lambda n, i: b"\xff\xfe\x00bad", "UTF-8"),
    (lambda n, i: b'{"format": ' + b"[" * 100_000, "JSON"),                      # nested past the recursion limit
    (lambda n, i: b"batch,item_id,result\n" + b"x" * 200_000 + b",1,accepted\n", "CSV"),   # a field too long
    (lambda n, i: ack("\ud800", (i, "accepted", None)), "从未报送"),               # a lone surrogate
])
def test_a_bad_ack_file_changes_nothing(world, capture, make, problem):
    publish(world, capture)
    batch = world.run("clerk", export_batch, "provincial", "json")
    item_id = json.loads(batch.content)["items"][0]["item_id"]
    before = states(world)
    with pytest.raises(SharingError) as refused:
        world.run("clerk", import_ack, make(batch.number, item_id))
    assert problem in str(refused.value) + " ".join(str(p) for p in refused.value.problems)
    assert states(world) == before
    with world.factory() as session:
        assert session.get(SharingBatch, batch.id).ack_imported_at is None


def test_a_reason_is_kept_as_text_the_database_can_hold(world, capture):
    publish(world, capture)
    batch = world.run("clerk", export_batch, "provincial", "json")
    item_id = json.loads(batch.content)["items"][0]["item_id"]
    world.run("clerk", import_ack, ack(batch.number, (item_id, "rejected", "代码\x00有误\ud800")))
    assert states(world)[0][1:] == ("rejected", 1, "代码有误?")


def test_an_ack_contradicting_the_one_imported_is_refused(world, capture):
    publish(world, capture)
    batch = world.run("clerk", export_batch, "provincial", "json")
    item_id = json.loads(batch.content)["items"][0]["item_id"]
    world.run("clerk", import_ack, ack(batch.number, (item_id, "accepted", None)))
    with pytest.raises(SharingError) as refused:
        world.run("clerk", import_ack, ack(batch.number, (item_id, "rejected", "重复报送")))
    assert "accepted" in str(refused.value.problems[0])
    assert states(world)[0][1] == "acknowledged"


def test_only_the_office_may_export(world, capture):
    publish(world, capture)
    subject = world.actors["subject_a"]
    with pytest.raises(SharingError):
        world.run(subject, export_batch, "provincial", "json")
    with pytest.raises(SharingError, match="未知的报送平台"):
        world.run("clerk", export_batch, "municipal", "json")
    assert [s[1] for s in states(world)] == ["queued"]


def test_the_cli_exports_and_imports(world, capture, database_url, tmp_path, monkeypatch):
    from webapp.cli import main
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    empty = runner.invoke(main, ["sharing", "export", "--out", str(tmp_path / "none")])
    assert (empty.exit_code, empty.output) == (0, "")            # nothing to do
    publish(world, capture)
    out = runner.invoke(main, ["sharing", "export", "--platform", "national", "--format", "csv", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    path = tmp_path / out.output.strip().rsplit("/", 1)[-1]
    assert out.output.strip() == str(path.resolve()) and path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    (tmp_path / "ack.csv").write_text(f"batch,item_id,result,reason\n{rows[0]['batch']},{rows[0]['item_id']},"
                                      f"rejected,代码校验失败\n", "utf-8")
    done = runner.invoke(main, ["sharing", "import-ack", str(tmp_path / "ack.csv")])
    assert done.exit_code == 0 and "0 accepted, 1 rejected" in done.output
    assert states(world, "national")[0][1:] == ("rejected", 1, "代码校验失败")
    (tmp_path / "bad.json").write_text('{"format": "credflow-sharing-ack/1", "batch": "nope", "items": [{}]}')
    bad = runner.invoke(main, ["sharing", "import-ack", str(tmp_path / "bad.json")])
    assert bad.exit_code == 1 and "从未报送" in bad.output
    assert [s[1] for s in states(world)] == ["queued"]        # the provincial item: not exported, untouched
    both = runner.invoke(main, ["sharing", "export", "--out", str(tmp_path)])
    assert both.exit_code == 0 and both.output.count("CF-provincial-") == 1
