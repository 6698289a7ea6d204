"""The domain model: SQLAlchemy 2.0 typed models. Schema changes go through Alembic."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (JSON, text, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, TypeDecorator, UniqueConstraint, MetaData)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("clerk", "reviewer", "leader", "subject", "manager", "personnel", "admin", "checker")
SUBJECT_KINDS = ("department", "civil_servant")
SEVERITIES = ("minor", "general", "serious")
RECORD_STATUSES = ("draft", "under_review", "returned", "rejected", "confirmed", "sanctioned", "exempted",
                   "published", "corrected", "revoked", "repaired", "expired", "archived")


class UTCDateTime(TypeDecorator):
    """Stores UTC; always gives back timezone-aware UTC datetimes (SQLite keeps no zone)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; credflow stores aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s",
          "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Subject(Base):
    """A record subject: a government department or a civil servant."""
    __tablename__ = "subject"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), index=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)  # USCC or citizen ID
    department_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    created_at: Mapped[datetime]

    @property
    def display_code(self) -> str:
        from .identifiers import mask_citizen_id
        return mask_citizen_id(self.code) if self.kind == "civil_servant" else self.code


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(255))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    # the department (a subject of kind department) a staff member works for: look-ups count per department
    department_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # set by an invitation or a reset: the next login must choose a new password first
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    roles: Mapped[list["UserRole"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_codes(self) -> set[str]:
        return {r.role for r in self.roles}


class UserRole(Base):
    __tablename__ = "user_role"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Record(Base):
    """A government dishonesty record (政务失信记录)."""
    __tablename__ = "record"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str | None] = mapped_column(String(40))
    severity: Mapped[str | None] = mapped_column(String(10))
    facts: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    decision_date: Mapped[date | None] = mapped_column(Date)
    conduct_date: Mapped[date | None] = mapped_column(Date)      # when the conduct happened
    project: Mapped[str | None] = mapped_column(String(200))     # a PPP or investment project, if any
    project_phase: Mapped[str | None] = mapped_column(String(40))
    publication_start: Mapped[date | None] = mapped_column(Date)
    publication_min_end: Mapped[date | None] = mapped_column(Date)
    publication_max_end: Mapped[date | None] = mapped_column(Date)
    publication_end: Mapped[date | None] = mapped_column(Date)
    repair_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    under_objection: Mapped[bool] = mapped_column(Boolean, default=False)
    sanctions: Mapped[list[Any] | None]
    sanctions_lifted: Mapped[bool] = mapped_column(Boolean, default=False)
    # a self-correction decision waiting for the sanction: {"decision", "severity", "max_months", ...}
    mitigation: Mapped[dict[str, Any] | None]
    # when the office notified the subject (告知; workflows/record_notice.py): the subject sees the
    # record from then on, never before
    notified_at: Mapped[datetime | None]
    # The publication rule in force when the record was made, with its numbers, kept for life.
    publication_rule: Mapped[str] = mapped_column(String(20))
    rule_snapshot: Mapped[dict[str, Any]]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    subject: Mapped[Subject] = relationship(lazy="joined")


class ProcessDefinition(Base):
    """One deployed version of one process: its BPMN/DMN sources and forms, immutable."""
    __tablename__ = "process_definition"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    bpmn_files: Mapped[dict[str, Any]]   # file name -> XML text
    dmn_files: Mapped[dict[str, Any]]
    forms: Mapped[dict[str, Any]]        # form file name -> JSON Schema
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime]


class Case(Base):
    """One process instance. `state` is the workflow without its spec; `version` guards writes."""
    __tablename__ = "case"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    # the party who works the case's subject-lane tasks when it is not the record's subject
    # (the responsible person of an accountability case)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # for applications: how it ended (refused, lapsed, correct, revoke, keep, lighter, exempt, approved, ...)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    definition: Mapped[ProcessDefinition] = relationship()
    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """A READY human task, mirrored from the workflow so the inbox never deserializes one."""
    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id"),
        # group tasks (unclaimed, by lane, by deadline) and their common filters: partial indexes
        Index("ix_human_task_group", "lane", "due_at", "id", postgresql_where=text("assignee_id IS NULL"),
              sqlite_where=text("assignee_id IS NULL")),
        Index("ix_human_task_group_filtered", "lane", "field", "severity", "due_at", "id",
              postgresql_where=text("assignee_id IS NULL"), sqlite_where=text("assignee_id IS NULL")),
        Index("ix_human_task_assignee", "assignee_id", "due_at"),
        # ids are never reused (SQLite would reuse a deleted max rowid): a stale page's task id
        # must not name the next task of the case
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    process_key: Mapped[str] = mapped_column(String(100))
    lane: Mapped[str | None] = mapped_column(String(20))
    form_key: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    subject_name: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(40))
    severity: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]
    reminded_at: Mapped[datetime | None]          # "due in 2 working days" sent
    overdue_notified_at: Mapped[datetime | None]  # "overdue" sent
    # approval actions (workflows/approvals): 'task' mirrors a workflow task; 'added_signer' is an
    # ad hoc approval (加签) of the step `parent_task_id`, answered beside the diagram
    kind: Mapped[str] = mapped_column(String(20), default="task", server_default="task")
    parent_task_id: Mapped[str | None] = mapped_column(String(36))
    # on whose behalf the assignee holds it: the delegator (委派) or the person on leave (deputy)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # what the holder must know first: {"kind": "returned", "by": ..., "reason": ...}
    notice: Mapped[dict[str, Any] | None]


class AuditEvent(Base):
    """Append-only; `hash` covers the previous event's hash, so an edit breaks the chain."""
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(index=True)
    record_id: Mapped[int | None] = mapped_column(index=True)
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """A single row holding the chain's last hash; locking it orders concurrent appends."""
    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class WorkdayOverride(Base):
    """A day whose working status the office sets itself (holiday or make-up working day)."""
    __tablename__ = "workday_override"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by: Mapped[str] = mapped_column(String(80), default="", server_default="")
    entered_at: Mapped[datetime | None]


class CalendarYear(Base):
    """A year the office's own override table covers fully (e.g. once the State Council publishes it)."""
    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    covered_by: Mapped[str] = mapped_column(String(80), default="", server_default="")
    covered_at: Mapped[datetime | None]


class TaskDraft(Base):
    """A form saved but not submitted; only its author sees it."""
    __tablename__ = "task_draft"
    task_row_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]


class Comment(Base):
    __tablename__ = "comment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    author_name: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attachment(Base):
    """An uploaded evidence file, stored outside the static folder under its sha256."""
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Notification(Base):
    """An in-app message (task assigned, deadline near, overdue, decision issued, ...)."""
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)     # the Chinese sentence (e-mail; rows older than `message`)
    # the same as a catalog id and parameters (workflows.messages.as_data), shown in the reader's language
    message: Mapped[dict[str, Any] | None]
    link: Mapped[str | None] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]


class DocumentSerial(Base):
    """The last serial issued per kind of document and year; locked while a number is taken."""
    __tablename__ = "document_serial"
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    """An issued, signed decision document. Immutable: a correction is a new document."""
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("kind", "year", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    year: Mapped[int]
    serial: Mapped[int]
    number: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    verification_code: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("record.id"), index=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subject.id"), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_data: Mapped[dict[str, Any]]   # the case data it was made from (a correction starts from it)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    supersede_reason: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(80))
    issued_at: Mapped[datetime]
    # the audit chain's last committed event when it was issued, also inside the signed PDF
    # (workflows/audit_anchors.py); no foreign key: the anchor must outlive a deleted event
    anchor_event_id: Mapped[int | None]
    anchor_hash: Mapped[str | None] = mapped_column(String(64))


class ProcessDraft(Base):
    """A process being edited in the browser: BPMN and forms, saved server-side until deployed."""
    __tablename__ = "process_draft"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    forms: Mapped[dict[str, Any]]
    base_version: Mapped[int | None]
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime]


class MigrationJob(Base):
    """Moving running cases from one definition version to another, in batches."""
    __tablename__ = "migration_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    status: Mapped[str] = mapped_column(String(20), default="running")   # running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    moved: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[list[Any]]            # [{"case_id", "reason"}]
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class PostHolding(Base):
    """Who held which post in which department (or project phase), from when to when."""
    __tablename__ = "post_holding"
    __table_args__ = (Index("ix_post_holding_lookup", "department_id", "post", "start_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    post: Mapped[str] = mapped_column(String(30))          # principal, official_in_charge, project_lead
    title: Mapped[str] = mapped_column(String(200), default="")
    project: Mapped[str | None] = mapped_column(String(200))
    project_phase: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)     # None: still in post
    created_at: Mapped[datetime]


class IntegrityEntry(Base):
    """An entry of a civil servant's integrity file (公务员诚信档案)."""
    __tablename__ = "integrity_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))   # personal_report, integrity, appraisal, violation, accountability, commendation
    summary: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    entry_date: Mapped[date] = mapped_column(Date)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class ApiToken(Base):
    """A bearer token for the JSON API; only its sha256 is stored. It acts as its user."""
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]      # None only for tokens made before expiry existed
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class UserSession(Base):
    """A browser session on the server: the cookie carries a random id, only its sha256 is kept.
    Ending the row (logout, password change, deactivation, role change) ends every copy of the cookie."""
    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class ActivationCode(Base):
    """A one-time code the office hands over: activates an invited account or a password reset.
    Only its sha256 is kept; `used_at` makes it single-use."""
    __tablename__ = "activation_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))     # invitation, reset
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
