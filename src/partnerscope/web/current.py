"""The run the server shows: the latest finished run, swapped in whole when a new one appears.

A run folder is renamed into place only when complete and never changes afterwards, so a
request that took a :class:`Served` keeps reading one consistent run even if ``partnerscope
run`` publishes another meanwhile; the next request gets the new one. The improvement plans
(``state/plans.json``, changed between runs) are part of what is served: when the file
changes, the served data is read afresh too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from partnerscope.evaluation.plans import PLANS_FILE
from partnerscope.runs import runs_dir

if TYPE_CHECKING:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.content import CohortMedians
    from partnerscope.workspace import Workspace

#: How often (seconds) the runs folder and the plans file are looked at for a change.
POLL = 1.0
#: Built pages' content kept per served run (partners × periods looked at).
CACHE_SIZE = 20_000

T = TypeVar("T")


class Served:
    """One run's data as served: read lazily, kept for as long as it is the latest. Content
    built from it (a partner's scorecard) is kept too: the run never changes."""

    def __init__(self, data: RunData, key: tuple[int, int]) -> None:
        self.data = data
        self.key = key
        self._built: dict[Hashable, Any] = {}

    @property
    def run_id(self) -> int:
        return self.data.run.run_id

    @cached_property
    def medians(self) -> CohortMedians:
        from partnerscope.reports.content import CohortMedians

        return CohortMedians(self.data)

    def built(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per key for this run (its result must not be changed)."""
        try:
            found: T = self._built[key]
            return found
        except KeyError:
            value = build()
            if len(self._built) >= CACHE_SIZE:
                self._built.clear()
            self._built[key] = value
            return value


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
        key = self._key()
        if key is None:
            return None
        if served is None or served.key != key:
            with self._lock:
                if self._served is None or self._served.key != key:
                    from partnerscope.evaluation.view import RunData

                    self._served = Served(RunData(self.workspace, key[0]), key)
                served = self._served
        self._checked = now
        return served

    def refresh(self) -> None:
        """Look for a new run or changed plans on the next :meth:`get` (after a change made
        through this server, so that its next page shows it)."""
        self._checked = float("-inf")

    def _key(self) -> tuple[int, int] | None:
        """(latest run id, plans file's modification time) or None before the first run."""
        try:
            ids = [int(p.name) for p in runs_dir(self.workspace).iterdir() if p.name.isdigit()]
        except FileNotFoundError:
            return None
        if not ids:
            return None
        try:
            plans = (self.workspace.state_dir / PLANS_FILE).stat().st_mtime_ns
        except FileNotFoundError:
            plans = 0
        return max(ids), plans
