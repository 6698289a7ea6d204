"""The look-ups' (逢办必查) part of the OpenAPI document (webapp/api/lookups.py): paths and schemas."""
from __future__ import annotations

from workflows.lookups.search import DEAL_KINDS, KEY_KINDS, NAME_LIMIT, REF_LIMIT
from workflows.models import SEVERITIES, SUBJECT_KINDS

from .openapi import DATE, DATETIME, ID, STRING, _nullable, _object, _path, _ref, _responses

DOCUMENT = {"id": ID, "number": STRING, "verification_code": STRING,
            "verify_url": {"type": "string", "description": "The public page that verifies the extract."},
            "issued_at": DATETIME}


def lookup_schemas() -> dict:
    record = _object({
        "id": ID, "number": STRING, "severity": _nullable({"type": "string", "enum": list(SEVERITIES)}),
        "field": _nullable(STRING), "source": _nullable(STRING), "facts": STRING, "decision_date": _nullable(DATE),
        "publication_start": _nullable(DATE), "publication_end": _nullable(DATE),
        "authority": {"type": "string", "description": "The authority that made the record."},
        "decision_number": _nullable(STRING), "under_objection": {"type": "boolean"},
        "objection": _nullable(_object({"case_id": ID, "number": STRING, "filed_at": DATETIME})),
    })
    return {
        "NewLookup": {
            "type": "object", "additionalProperties": False, "required": list(("key_kind", "value", "deal_kind", "deal_ref")),
            "description": "Look a subject up before a deal: by unified social credit code (check digits verified), "
                           "citizen ID number (verified) or exact name.",
            "properties": {
                "key_kind": {"type": "string", "enum": list(KEY_KINDS)},
                "value": {"type": "string", "minLength": 1, "maxLength": NAME_LIMIT},
                "deal_kind": {"type": "string", "enum": list(DEAL_KINDS),
                              "description": "procurement 政府采购, bidding 招标投标, funding 资金安排, "
                                             "honours 评优评先/表彰, appointment 任用."},
                "deal_ref": {"type": "string", "minLength": 1, "maxLength": REF_LIMIT, "pattern": "\\S",
                             "description": "The deal's reference number."},
            },
        },
        "LookupRecord": record,
        "LookupSubject": _object({
            "id": ID, "kind": {"type": "string", "enum": list(SUBJECT_KINDS)}, "name": STRING,
            "code": {"type": "string", "description": "USCC, or a civil servant's ID with its middle masked."},
            "caution": {"type": "boolean", "description": "A published record: 需审慎办理."},
            "records": {"type": "array", "items": _ref("LookupRecord")},
        }),
        "Lookup": _object({
            "id": ID, "key_kind": {"type": "string", "enum": list(KEY_KINDS)},
            "query": {"type": "string", "description": "The key looked up (a citizen ID masked)."},
            "deal_kind": {"type": "string", "enum": list(DEAL_KINDS)}, "deal_ref": STRING, "checked_by": STRING,
            "department_id": _nullable(ID), "created_at": DATETIME, "hit": {"type": "boolean"},
            "flag": _nullable({"type": "string", "enum": ["需审慎办理"]}),
            "subjects": {"type": "array", "items": _ref("LookupSubject"),
                         "description": "What was found at the time of the look-up (empty: no record)."},
            "outcome": _nullable(_object({"outcome": {"type": "string", "enum": ["proceeded", "dropped"]},
                                          "reason": _nullable(STRING), "by": STRING, "at": DATETIME})),
            "extract": _nullable(_object(DOCUMENT)),
        }),
        "LookupExtract": _object({**DOCUMENT, "pdf_base64": {"type": "string", "contentEncoding": "base64",
                                                            "description": "The signed PDF."}}),
    }


def lookup_paths() -> dict:
    lookup = [_path("lookup_id")]
    return {
        "/api/v1/lookups": {"post": {
            "operationId": "createLookup", "summary": "逢办必查: look a subject up before a deal (kept and audited)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewLookup"), "example": {
                "key_kind": "code", "value": "11610800MB1234567X", "deal_kind": "procurement", "deal_ref": "YLCG-2026-118"}}}},
            "responses": _responses(201, "Lookup", "The look-up and what it found", 400, 403, 422)}},
        "/api/v1/lookups/{lookup_id}": {"get": {
            "operationId": "getLookup", "summary": "A look-up (checkers: their department's; the credit office: all)",
            "parameters": lookup, "responses": _responses(200, "Lookup", "The look-up", 403, 404)}},
        "/api/v1/lookups/{lookup_id}/extract": {"post": {
            "operationId": "issueLookupExtract",
            "summary": "The look-up's signed extract (信用信息查询结果), issued once; asked again, the same one",
            "parameters": lookup,
            "responses": {**_responses(201, "LookupExtract", "Issued now", 403, 404),
                          "200": {"description": "Issued before", "content": {"application/json": {
                              "schema": _ref("LookupExtract")}}}}}},
    }
