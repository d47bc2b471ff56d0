"""Who may work on external tasks and correlate messages: workers and administrators."""

from __future__ import annotations

from app.errors import PermissionDeniedError
from app.identity.actor import Actor

# Service accounts of external-task workers are members of this group.
WORKER_GROUP = "external_worker"


def require_worker(actor: Actor, what: str) -> None:
    if not (actor.is_admin or actor.in_group(WORKER_GROUP)):
        raise PermissionDeniedError(
            f"only members of '{WORKER_GROUP}' and administrators may {what}",
            code="not_a_worker",
        )
