"""The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json. The capture form's
schema is the deployed one (`document(capture)`), so the description follows the process."""
from __future__ import annotations

from copy import deepcopy

from workflows.inbox import SORTS, TABS
from workflows.models import RECORD_STATUSES, SEVERITIES, SUBJECT_KINDS

from ..context import MAX_PAGE

MAX_ID = 2 ** 31 - 1
CASE_STATUSES = ("running", "completed", "error")

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STRING = {"type": "string"}
NO_NUL = "^[^\\x00]*$"     # text is stored: NUL characters are refused (400 in a parameter, 422 in a body)
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
RECORD_NUMBER = {"type": "string", "pattern": "^R-[0-9]{6,}$", "examples": ["R-000012"],
                 "description": "The record's number as people read it (R- and the id, zero-padded to 6 digits)."}
CASE_NUMBER = {"type": "string", "pattern": "^[AC]-[0-9]{6,}$", "examples": ["C-000007", "A-000009"],
               "description": "The case's number as people read it: A- for an application (objection, "
                              "self-correction, credit repair), C- for every other case; then the id, zero-padded."}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict, required: list | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required, "additionalProperties": False}


def _schemas(capture: dict) -> dict:
    count = {"type": "integer", "minimum": 0}
    task = {
        "id": ID, "case_id": ID, "record_id": _nullable(ID), "process": STRING, "bpmn_id": STRING,
        "name": STRING, "lane": _nullable(STRING),
        "subject": _nullable(_object({"id": ID, "name": _nullable(STRING)})),
        "field": _nullable(STRING), "severity": _nullable(STRING), "due_at": _nullable(DATETIME),
        "overdue": {"type": "boolean"}, "created_at": DATETIME, "assignee": _nullable(_ref("Assignee")),
        "claimed_at": _nullable(DATETIME),
    }
    return {
        "Error": _object({
            "error": {"type": "string", "description": "What went wrong, for people, in the request's language "
                                                              "(Chinese; English with `lang=en` or Accept-Language)."},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "One message per invalid field or parameter."},
        }, required=["error"]),
        "Subject": _object({
            "id": ID, "kind": {"type": "string", "enum": list(SUBJECT_KINDS)}, "name": STRING,
            "code": {"type": "string", "description": "USCC, or a civil servant's ID with its middle masked."},
        }),
        "Record": _object({
            "id": ID, "number": RECORD_NUMBER, "status": {"type": "string", "enum": list(RECORD_STATUSES)},
            "subject": _ref("Subject"),
            "source": _nullable(STRING), "field": _nullable(STRING),
            "severity": _nullable({"type": "string", "enum": list(SEVERITIES)}),
            "facts": _nullable(STRING), "legal_basis": _nullable(STRING), "decision_date": _nullable(DATE),
            "conduct_date": _nullable(DATE), "project": _nullable(STRING), "project_phase": _nullable(STRING),
            "publication_rule": STRING, "sanctions": _nullable({"type": "array", "items": STRING}),
            "publication_start": _nullable(DATE), "publication_min_end": _nullable(DATE),
            "publication_max_end": _nullable(DATE), "publication_end": _nullable(DATE),
            "repair_eligible": {"type": "boolean"}, "under_objection": {"type": "boolean"},
            "created_at": DATETIME, "updated_at": DATETIME,
            "case_id": {**_nullable(ID), "description": "The record's lifecycle case (staff only)."},
        }),
        "RecordPage": _object({"records": {"type": "array", "items": _ref("Record")}, "total": count,
                               "page": ID, "per_page": ID, "pages": ID}),
        "NewSubject": _object({
            "kind": {"type": "string", "enum": list(SUBJECT_KINDS)},
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
            "code": {"type": "string", "minLength": 18, "maxLength": 18,
                     "description": "USCC for a department, citizen ID for a civil servant (check digits verified)."},
        }),
        "NewRecord": {
            "type": "object", "additionalProperties": False, "required": ["capture"],
            "description": "An existing subject (`subject_id`) or a new one (`subject`), and the capture form.",
            "properties": {"subject_id": ID, "subject": _ref("NewSubject"), "capture": _ref("CaptureForm")},
            "oneOf": [{"required": ["subject_id"]}, {"required": ["subject"]}],
        },
        "CaptureForm": capture,
        "CreatedRecord": _object({"record": _ref("Record"), "case_id": ID}),
        "Assignee": _object({"id": ID, "name": STRING}),
        "Task": _object(task),
        "TaskDetail": _object({**task, "form": {
            "type": "object",
            "description": "The task form's JSON Schema (2020-12): what `data` must be to complete the task."}}),
        "TaskPage": _object({
            "tasks": {"type": "array", "items": _ref("Task")}, "tab": {"type": "string", "enum": list(TABS)},
            "counts": {"type": "object", "propertyNames": {"enum": list(TABS)}, "additionalProperties": count},
            "total": count, "page": ID, "per_page": ID, "pages": ID,
        }),
        "Completion": {"type": "object", "additionalProperties": False, "required": ["data"],
                       "properties": {"data": {"type": "object", "description":
                                               "The task form's fields (see `form` of GET /tasks/{task_id})."}}},
        "Completed": _object({
            "task_id": ID, "case_id": ID, "case_status": {"type": "string", "enum": list(CASE_STATUSES)},
            "record_id": _nullable(ID), "record_status": _nullable({"type": "string", "enum": list(RECORD_STATUSES)}),
        }),
        "Case": _object({
            "id": ID, "number": CASE_NUMBER, "process": STRING, "version": {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": list(CASE_STATUSES)}, "outcome": _nullable(STRING),
            "error": _nullable(STRING), "record_id": _nullable(ID), "parent_case_id": _nullable(ID),
            "created_at": DATETIME, "updated_at": DATETIME, "completed_at": _nullable(DATETIME),
            "tasks": {"type": "array", "items": _ref("Task"), "description": "The open tasks."},
        }),
    }


ERROR_TEXT = {400: "Invalid parameters or body", 401: "No token, or a bad, revoked or deactivated user's token",
              403: "The caller's roles do not allow this", 404: "Not found (or not the subject's own)",
              409: "Conflict: the task was completed (by whom, in `error`) or claimed by someone else, "
                   "or the case moved on since `case_version`",
              422: "Invalid fields (`fields`)", 503: "The record process is not deployed"}


def _responses(ok_status: int, ok_schema: str, ok_text: str, *errors: int) -> dict:
    responses = {str(ok_status): {"description": ok_text,
                                  "content": {"application/json": {"schema": _ref(ok_schema)}}}}
    for status in (401, *errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    return responses


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _text_query(name: str, max_length: int, description: str) -> dict:
    return _query(name, {"type": "string", "maxLength": max_length, "pattern": NO_NUL}, description)


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


PAGING = [_query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."),
          _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}, "Rows per page.")]


NEXT_PARAMETERS = [   # the inbox's filters and order (GET /tasks and POST /tasks/next)
    _text_query("process", 100, "Process key."),
    _text_query("task", 100, "BPMN id of the task."),
    _text_query("field", 40, "Field of the record."),
    _query("severity", {"type": "string", "enum": list(SEVERITIES)}, "Severity of the record."),
    _text_query("subject", 200, "Part of the subject's name, or a record or case number (`R-12`, `C-7`)."),
    _query("overdue", {"type": "boolean", "default": False}, "Only tasks past their deadline."),
    _query("sort", {"type": "string", "enum": list(SORTS), "default": "due"}, "Sort column."),
    _query("desc", {"type": "boolean", "default": False}, "Sort descending."),
]


def _capture_example(capture: dict) -> dict:
    props = capture.get("properties", {})
    example = {"source": "administrative_penalty", "field": "government_procurement", "severity": "general",
               "facts": "逾期未支付中小企业账款。", "legal_basis": "《保障中小企业款项支付条例》第八条",
               "decision_date": "2026-05-29"}
    return {k: v for k, v in example.items() if k in props}


def document(capture: dict | None = None) -> dict:
    from .openapi_approvals import approval_paths, approval_schemas   # (they build on this module)
    from .openapi_lookups import lookup_paths, lookup_schemas
    capture = deepcopy(capture) if capture else {"type": "object"}
    capture.pop("$schema", None)
    task_path = [_path("task_id")]
    return {
        "openapi": "3.1.0",
        "info": {"title": "credflow API", "version": "1",
                 "description": "Records, cases and tasks of credflow. Authenticate with `Authorization: Bearer "
                                "<token>` (`credflow api-token USERNAME`). Errors are `{\"error\", \"fields\"?}`, "
                                "in one language: Chinese by default, English with the query argument `lang=en` "
                                "or an `Accept-Language` header preferring `en`."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/records": {
                "get": {
                    "operationId": "listRecords",
                    "summary": "Records (staff: all; a subject account: its own, once the office has notified it)",
                    "parameters": [
                        _query("status", {"type": "string", "enum": list(RECORD_STATUSES)}, "Only this status."),
                        _text_query("q", 200, "Part of the subject's name, its code, or a record or case number "
                                              "(`R-12`, `C-7`, `A-7`, `12`)."),
                        *PAGING],
                    "responses": _responses(200, "RecordPage", "A page of records, newest first", 400, 403),
                },
                "post": {
                    "operationId": "createRecord", "summary": "Capture a record (clerks); it goes to legality review",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("NewRecord"),
                        "example": {"subject_id": 1, "capture": _capture_example(capture)}}}},
                    "responses": _responses(201, "CreatedRecord", "The record and its lifecycle case",
                                            400, 403, 404, 409, 422, 503),
                },
            },
            "/api/v1/records/{record_id}": {
                "get": {"operationId": "getRecord", "summary": "One record",
                        "parameters": [_path("record_id")],
                        "responses": _responses(200, "Record", "The record", 403, 404)},
            },
            "/api/v1/cases/{case_id}": {
                "get": {"operationId": "getCase",
                        "summary": "A case with its open tasks (staff; a subject: its own applications)",
                        "parameters": [_path("case_id")],
                        "responses": _responses(200, "Case", "The case", 403, 404)},
            },
            "/api/v1/tasks": {
                "get": {
                    "operationId": "listTasks", "summary": "The inbox: my tasks, my lanes' group tasks, all (leaders)",
                    "parameters": [
                        _query("tab", {"type": "string", "enum": list(TABS)},
                               "mine: claimed by me (a subject account: the tasks addressed to it); group: "
                               "unclaimed in my lanes; all: every open staff task (leaders). Default: group, "
                               "for a subject account mine."),
                        *NEXT_PARAMETERS, *PAGING],
                    "responses": _responses(200, "TaskPage", "A page of open tasks", 400, 403),
                },
            },
            "/api/v1/tasks/{task_id}": {
                "get": {"operationId": "getTask", "summary": "An open task with its form's JSON Schema",
                        "parameters": task_path,
                        "responses": _responses(200, "TaskDetail", "The task", 403, 404, 409)},
            },
            "/api/v1/tasks/next": {
                "post": {"operationId": "claimNextTask",
                         "summary": "Claim the first task of my group queue (the filters and order of GET /tasks)",
                         "parameters": NEXT_PARAMETERS,
                         "responses": {**_responses(200, "Task", "The claimed task", 400, 403),
                                       "204": {"description": "Nothing to claim: the group queue is empty"}}},
            },
            "/api/v1/tasks/{task_id}/claim": {
                "post": {"operationId": "claimTask", "summary": "Claim a task of one of my lanes",
                         "parameters": task_path,
                         "responses": _responses(200, "Task", "The claimed task", 403, 404, 409)},
            },
            "/api/v1/tasks/{task_id}/unclaim": {
                "post": {"operationId": "unclaimTask",
                         "summary": "Give a task I claimed back to its group (leaders: any task)",
                         "parameters": task_path,
                         "responses": _responses(200, "Task", "The released task", 403, 404, 409)},
            },
            "/api/v1/tasks/{task_id}/complete": {
                "post": {
                    "operationId": "completeTask", "summary": "Complete a task with its form's data",
                    "parameters": task_path,
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": _ref("Completion"),
                        "example": {"data": {"review_decision": "approve", "review_opinion": "事实清楚，依据充分。"}}}}},
                    "responses": _responses(200, "Completed", "The task is done; the case ran to its next wait",
                                            400, 403, 404, 409, 422),
                },
            },
            "/api/v1/openapi.json": {
                "get": {"operationId": "openapi", "summary": "This document", "security": [],
                        "responses": {"200": {"description": "OpenAPI 3.1",
                                              "content": {"application/json": {"schema": {"type": "object"}}}}}},
            },
            **approval_paths(),
            **lookup_paths(),
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API token: `credflow api-token USERNAME`."}},
            "schemas": {**_schemas(capture), **approval_schemas(), **lookup_schemas()},
            "responses": {f"E{status}": {
                "description": text, "content": {"application/json": {"schema": _ref("Error")}},
                **({"headers": {"WWW-Authenticate": {"schema": {"type": "string"},
                                                     "description": "Bearer (RFC 6750)"}}} if status == 401 else {}),
            } for status, text in ERROR_TEXT.items()},
        },
    }
