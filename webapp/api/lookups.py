"""逢办必查 through the API: a look-up before a deal (kept and audited as on the page), a look-up
read back, and its signed extract issued on demand (once; asked again, the same document)."""
from __future__ import annotations

import base64

from flask import current_app, jsonify
from flask_babel import gettext as _

from workflows.lookups.access import may_look_up
from workflows.lookups.search import LookupInvalid, shown_query
from workflows.lookups.service import issue_extract, look_up, lookup_for
from workflows.models import Document

from ..context import db
from ..translate import translated
from . import bp
from .access import api_actor, forbidden, unit_of_work
from .errors import ApiError
from .params import json_object
from .payloads import iso

FIELDS = ("key_kind", "value", "deal_kind", "deal_ref")


def _caller():
    actor = api_actor()
    if not may_look_up(actor):
        raise forbidden()
    return actor


def _document_json(document: Document | None) -> dict | None:
    if document is None:
        return None
    verify = current_app.config["SETTINGS"].public_url.rstrip("/") + f"/public/verify/{document.verification_code}"
    return {"id": document.id, "number": document.number, "verification_code": document.verification_code,
            "verify_url": verify, "issued_at": iso(document.issued_at)}


def lookup_json(lookup, document: Document | None = None) -> dict:
    return {
        "id": lookup.id, "key_kind": lookup.key_kind, "query": shown_query(lookup.key_kind, lookup.query),
        "deal_kind": lookup.deal_kind, "deal_ref": lookup.deal_ref, "checked_by": lookup.username,
        "department_id": lookup.department_id, "created_at": iso(lookup.created_at), "hit": lookup.hit,
        "flag": "需审慎办理" if lookup.hit else None, "subjects": lookup.result.get("subjects") or [],
        "outcome": {"outcome": lookup.outcome, "reason": lookup.outcome_reason, "by": lookup.outcome_by,
                    "at": iso(lookup.outcome_at)} if lookup.outcome else None,
        "extract": _document_json(document),
    }


@bp.post("/lookups")
def create_lookup():
    _caller()
    body = json_object()
    unknown = {k: _("表单不含此字段") for k in body if k not in FIELDS}
    if unknown:
        raise ApiError(422, _("表单有误"), unknown)
    try:
        with unit_of_work() as uow:
            lookup = look_up(uow, body.get("key_kind"), body.get("value"), body.get("deal_kind"),
                             body.get("deal_ref"), via_api=True)
            uow.commit()
    except LookupInvalid as exc:
        raise ApiError(422, translated(exc), dict(exc.fields)) from None
    response = jsonify(lookup_json(lookup))
    response.status_code = 201
    return response


def _lookup(lookup_id: int):
    """A look-up the caller may open; any other is 404 (the CaseError answers through errors.py)."""
    return lookup_for(db(), _caller(), lookup_id)


@bp.get("/lookups/<int:lookup_id>")
def get_lookup(lookup_id: int):
    lookup = _lookup(lookup_id)
    document = db().get(Document, lookup.document_id) if lookup.document_id else None
    return jsonify(lookup_json(lookup, document))


@bp.post("/lookups/<int:lookup_id>/extract")
def lookup_extract(lookup_id: int):
    lookup = _lookup(lookup_id)
    issued = lookup.document_id is None
    with unit_of_work() as uow:
        document = issue_extract(uow, lookup.id)
        uow.commit()
    response = jsonify({**_document_json(document), "pdf_base64": base64.b64encode(document.pdf).decode("ascii")})
    response.status_code = 201 if issued else 200
    return response
