"""Notifications for what a run found and for what time brings (owner: events)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def after_run(workspace: Workspace, run_id: int | None = None, now: datetime | None = None) -> int:
    """Notify the new alerts and fired decision signals of run ``run_id`` (default: the latest),
    then evaluate the ``[[rules]]`` on it; the number of notifications written. Idempotent."""
    return 0


def sweep(workspace: Workspace, now: datetime | None = None) -> int:
    """Notify what time has brought: reviews due, registrations expiring, lead SLA breaches,
    overdue onboarding tasks and check-ins. Idempotent; the number written."""
    return 0
