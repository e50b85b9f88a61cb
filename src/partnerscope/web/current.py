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
from collections import OrderedDict
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
#: Built content kept per served run, the least recently used dropped first (a partner's page
#: in one period is about 50 KB: its rendered HTML and its JSON).
CACHE_SIZE = 6_000

T = TypeVar("T")


class Served:
    """One run's data as served: read lazily, kept for as long as it is the latest. Content
    built from it (a partner's scorecard) is kept too: the run never changes."""

    def __init__(self, data: RunData, key: tuple[int, int]) -> None:
        self.data = data
        self.key = key
        self._built: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        #: set when the pages built in advance are ready (see :class:`Current`)
        self.warm = threading.Event()

    @property
    def run_id(self) -> int:
        return self.data.run.run_id

    @cached_property
    def medians(self) -> CohortMedians:
        from partnerscope.reports.content import CohortMedians

        return CohortMedians(self.data)

    def get(self, key: Hashable) -> Any:
        """What was built for ``key``, or None."""
        with self._lock:
            if key in self._built:
                self._built.move_to_end(key)
                return self._built[key]
        return None

    def built(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per key for this run (its result must not be changed)."""
        found: T | None = self.get(key)
        if found is not None:
            return found
        value = build()
        with self._lock:
            self._built[key] = value
            while len(self._built) > CACHE_SIZE:
                self._built.popitem(last=False)
        return value


class Current:
    """The served run of a workspace. When a new one is switched in, ``warm(served, stop)``
    (if given) runs in a background thread: it builds the pages most likely asked for, so
    their first visitors do not wait, until done or ``stop()`` says another run is served;
    ``served.warm`` is set when it returns."""

    def __init__(
        self,
        workspace: Workspace,
        warm: Callable[[Served, Callable[[], bool]], None] | None = None,
    ) -> None:
        self.workspace = workspace
        self._warm = warm
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
                    self._start_warming(self._served)
                served = self._served
        self._checked = now
        return served

    def is_current(self, served: Served) -> bool:
        return self._served is served

    def _start_warming(self, served: Served) -> None:
        if self._warm is None:
            served.warm.set()
            return
        warm = self._warm

        def run() -> None:
            try:
                warm(served, lambda: not self.is_current(served))
            finally:
                served.warm.set()

        threading.Thread(target=run, name=f"warm run {served.run_id}", daemon=True).start()

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
