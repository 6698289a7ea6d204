"""The approval actions' part of the OpenAPI document (webapp/api/approvals.py): their paths and schemas."""
from __future__ import annotations

from workflows.approvals.common import REASON_LIMIT

from .approvals import COPY_ROLES, POSITIONS, TASK_ACTIONS
from .openapi import DATETIME, ID, STRING, _nullable, _object, _path, _ref, _responses

TEXT = {"type": "string", "maxLength": REASON_LIMIT}
PERSON = {"$ref": "#/components/schemas/Person"}
VERSION = {**ID, "description": "The case's version the caller saw (GET /tasks/{task_id}/actions: `case_version`); "
                                "when given and the case has moved on since, the answer is 409."}


def approval_schemas() -> dict:
    return {
        "Person": _object({"id": ID, "name": STRING}),
        "TaskActions": _object({
            "task": _ref("Task"),
            "case_version": {**ID, "description": "Send it back as `case_version` with an action."},
            "actions": {"type": "object", "description": "Whether the caller may take each action on the task now.",
                        "properties": {a: {"type": "boolean"} for a in TASK_ACTIONS}, "required": list(TASK_ACTIONS),
                        "additionalProperties": False},
            "send_back_targets": {"type": "array", "description": "send_back: the earlier steps, nearest first, and "
                                                                  "who completed each (`target` is the bpmn_id).",
                                  "items": _object({"bpmn_id": STRING, "name": STRING, "user_id": _nullable(ID),
                                                    "who": STRING})},
            "transfer_candidates": {"type": "array", "items": PERSON,
                                    "description": "transfer: colleagues holding the task's role."},
            "staff": {"type": "array", "items": PERSON, "description": "delegate, add_signer, copy: active staff."},
            "copy_roles": {"type": "array", "description": "copy: the roles a case can be copied to.",
                           "items": _object({"code": {"type": "string", "enum": list(COPY_ROLES)}, "name": STRING})},
            "signers": {"type": "array", "description": "remove_signer: the added signers not yet answered.",
                        "items": _object({"action_id": ID, "user_id": ID, "name": STRING,
                                          "position": _nullable({"type": "string", "enum": list(POSITIONS)}),
                                          "row_id": _nullable(ID)})},
        }),
        "ApprovalAction": {
            "type": "object", "additionalProperties": False,
            "description": "The fields an action takes (any other is a 422): send_back {target, reason}; "
                           "transfer and delegate {user_id, reason}; resolve {opinion, data?}; add_signer "
                           "{user_id, position, reason}; remove_signer {user_id (on the step's task; not on the "
                           "signer's own), reason}; sign {approved, opinion (when not approved)}; copy "
                           "{user_ids and/or roles, reason?}; urge {reason?}. Each may carry case_version.",
            "properties": {
                "reason": TEXT, "opinion": TEXT, "target": {"type": "string", "description": "A step's bpmn_id."},
                "user_id": ID, "user_ids": {"type": "array", "items": ID, "maxItems": 100},
                "roles": {"type": "array", "items": {"type": "string", "enum": list(COPY_ROLES)}},
                "position": {"type": "string", "enum": list(POSITIONS)}, "approved": {"type": "boolean"},
                "data": {"type": "object", "description": "resolve: the task form's fields, prefilled for the owner."},
                "case_version": VERSION,
            },
        },
        "Withdrawal": {"type": "object", "additionalProperties": False,
                       "properties": {"reason": TEXT, "case_version": VERSION}},
        "ActionResult": _object({
            "action": {"type": "string", "enum": [*TASK_ACTIONS, "withdraw"]}, "case_id": ID, "case_version": ID,
            "task": {**_nullable(_ref("Task")), "description": "The task the action left (the step sent back to, "
                                                               "the task handed on, the signer's task), if any."},
        }),
        "Opinions": _object({"case_id": ID, "opinions": {"type": "array", "items": _object({
            "kind": {"type": "string", "enum": ["sign", "resolve", "countersign"]}, "task_name": _nullable(STRING),
            "bpmn_id": _nullable(STRING), "who": STRING, "approved": _nullable({"type": "boolean"}),
            "opinion": STRING, "at": DATETIME})}}),
        "Copies": _object({"case_id": ID, "copies": {"type": "array", "items": {
            **_object({"recipient": STRING, "sender": STRING, "task_name": _nullable(STRING), "reason": STRING,
                       "created_at": DATETIME, "read_at": _nullable(DATETIME), "recipient_id": _nullable(ID),
                       "case_id": _nullable(ID), "case_no": STRING}),
            "description": "To whom, by whom, at which step, when; `read_at` null: unread."}}}),
    }


def approval_paths() -> dict:
    task, case = [_path("task_id")], [_path("case_id")]
    action = {"name": "action", "in": "path", "required": True, "schema": {"type": "string", "enum": list(TASK_ACTIONS)},
              "description": "send_back 退回, transfer 转办, delegate 委派, resolve (hand a delegated task back), "
                             "add_signer 加签, remove_signer 减签, sign (an added signer's answer), copy 抄送, urge 催办."}

    def body(schema: str, example: dict) -> dict:
        return {"required": True, "content": {"application/json": {"schema": _ref(schema), "example": example}}}
    return {
        "/api/v1/tasks/{task_id}/actions": {"get": {
            "operationId": "getTaskActions", "summary": "What I may do on a task now, and the choices each action needs",
            "parameters": task, "responses": _responses(200, "TaskActions", "The actions", 403, 404, 409)}},
        "/api/v1/tasks/{task_id}/actions/{action}": {"post": {
            "operationId": "takeTaskAction", "summary": "Take an approval action on a task (one transaction, audited)",
            "parameters": [*task, action],
            "requestBody": body("ApprovalAction", {"target": "legality_review", "reason": "请补充证据。", "case_version": 3}),
            "responses": _responses(200, "ActionResult", "Done", 400, 403, 404, 409, 422)}},
        "/api/v1/cases/{case_id}/withdraw": {"post": {
            "operationId": "withdrawStep",
            "summary": "Take back my last completed step of the case while the next one is unclaimed",
            "parameters": case, "requestBody": body("Withdrawal", {"reason": "意见写错了。"}),
            "responses": _responses(200, "ActionResult", "The step is mine again", 400, 403, 404, 409, 422)}},
        "/api/v1/cases/{case_id}/opinions": {"get": {
            "operationId": "getCaseOpinions", "summary": "Opinions given beside the diagram (加签, 委派, 会签)",
            "parameters": case, "responses": _responses(200, "Opinions", "Oldest first", 403, 404)}},
        "/api/v1/cases/{case_id}/copies": {"get": {
            "operationId": "getCaseCopies", "summary": "To whom the case was copied (抄送) and who has read it",
            "parameters": case, "responses": _responses(200, "Copies", "The copies", 403, 404)}},
    }
