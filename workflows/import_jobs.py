"""Spreadsheet imports as background jobs: owns the import_job table.

A web request only stores the uploaded file with a queued job, in one transaction, and answers
at once. A worker (`credflow worker`, or the thread `credflow serve` starts) claims the job (FOR
UPDATE SKIP LOCKED on PostgreSQL) under a lease, reads the sheet within its bounds
(sheet_reader), checks every row in a read-only transaction while it reports progress, then saves
all rows and marks the job done in one transaction: all or nothing, as the imports always were.
A worker that dies leaves its lease to run out; the next worker takes the job again. Each claim
counts an attempt, and the final write is fenced by it, so a job is saved at most once."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, and_, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .accounts import AccountError
from .case_errors import CaseError, Forbidden, NotFound
from .db import make_read_session_factory
from .messages import Message, N_, as_data, from_data, message_of
from .models import Base, User
from .runtime import Actor, UnitOfWork
from .sheet_reader import SheetError, check_size

log = logging.getLogger("credflow.imports")

LEASE = timedelta(minutes=5)        # a running job not heard of for this long is taken again
MAX_ATTEMPTS = 3                    # claims before a job that keeps dying is given up
PROGRESS_EVERY = 100                # rows between two progress writes
STATUSES = ("queued", "running", "done", "failed")


class ImportJob(Base):
    """One uploaded sheet and what became of it."""
    __tablename__ = "import_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))              # roster, users, records
    filename: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)   # the file; emptied once the job ends
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)     # data rows in the sheet
    done: Mapped[int] = mapped_column(Integer, default=0)      # rows checked so far
    errors: Mapped[list[Any]]                                  # why nothing was imported
    result: Mapped[dict[str, Any]]                             # what was imported
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_by_name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def messages(self) -> list:
        """The errors as Messages (or text, as stored), for the page to show in its language."""
        return [from_data(e) for e in self.errors or []]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def saving(self) -> bool:
        """Every row is checked and the rows are being written."""
        return self.status == "running" and self.total > 0 and self.done >= self.total


@dataclass(frozen=True)
class ImportKind:
    role: str                                        # who may upload and see such a job
    read: Callable[[str, bytes], list]               # (filename, data) -> rows; SheetError
    check: Callable[..., tuple[list, list[str]]]     # (session, rows, progress) -> (pending, errors)
    save: Callable[[UnitOfWork, list], dict]         # (uow, pending) -> the job's result
    takes_job: bool = False                          # save gets the job's id too: (uow, pending, job_id)


def _kinds() -> dict[str, ImportKind]:
    from .accountability import check_roster, read_roster, save_roster
    from .user_sheet import check_user_rows, read_sheet as read_users, save_users, USER_LIMITS

    def users_rows(_filename, data):
        check_size(data, USER_LIMITS)
        rows = read_users(data)
        if not rows:
            raise SheetError(N_("表格中没有账户"))
        return rows

    from .record_import.save import save_records
    from .record_import.sheet import check_records, read_records
    return {
        "records": ImportKind("clerk", read_records, check_records, save_records, takes_job=True),
        "roster": ImportKind("personnel", read_roster, check_roster,
                             lambda uow, pending: {"added": save_roster(uow, pending).added}),
        "users": ImportKind("admin", users_rows, check_user_rows,
                            lambda uow, pending: {"created": [list(c) for c in save_users(uow, pending).created]}),
    }


def max_upload_bytes(kind: str) -> int:
    """The largest file the kind takes (the web reads one byte more to tell "too large")."""
    return _limits(kind).max_bytes


def _limits(kind: str):
    from .accountability import ROSTER_LIMITS
    from .record_import.sheet import RECORD_LIMITS
    from .user_sheet import USER_LIMITS
    return {"roster": ROSTER_LIMITS, "users": USER_LIMITS, "records": RECORD_LIMITS}[kind]


# -- the web side -----------------------------------------------------------------------------------

def enqueue_import(uow, kind: str, filename: str, data: bytes) -> ImportJob:
    """Store the file with a queued job (the caller commits). Only the size is checked here."""
    if kind not in ("roster", "users", "records"):
        raise NotFound(N_("没有这种导入"))
    _require_role(uow.actor, kind)
    check_size(data, _limits(kind))
    first_result = {}
    if kind == "records":      # the same file is not imported twice (workflows/record_import/save.py)
        from .record_import.save import before_queued
        first_result = before_queued(uow, data)
    job = ImportJob(kind=kind, filename=(filename or "sheet")[-200:], data=data, status="queued", total=0, done=0,
                    errors=[], result=first_result, created_by=uow.actor.user_id, created_by_name=uow.actor.name[:80],
                    created_at=uow.clock.now(), attempts=0)
    uow.session.add(job)
    uow.session.flush()
    uow.audit("import.queued", job_id=job.id, kind=kind, filename=job.filename, size=len(data))
    return job


def _require_role(actor: Actor, kind: str) -> None:
    role = {"roster": "personnel", "users": "admin", "records": "clerk"}[kind]
    if role not in actor.roles or actor.user_id is None:
        raise Forbidden(N_("无权进行此导入"))


def job_for(session, actor: Actor, kind: str, job_id: int) -> ImportJob:
    """The job, for its uploader while they still hold the import's role; NotFound for anyone else."""
    job = session.get(ImportJob, job_id)
    try:
        _require_role(actor, kind)
    except Forbidden:
        raise NotFound(N_("没有这个导入任务")) from None
    if job is None or job.kind != kind or job.created_by != actor.user_id:
        raise NotFound(N_("没有这个导入任务"))
    return job


def reveal_created_accounts(uow, job_id: int) -> list[list]:
    """The accounts a users import created, with their one-time codes the first time only: the
    codes are then removed from the job (the page says they were shown once)."""
    job = job_for(uow.session, uow.actor, "users", job_id)
    created = [list(c) for c in (job.result or {}).get("created", [])]
    if any(code for _, _, code in created):
        job.result = {**job.result, "created": [[u, n, None] for u, n, _ in created], "codes_shown": True}
        uow.audit("import.codes_shown", job_id=job.id, count=len(created))
    return created


def status_of(job: ImportJob) -> dict:
    """What the progress bar polls (no result: the page itself shows it)."""
    return {"id": job.id, "status": job.status, "total": job.total, "done": job.done, "saving": job.saving,
            "finished": job.finished}


# -- the worker side --------------------------------------------------------------------------------

def run_import_jobs(session_factory, clock, settings=None, limit: int = 5) -> int:
    """Run up to `limit` waiting jobs (or jobs whose worker died); the number run."""
    ran = 0
    while ran < limit:
        claimed = _claim(session_factory, clock, settings)
        if claimed is None:
            break
        run_job(session_factory, claimed[0], claimed[1], clock, settings)
        ran += 1
    return ran


def _claim(session_factory, clock, settings) -> tuple[int, int] | None:
    """(job id, attempt) of the next job to run, now leased to this worker."""
    while True:
        with UnitOfWork(session_factory, Actor.system("import-worker"), clock, settings) as uow:
            now = clock.now()
            query = (select(ImportJob).where(or_(ImportJob.status == "queued",
                                                 and_(ImportJob.status == "running", ImportJob.lease_until < now)))
                     .order_by(ImportJob.id).limit(1))
            if uow.session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            job = uow.session.scalars(query).first()
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                log.warning("import job %s given up after %s attempts", job.id, job.attempts)
                _end(job, "failed", now, errors=[as_data(Message(N_("导入已中断 %(count)s 次，未能完成，请重新上传"),
                                                                count=job.attempts))])
                uow.commit()
                continue
            job.status, job.attempts, job.lease_until, job.done = "running", job.attempts + 1, now + LEASE, 0
            job.started_at = job.started_at or now
            uow.commit()
            return job.id, job.attempts


def _end(job: ImportJob, status: str, now, errors=None, result=None) -> None:
    job.status, job.finished_at, job.lease_until, job.data = status, now, None, b""
    job.errors, job.result = errors or [], result or {}


def _fenced(job_id: int, attempt: int):
    """The job's row, if this worker's claim is still the latest."""
    return update(ImportJob).where(ImportJob.id == job_id, ImportJob.attempts == attempt,
                                   ImportJob.status == "running")


def run_job(session_factory, job_id: int, attempt: int, clock, settings=None) -> None:
    """Read, check and save one claimed job; the outcome is written to the job."""
    def write(**values) -> bool:
        with session_factory() as session:
            moved = session.execute(_fenced(job_id, attempt).values(**values)).rowcount
            session.commit()
        return moved == 1

    def fail(errors: list) -> None:   # Messages (or text): stored to be shown in the reader's language
        write(status="failed", errors=[as_data(e) for e in errors], result={}, finished_at=clock.now(),
              lease_until=None, data=b"")

    with session_factory() as session:
        job = session.get(ImportJob, job_id)
        kind_name, filename, data = job.kind, job.filename, job.data
        kind = _kinds()[kind_name]
        user = session.get(User, job.created_by)
        actor = Actor.of(user) if user is not None and user.active else None
    if actor is None or kind.role not in actor.roles:
        fail([Message(N_("上传者已无权进行此导入"))])
        return
    try:
        rows = kind.read(filename, data)
        if not write(total=len(rows), done=0, lease_until=clock.now() + LEASE):
            return
        reads = make_read_session_factory(session_factory.kw["bind"])

        def progress(done: int) -> None:
            if done % PROGRESS_EVERY == 0 or done == len(rows):
                write(done=done, lease_until=clock.now() + LEASE)

        with reads() as session:
            pending, errors = kind.check(session, rows, progress)
        if errors:
            fail(errors)
            return
        with UnitOfWork(session_factory, actor, clock, settings) as uow:
            # the job's row first: locked for the whole save, so no other worker claims it meanwhile
            finished = uow.session.execute(_fenced(job_id, attempt).values(
                status="done", errors=[], finished_at=clock.now(), lease_until=None, data=b""))
            if finished.rowcount != 1:
                log.warning("import job %s was taken over by another worker; this attempt is dropped", job_id)
                return
            result = kind.save(uow, pending, job_id) if kind.takes_job else kind.save(uow, pending)
            uow.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(result=result))
            uow.audit("import.done", job_id=job_id, kind=kind_name, rows=len(pending))
            uow.commit()
    except (SheetError, CaseError, AccountError, PermissionError) as exc:   # refusals meant for the user
        fail([message_of(exc)])
    except Exception:  # noqa: BLE001 -- the uploader sees a failed job; the log has the cause
        log.exception("import job %s failed", job_id)
        fail([Message(N_("导入失败（内部错误），请联系系统管理员"))])
