"""The audit chain anchored outside its own table (issue 15, finding 7).

Deleting the last events and moving `audit_head` back used to leave `verify-audit` saying intact.
Now every decision document carries the audit head it was issued at (on its row and in its signed
PDF), the worker signs a checkpoint of the head once a day, and `credflow verify-audit` checks the
chain against both, and against PDFs and exported checkpoint files given to it."""
from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

import workflows.audit_checkpoints as checkpoints
from workflows.audit import GENESIS, committed_head, event_hash, verify_chain
from workflows.audit_anchors import pdf_anchor
from workflows.audit_checkpoints import AuditCheckpoint, make_checkpoint
from workflows.cases import complete_task
from workflows.models import AuditEvent, Document
from workflows.records import open_record
from workflows.settings import Settings
from workflows.worker import run_once

APPROVE = {"review_decision": "approve", "review_opinion": "事实清楚。"}
LEADER_OK = {"leader_decision": "approve", "leader_opinion": "同意。"}
HAS_POPPLER = all(shutil.which(t) for t in ("pdfsig", "pdftotext"))


@pytest.fixture(autouse=True)
def _instance(monkeypatch, tmp_path):
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(tmp_path / "instance"))
    for name in ("CREDFLOW_SIGNING_KEY", "CREDFLOW_SIGNING_CERT", "CREDFLOW_SETTINGS", "CREDFLOW_AUDIT_CHECKPOINT_DIR"):
        monkeypatch.delenv(name, raising=False)


def verify_audit(database_url, *args, env=None):
    """`credflow verify-audit` as an operator runs it; returns (exit code, stdout, stderr)."""
    from webapp.cli import main
    result = CliRunner().invoke(main, ["verify-audit", *args], env={"DATABASE_URL": database_url, **(env or {})})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def some_events(world, capture, n=2):
    for i in range(n):
        world.run("clerk", open_record, world.subjects[i % 3], capture)


def publish(world, capture) -> Document:
    """A record through review and approval: the leader's step issues the sanction decision."""
    record, case = world.run("clerk", open_record, world.subjects[0], capture)
    world.run("reviewer", complete_task, world.task(case.id, "legality_review").id, APPROVE)
    with world.factory() as session:
        head_before = committed_head(session)
    world.run("leader", complete_task, world.task(case.id, "leader_approval").id, LEADER_OK)
    with world.factory() as session:
        document = session.scalars(select(Document).where(Document.case_id == case.id,
                                                          Document.kind == "sanction")).one()
    assert (document.anchor_event_id, document.anchor_hash) == head_before
    return document


def truncate_after(world, event_id: int) -> None:
    """What an insider with the database can do: delete the newest events and move the head back."""
    with world.factory() as session:
        kept = session.get(AuditEvent, event_id).hash
        session.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": event_id})
        session.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": kept})
        session.commit()
        assert verify_chain(session).ok   # the chain alone cannot tell: that was the finding


def the_checkpoints(world):
    with world.factory() as session:
        return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()


def test_truncating_the_chain_and_moving_the_head_back_fails_naming_the_checkpoint(world, capture, database_url):
    some_events(world, capture)
    run_once(world.factory, world.clock)   # the worker signs today's checkpoint
    [daily] = the_checkpoints(world)
    some_events(world, capture)
    assert verify_audit(database_url)[0] == 0
    truncate_after(world, daily.last_event_id - 2)
    code, _, err = verify_audit(database_url)
    assert code == 1
    assert f"checkpoint #{daily.id} (daily, 2026-06-01)" in err
    assert f"event #{daily.last_event_id}" in err and "no longer in the chain" in err


def test_truncating_below_a_documents_anchor_fails_naming_the_document(world, capture, database_url):
    document = publish(world, capture)
    some_events(world, capture)
    truncate_after(world, document.anchor_event_id - 1)
    code, _, err = verify_audit(database_url)
    assert code == 1
    assert f"document {document.number} (event #{document.anchor_event_id}" in err
    assert "no longer in the chain" in err


def rewrite_chain(world, edit_index: int) -> dict[int, str]:
    """Edit one event, then re-hash every event after it and move the head: the chain alone links
    again. Returns the new hash of every event."""
    with world.factory() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        events[edit_index].actor = "someone-else"
        prev = GENESIS
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event_hash(prev, event.at, event.actor, event.action, event.case_id,
                                           event.record_id, event.data)
        session.execute(text("UPDATE audit_head SET last_hash = :h WHERE id = 1"), {"h": prev})
        session.commit()
        assert verify_chain(session).ok
        return {e.id: e.hash for e in events}


def test_a_rewritten_chain_fails_at_the_anchor_it_no_longer_matches(world, capture, database_url):
    some_events(world, capture, 3)
    checkpoint = make_checkpoint(world.factory, world.clock, Settings())
    some_events(world, capture)
    rewrite_chain(world, 1)
    code, _, err = verify_audit(database_url)
    assert code == 1
    assert f"checkpoint #{checkpoint.id} (manual, 2026-06-01)" in err and "now has hash" in err


def test_an_edited_checkpoint_has_an_invalid_signature(world, capture, database_url, tmp_path):
    some_events(world, capture)
    checkpoint = make_checkpoint(world.factory, world.clock, Settings())
    exported = checkpoints.export_checkpoint(checkpoint, tmp_path / "exported")
    assert verify_audit(database_url, "--checkpoint", str(exported))[0] == 0
    with world.factory() as session:   # a checkpoint moved back to fit a shorter chain
        session.execute(text("UPDATE audit_checkpoint SET last_event_id = last_event_id - 1, "
                             "last_hash = (SELECT hash FROM audit_event WHERE id = :id), "
                             "event_count = event_count - 1"), {"id": checkpoint.last_event_id - 1})
        session.commit()
    code, _, err = verify_audit(database_url)
    assert code == 1
    assert f"checkpoint #{checkpoint.id} (manual, 2026-06-01): its signature is not valid" in err
    exported.write_bytes(exported.read_bytes().replace(b'"event_count":', b'"event_count":1'))
    code, _, err = verify_audit(database_url, "--checkpoint", str(exported))
    assert code == 1 and f"file {exported.name}: its signature is not valid" in err


@pytest.mark.skipif(not HAS_POPPLER, reason="poppler-utils (pdfsig, pdftotext) not installed")
def test_an_issued_document_carries_the_audit_head_in_its_row_and_its_signed_pdf(world, capture, tmp_path,
                                                                                 database_url):
    document = publish(world, capture)
    with world.factory() as session:
        anchored = session.get(AuditEvent, document.anchor_event_id)
    assert anchored.hash == document.anchor_hash
    assert pdf_anchor(document.pdf) == (document.anchor_event_id, document.anchor_hash)
    path = tmp_path / "decision.pdf"
    path.write_bytes(document.pdf)
    shown = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    assert f"审计锚点：#{document.anchor_event_id} {document.anchor_hash[:16]}" in shown
    signature = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid" in signature and "Total document signed" in signature, signature
    # the public verification page shows it with the document
    from webapp import create_app
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "CLOCK": world.clock, "SECRET_KEY": "test"})
    page = app.test_client().get(f"/public/verify?code={document.verification_code}").get_data(as_text=True)
    app.extensions["credflow.session_factory"].kw["bind"].dispose()
    assert "审计锚点" in page and f"#{document.anchor_event_id} {document.anchor_hash}" in page


def test_an_intact_chain_with_its_anchors_verifies_and_a_held_pdf_is_checked(world, capture, database_url,
                                                                            tmp_path):
    document = publish(world, capture)
    run_once(world.factory, world.clock)
    folder = tmp_path / "exported"
    checkpoints.export_checkpoint(make_checkpoint(world.factory, world.clock, Settings()), folder)
    some_events(world, capture)
    held = tmp_path / "held.pdf"
    held.write_bytes(document.pdf)
    code, out, err = verify_audit(database_url, "--document", str(held), "--checkpoint", str(folder))
    assert code == 0, err
    assert "audit chain intact" in out and "5 anchors match" in out   # 2 checkpoints, the document, 2 files
    # the PDF held outside still anchors the chain once the database forgot the document and its checkpoints
    with world.factory() as session:
        session.execute(text("DELETE FROM audit_checkpoint"))
        session.execute(text("DELETE FROM document"))
        session.commit()
    truncate_after(world, document.anchor_event_id - 1)
    assert verify_audit(database_url)[0] == 0   # nothing left in the database to tell
    code, _, err = verify_audit(database_url, "--document", str(held))
    assert code == 1 and f"file held.pdf (event #{document.anchor_event_id}" in err
    forged = bytearray(document.pdf)
    forged[len(forged) // 3] ^= 1
    held.write_bytes(bytes(forged))
    code, _, err = verify_audit(database_url, "--document", str(held))
    assert code == 1 and "file held.pdf: not a decision PDF signed by the office" in err


def test_two_workers_make_one_checkpoint_a_day(world, capture, monkeypatch):
    some_events(world, capture)
    both_looked = threading.Barrier(2)
    exists = checkpoints.daily_checkpoint_exists

    def looked_then_wait(*args):   # both workers see no checkpoint of today before either makes one
        found = exists(*args)
        both_looked.wait(30)
        return found

    monkeypatch.setattr(checkpoints, "daily_checkpoint_exists", looked_then_wait)
    errors = []

    def worker():
        try:
            run_once(world.factory, world.clock)
        except Exception as exc:   # reported below: a thread's failure must fail the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    monkeypatch.setattr(checkpoints, "daily_checkpoint_exists", exists)
    run_once(world.factory, world.clock)   # later the same day: still one
    [daily] = the_checkpoints(world)
    with world.factory() as session:
        last_id, last_hash = committed_head(session)
        count = session.scalar(select(func.count()).select_from(AuditEvent))
    assert (daily.kind, daily.day.isoformat(), daily.last_event_id, daily.last_hash, daily.event_count) == (
        "daily", "2026-06-01", last_id, last_hash, count)
    assert checkpoints.checkpoint_signature_valid(daily, Settings().office_name)
    world.clock.advance(days=1)
    some_events(world, capture, 1)
    run_once(world.factory, world.clock)
    assert [c.day.isoformat() for c in the_checkpoints(world)] == ["2026-06-01", "2026-06-02"]


def test_a_document_row_edited_to_fit_a_rewritten_chain_shows_with_deep(world, capture, database_url):
    document = publish(world, capture)
    hashes = rewrite_chain(world, 1)
    with world.factory() as session:   # the insider fits the row's anchor to the rewritten chain
        session.execute(text("UPDATE document SET anchor_hash = :h WHERE id = :id"),
                        {"h": hashes[document.anchor_event_id], "id": document.id})
        session.commit()
    assert verify_audit(database_url)[0] == 0   # the rows alone agree with the rewritten chain
    code, _, err = verify_audit(database_url, "--deep")
    assert code == 1
    assert f"document {document.number}: its row says audit anchor #{document.anchor_event_id} but its signed PDF" in err


def test_the_daily_checkpoint_exported_to_a_folder_still_anchors_when_the_database_lost_it(world, capture,
                                                                                         database_url, tmp_path):
    folder = tmp_path / "audit-checkpoints"
    some_events(world, capture)
    run_once(world.factory, world.clock, Settings(audit_checkpoint_folder=str(folder)))
    [daily] = the_checkpoints(world)
    statement = folder / f"audit-checkpoint-2026-06-01-daily-{daily.id}.json"
    assert statement.read_bytes() == daily.statement()
    assert (folder / (statement.name + ".p7s")).read_bytes() == daily.signature
    if shutil.which("openssl"):   # the exported pair is checked by standard tools too
        from asn1crypto import pem
        from workflows.documents.signing import office_certificate
        office = tmp_path / "office.pem"
        office.write_bytes(pem.armor("CERTIFICATE", office_certificate(Settings().office_name).dump()))
        done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", str(statement),
                               "-in", f"{statement}.p7s", "-CAfile", str(office), "-out", "/dev/null"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    some_events(world, capture)
    with world.factory() as session:
        session.execute(text("DELETE FROM audit_checkpoint"))
        session.commit()
    truncate_after(world, daily.last_event_id - 1)
    code, _, err = verify_audit(database_url, env={"CREDFLOW_AUDIT_CHECKPOINT_DIR": str(folder)})
    assert code == 1
    assert f"file {statement.name} (checkpoint of 2026-06-01) (event #{daily.last_event_id}" in err
