"""The delivery worker: sends what is due, with retries, backoff, leases and dead letters
(owner: delivery)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def deliver(workspace: Workspace, now: datetime | None = None, *, limit: int | None = None) -> int:
    """Send the deliveries due at ``now``; the number sent."""
    return 0


def retry(workspace: Workspace, delivery_ids: Iterable[int], actor: str) -> int:
    """Put dead deliveries back to be sent (audited); the number requeued."""
    return 0
