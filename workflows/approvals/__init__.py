"""Approval actions (审批操作): what Chinese offices do to any task of any process beside its
diagram: 退回 send back, 撤回 withdraw, 转办 transfer, 委派 delegate (and standing delegation on
leave), 加签/减签 add or remove a signer, 会签 countersign, 抄送 copy, 催办 urge.

Each action is one service call in the caller's unit of work: it checks who may (policy.py), writes
the case row with its version check (a concurrent action is a Conflict), records an
ApprovalAction and an audit event with its reason, updates the inbox rows and notifies, and leaves
the case on its deployed version with the BPMN untouched. The web and the API reach every action
through ACTIONS (name -> service), so both stay the same.
"""
from __future__ import annotations

ACTION_KINDS = ("send_back", "withdraw", "transfer", "delegate", "resolve", "add_signer", "remove_signer",
                "sign", "copy", "urge")
