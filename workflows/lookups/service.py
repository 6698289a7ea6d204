"""The look-up services: make a look-up (kept and audited with what it found), record a deal's
outcome after a hit, issue the signed extract, and read look-ups as their viewer may."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from ..case_errors import CaseError, Conflict, Forbidden, NotFound
from ..messages import Message, N_
from ..models import Document, Subject, User
from .access import department_of, may_look_up, may_open_lookup, may_record_outcome, sees_every_lookup
from .model import Lookup
from .search import LookupInvalid, clean_query, find, shown_query

OUTCOMES = ("proceeded", "dropped")
REASON_LIMIT = 2000


def look_up(uow, key_kind, value, deal_kind, deal_ref, via_api: bool = False) -> Lookup:
    """One look-up before a deal: what it found is kept with it, and the audit trail says who
    looked up whom for which deal."""
    actor = uow.actor
    if not may_look_up(actor):
        raise Forbidden(N_("您的角色不能进行逢办必查查询"))
    key_kind, value, deal_kind, deal_ref = clean_query(key_kind, value, deal_kind, deal_ref)
    session = uow.session
    subjects = find(session, key_kind, value, uow.settings.office_name)
    hit = any(s["caution"] for s in subjects)
    lookup = Lookup(user_id=actor.user_id, username=actor.name, checker_name=actor.shown_name,
                    department_id=department_of(session, actor), via_api=via_api, key_kind=key_kind, query=value,
                    deal_kind=deal_kind, deal_ref=deal_ref, hit=hit, result={"subjects": subjects},
                    created_at=uow.clock.now())
    session.add(lookup)
    session.flush()
    uow.audit("lookup.made", lookup_id=lookup.id, key_kind=key_kind, query=shown_query(key_kind, value),
              deal_kind=deal_kind, deal_ref=deal_ref, department_id=lookup.department_id, hit=hit,
              subjects=[s["id"] for s in subjects],
              records=[r["id"] for s in subjects for r in s["records"]], via_api=via_api)
    return lookup


def lookup_for(session, actor, lookup_id: int, lock: bool = False) -> Lookup:
    """A look-up its viewer may open; any other is 'not found' (no probing of other departments)."""
    query = select(Lookup).where(Lookup.id == lookup_id)
    if lock:
        query = query.with_for_update()
    lookup = session.scalar(query) if isinstance(lookup_id, int) and 0 < lookup_id < 2 ** 31 else None
    if not may_open_lookup(session, actor, lookup):
        raise NotFound(N_("查询记录不存在"))
    return lookup


def record_outcome(uow, lookup_id: int, outcome, reason) -> Lookup:
    """After a hit: the deal went ahead (a reason is required) or did not. Once recorded it
    stays; the same answer sent again changes nothing, a different one is refused."""
    lookup = lookup_for(uow.session, uow.actor, lookup_id, lock=True)
    if not may_record_outcome(uow.session, uow.actor, lookup):
        raise CaseError(N_("查询未发现失信记录，无需登记办理结果"))
    reason = reason.strip() if isinstance(reason, str) else ""
    fields = {}
    if outcome not in OUTCOMES:
        fields["outcome"] = N_("请选择办理结果")
    elif outcome == "proceeded" and not reason:
        fields["reason"] = N_("存在失信记录仍继续办理的，须填写理由")
    if len(reason) > REASON_LIMIT:
        fields["reason"] = N_("理由不能超过 2000 字")
    if fields:
        raise LookupInvalid({k: Message(v) for k, v in fields.items()})
    if lookup.outcome is not None:
        if lookup.outcome == outcome and (lookup.outcome_reason or "") == reason:
            return lookup           # the same answer again (a double submit): one effect
        raise Conflict(N_("办理结果已由 %(who)s 登记，不能更改"), who=lookup.outcome_by)
    lookup.outcome, lookup.outcome_reason = outcome, reason or None
    lookup.outcome_by, lookup.outcome_at = uow.actor.name, uow.clock.now()
    uow.audit("lookup.outcome", lookup_id=lookup.id, outcome=outcome, reason=reason, deal_ref=lookup.deal_ref)
    return lookup


def issue_extract(uow, lookup_id: int) -> Document:
    """The signed extract of a look-up (信用信息查询结果), issued once on demand: asked again, the
    same document comes back."""
    from ..documents import issue_document
    from .extract import extract_data
    lookup = lookup_for(uow.session, uow.actor, lookup_id, lock=True)
    if lookup.document_id is not None:
        return uow.session.get(Document, lookup.document_id)
    found = lookup.result.get("subjects") or []
    party = uow.session.get(Subject, found[0]["id"]) if len(found) == 1 else None
    if party is None:    # nobody, or several: the extract is addressed to no one subject
        party = SimpleNamespace(id=None, kind=None, name="", display_code="")
    department = uow.session.get(Subject, lookup.department_id) if lookup.department_id else None
    document = issue_document(uow, "lookup_extract", None, None, extract_data(lookup, department), party=party)
    lookup.document_id = document.id
    uow.audit("lookup.extract", lookup_id=lookup.id, document_id=document.id, number=document.number)
    return document


def visible_lookups(session, actor, page: int = 1, per_page: int = 25):
    """The look-ups its viewer may see, newest first: (rows, total)."""
    query = _visible_query(session, actor)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Lookup.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return rows, total


def every_visible_lookup(session, actor, limit: int):
    """All the look-ups `visible_lookups` pages through (up to `limit`), newest first: the whole
    list, for its export, streamed in chunks."""
    query = _visible_query(session, actor).order_by(Lookup.id.desc()).limit(limit)
    return session.scalars(query.execution_options(yield_per=1000))


def _visible_query(session, actor):
    if not may_look_up(actor):
        raise Forbidden(N_("您的角色不能进行逢办必查查询"))
    query = select(Lookup)
    if not sees_every_lookup(actor):
        department = department_of(session, actor)
        query = query.where(Lookup.department_id == department if department is not None
                            else Lookup.user_id == actor.user_id)
    return query


def department_names(session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.execute(select(Subject.id, Subject.name).where(Subject.id.in_(ids))).all())


def set_department(uow, user_id: int, department_id) -> User:
    """The system administrator says which department a staff member works for (or none)."""
    if "admin" not in uow.actor.roles:
        raise Forbidden(N_("只有系统管理员可以设置所属部门"))
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("用户不存在"))
    if department_id is not None:
        department = uow.session.get(Subject, department_id)
        if department is None or department.kind != "department":
            raise CaseError(N_("请选择一个政府部门"))
    if user.department_id == department_id:
        return user
    before, user.department_id = user.department_id, department_id
    uow.audit("user.department_set", user_id=user.id, username=user.username, before=before, after=department_id)
    return user
