"""The audit chain checked against anchors held outside its own table.

An anchor is an (event id, hash) pair that something signed with the office's key holds: a signed
daily checkpoint (workflows/audit_checkpoints.py), a decision document (the head it was issued at,
on its row and inside its signed PDF), or such a checkpoint file or PDF kept outside the database.
The chain is intact only when it links and hashes from the first event to its head AND every
anchor names an event of the chain with that hash (and, for a checkpoint, at that position); so
the head is at or after the newest anchor. Deleting the last events and moving the head back, or
rewriting events and re-hashing the chain after them, then fails naming the anchor that no longer
matches. Every document also needs its own `document.issued` event in the chain.

`deep` also reads every stored PDF: its office signature, and the anchor it signed against its
row's (a row re-fitted to a rewritten chain).

What this cannot see: events deleted after the newest anchor whose documents went with them, or
the checkpoints and documents deleted together with the events they anchor (anchors kept outside
the database, `--document` and `--checkpoint`, still show those)."""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from .audit import ChainReport, verify_chain
from .audit_checkpoints import AuditCheckpoint, checkpoint_files, checkpoint_signature_valid, read_checkpoint_file
from .models import Document

PDF_ANCHOR_KEY = "/credflowauditanchor"   # the Info entry WeasyPrint writes for <meta name="credflow-audit-anchor">


@dataclass(frozen=True)
class Anchor:
    label: str              # what holds it, as a person reads it in the report
    event_id: int
    hash: str
    count: int | None = None   # a checkpoint's number of events up to and including it

    def __str__(self) -> str:
        return f"{self.label} (event #{self.event_id} {self.hash[:16]}…)"


@dataclass
class AuditReport:
    chain: ChainReport
    anchors: list[Anchor] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # each names the anchor or file concerned
    last_event_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    @property
    def newest_anchor(self) -> Anchor | None:
        return max(self.anchors, key=lambda a: a.event_id, default=None)


def pdf_anchor(pdf: bytes) -> tuple[int, str] | None:
    """The anchor written in a decision PDF's metadata (None when it carries none)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    trailer = PdfFileReader(io.BytesIO(bytes(pdf)), strict=False).trailer   # of the newest revision
    info = trailer["/Info"] if "/Info" in trailer else None
    value = None if info is None else info.get(PDF_ANCHOR_KEY)
    if value is None:
        return None
    event_id, _, digest = str(value).strip().partition(" ")
    return int(event_id), digest.strip()


def database_anchors(session, office_name: str, deep: bool = False) -> tuple[list[Anchor], list[str], dict[int, str]]:
    """The anchors of the checkpoints and documents in the database, the problems found reading
    them, and the number of every document (whose issue event must be in the chain). `deep` also
    checks each stored PDF's signature and that the anchor it signed is its row's (a row edited to
    fit a shorter chain); it reads every PDF, 20-40 ms each."""
    anchors, problems = [], []
    for checkpoint in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        if not checkpoint_signature_valid(checkpoint, office_name):
            problems.append(f"{checkpoint.label}: its signature is not valid with the office certificate "
                            f"(the checkpoint was edited, or not signed by this office)")
            continue
        anchors.append(Anchor(checkpoint.label, checkpoint.last_event_id, checkpoint.last_hash, checkpoint.event_count))
    documents = {}
    columns = [Document.id, Document.number, Document.anchor_event_id, Document.anchor_hash]
    rows = session.execute(select(*columns, *([Document.pdf] if deep else [])).order_by(Document.id)
                           .execution_options(yield_per=100))
    for doc_id, number, event_id, digest, *pdf in rows:
        documents[doc_id] = number
        label = f"document {number}"
        if deep:
            problem = _stored_pdf_problem(pdf[0], (event_id, digest), office_name)
            if problem:
                problems.append(f"{label}: {problem}")
        if event_id is not None:
            anchors.append(Anchor(label, event_id, digest))
    return anchors, problems, documents


def _stored_pdf_problem(pdf: bytes, row_anchor: tuple, office_name: str) -> str | None:
    if not pdf_signed_whole_by_office(pdf, office_name):
        return "its stored PDF is not signed by the office over the whole file (replaced or edited)"
    signed = pdf_anchor(pdf)
    if signed is not None and signed != row_anchor:
        return (f"its row says audit anchor #{row_anchor[0]} but its signed PDF says #{signed[0]} "
                f"{signed[1][:16]}… (the row was edited)")
    return None


def file_anchors(documents: list, checkpoints: list, office_name: str) -> tuple[list[Anchor], list[str]]:
    """Anchors held outside the database: signed decision PDFs and exported checkpoint files."""
    anchors, problems = [], []
    for path in map(Path, documents):
        label = f"file {path.name}"
        data = path.read_bytes()
        if not pdf_signed_whole_by_office(data, office_name):
            problems.append(f"{label}: not a decision PDF signed by the office over the whole file; "
                            f"its audit anchor cannot be trusted")
            continue
        anchor = pdf_anchor(data)
        if anchor is None:
            problems.append(f"{label}: carries no audit anchor (issued before anchors existed?)")
            continue
        anchors.append(Anchor(label, *anchor))
    for source in checkpoints:
        for item in checkpoint_files(source):
            fields, why = read_checkpoint_file(item, office_name)
            label = f"file {item.path.name}"
            if fields is None:
                problems.append(f"{label}: {why}")
                continue
            anchors.append(Anchor(f"{label} (checkpoint of {fields['date']})", fields["last_event_id"],
                                  fields["last_hash"], fields["event_count"]))
    return anchors, problems


def pdf_signed_whole_by_office(data: bytes, office_name: str) -> bool:
    """One valid office signature covering every byte (an update appended later could change the
    metadata without breaking an earlier signature)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from .documents.signing import office_certificate, outside_event_loop
    trust = ValidationContext(trust_roots=[office_certificate(office_name)])
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        if len(signatures) != 1:
            return False
        status = outside_event_loop(lambda: validate_pdf_signature(signatures[0], trust))
        return bool(status.bottom_line and status.intact and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    except Exception:  # noqa: BLE001 -- unreadable or forged: not signed by the office
        return False


def verify_audit_trail(session, office_name: str, documents=(), checkpoints=(), deep: bool = False) -> AuditReport:
    """The chain, and every anchor of the database and of the given files, in one pass."""
    anchors, problems, issued = database_anchors(session, office_name, deep)
    more, more_problems = file_anchors(list(documents), list(checkpoints), office_name)
    anchors, problems = anchors + more, problems + more_problems
    by_event: dict[int, list[Anchor]] = defaultdict(list)
    for anchor in anchors:
        by_event[anchor.event_id].append(anchor)
    seen_documents, seen_events, last = set(), set(), [None]

    def visit(event, position: int) -> None:
        last[0] = event.id
        held = by_event.get(event.id)
        if held:
            seen_events.add(event.id)
            for anchor in held:
                if anchor.hash != event.hash:
                    problems.append(f"{anchor}: event #{event.id} now has hash {event.hash[:16]}…; the chain was "
                                    f"rewritten at or before it")
                elif anchor.count is not None and anchor.count != position:
                    problems.append(f"{anchor}: event #{event.id} is now event number {position} of the chain, "
                                    f"not {anchor.count}")
        if event.action == "document.issued":
            seen_documents.add((event.data or {}).get("document_id"))

    chain = verify_chain(session, visit=visit)
    report = AuditReport(chain, anchors, problems, last[0])
    if not chain.ok:
        return report   # the walk stopped at the break: what lies after it was not checked
    end = f"event #{last[0]}" if last[0] is not None else "no event at all"
    for anchor in sorted((a for a in anchors if a.event_id not in seen_events), key=lambda a: a.event_id):
        if last[0] is None or anchor.event_id > last[0]:
            problems.append(f"{anchor}: that event is no longer in the chain, which now ends at {end} "
                            f"(events deleted and the head moved back)")
        else:
            problems.append(f"{anchor}: that event is missing from the chain (deleted, the chain re-linked)")
    for doc_id, number in issued.items():
        if doc_id not in seen_documents:
            problems.append(f"document {number}: its document.issued event is not in the chain (events deleted)")
    return report
