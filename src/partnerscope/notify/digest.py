"""Daily and weekly digests of the deliveries held for them (owner: people)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def send_due(workspace: Workspace, now: datetime | None = None) -> int:
    """Write the digests due at ``now`` (one notification per user and digest); the number."""
    return 0
