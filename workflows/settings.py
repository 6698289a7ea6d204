"""Settings with the defaults from the national rules (shared/notes/domain.md).

Every number a rule can change is here, not in code paths. `CREDFLOW_SETTINGS` may name a JSON
file whose keys override these defaults.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field, replace
from datetime import date

# Publication rules: which one was in force on a record's decision date. The periods themselves
# are rows of bpmn/sanction_rules.dmn keyed by the rule code, so managers version them as BPMN.
PUBLICATION_RULES = [
    {"code": "2019", "effective_from": "2019-01-01",
     "title": "榆政办函〔2019〕1号（一般失信公示3至12个月，严重失信公示6至36个月）"},
    {"code": "2025", "effective_from": "2026-04-01",
     "title": "信用修复管理办法（国家发展改革委令2025年第36号）"},

]


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail leaves (CREDFLOW_SMTP_*); no host: no e-mail is queued or sent."""
    host: str = ""
    port: int = 25
    sender: str = "credflow@localhost"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0        # seconds for each exchange with the server
    helo_name: str = field(default_factory=socket.gethostname)

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_environ(cls, env=None) -> "SmtpSettings":
        env = os.environ if env is None else env
        return cls(host=env.get("CREDFLOW_SMTP_HOST", ""), port=int(env.get("CREDFLOW_SMTP_PORT") or 25),
                   sender=env.get("CREDFLOW_SMTP_FROM") or "credflow@localhost", user=env.get("CREDFLOW_SMTP_USER", ""),
                   password=env.get("CREDFLOW_SMTP_PASSWORD", ""),
                   timeout=float(env.get("CREDFLOW_SMTP_TIMEOUT") or 30),
                   helo_name=env.get("CREDFLOW_SMTP_HELO") or socket.gethostname())


DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


def _public_url_from_environ() -> str:
    return (os.environ.get("CREDFLOW_PUBLIC_URL") or "").strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    publication_rules: list = field(default_factory=lambda: list(PUBLICATION_RULES))
    office_name: str = "榆林市社会信用体系建设领导小组办公室"
    script_time_limit: float = 1.0
    task_due_workdays: int = 5   # when a user task names no dueInWorkdays
    supplement_workdays: int = 5          # default deadline of a request to supplement (补正)
    repair_decision_workdays: int = 10    # decision on a repair application after acceptance
    sharing_workdays: int = 3             # a repair result is shared upward within this
    # the platforms every publication and change of a record is shared with (workflows/sharing)
    sharing_platforms: tuple = ("provincial", "national")
    repair_repeat_limit_months: int = 12  # no second repair for a subject within this after the last
    # the record status at which the office notifies the subject (告知) and from which the subject
    # sees the record: confirmation, so that self-correction can be claimed before the sanction
    subject_notice_status: str = "confirmed"
    # from this day (MM-DD) on, while next year's working-day calendar is not entered, admins and
    # leaders see a banner and get a weekly notification
    calendar_warning_from: str = "11-01"
    reminder_workdays: int = 2            # "deadline near" notice this many working days before
    # document numbers 代字〔year〕N号: the 代字 per kind of document
    document_prefixes: dict = field(default_factory=lambda: {
        "sanction": "榆信惩决", "objection": "榆信异决", "self_correction": "榆信自决", "repair": "榆信修决",
        "receipt": "榆信受字", "supplement_request": "榆信补字", "accountability": "榆信问决",
        "credit_check": "榆信审字",
        "complaint_reply": "榆信投复",
        "lookup_extract": "榆信查字",
        "evaluation_report": "榆信评"})
    # remedy notices: departments (administrative review / litigation), civil servants (复核 / 申诉)
    remedy_periods: dict = field(default_factory=lambda: {
        "administrative_review_days": 60, "litigation_months": 6,
        "review_days_civil_servant": 30, "appeal_after_review_days": 15, "appeal_direct_days": 30})
    statement_workdays: int = 5           # a person's time to state their case (陈述申辩)
    # township commitments (workflows/commitments): reminders this many working days before the
    # deadline, and the township's time to report its fulfilment after it
    commitment_reminder_workdays: tuple = (10, 3)
    commitment_report_workdays: int = 5
    # how long each kind of integrity-file entry stays in view, in months
    integrity_view_months: dict = field(default_factory=lambda: {
        "personal_report": 60, "integrity": 60, "appraisal": 60, "violation": 60, "accountability": 60,
        "commendation": 60})
    # accounts: password policy, one-time activation codes, API token lifetime
    password_min_length: int = 10
    password_reject_common: bool = True   # refuse the passwords of workflows/common_passwords.txt
    activation_code_days: int = 7
    api_token_days: int = 90
    # where the public verification page is reached (printed on documents and in their QR codes)
    # (CREDFLOW_PUBLIC_URL); unset, it is the development server's default address, fine on this
    # machine only: a serving process warns at start-up (webapp/startup.py), and `make run` sets it
    public_url: str = field(default_factory=lambda: _public_url_from_environ() or DEFAULT_PUBLIC_URL)
    public_url_configured: bool = field(default_factory=lambda: bool(_public_url_from_environ()))
    # signed audit checkpoints are also written here, outside the database (workflows/audit_checkpoints.py)
    audit_checkpoint_folder: str = field(default_factory=lambda: os.environ.get("CREDFLOW_AUDIT_CHECKPOINT_DIR", ""))
    # e-mail: the server, and how the outbox worker sends (workflows/outbox/)
    smtp: SmtpSettings = field(default_factory=SmtpSettings.from_environ)
    outbox_batch: int = 20                  # messages claimed at a time by one worker
    outbox_lease_seconds: float = 600.0     # a claimed message is taken again after this (a killed worker's)
    outbox_max_attempts: int = 8            # then the message is 'failed', shown to admins
    outbox_retry_base_seconds: float = 60.0   # backoff: base * 2**(attempt-1), at most the cap
    outbox_retry_max_seconds: float = 3600.0
    # complaints (workflows/complaints): the reviewer's verification deadline, the public form's
    # limits per client address and window, and how long a form's challenge may be answered
    complaint_verification_workdays: int = 10
    complaint_posts_per_address: int = 200
    complaint_status_lookups_per_address: int = 200
    complaint_window_hours: int = 24
    complaint_challenge_minutes: int = 60
    # the yearly integrity evaluation (workflows/evaluation): each department may object to its
    # score within this many working days; the reviewer may recompute the scores this many times
    evaluation_objection_workdays: int = 5
    evaluation_recomputations: int = 3
    # early warning (监测预警, workflows/early_warning): each rule's thresholds; "on": false switches
    # a rule off. A settings file may name only the rules and numbers it changes.
    warning_rules: dict = field(default_factory=lambda: {
        "department_records": {"on": True, "records": 2, "months": 12},    # >= records in the last months
        "overdue_step": {"on": True, "workdays": 3},          # a step overdue by more than this
        "commitment_due": {"on": True, "workdays": 10},       # a commitment due within this, unfulfilled
        "objections_upheld": {"on": True, "objections": 2, "months": 12},   # against one reviewer's records
        "repair_deadline": {"on": True, "workdays": 3}})      # a repair application's decision deadline

    def rule_in_force(self, day: date) -> dict:
        rules = sorted(self.publication_rules, key=lambda r: r["effective_from"])
        chosen = None
        for rule in rules:
            if date.fromisoformat(rule["effective_from"]) <= day:
                chosen = rule
        if chosen is None:
            raise ValueError(f"no publication rule was in force on {day.isoformat()}")
        return dict(chosen)


def load_settings() -> Settings:
    path = os.environ.get("CREDFLOW_SETTINGS")
    if not path:
        return Settings()
    with open(path, encoding="utf-8") as fh:
        values = json.load(fh)
    if isinstance(values.get("smtp"), dict):
        values["smtp"] = replace(SmtpSettings.from_environ(), **values["smtp"])
    if values.get("public_url"):
        values["public_url"] = str(values["public_url"]).strip().rstrip("/")
        values.setdefault("public_url_configured", True)
    return replace(Settings(), **values)
