"""The tick that runs everything due, and the scheduler inside ``partnerscope serve``
(owner: schedules)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def tick(workspace: Workspace, now: datetime | None = None, *, who: str = "cli") -> dict[str, Any]:
    """Everything due at ``now``, in order: the time's events, escalations, schedules, digests,
    then dispatch and delivery."""
    from partnerscope.notify import digest, dispatch, escalations, events, schedules, worker

    return {
        "events": events.sweep(workspace, now),
        "escalations": escalations.escalate(workspace, now),
        "schedules": len(schedules.run_due(workspace, now, who=who)),
        "digests": digest.send_due(workspace, now),
        "dispatched": dispatch.dispatch(workspace, now),
        "sent": worker.deliver(workspace, now),
    }


def start(workspace: Workspace) -> Any:
    """Start the background scheduler of a server process (None: not started); stop it with
    :func:`stop`."""
    return None


def stop(handle: Any) -> None:
    """Stop a scheduler :func:`start` started."""
