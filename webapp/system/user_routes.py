"""Accounts: staff and subject accounts, roles, invitations, resets, deactivation, sheet import."""
from __future__ import annotations

from . import bp  # noqa: F401


@bp.get("/users")
def users():
    return "", 501
