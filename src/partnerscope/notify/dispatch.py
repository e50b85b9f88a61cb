"""Each notification fanned out into deliveries, one per recipient and channel (owner: delivery)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def dispatch(workspace: Workspace, now: datetime | None = None) -> int:
    """Fan out every notification not yet dispatched; the number of deliveries made."""
    return 0
