"""转办 transfer and 委派 delegate (and the delegate handing the task back)."""
from __future__ import annotations


def check_completion(uow, row) -> None:
    """Refuse completing a task while it is delegated to the actor (they hand it back instead)."""
    return None
