"""The run the server shows: the latest finished run, swapped in whole when a new one appears.

A run folder is renamed into place only when complete and never changes afterwards, so a
request that took a :class:`Served` keeps reading one consistent run even if ``partnerscope
run`` publishes another meanwhile; the next request gets the new one. The improvement plans
(``state/plans.json``, changed between runs) are part of what is served: when the file
changes, the served data is read afresh too. A run tracks the plans just after its folder is
renamed into place, so the run served is the one the plans were last tracked by
(``tracked_run``), shown with the plans read together with that choice: never a new run with
the previous run's plans, nor the other way round.
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
    from pathlib import Path

    from partnerscope.evaluation.plans import PlanBook
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
        #: the plans file's modification time and content when last read
        self._book: tuple[int, PlanBook | None] | None = None

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

                    book = self._book[1] if self._book and self._book[0] == key[1] else None
                    data = RunData(self.workspace, key[0], plans=book)
                    self._served = Served(data, key)
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
        """(the run to serve, plans file's modification time) or None before the first run.
        The run is the latest, unless the plans were last tracked by an earlier one: then the
        latest was stored a moment ago and is served once its plans are tracked (or, if its
        ``partnerscope run`` died in between, once the next run tracks them)."""
        try:
            ids = [int(p.name) for p in runs_dir(self.workspace).iterdir() if p.name.isdigit()]
        except FileNotFoundError:
            return None
        if not ids:
            return None
        path = self.workspace.state_dir / PLANS_FILE
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        if self._book is None or self._book[0] != mtime:
            self._book = (mtime, self._read_plans(path) if mtime else None)
        book = self._book[1]
        tracked = book.tracked_run if book is not None else None
        return (tracked if tracked in ids else max(ids)), mtime

    @staticmethod
    def _read_plans(path: Path) -> PlanBook | None:
        """The plans (None when unreadable: the pages built from them say why)."""
        from partnerscope.evaluation.plans import PlanError, load

        try:
            return load(path.parent)
        except PlanError:
            return None
