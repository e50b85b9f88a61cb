"""The tick that runs everything due, and the scheduler inside ``partnerscope serve``
(owner: schedules).

:func:`tick` is what is due at a moment, in order: the time's events, escalations, the
``[[schedules]]``, the digests, then dispatch and delivery. ``partnerscope schedule run-due``
calls it once (for cron); ``partnerscope serve`` runs it every minute in a background thread
(:func:`start`), and the delivery steps alone every few seconds, so that an email goes out
soon after its event.

Several processes may tick at once (two servers, a server and cron): none does anything
twice. A schedule's fire time is claimed by the primary key of ``schedule_fires``
(:mod:`partnerscope.notify.schedules`), a delivery by its lease, a notification by its key.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

log = logging.getLogger(__name__)

#: seconds between two ticks of a server, and between two rounds of its delivery steps
TICK_SECONDS = 60
DELIVER_SECONDS = 10


def tick(
    workspace: Workspace,
    now: datetime | None = None,
    *,
    who: str = "cli",
    deliver: bool = True,
) -> dict[str, Any]:
    """Everything due at ``now``, in order: the runs not yet told (a run whose telling failed),
    the time's events, escalations, schedules, digests,
    then (unless not ``deliver``) dispatch and delivery. Each step's count; ``fired``: what
    each schedule did; ``errors``: step → what went wrong (the other steps still ran)."""
    from partnerscope.notify import digest, dispatch, escalations, events, schedules, worker

    done: dict[str, Any] = {"fired": [], "errors": {}}

    def step(name: str, run: Callable[[], Any]) -> None:
        try:
            done[name] = run()
        except Exception as exc:
            # a step that fails (another process holding the warehouse, a bug) must not keep
            # the others from running: the next tick tries it again
            log.exception("%s: %s failed", who, name)
            done[name] = 0
            done["errors"][name] = str(exc) or type(exc).__name__

    step("runs", lambda: events.after_run(workspace, now=now))
    step("events", lambda: events.sweep(workspace, now))
    step("escalations", lambda: escalations.escalate(workspace, now))

    def fire() -> int:
        done["fired"] = schedules.run_due(workspace, now, who=who)
        return len(done["fired"])

    step("schedules", fire)
    step("digests", lambda: digest.send_due(workspace, now))
    if deliver:
        step("dispatched", lambda: dispatch.dispatch(workspace, now))
        step("sent", lambda: worker.deliver(workspace, now))
    return done


@dataclass
class Handle:
    """A server's running scheduler, and the signal that stops its delivery job between two
    messages (a month's scorecards take hours to render: a server shutting down does not wait
    for them)."""

    scheduler: Any
    stopping: threading.Event

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)


def _deliver(workspace: Workspace, stopping: threading.Event) -> None:
    """The delivery steps alone (a server's frequent job)."""
    from partnerscope.notify import dispatch, worker

    dispatch.dispatch(workspace)
    worker.send_due(workspace, stop=stopping)


def start(workspace: Workspace) -> Handle:
    """Start the background scheduler of a server process: :func:`tick` without its delivery
    every minute (the first at once) and the delivery steps every few seconds in a job of their
    own (a long delivery does not hold back the schedules), each never running twice at a time
    (a run that is late is skipped, not queued); stop it with :func:`stop`."""
    from datetime import UTC

    from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
        BackgroundScheduler,
    )

    who = f"serve:{os.getpid()}"
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=TICK_SECONDS,
        args=[workspace],
        kwargs={"who": who, "deliver": False},
        id="tick",
        next_run_time=datetime.now(UTC),
    )
    stopping = threading.Event()
    scheduler.add_job(
        _deliver, "interval", seconds=DELIVER_SECONDS, args=[workspace, stopping], id="deliver"
    )
    scheduler.start()
    log.info("%s: notification scheduler started", who)
    return Handle(scheduler, stopping)


def stop(handle: Handle | None) -> None:
    """Stop a scheduler :func:`start` started, without waiting for a job under way: the
    delivery job stops after the message it is sending (what a job leaves half done is undone
    by its transaction, or sent again after its lease)."""
    if handle is None:
        return
    handle.stopping.set()
    if handle.scheduler.running:
        handle.scheduler.shutdown(wait=False)
