"""What a look-up finds: the subjects matching a key and their published records, each with its
open objection, as a snapshot kept with the look-up (plain JSON: it never changes afterwards)."""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import select

from ..case_errors import CaseError
from ..identifiers import InvalidIdentifier, check_citizen_id, check_uscc, mask_citizen_id
from ..messages import Message, N_
from ..models import Case, Document, Record, Subject
from ..numbers import case_no, record_no

KEY_KINDS = ("code", "citizen_id", "name")
DEAL_KINDS = ("procurement", "bidding", "funding", "honours", "appointment")
NAME_LIMIT, REF_LIMIT = 200, 100
PUBLISHED = ("published",)
MAX_SUBJECTS = 20          # a name shared by more subjects than this is listed up to this many


class LookupInvalid(CaseError):
    """A look-up refused for its input; `fields` says what is wrong with which field."""
    status = 422

    def __init__(self, fields: dict):
        super().__init__(N_("查询条件有误"))
        self.fields = fields


def clean_query(key_kind, value, deal_kind, deal_ref) -> tuple[str, str, str, str]:
    """The look-up's input normalised, or LookupInvalid naming every bad field."""
    fields = {}
    value = value.strip() if isinstance(value, str) else ""
    deal_ref = deal_ref.strip() if isinstance(deal_ref, str) else ""
    if key_kind not in KEY_KINDS:
        fields["key_kind"] = Message(N_("请选择查询方式（统一社会信用代码、公民身份号码或名称）"))
    elif not value:
        fields["value"] = Message(N_("请填写查询内容"))
    elif key_kind == "code":
        try:
            value = check_uscc(value)
        except InvalidIdentifier as exc:
            fields["value"] = exc.message
    elif key_kind == "citizen_id":
        try:
            value = check_citizen_id(value)
        except InvalidIdentifier as exc:
            fields["value"] = exc.message
    elif len(value) > NAME_LIMIT:
        fields["value"] = Message(N_("最多 %(limit)s 个字符"), limit=NAME_LIMIT)
    if deal_kind not in DEAL_KINDS:
        fields["deal_kind"] = Message(N_("请选择事项类型"))
    if not deal_ref:
        fields["deal_ref"] = Message(N_("请填写事项编号"))
    elif len(deal_ref) > REF_LIMIT:
        fields["deal_ref"] = Message(N_("最多 %(limit)s 个字符"), limit=REF_LIMIT)
    if fields:
        raise LookupInvalid(fields)
    return key_kind, value, deal_kind, deal_ref


def shown_query(key_kind: str, query: str) -> str:
    """The key as pages show it: a citizen ID masked."""
    return mask_citizen_id(query) if key_kind == "citizen_id" else query


def find(session, key_kind: str, value: str, office_name: str) -> list[dict]:
    """The subjects found by the key, each with its published records, their open objections and
    sanction decisions (two statements)."""
    column = Subject.name if key_kind == "name" else Subject.code
    subjects = session.execute(select(Subject.id, Subject.kind, Subject.name, Subject.code)
                               .where(column == value).order_by(Subject.id).limit(MAX_SUBJECTS)).all()
    if key_kind == "citizen_id":
        subjects = [s for s in subjects if s.kind == "civil_servant"]
    elif key_kind == "code":
        subjects = [s for s in subjects if s.kind == "department"]
    if not subjects:
        return []
    # one statement: the published records with their open objection and sanction decision, if any
    objection = (select(Case.id, Case.record_id, Case.created_at)
                 .where(Case.process_key == "objection", Case.status == "running").subquery())
    decision = (select(Document.record_id, Document.number)
                .where(Document.kind == "sanction", Document.superseded_by_id.is_(None)).subquery())
    rows = session.execute(
        select(Record.id, Record.subject_id, Record.severity, Record.facts, Record.field, Record.source,
               Record.decision_date, Record.publication_start, Record.publication_end, Record.publication_max_end,
               Record.under_objection, objection.c.id.label("objection_id"),
               objection.c.created_at.label("objection_at"), decision.c.number.label("decision_number"))
        .outerjoin(objection, objection.c.record_id == Record.id)
        .outerjoin(decision, decision.c.record_id == Record.id)
        .where(Record.subject_id.in_([s.id for s in subjects]), Record.status.in_(PUBLISHED))
        .order_by(Record.decision_date.desc(), Record.id.desc(), objection.c.id)).all()
    records, seen = [], set()
    for r in rows:                     # several objections or decisions of one record: the first
        if r.id not in seen:
            seen.add(r.id)
            records.append(r)
    by_subject: dict[int, list[dict]] = {}
    for r in records:
        by_subject.setdefault(r.subject_id, []).append({
            "id": r.id, "number": record_no(r.id), "severity": r.severity, "field": r.field, "source": r.source,
            "facts": r.facts or "", "decision_date": _iso(r.decision_date),
            "publication_start": _iso(r.publication_start),
            "publication_end": _iso(r.publication_end or r.publication_max_end),
            "authority": office_name, "decision_number": r.decision_number,
            "under_objection": bool(r.under_objection or r.objection_id is not None),
            "objection": {"case_id": r.objection_id, "number": case_no(r.objection_id, "objection"),
                          "filed_at": _utc(r.objection_at).isoformat()} if r.objection_id is not None else None,
        })
    return [{"id": s.id, "kind": s.kind, "name": s.name,
             "code": mask_citizen_id(s.code) if s.kind == "civil_servant" else s.code,
             "caution": bool(by_subject.get(s.id)), "records": by_subject.get(s.id, [])} for s in subjects]


def _utc(at):
    """A timestamp read through a subquery (SQLite gives it back naive, in UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


def _iso(day) -> str | None:
    return day.isoformat() if day else None
