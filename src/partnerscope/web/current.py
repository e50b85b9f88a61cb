"""The run the server shows: the latest finished run, swapped in whole when a new one appears.

A run folder is renamed into place only when complete and never changes afterwards, so a
request that took a :class:`Served` keeps reading one consistent run even if ``partnerscope
run`` publishes another meanwhile; the next request gets the new one.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property
from typing import TYPE_CHECKING

from partnerscope.runs import runs_dir

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians
    from partnerscope.workspace import Workspace

#: How often (seconds) the runs folder is looked at for a newer run.
POLL = 1.0


class Served:
    """One run's data as served: read lazily, kept for as long as it is the latest."""

    def __init__(self, data: RunData) -> None:
        self.data = data

    @property
    def run_id(self) -> int:
        return self.data.run.run_id

    @cached_property
    def medians(self) -> CohortMedians:
        from partnerscope.reports.content import CohortMedians

        return CohortMedians(self.data)


class Current:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._served: Served | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def get(self) -> Served | None:
        """The latest finished run (None before the first run)."""
        now = time.monotonic()
        served = self._served
        if served is not None and now - self._checked < POLL:
            return served
        latest = _latest_id(self.workspace)
        if latest is None:
            return None
        if served is None or served.run_id != latest:
            with self._lock:
                if self._served is None or self._served.run_id != latest:
                    from partnerscope.evaluation.view import RunData

                    self._served = Served(RunData(self.workspace, latest))
                served = self._served
        self._checked = now
        return served


def _latest_id(workspace: Workspace) -> int | None:
    root = runs_dir(workspace)
    try:
        ids = [int(p.name) for p in root.iterdir() if p.name.isdigit()]
    except FileNotFoundError:
        return None
    return max(ids) if ids else None
