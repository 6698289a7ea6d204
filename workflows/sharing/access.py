"""Who may use sharing upward (/sharing, its exports, acks and retries, and the CLI's actor): the
credit office's case workers (clerks, reviewers, leaders) and the system administrators. Subjects,
the public, process managers and personnel staff get nothing. The one rule: the routes, the
services and the navigation link all ask it."""
from __future__ import annotations

from ..messages import N_, UserError

SHARING_ROLES = ("clerk", "reviewer", "leader", "admin")


class SharingError(UserError):
    """A sharing action refused (the message says why); nothing was changed."""

    def __init__(self, message, problems=(), **params):
        super().__init__(message, **params)
        self.problems = list(problems)      # each a Message: every problem of a bad ack file


def may_use_sharing(actor) -> bool:
    return bool(actor is not None and set(actor.roles).intersection(SHARING_ROLES))


def require_sharing(actor) -> None:
    """The services' guard: the rule above, or the system itself (the CLI, the demo: no user)."""
    if actor.user_id is not None and not may_use_sharing(actor):
        raise SharingError(N_("无权办理数据报送"))
