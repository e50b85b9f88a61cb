"""Daily and weekly digests of the deliveries held for them (owner: people).

A user who takes a kind "daily" or "weekly" gets its emails held (``dispatch`` writes them with
status "held"; the in-app centre shows them at once). At ``[notifications] daily_digest_at``
(workspace time zone), and on ``weekly_digest_on`` at the same hour for the weekly one, each
user with held emails of that cadence gets one ``digest`` notification listing them, and the
held rows become "digested" in the same transaction: a digest is written once per user and day
(its key), and what it lists is never listed again.

Digest moments missed (the server was down at 08:00) are caught up once, at the next call: the
latest moment due is the one written, with everything held before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from partnerscope.appdb.tables import deliveries, notifications, users

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: a digest lists at most this many notifications by title (and says how many more)
LISTED = 50


@dataclass(frozen=True)
class Slot:
    """A digest moment: its cadence, its local date and the instant (naive UTC)."""

    cadence: str
    day: date
    at: datetime


def slots(workspace: Workspace, now: datetime) -> list[Slot]:
    """The latest daily and weekly digest moments at or before ``now`` (naive UTC)."""
    settings = workspace.config.notifications
    zone = ZoneInfo(workspace.config.workspace.timezone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    hour, minute = (int(x) for x in settings.daily_digest_at.split(":"))
    at = time(hour, minute)

    def instant(day: date) -> datetime:
        moment = datetime.combine(day, at, tzinfo=zone)
        return moment.astimezone(UTC).replace(tzinfo=None)

    daily = local.date()
    if instant(daily) > now:
        daily -= timedelta(days=1)
    weekday = WEEKDAYS.index(settings.weekly_digest_on)
    weekly = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    if instant(weekly) > now:
        weekly -= timedelta(days=7)
    return [Slot("daily", daily, instant(daily)), Slot("weekly", weekly, instant(weekly))]


def send_due(workspace: Workspace, now: datetime | None = None) -> int:
    """Write the digests due at ``now`` (one notification per user and digest); the number."""
    from sqlalchemy import select

    from partnerscope import appdb
    from partnerscope.clock import now_utc

    now = now or now_utc()
    engine = appdb.connect(workspace)
    written = 0
    for slot in slots(workspace, now):
        with engine.connect() as connection:
            waiting = list(
                connection.execute(
                    select(deliveries.c.user_id)
                    .where(
                        deliveries.c.status == "held",
                        deliveries.c.cadence == slot.cadence,
                        deliveries.c.user_id.is_not(None),
                        deliveries.c.created_at <= slot.at,
                    )
                    .distinct()
                ).scalars()
            )
        for user_id in waiting:
            with engine.begin() as connection:
                if _write(workspace, connection, int(user_id), slot, now):
                    written += 1
    return written


def _write(
    workspace: Workspace, connection: Connection, user_id: int, slot: Slot, now: datetime
) -> bool:
    """One user's digest for ``slot`` and its held rows "digested", in ``connection``'s
    transaction; whether a digest was written (not when written before)."""
    from sqlalchemy import select

    from partnerscope.outbox import enqueue
    from partnerscope.present import Words

    user = connection.execute(
        select(users.c.name, users.c.role, users.c.partner_id, users.c.active).where(
            users.c.user_id == user_id
        )
    ).first()
    held = connection.execute(
        select(
            deliveries.c.delivery_id,
            notifications.c.title,
            notifications.c.created_at,
            notifications.c.audience,
            notifications.c.partner_id,
        )
        .join(notifications, notifications.c.notification_id == deliveries.c.notification_id)
        .where(
            deliveries.c.user_id == user_id,
            deliveries.c.status == "held",
            deliveries.c.cadence == slot.cadence,
            deliveries.c.created_at <= slot.at,
        )
        .order_by(notifications.c.created_at, notifications.c.notification_id)
        .with_for_update()
    ).all()
    if not held:
        return False
    ids = [r.delivery_id for r in held]
    if user is None or not user.active:
        # nobody to tell any more: the held rows are done with
        connection.execute(
            deliveries.update().where(deliveries.c.delivery_id.in_(ids)).values(status="digested")
        )
        return False
    partner = user.role == "partner_user"
    if partner:
        # a partner's user is only ever held what is for its partner; keep it so regardless
        held = [r for r in held if r.audience == "partner" and r.partner_id == user.partner_id]
    words = Words.of(workspace)
    lines = _lines(words, held)
    count = len(held)
    title = (
        f"Your {slot.cadence} digest for {words.date(slot.day)}: "
        f"{count} notification{'s' if count != 1 else ''}"
    )
    new = enqueue(
        connection,
        key=f"digest:{slot.cadence}:{user.name}:{slot.day.isoformat()}",
        kind="digest",
        title=title,
        lines=lines,
        audience="partner" if partner else "staff",
        partner_id=user.partner_id if partner else None,
        users=[user.name],
        only=True,
        link="/notifications",
        object_type="digest",
        object_id=f"{slot.cadence}:{slot.day.isoformat()}",
        now=now,
    )
    if new is None:
        # this user's digest of this day was written before (held rows of a later moment
        # wait for the next one)
        return False
    connection.execute(
        deliveries.update().where(deliveries.c.delivery_id.in_(ids)).values(status="digested")
    )
    return True


def _lines(words: Any, held: Sequence[Any]) -> list[str]:
    lines = [f"{words.date(r.created_at)}: {r.title}" for r in held[:LISTED]]
    if len(held) > LISTED:
        more = len(held) - LISTED
        lines.append(
            f"And {more} more notification{'s' if more != 1 else ''}: "
            "see them all in the notification centre."
        )
    return lines
