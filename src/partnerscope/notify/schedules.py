"""Report distribution on ``[[schedules]]`` (owner: schedules)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def run_due(workspace: Workspace, now: datetime | None = None, *, who: str = "cli") -> list[Any]:
    """Fire every schedule due at ``now`` (a missed one once, however many times it was
    missed); what fired."""
    return []
