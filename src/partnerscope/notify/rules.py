"""``[[rules]]``: conditions over a run's results that act (owner: escalations)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace


def evaluate(workspace: Workspace, run_id: int | None = None, now: datetime | None = None) -> int:
    """Evaluate the rules on run ``run_id`` (default: the latest) and act, once per rule,
    partner and period; the number of actions taken."""
    return 0
