"""Report distribution on ``[[schedules]]`` (owner: schedules).

Each schedule fires at the times of its cron expression in the workspace time zone. Firing
writes notifications (kind "report") to the outbox, nothing else: the reports they attach are
rendered when each email is sent (:mod:`partnerscope.notify.attachments`), so a firing is quick
however many partners it reaches.

Exactly once: a fire time is claimed by inserting its ``(schedule, fire_at)`` row into
``schedule_fires``, in the same transaction as the notifications it writes. The primary key is
the lock: of two processes firing the same time (two servers, a server and cron), one inserts
it and the other fails and skips; a process that dies while firing rolls everything back, and
the next tick fires it again. After downtime, only the latest fire time missed fires, once.
A schedule seen for the first time fires nothing for the past: its start is recorded (a row
claimed by ``start:<who>``) and it fires from then on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from partnerscope import clock
from partnerscope.appdb.tables import schedule_fires
from partnerscope.errors import ConfigError
from partnerscope.settings.schedules import DAYS, ScheduleSettings, check_names, trigger

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.workspace import Workspace

log = logging.getLogger(__name__)

#: ``claimed_by`` of the row that records when a schedule was first seen (not a firing)
START = "start:"


@dataclass(frozen=True)
class Due:
    """A schedule due: the time it fires for (naive UTC), and whether earlier times were
    missed (they are not fired: only this one, the latest)."""

    schedule: ScheduleSettings
    fire_at: datetime
    #: the first time missed, when it is earlier than ``fire_at``
    missed_since: datetime | None = None
    #: the schedule was never seen: nothing fires, its start is recorded
    start: bool = False


@dataclass
class Fired:
    """What a schedule did at a fire time."""

    schedule: str
    what: str
    fire_at: datetime
    notifications: int = 0
    missed_since: datetime | None = None
    #: sentences: partners not found, no run yet, ...
    notes: list[str] = field(default_factory=list)

    def sentence(self, timezone: str) -> str:
        """What it did, in words (the fire time in the workspace time zone)."""
        when = local(self.fire_at, timezone).strftime("%Y-%m-%d %H:%M")
        text = (
            f"{self.schedule} ({WHAT_WORDS.get(self.what, self.what)}) fired for {when} "
            f"({timezone}): {self.notifications:,} notification"
            f"{'' if self.notifications == 1 else 's'} written"
        )
        if self.missed_since is not None:
            since = local(self.missed_since, timezone).strftime("%Y-%m-%d %H:%M")
            text += f"; caught up once for the times missed since {since}"
        return text + "".join(f"; {note}" for note in self.notes) + "."


#: what a schedule sends, in words
WHAT_WORDS = {
    "scorecards": "scorecards to partners",
    "manager_digest": "partner managers' weekly digest",
    "executive_summary": "executive summary",
    "payout_statements": "payout statements",
}


# -------------------------------------------------------------------------------- times


def utc(moment: datetime | None) -> datetime:
    """``moment`` (default: now) as the naive UTC the store keeps."""
    if moment is None:
        return clock.now_utc()
    if moment.tzinfo is not None:
        return moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def local(moment: datetime, timezone: str) -> datetime:
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))


def configured(workspace: Workspace) -> tuple[ScheduleSettings, ...]:
    """The workspace's schedules (a name used twice is a ConfigError)."""
    schedules = workspace.config.schedules
    problems = check_names(schedules)
    if problems:
        raise ConfigError(str(workspace.config_path), problems)
    return schedules


def fire_times(
    schedule: ScheduleSettings, timezone: str, after: datetime, until: datetime
) -> Iterable[datetime]:
    """The fire times (naive UTC) strictly after ``after`` and at or before ``until``."""
    cron = trigger(schedule.cron, timezone)
    moment = after.replace(tzinfo=UTC) + timedelta(microseconds=1)
    end = until.replace(tzinfo=UTC)
    while True:
        found = cron.get_next_fire_time(None, moment)
        if found is None or found > end:
            return
        at = found.astimezone(UTC)
        yield at.replace(tzinfo=None)
        moment = at + timedelta(seconds=1)


def next_fire(schedule: ScheduleSettings, timezone: str, now: datetime) -> datetime | None:
    """The next fire time after ``now`` (naive UTC)."""
    found = trigger(schedule.cron, timezone).get_next_fire_time(
        None, now.replace(tzinfo=UTC) + timedelta(microseconds=1)
    )
    return None if found is None else found.astimezone(UTC).replace(tzinfo=None)


def _latest(
    schedule: ScheduleSettings, timezone: str, after: datetime, now: datetime
) -> Due | None:
    """The latest fire time in (after, now], and the first one, without walking every time of a
    long gap (a schedule of every minute down for a month): windows back from now, doubling."""
    first = next(iter(fire_times(schedule, timezone, after, now)), None)
    if first is None:
        return None
    window = timedelta(hours=1)
    while True:
        start = max(after, now - window)
        times = list(fire_times(schedule, timezone, start, now)) if start < now else []
        if times or start <= after:
            latest = times[-1] if times else first
            return Due(schedule, latest, missed_since=first if first < latest else None)
        window *= 2


def last_fires(connection: Connection) -> dict[str, tuple[datetime, str]]:
    """Each schedule's latest row: (fire_at, claimed_by)."""
    from sqlalchemy import func, select

    latest = (
        select(schedule_fires.c.schedule, func.max(schedule_fires.c.fire_at).label("fire_at"))
        .group_by(schedule_fires.c.schedule)
        .subquery()
    )
    rows = connection.execute(
        select(
            schedule_fires.c.schedule, schedule_fires.c.fire_at, schedule_fires.c.claimed_by
        ).join(
            latest,
            (latest.c.schedule == schedule_fires.c.schedule)
            & (latest.c.fire_at == schedule_fires.c.fire_at),
        )
    ).all()
    return {name: (at, by) for name, at, by in rows}


def last_fired(connection: Connection) -> dict[str, tuple[datetime, int | None, str | None]]:
    """Each schedule's latest real firing (not its recorded start): (fire_at, notifications
    written, error)."""
    from sqlalchemy import select

    rows = connection.execute(
        select(
            schedule_fires.c.schedule,
            schedule_fires.c.fire_at,
            schedule_fires.c.notifications,
            schedule_fires.c.error,
        )
        .where(~schedule_fires.c.claimed_by.startswith(START))
        .order_by(schedule_fires.c.fire_at)
    ).all()
    return {name: (at, count, error) for name, at, count, error in rows}


def due(workspace: Workspace, now: datetime | None = None) -> list[Due]:
    """Per enabled schedule, what is due at ``now``: the latest fire time at or before it and
    after its last firing; for a schedule never seen, its start."""
    from partnerscope import appdb

    now = utc(now)
    timezone = workspace.config.workspace.timezone
    with appdb.connect(workspace).connect() as connection:
        last = last_fires(connection)
    out = []
    for schedule in configured(workspace):
        if not schedule.enabled:
            continue
        if schedule.name not in last:
            out.append(Due(schedule, now, start=True))
            continue
        found = _latest(schedule, timezone, last[schedule.name][0], now)
        if found is not None:
            out.append(found)
    return out


# ------------------------------------------------------------------------------- firing


def run_due(workspace: Workspace, now: datetime | None = None, *, who: str = "cli") -> list[Fired]:
    """Fire every schedule due at ``now`` (a missed one once, however many times it was
    missed); what fired. A time another process claimed first is skipped."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    from partnerscope import appdb

    now = utc(now)
    engine = appdb.connect(workspace)
    fired: list[Fired] = []
    for item in due(workspace, now):
        schedule = item.schedule
        if item.start:
            try:
                with engine.begin() as connection:
                    connection.execute(
                        schedule_fires.insert().values(
                            schedule=schedule.name,
                            fire_at=now,
                            claimed_at=clock.now_utc(),
                            claimed_by=f"{START}{who}"[:200],
                            finished_at=clock.now_utc(),
                            notifications=0,
                        )
                    )
            except (IntegrityError, OperationalError):
                pass  # another process recorded it first
            continue
        try:
            done = _fire(workspace, item, who)
        except (IntegrityError, OperationalError) as exc:
            # the primary key (or the write lock held by the process firing it) says someone
            # else has this time: it is theirs
            log.info("schedule %s at %s: claimed elsewhere (%s)", schedule.name, item.fire_at, exc)
            continue
        except Exception:
            # one schedule that cannot fire (the warehouse busy with an import, a ledger being
            # rewritten) must not stop the others nor the tick: nothing of it was written, so
            # the next tick tries the same time again
            log.exception("schedule %s at %s could not fire", schedule.name, item.fire_at)
            continue
        if done is not None:
            fired.append(done)
    return fired


def _fire(workspace: Workspace, item: Due, who: str) -> Fired | None:
    from sqlalchemy import select

    from partnerscope import appdb

    schedule = item.schedule
    engine = appdb.connect(workspace)
    key = (schedule_fires.c.schedule == schedule.name) & (schedule_fires.c.fire_at == item.fire_at)
    with engine.connect() as connection:
        if connection.execute(select(schedule_fires.c.fire_at).where(key)).first():
            return None  # fired already (by another process, a moment ago)
        previous = _previous(connection, schedule.name, item.fire_at)
    done = Fired(schedule.name, schedule.what, item.fire_at, missed_since=item.missed_since)
    # what to write is read before the transaction (runs, the warehouse): the claim, the
    # notifications and the finish are then one short transaction
    from partnerscope.notify.distribution import WRITERS

    writes = WRITERS[schedule.what](workspace, schedule, item.fire_at, previous, done)
    with engine.begin() as connection:
        connection.execute(
            schedule_fires.insert().values(
                schedule=schedule.name,
                fire_at=item.fire_at,
                claimed_at=clock.now_utc(),
                claimed_by=who[:200],
            )
        )
        for write in writes:
            if write(connection) is not None:
                done.notifications += 1
        connection.execute(
            schedule_fires.update()
            .where(key)
            .values(
                finished_at=clock.now_utc(),
                notifications=done.notifications,
                error="; ".join(done.notes) or None,
            )
        )
    if done.notes:
        log.info("schedule %s: %s", schedule.name, "; ".join(done.notes))
    return done


def _previous(connection: Connection, name: str, before: datetime) -> datetime | None:
    """The schedule's fire time (or recorded start) before ``before``."""
    from sqlalchemy import func, select

    found = connection.execute(
        select(func.max(schedule_fires.c.fire_at)).where(
            schedule_fires.c.schedule == name, schedule_fires.c.fire_at < before
        )
    ).scalar_one_or_none()
    return found if isinstance(found, datetime) else None


# ------------------------------------------------------------------------------- in words

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = dict(
    zip(
        DAYS,
        ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
        strict=True,
    )
)


def cron_words(cron: str, timezone: str) -> str:
    """A cron expression in words where it is a common one ("on the 1st of every month at
    07:00 (Europe/Berlin)"), else the expression itself."""
    from partnerscope.settings.schedules import weekdays

    fields = cron.split()
    if len(fields) != 5:
        return f"cron {cron}"
    minute, hour, day, month, weekday = fields
    zone = f" ({timezone})"
    if not (minute.isdigit() and hour.isdigit()):
        return f"cron {cron}{zone}"
    at = f"at {int(hour):02d}:{int(minute):02d}"
    months = _months(month)
    if months is None:
        return f"cron {cron}{zone}"
    days = weekdays(weekday)
    if day == "*" and days == "*":
        return f"every day{months and ' in ' + months} {at}{zone}"
    if day == "*":
        named = [_DAY_NAMES[d] for d in days.split(",")]
        if named == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]:
            which = "every weekday (Monday to Friday)"
        else:
            which = "every " + _and(named)
        return f"{which}{months and ' in ' + months} {at}{zone}"
    if days == "*" and all(part.isdigit() for part in day.split(",")):
        dates = _and([_ordinal(int(d)) for d in day.split(",")])
        return f"on the {dates} of {months or 'every month'} {at}{zone}"
    return f"cron {cron}{zone}"


def _months(field: str) -> str | None:
    """ "" for every month, the months' names, or None when it is not a plain list."""
    if field == "*":
        return ""
    parts = field.split(",")
    if not all(p.isdigit() and 1 <= int(p) <= 12 for p in parts):
        return None
    return _and([_MONTHS[int(p) - 1] for p in parts])


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
