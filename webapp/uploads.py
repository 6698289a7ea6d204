"""Evidence files: size limit, type checked from the content, stored outside the static folder."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, send_file
from flask_babel import gettext as _

from workflows.models import Attachment

from .input_limits import clean_file_name

# What a file's first bytes must be for each accepted type; the name's extension is not trusted.
SIGNATURES = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
DEFAULT_ACCEPT = tuple(SIGNATURES)


class UploadRefused(ValueError):
    pass


def sniff(head: bytes) -> str | None:
    for content_type, prefixes in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            return content_type
    return None


def store_upload(session, storage, case_id: int | None, user_id: int, now, accept=DEFAULT_ACCEPT) -> Attachment:
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    body = storage.stream.read(limit + 1)
    name = clean_file_name(storage.filename)    # done at the boundary too (input_guard); a caller may come another way
    if len(body) > limit:
        raise UploadRefused(_("文件 %(name)s 超过大小上限 %(mb)s MB", name=name, mb=round(limit / 1048576, 1)))
    if not body:
        raise UploadRefused(_("文件 %(name)s 是空文件", name=name))
    content_type = sniff(body[:16])
    if content_type is None or content_type not in (accept or DEFAULT_ACCEPT):
        raise UploadRefused(_("文件 %(name)s 的类型不允许（仅限 PDF、PNG、JPEG）", name=name))
    digest = hashlib.sha256(body).hexdigest()
    path = Path(current_app.config["UPLOAD_FOLDER"]) / digest[:2] / digest
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(body)
        tmp.replace(path)
    attachment = Attachment(case_id=case_id, uploaded_by_id=user_id, filename=name, content_type=content_type,
                            size=len(body), sha256=digest, created_at=now)
    session.add(attachment)
    session.flush()
    return attachment


def attachment_path(attachment: Attachment) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / attachment.sha256[:2] / attachment.sha256


# What a browser may show inline (a preview on the page): these types only, and only when the
# stored bytes start as that type says. Anything else is always a download.
INLINE_SIGNATURES = {**SIGNATURES, "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}
# the preview response runs nothing: no scripts, no requests, a sandboxed origin; only our own pages frame it
INLINE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"


def shown_inline(attachment: Attachment, head: bytes) -> bool:
    prefixes = INLINE_SIGNATURES.get(attachment.content_type)
    if not prefixes or not any(head.startswith(p) for p in prefixes):
        return False
    return attachment.content_type != "image/webp" or head[8:12] == b"WEBP"


def send_attachment(attachment: Attachment, inline: bool = False):
    """The file as a download; with `inline`, a PDF or an image is shown in the browser instead
    (for the dossier's preview), with nosniff and a policy that lets it run nothing."""
    path = attachment_path(attachment)
    if inline:
        with path.open("rb") as fh:
            inline = shown_inline(attachment, fh.read(16))
    known = attachment.content_type in INLINE_SIGNATURES
    response = send_file(path, mimetype=attachment.content_type if known else "application/octet-stream",
                         as_attachment=not inline, download_name=clean_file_name(attachment.filename))
    response.headers["X-Content-Type-Options"] = "nosniff"
    if inline:
        response.headers["Content-Security-Policy"] = INLINE_POLICY
    return response


def store_form_uploads(uow, fields, files, case_id: int | None, user_id: int, record_id: int | None = None):
    """Store the files posted for a form's file fields: ({field: [attachment ids]}, {field: error})."""
    uploaded, errors = {}, {}
    for f in fields:
        if f.widget != "file":
            continue
        for storage in files.getlist(f.name):
            if not storage or not storage.filename:
                continue
            try:
                att = store_upload(uow.session, storage, case_id, user_id, uow.clock.now(), f.accept)
            except UploadRefused as exc:
                errors[f.name] = str(exc)
                continue
            uploaded.setdefault(f.name, []).append(att.id)
            uow.audit("attachment.uploaded", case_id=case_id, record_id=record_id, attachment_id=att.id,
                      filename=att.filename, sha256=att.sha256)
    return uploaded, errors


def check_attachment_ids(session, fields, data, case_id: int | None, user_id: int) -> bool:
    """Posted attachment ids are guessable: each must belong to this case (or, before the case
    exists, be one of this user's unattached uploads)."""
    from sqlalchemy import select
    for f in fields:
        ids = data.get(f.name) if f.widget == "file" else None
        if not ids:
            continue
        query = select(Attachment.id).where(Attachment.id.in_(ids))
        if case_id is None:
            query = query.where(Attachment.case_id.is_(None), Attachment.uploaded_by_id == user_id)
        else:
            query = query.where(Attachment.case_id == case_id)
        if set(session.scalars(query)) != set(ids):
            return False
    return True


def attachments_by_id(session, ids) -> dict[int, Attachment]:
    from sqlalchemy import select
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
