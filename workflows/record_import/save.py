"""Saving a checked records sheet, all rows in the caller's one transaction: the subjects the sheet
names for the first time are registered, then each row becomes a record whose lifecycle case starts
with its capture task completed (open_record, as a record captured in the form), with an audit event
naming the import job. A file is imported once: the same file (by sha256) queued, running or done
before is refused, at the upload and again at the save."""
from __future__ import annotations

from sqlalchemy import select, text

from ..case_errors import CaseError, Forbidden
from ..clock import CST
from ..import_jobs import ImportJob
from ..messages import Message, N_
from ..models import Subject, User
from ..records import open_record
from ..sheet_reader import SheetError
from .sheet import Checked, file_sha256

CLERK = "clerk"
IMPORT_KIND = "records"


def require_clerk(actor) -> None:
    if CLERK not in actor.roles or actor.user_id is None:
        raise Forbidden(N_("只有承办人可以导入失信记录"))


def same_file_job(session, sha256: str, exclude_id: int | None = None, done_only: bool = False) -> ImportJob | None:
    """A records job of this very file that is waiting, running or done (a failed one imported nothing)."""
    statuses = ("done",) if done_only else ("queued", "running", "done")
    query = select(ImportJob).where(ImportJob.kind == IMPORT_KIND, ImportJob.status.in_(statuses),
                                    ImportJob.result["sha256"].as_string() == sha256)
    if exclude_id is not None:
        query = query.where(ImportJob.id != exclude_id)
    return session.scalars(query.order_by(ImportJob.id).limit(1)).first()


def refuse_same_file(session, sha256: str, exclude_id: int | None = None, done_only: bool = False) -> None:
    job = same_file_job(session, sha256, exclude_id, done_only)
    if job is None:
        return
    uploader = session.get(User, job.created_by)
    who = uploader.display_name if uploader is not None else job.created_by_name
    if job.status == "done":
        at = job.finished_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") if job.finished_at else ""
        raise SheetError(N_("该文件已于 %(at)s 导入（导入任务 %(job)s，%(who)s），不再重复导入"), at=at, job=job.id,
                         who=who)
    raise SheetError(N_("该文件正在导入（导入任务 %(job)s，%(who)s），请勿重复上传"), job=job.id, who=who)


def before_queued(uow, data: bytes) -> dict:
    """At the upload: the uploader must be a clerk and the file new; the job's first result keeps
    the file's sha256 (so a second upload of it is refused while this one waits or runs)."""
    require_clerk(uow.actor)
    sha256 = file_sha256(data)
    refuse_same_file(uow.session, sha256)
    return {"sha256": sha256}


def _lock_file(session, sha256: str) -> None:
    """PostgreSQL: two saves of the same file queue here, so the second sees the first one done."""
    if session.bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(sha256[:15], 16)})


def save_records(uow, pending: Checked, job_id: int | None = None) -> dict:
    """Register the new subjects and open every record with its capture completed; the result."""
    require_clerk(uow.actor)
    uow.caches_workflows = False   # thousands of cases: none is held for the cache until the commit
    session, now = uow.session, uow.clock.now()
    _lock_file(session, pending.sha256)
    refuse_same_file(session, pending.sha256, exclude_id=job_id, done_only=True)   # of two queued, the first saved wins
    codes = sorted({row.code for row in pending if row.subject_id is None})
    registered = {}     # registered by someone else since the check
    for i in range(0, len(codes), 500):
        registered.update({s.code: s for s in session.scalars(select(Subject).where(Subject.code.in_(codes[i:i + 500])))})
    subjects = {}
    for row in pending:
        if row.subject_id is None and row.code not in subjects and row.code not in registered:
            subjects[row.code] = Subject(kind=row.kind, name=row.name, code=row.code, created_at=now)
    session.add_all(subjects.values())
    session.flush()
    for subject in subjects.values():
        uow.audit("subject.registered", subject_id=subject.id, kind=subject.kind, name=subject.name, import_job=job_id)
    first = last = None
    for row in pending:
        subject_id = row.subject_id or (subjects.get(row.code) or registered[row.code]).id
        try:
            record, case = open_record(uow, subject_id, dict(row.values))
        except CaseError as exc:
            raise CaseError(N_("第 %(row)s 行：%(problem)s"), row=row.number, problem=exc.message) from None
        uow.audit("record.imported", case_id=case.id, record_id=record.id, import_job=job_id, row=row.number)
        first, last = first or record.id, record.id
    return {"sha256": pending.sha256, "imported": len(pending), "subjects": len(subjects),
            "first_record": first, "last_record": last}


def describe(result: dict) -> Message:
    return Message(N_("已导入 %(count)s 条失信记录，新登记 %(subjects)s 个信用主体；每条记录已进入合法性审核。"),
                   count=result.get("imported", 0), subjects=result.get("subjects", 0))
