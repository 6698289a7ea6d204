"""Batch files out, acknowledgements in (format `credflow-sharing/1`, docs/sharing-format.md).

`export_batch` puts every queued item of one platform (new ones and retried ones) into one batch
file, JSON or CSV; the items become `sent` with their batch. `import_ack` reads a platform's
answer about one batch: per item accepted, or rejected with a reason. A bad file -- not an ack, a
batch that was never sent, an item that was not in the batch, an answer contradicting one already
imported -- is refused with every problem listed and changes nothing; importing the same ack
again changes nothing either.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ..messages import Message, N_
from .access import SharingError, require_sharing
from .model import SharingBatch, SharingBatchEntry, SharingItem

FORMAT = "credflow-sharing/1"
ACK_FORMAT = "credflow-sharing-ack/1"
FILE_FORMATS = ("json", "csv")
RESULTS = ("accepted", "rejected")
# the item's own columns, then its snapshot's (workflows/sharing/changes.snapshot), in file order
ITEM_COLUMNS = ("item_id", "attempt", "event_at", "due_at")
PAYLOAD_COLUMNS = ("record_no", "change", "change_name", "subject_name", "subject_kind", "subject_code_type",
                   "subject_code", "record_kind", "record_kind_name", "field", "severity", "severity_name", "facts",
                   "legal_basis", "decision_date", "publication_start", "publication_end", "issuing_authority",
                   "under_objection", "reason")
CSV_COLUMNS = ("format", "batch", "platform") + ITEM_COLUMNS + PAYLOAD_COLUMNS
ACK_CSV_COLUMNS = ("batch", "item_id", "result", "reason")
MAX_ACK_BYTES = 20 * 1024 * 1024


def check_platform(settings, platform: str) -> str:
    if platform not in settings.sharing_platforms:
        raise SharingError(N_("未知的报送平台 %(platform)s（可选：%(values)s）"), platform=str(platform)[:40],
                           values=", ".join(settings.sharing_platforms))
    return platform


def _snapshot_of(session, item: SharingItem, office_name: str) -> None:
    """An item queued before migration 0013 (a repair result) has no snapshot: it is taken now."""
    if "subject_name" not in item.payload:
        from ..models import Record
        from .changes import snapshot
        item.payload = snapshot(session.get(Record, item.record_id), item.change, office_name)


def _row(item: SharingItem, attempt: int) -> dict:
    row = {"item_id": item.id, "attempt": attempt, "event_at": item.created_at.isoformat(),
           "due_at": item.due_at.isoformat() if item.due_at else None}
    row.update({name: item.payload.get(name) for name in PAYLOAD_COLUMNS})
    return row


def render(batch: SharingBatch, rows: list[dict], issuer: str) -> str:
    if batch.file_format == "json":
        document = {"format": FORMAT, "batch": batch.number, "platform": batch.platform,
                    "created_at": batch.created_at.isoformat(), "issuer": issuer, "item_count": len(rows),
                    "items": rows}
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"format": FORMAT, "batch": batch.number, "platform": batch.platform,
                         **{k: ("true" if v is True else "false" if v is False else "" if v is None else v)
                            for k, v in row.items()}})
    return out.getvalue()


def file_bytes(batch: SharingBatch) -> bytes:
    """The file as written: UTF-8; a CSV starts with a byte-order mark (spreadsheets read it right)."""
    data = batch.content.encode("utf-8")
    return b"\xef\xbb\xbf" + data if batch.file_format == "csv" else data


def export_batch(uow, platform: str, file_format: str = "json") -> SharingBatch | None:
    """One batch of every queued item of `platform`; None when nothing is queued."""
    require_sharing(uow.actor)
    check_platform(uow.settings, platform)
    if file_format not in FILE_FORMATS:
        raise SharingError(N_("文件格式须为 %(values)s 之一"), values=", ".join(FILE_FORMATS))
    session = uow.session
    items = session.scalars(select(SharingItem).where(SharingItem.platform == platform, SharingItem.state == "queued")
                            .order_by(SharingItem.id).with_for_update(skip_locked=True)).all()
    if not items:
        return None
    now = uow.clock.now()
    batch = SharingBatch(number=f"pending-{uuid.uuid4().hex}", platform=platform, file_format=file_format,
                         file_name="", content="", sha256="", item_count=len(items), created_by=uow.actor.name,
                         created_at=now)
    session.add(batch)
    session.flush()
    batch.number = f"CF-{platform}-{now:%Y%m%d}-{batch.id:06d}"
    batch.file_name = f"{batch.number}.{file_format}"
    rows = []
    for item in items:
        session.add(SharingBatchEntry(batch_id=batch.id, item_id=item.id, attempt=item.attempts))
        item.state, item.batch_id, item.sent_at = "sent", batch.id, now
        _snapshot_of(session, item, uow.settings.office_name)
        rows.append(_row(item, item.attempts))
    batch.content = render(batch, rows, uow.settings.office_name)
    batch.sha256 = hashlib.sha256(file_bytes(batch)).hexdigest()
    session.flush()
    uow.audit("sharing.exported", batch=batch.number, platform=platform, format=file_format, items=len(items),
              sha256=batch.sha256)
    return batch


# -- acknowledgements -------------------------------------------------------------------------------

@dataclass
class AckResult:
    batch: str
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0


def _bad(text: str, **params) -> SharingError:
    return SharingError(N_("确认文件无法导入：%(problem)s。未作任何更改。"), problem=Message(text, **params))


def parse_ack(data: bytes) -> tuple[str, list[dict]]:
    """(batch number, [{"item_id", "result", "reason"}]) from a JSON or CSV ack file."""
    if len(data) > MAX_ACK_BYTES:
        raise _bad(N_("文件超过 %(mb)s MB"), mb=MAX_ACK_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad(N_("文件不是 UTF-8 编码")) from None
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise _bad(N_("JSON 格式错误")) from None
        if not isinstance(document, dict) or document.get("format") != ACK_FORMAT:
            raise _bad(N_("format 须为 %(format)s"), format=ACK_FORMAT)
        items = document.get("items")
        if not isinstance(document.get("batch"), str) or not isinstance(items, list) or not items:
            raise _bad(N_("须有 batch（批次号）和非空的 items 列表"))
        if not all(isinstance(i, dict) for i in items):
            raise _bad(N_("items 的每一项须为对象"))
        return document["batch"], items
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error:
        raise _bad(N_("CSV 格式错误")) from None
    if not rows or tuple(rows[0].keys())[:3] != ACK_CSV_COLUMNS[:3]:
        raise _bad(N_("CSV 首行须为 %(columns)s"), columns=",".join(ACK_CSV_COLUMNS))
    batches = {str(r.get("batch") or "") for r in rows}
    if len(batches) != 1:
        raise _bad(N_("一个确认文件只能对应一个批次"))
    return batches.pop(), rows


def _clean(value) -> str:
    """Text as the database can keep it: no NUL, no lone surrogate (a JSON escape can make one)."""
    return str(value).replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _item_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        return int(value.strip())
    return None


def import_ack(uow, data: bytes) -> AckResult:
    require_sharing(uow.actor)
    number, answers = parse_ack(data)
    number = _clean(number)[:60]
    session = uow.session
    batch = session.scalar(select(SharingBatch).where(SharingBatch.number == number).with_for_update())
    if batch is None:
        raise _bad(N_("批次 %(batch)s 从未报送"), batch=number)
    entries = {e.item_id: e for e in session.scalars(select(SharingBatchEntry).where(
        SharingBatchEntry.batch_id == batch.id))}
    problems, seen, plan = [], set(), []
    for n, answer in enumerate(answers, start=1):
        item_id, result = _item_id(answer.get("item_id")), answer.get("result")
        reason = _clean(answer.get("reason") or "").strip()[:2000]
        if item_id is None:
            problems.append(Message(N_("第 %(n)s 项：item_id 须为数字"), n=n))
        elif item_id in seen:
            problems.append(Message(N_("第 %(n)s 项：条目 %(item)s 重复"), n=n, item=item_id))
        elif item_id not in entries:
            problems.append(Message(N_("第 %(n)s 项：条目 %(item)s 不在批次 %(batch)s 中"), n=n, item=item_id,
                                    batch=batch.number))
        elif result not in RESULTS:
            problems.append(Message(N_("第 %(n)s 项：result 须为 accepted 或 rejected"), n=n))
        elif result == "rejected" and not reason:
            problems.append(Message(N_("第 %(n)s 项：退回须写明原因（reason）"), n=n))
        else:
            entry = entries[item_id]
            if entry.result is not None and (entry.result, entry.reason or "") != (result, reason if result == "rejected" else ""):
                problems.append(Message(N_("第 %(n)s 项：条目 %(item)s 已按先前导入的确认记为 %(old)s，与本文件不符"),
                                        n=n, item=item_id, old=entry.result))
            else:
                plan.append((entry, result, reason if result == "rejected" else ""))
        if item_id is not None:
            seen.add(item_id)
    if problems:
        raise SharingError(N_("确认文件无法导入：%(count)s 处问题。未作任何更改。"), problems, count=len(problems))
    now, outcome = uow.clock.now(), AckResult(batch.number)
    items = {i.id: i for i in session.scalars(select(SharingItem).join(
        SharingBatchEntry, SharingBatchEntry.item_id == SharingItem.id).where(SharingBatchEntry.batch_id == batch.id))}
    for entry, result, reason in plan:
        if entry.result is not None:
            outcome.unchanged += 1
            continue
        entry.result, entry.reason, entry.acknowledged_at = result, reason or None, now
        item = items[entry.item_id]
        if item.batch_id == batch.id and item.state == "sent":   # not since retried in a later batch
            item.state = "acknowledged" if result == "accepted" else "rejected"
            item.acknowledged_at = now
            item.rejection_reason = reason or None
        if result == "accepted":
            outcome.accepted += 1
        else:
            outcome.rejected += 1
    if outcome.accepted or outcome.rejected:
        batch.ack_imported_at = now
    uow.audit("sharing.ack_imported", batch=batch.number, accepted=outcome.accepted, rejected=outcome.rejected,
              unchanged=outcome.unchanged)
    return outcome
