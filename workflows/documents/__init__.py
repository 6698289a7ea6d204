"""Issued decisions: rendered from HTML, numbered, signed with the office's key, stored immutably
with their sha256 and a verification code, and verifiable by anyone."""
from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from ..audit import committed_head
from ..messages import Message, N_, UserError
from ..models import Case, Document, Record
from .content import KIND_NAMES, TITLES, document_context
from .numbering import format_number, next_serial
from .render import qr_data_uri, render_html, render_pdf
from .signing import office_certificate, outside_event_loop, sign_pdf

KINDS = tuple(TITLES)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def issue_document(uow, kind: str, case: Case | None, record: Record | None, data: dict,
                   supersedes: Document | None = None, reason: str | None = None, party=None) -> Document:
    """Render, number, sign and store one document in the caller's transaction. `party` is the
    addressee when it is not the record's subject (an accountability case's person)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of document '{kind}'")
    settings, today = uow.settings, uow.clock.today()
    serial = next_serial(uow.session, kind, today.year)
    number = format_number(settings.document_prefixes[kind], today.year, serial)
    code = _verification_code()
    verify_url = settings.public_url.rstrip("/") + f"/public/verify/{code}"
    if party is None and case is not None and case.party_id:
        from ..models import Subject
        party = uow.session.get(Subject, case.party_id)
    listed = {r["id"]: uow.session.get(Record, r["id"]) for r in data.get("records") or [] if isinstance(r, dict)
              and isinstance(r.get("id"), int)} if case is None else None   # an extract names its records
    context = document_context(kind, case, record, data, settings, today, party, records=listed)
    # the audit head it is issued at, signed with it: the chain cannot later be cut below this event
    anchor_id, anchor_hash = committed_head(uow.session) or (None, None)
    context.update(office_name=settings.office_name, number=number, verification_code=code, verify_url=verify_url,
                   qr_data_uri=qr_data_uri(verify_url), anchor_event_id=anchor_id, anchor_hash=anchor_hash,
                   supersedes={"number": supersedes.number, "reason": reason} if supersedes else None)
    pdf, page, box = render_pdf(render_html(kind, context))
    signed = sign_pdf(pdf, settings.office_name, box, page, reason=context["title"])   # the red seal in `box`
    document = Document(kind=kind, year=today.year, serial=serial, number=number, title=context["title"],
                        verification_code=code, case_id=case.id if case else None,
                        record_id=record.id if record else None,
                        subject_id=party.id if party is not None else record.subject_id,
                        pdf=signed, sha256=hashlib.sha256(signed).hexdigest(), source_data=data,
                        supersedes_id=supersedes.id if supersedes else None, supersede_reason=reason,
                        issued_by=uow.actor.name, issued_at=uow.clock.now(),
                        anchor_event_id=anchor_id, anchor_hash=anchor_hash)
    uow.session.add(document)
    uow.session.flush()
    if supersedes is not None:
        supersedes.superseded_by_id = document.id
    uow.audit("document.issued", case_id=case.id if case else None, record_id=record.id if record else None,
              document_id=document.id, number=number,
              kind=kind, sha256=document.sha256, supersedes=supersedes.number if supersedes else None)
    return document


class DocumentError(UserError, ValueError):
    """A refused document action (a correction); nothing was issued."""


class DocumentNotFound(UserError, LookupError):
    """No such document."""


def correct_document(uow, document_id: int, reason: str) -> Document:
    """A correction is a new numbered document that supersedes the old one and says why."""
    old = uow.session.get(Document, document_id)
    if old is None:
        raise DocumentNotFound(N_("文书不存在"))
    if old.superseded_by_id is not None:
        raise DocumentError(N_("该文书已被更正，不能再次更正"))
    if not (reason or "").strip():
        raise DocumentError(N_("请填写更正理由"))
    if len(reason.strip()) > 2000:
        raise DocumentError(N_("更正理由不能超过 %(limit)s 字"), limit=2000)
    case = uow.session.get(Case, old.case_id) if old.case_id else None
    record = uow.session.get(Record, old.record_id) if old.record_id else None
    from ..models import Subject
    party = uow.session.get(Subject, old.subject_id) if record is None or old.subject_id != record.subject_id else None
    return issue_document(uow, old.kind, case, record, dict(old.source_data), supersedes=old, reason=reason.strip(),
                          party=party)


@dataclass
class Verification:
    document: Document | None
    signature_valid: bool | None   # None: no signature checked (lookup by code)
    intact: bool | None
    message: Message


def verify_pdf(session, data: bytes, office_name: str) -> Verification:
    """Is this file a document we issued, unaltered, with a valid office signature?"""
    digest = hashlib.sha256(data).hexdigest()
    document = session.scalars(select(Document).where(Document.sha256 == digest)).first()
    valid, intact = False, False
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        if signatures:
            status = outside_event_loop(lambda: validate_pdf_signature(signatures[0], ValidationContext(
                trust_roots=[office_certificate(office_name)])))
            valid, intact = bool(status.bottom_line), bool(status.intact)
    except Exception:  # noqa: BLE001 -- any unreadable or forged file is simply not valid
        valid = intact = False
    if document is not None and valid:
        message = Message(N_("有效：本机关出具的原始文书，签名有效、内容未被改动"))
    elif valid:
        message = Message(N_("签名有效，但本机关没有出具过内容完全相同的文书"))
    else:
        message = Message(N_("无效：文件不是本机关出具的文书，或已被改动"))

    return Verification(document if valid else None, valid, intact, message)


def find_by_code(session, code: str) -> Document | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 20:
        return None
    return session.scalars(select(Document).where(Document.verification_code == code)).first()


__all__ = ["KINDS", "KIND_NAMES", "issue_document", "correct_document", "verify_pdf", "find_by_code", "Verification"]
