"""Unacknowledged alerts and approvals escalated level by level (owner: escalations)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def escalate(workspace: Workspace, now: datetime | None = None) -> int:
    """Escalate what waited past its level's SLA; the number of escalations made."""
    return 0
