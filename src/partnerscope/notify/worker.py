"""The delivery worker: sends what is due, with retries, backoff, leases and dead letters
(owner: delivery).

A delivery due (status "pending" whose ``next_attempt_at`` has come, or "sending" whose lease
ran out: its worker died) is *claimed* in a committed transaction: status "sending", a lease
(``[notifications] lease_seconds``) and one more attempt. It is then sent, and recorded:

- sent: status "sent", ``sent_at``;
- a temporary failure (the mail server's 4xx, a webhook's 5xx/408/429, a timeout, a lost
  connection): "pending" again, after ``backoff_seconds · 2^(attempts−1)`` (at most
  ``max_backoff_seconds``); after ``max_attempts`` attempts, "dead";
- a permanent failure (a 5xx from the mail server, another 4xx from a webhook, a message that
  cannot be built: its attachment, its webhook gone): "dead" at once, without holding up the
  others.

The record only changes a row this worker still holds (same status and attempt), so a worker
that outlived its lease does not overwrite another's. A worker killed between the receiver's
acceptance and the record leaves the row "sending"; once the lease runs out it is sent again
with the same idempotency key (the email's Message-ID, the webhook's ``Idempotency-Key``),
which the receiver can drop as a repeat: nothing is lost, and a repeat is recognisable.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import deliveries, notifications

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from partnerscope.notify.email import Mailer
    from partnerscope.settings.notifications import NotificationSettings
    from partnerscope.workspace import Workspace

__all__ = ["CHANNELS", "Outcome", "backoff", "deliver", "due", "retry", "run_forever"]

#: the channels the worker sends (the in-app centre's rows are delivered by existing)
CHANNELS = ("email", "webhook")
#: deliveries claimed per transaction
BATCH = 20
#: rendered attachments kept for the next deliveries of the same call
KEPT_ATTACHMENTS = 8
#: a webhook's answer is waited for this long
WEBHOOK_TIMEOUT = 30.0


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def tried(self) -> int:
        return self.sent + self.retrying + self.dead


def backoff(settings: NotificationSettings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    seconds = settings.backoff_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.max_backoff_seconds))


def _due(now: datetime) -> Any:
    from sqlalchemy import and_, or_

    return and_(
        deliveries.c.channel.in_(CHANNELS),
        or_(
            and_(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now),
            and_(deliveries.c.status == "sending", deliveries.c.lease_until <= now),
        ),
    )


def due(workspace: Workspace, now: datetime | None = None) -> int:
    """How many deliveries are due at ``now``."""
    from sqlalchemy import func, select

    from partnerscope import appdb
    from partnerscope.clock import now_utc

    with appdb.connect(workspace).connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(deliveries).where(_due(now or now_utc()))
            ).scalar_one()
        )


def _claim(
    engine: Engine, settings: NotificationSettings, now: datetime, size: int
) -> list[tuple[Any, int]]:
    """Claim up to ``size`` due deliveries; each as a row of the delivery and its notification,
    with its attempt number."""
    from sqlalchemy import select

    from partnerscope import appdb

    claimed: list[tuple[int, int]] = []
    with engine.begin() as connection:
        # one claimer at a time: what it reads as due is still due when it claims it (SQLite
        # would refuse a read transaction's later write as "database is locked")
        appdb.serialize(connection, deliveries)
        rows = connection.execute(
            select(deliveries.c.delivery_id, deliveries.c.attempts)
            .where(_due(now))
            .order_by(deliveries.c.next_attempt_at, deliveries.c.delivery_id)
            .limit(size)
        ).all()
        for delivery_id, attempts in rows:
            done = connection.execute(
                deliveries.update()
                .where(
                    deliveries.c.delivery_id == delivery_id,
                    deliveries.c.attempts == attempts,
                    _due(now),
                )
                .values(
                    status="sending",
                    attempts=attempts + 1,
                    lease_until=now + timedelta(seconds=settings.lease_seconds),
                )
            ).rowcount
            if done == 1:
                claimed.append((int(delivery_id), int(attempts) + 1))
        if not claimed:
            return []
        ids = [i for i, _ in claimed]
        found = {
            int(r.delivery_id): r
            for r in connection.execute(
                select(
                    deliveries.c.delivery_id,
                    deliveries.c.user_id,
                    deliveries.c.address,
                    deliveries.c.channel,
                    deliveries.c.idempotency_key,
                    *[c for c in notifications.c if c.name != "notification_id"],
                    notifications.c.notification_id,
                )
                .join(
                    notifications, notifications.c.notification_id == deliveries.c.notification_id
                )
                .where(deliveries.c.delivery_id.in_(ids))
            )
        }
    return [(found[i], attempt) for i, attempt in claimed]


def _record(
    engine: Engine,
    delivery_id: int,
    attempt: int,
    values: dict[str, Any],
) -> None:
    with engine.begin() as connection:
        connection.execute(
            deliveries.update()
            .where(
                deliveries.c.delivery_id == delivery_id,
                deliveries.c.status == "sending",
                deliveries.c.attempts == attempt,
            )
            .values(**values)
        )


class _Sender:
    """Sends one claimed delivery on its channel; keeps the mail server's connection and the
    attachments rendered for the deliveries of one call."""

    def __init__(self, workspace: Workspace, settings: NotificationSettings) -> None:
        self.workspace = workspace
        self.settings = settings
        self._mailer: Mailer | None = None
        self._attachments: OrderedDict[str, Any] = OrderedDict()

    def close(self) -> None:
        if self._mailer is not None:
            self._mailer.close()

    def mailer(self) -> Mailer:
        from partnerscope.notify.email import Mailer

        if self._mailer is None:
            self._mailer = Mailer(self.settings.smtp)
        return self._mailer

    def attachment(self, spec: dict[str, Any]) -> Any:
        import json

        from partnerscope.notify.attachments import render

        key = json.dumps(spec, sort_keys=True, default=str)
        if key in self._attachments:
            self._attachments.move_to_end(key)
            return self._attachments[key]
        made = self._attachments[key] = render(self.workspace, spec)
        # a notification's deliveries are claimed together: a few files kept, not every
        # partner's scorecard of a distribution to thousands
        while len(self._attachments) > KEPT_ATTACHMENTS:
            self._attachments.popitem(last=False)
        return made

    def send(self, delivery: Any, row: Any) -> None:
        """Send; a ``SendError`` (temporary or permanent) when it was not sent."""
        from partnerscope.notify import content as words
        from partnerscope.notify.email import SendError

        content = words.of_row(row, self.settings.base_url)
        if delivery.channel == "email":
            from partnerscope.notify.email import build

            try:
                attached = self.attachment(dict(row.attachment)) if row.attachment else None
                foot = words.footer(self.workspace, delivery.user_id, content.kind)
                message = build(
                    content,
                    sender=self.settings.smtp.from_address,
                    to=str(delivery.address),
                    key=delivery.idempotency_key,
                    foot=foot,
                    attachment=attached,
                )
            except Exception as exc:  # whatever the cause, it will not build later
                raise SendError(f"the message could not be built: {exc}", permanent=True) from exc
            self.mailer().send(message)
            return
        if delivery.channel == "webhook":
            from partnerscope.notify import webhook

            hook = next((h for h in self.settings.webhooks if h.name == delivery.address), None)
            if hook is None:
                raise SendError(
                    f"no webhook {delivery.address!r} in [notifications] any more",
                    permanent=True,
                )
            try:
                body = webhook.body_of(
                    words.payload(content, hook.format, delivery.idempotency_key)
                )
            except (ValueError, TypeError) as exc:
                raise SendError(f"the payload could not be built: {exc}", permanent=True) from exc
            webhook.post(hook, body, delivery.idempotency_key, timeout=WEBHOOK_TIMEOUT)
            return
        raise SendError(f"no channel {delivery.channel!r}", permanent=True)


def deliver(
    workspace: Workspace,
    now: datetime | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[Outcome], None] | None = None,
) -> int:
    """Send the deliveries due at ``now`` (at most ``limit``); the number sent. ``progress``
    is told the running counts after each delivery."""
    return send_due(workspace, now, limit=limit, progress=progress).sent


def send_due(
    workspace: Workspace,
    now: datetime | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[Outcome], None] | None = None,
    stop: threading.Event | None = None,
) -> Outcome:
    """:func:`deliver`, with the counts of what was sent, left to retry and dead."""

    from partnerscope import appdb
    from partnerscope.clock import now_utc
    from partnerscope.notify.email import SendError

    settings = workspace.config.notifications
    outcome = Outcome()
    if not settings.enabled:
        return outcome
    engine = appdb.connect(workspace)
    sender = _Sender(workspace, settings)
    try:
        while limit is None or outcome.tried < limit:
            if stop is not None and stop.is_set():
                break
            size = BATCH if limit is None else min(BATCH, limit - outcome.tried)
            claimed = _claim(engine, settings, now or now_utc(), size)
            if not claimed:
                break
            for row, attempt in claimed:
                delivery_id = int(row.delivery_id)
                try:
                    try:
                        sender.send(row, row)
                    except SendError:
                        raise
                    except Exception as exc:  # one message must not stop the rest
                        # a fault of this message (or of partnerscope) that no channel
                        # classified: tried again with backoff like a temporary error, then dead
                        raise SendError(
                            f"unexpected {type(exc).__name__}: {exc}", permanent=False
                        ) from exc
                except SendError as exc:
                    moment = now or now_utc()
                    error = str(exc)[:2000]
                    if exc.permanent or attempt >= settings.max_attempts:
                        outcome.dead += 1
                        reason = "permanent" if exc.permanent else f"{attempt} attempts"
                        values: dict[str, Any] = {
                            "status": "dead",
                            "lease_until": None,
                            "last_error": f"{error} ({reason})",
                        }
                    else:
                        outcome.retrying += 1
                        values = {
                            "status": "pending",
                            "lease_until": None,
                            "last_error": error,
                            "next_attempt_at": moment + backoff(settings, attempt),
                        }
                    _record(engine, delivery_id, attempt, values)
                else:
                    outcome.sent += 1
                    _record(
                        engine,
                        delivery_id,
                        attempt,
                        {"status": "sent", "sent_at": now or now_utc(), "lease_until": None},
                    )
                if progress is not None:
                    progress(outcome)
    finally:
        sender.close()
    return outcome


def letters(workspace: Workspace, *, dead: bool = False, limit: int = 100) -> list[Any]:
    """The outbox's deliveries, newest first (only the dead letters with ``dead``), each with
    its notification's kind and title and its user's name: what ``partnerscope notify outbox``
    and the outbox page list."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.appdb.tables import users

    query = (
        select(
            deliveries.c.delivery_id,
            deliveries.c.notification_id,
            deliveries.c.channel,
            deliveries.c.address,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt_at,
            deliveries.c.sent_at,
            deliveries.c.last_error,
            deliveries.c.created_at,
            notifications.c.kind,
            notifications.c.title,
            users.c.name,
        )
        .join(notifications, notifications.c.notification_id == deliveries.c.notification_id)
        .outerjoin(users, users.c.user_id == deliveries.c.user_id)
        .order_by(deliveries.c.delivery_id.desc())
        .limit(limit)
    )
    if dead:
        query = query.where(deliveries.c.status == "dead")
    with appdb.connect(workspace).connect() as connection:
        return list(connection.execute(query).all())


def retry(workspace: Workspace, delivery_ids: Iterable[int], actor: str) -> int:
    """Put dead deliveries back to be sent now, from their first attempt (each audited); the
    number requeued. Ids that are not dead letters are left as they are."""
    from sqlalchemy import select

    from partnerscope import appdb, audit
    from partnerscope.clock import now_utc

    wanted = sorted({int(i) for i in delivery_ids})
    if not wanted:
        return 0
    now = now_utc()
    count = 0
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, deliveries)
        dead = connection.execute(
            select(deliveries.c.delivery_id, deliveries.c.last_error, deliveries.c.attempts)
            .where(deliveries.c.delivery_id.in_(wanted), deliveries.c.status == "dead")
            .order_by(deliveries.c.delivery_id)
        ).all()
        for delivery_id, last_error, attempts in dead:
            connection.execute(
                deliveries.update()
                .where(deliveries.c.delivery_id == delivery_id, deliveries.c.status == "dead")
                .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
            )
            audit.record(
                connection,
                actor=actor,
                action="retry",
                object_type="delivery",
                object_id=delivery_id,
                detail={"attempts": attempts, "last_error": last_error},
            )
            count += 1
    return count


def dead_ids(workspace: Workspace) -> list[int]:
    """Every dead letter's delivery id."""
    from sqlalchemy import select

    from partnerscope import appdb

    with appdb.connect(workspace).connect() as connection:
        return [
            int(i)
            for i in connection.execute(
                select(deliveries.c.delivery_id)
                .where(deliveries.c.status == "dead")
                .order_by(deliveries.c.delivery_id)
            ).scalars()
        ]


def run_forever(
    workspace: Workspace,
    stop_event: threading.Event,
    interval: float = 10.0,
    *,
    on_round: Callable[[int, Outcome], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Dispatch and deliver every ``interval`` seconds until ``stop_event`` is set (it also
    stops a round between two deliveries). ``on_round`` is told each round's counts; a round
    that fails (the database unreachable, a configuration error) is told to ``on_error`` and
    the next round tries again."""
    from sqlalchemy.exc import SQLAlchemyError

    from partnerscope.errors import PartnerscopeError
    from partnerscope.notify.dispatch import dispatch

    while not stop_event.is_set():
        try:
            made = dispatch(workspace)
            outcome = send_due(workspace, stop=stop_event)
        except (PartnerscopeError, SQLAlchemyError, OSError) as exc:
            if on_error is None:
                raise
            on_error(exc)
        else:
            if on_round is not None:
                on_round(made, outcome)
        stop_event.wait(interval)
