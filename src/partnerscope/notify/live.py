"""Live page updates: a server-sent events stream per open page (owner: people).

The stream (``/events`` in the web app) says:

- ``unread`` (data: the count) when it opens and whenever the user's unread notifications
  change: the page's badge follows without a reload;
- ``run`` (data: the run's id) when the run served is no longer the one the page was made from
  (a new run landed): the page offers to reload.

It looks every ``poll`` seconds (the served run and the user's unread count: one small query),
sends a comment line in between (which is also how a client that went away is noticed), and
ends after ``lifetime`` seconds: the browser's ``EventSource`` opens it again by itself (after
``retry`` milliseconds), so that an open page never holds a server that is shutting down for
longer than that.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

#: seconds between two looks
POLL = 2.0
#: seconds a stream stays open before the browser opens a new one
LIFETIME = 25.0
#: milliseconds the browser waits before opening it again
RETRY_MS = 1000


def event(name: str, data: Any) -> str:
    """One server-sent event."""
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def stream(
    *,
    unread: Callable[[], int],
    run: Callable[[], int | None],
    page_run: int | None,
    disconnected: Callable[[], Awaitable[bool]],
    poll: float = POLL,
    lifetime: float = LIFETIME,
) -> AsyncIterator[str]:
    """The events of one open page: ``unread()`` and ``run()`` (blocking calls: run in a
    worker thread) are looked at every ``poll`` seconds for ``lifetime`` seconds (0: once);
    ``page_run`` is the run the page shows (None: do not tell of runs)."""
    import anyio
    from anyio import to_thread

    yield f"retry: {RETRY_MS}\n\n"
    told_unread: int | None = None
    told_run = page_run
    ends = time.monotonic() + lifetime
    while True:
        count = await to_thread.run_sync(unread)
        if count != told_unread:
            told_unread = count
            yield event("unread", count)
        if page_run is not None:
            served = await to_thread.run_sync(run)
            if served is not None and served != told_run:
                told_run = served
                yield event("run", served)
        if time.monotonic() >= ends:
            return
        await anyio.sleep(min(poll, max(0.0, ends - time.monotonic())))
        if await disconnected():
            return
        yield ": still here\n\n"
