"""Unacknowledged alerts and approvals escalated level by level (docs/notifications.md,
"Escalations").

What can escalate ("items"):

- an alert of the latest run nobody acknowledged, assigned, snoozed or resolved (no row in
  ``alert_states``, or one that is open, unassigned and awake); it waits since the run that
  first raised it finished;
- an approval waiting: a payout ledger in draft (since it was computed), an MDF request
  requested, a deal registration submitted, an application submitted (since submitted).

An item is at level 1 (its normal owners) from the moment it started waiting. Once it has
waited at level k longer than level k's ``sla_hours`` (counted from when it reached level k, or
from the end of a snooze that ran out), it goes to level k+1: a row in ``escalations`` (unique
per item and level: escalating again changes nothing), an audit entry and a notification
(kind "escalation", to level k+1's owners only), in one transaction. It never goes past the
last level, and stops as soon as someone acts on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from partnerscope import appdb, audit, clock, outbox
from partnerscope.appdb.tables import (
    alert_states,
    applications,
    deal_registrations,
    escalations,
    mdf_requests,
    payout_periods,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.settings.escalation import LevelSettings
    from partnerscope.workspace import Workspace

log = logging.getLogger(__name__)

#: the actor the audit log names for an escalation
ACTOR = "escalation"
#: what each kind of item is called in a sentence, and the page it is on
_NOUNS = {
    "alert": "alert",
    "payout_period": "payout ledger",
    "mdf_request": "MDF request",
    "deal_registration": "deal registration",
    "application": "partner application",
}
#: the roles that approve an item without a partner (a payout ledger) at level 1
_APPROVERS = {"payout_period": ("finance",), "application": ("admin", "analyst")}
_STAFF = ("admin", "analyst", "finance", "partner_manager")


@dataclass(frozen=True)
class Item:
    """Something waiting for someone to act."""

    object_type: str
    object_id: str
    partner_id: str | None
    #: what it is, in a sentence's words ("the alert on Acme: Win rate fell 12 points")
    title: str
    #: when it started waiting (naive UTC)
    since: datetime
    link: str
    #: a named owner besides the level's (an application's assessor)
    owner: str | None = None
    #: when a snooze that held it ran out (its clock restarts then)
    woke: datetime | None = None


@dataclass(frozen=True)
class Step:
    """One level of an item's path."""

    level: int
    name: str
    owners: tuple[str, ...]
    #: when the item reached it (None: not yet)
    reached: datetime | None
    #: for the next level not reached: when it will be if nobody acts
    due: datetime | None = None


@dataclass(frozen=True)
class Escalated:
    """A row of ``escalations``: an item that reached a level."""

    escalation_id: int
    object_type: str
    object_id: str
    partner_id: str | None
    level: int
    name: str
    owners: tuple[str, ...]
    escalated_at: datetime


# --------------------------------------------------------------------------------- owners


@dataclass
class _People:
    """The active staff users and the partners each partner manager sees, read once."""

    users: list[Any]
    #: each partner manager's partners (None: every partner)
    sees: dict[str, frozenset[str] | None]

    @classmethod
    def read(cls, workspace: Workspace) -> _People:
        from partnerscope.accounts import Accounts, Role, visible_partners

        active = [u for u in Accounts.open(workspace).everyone() if u.active]
        managers = _managers(workspace)
        sees = {
            u.name: visible_partners(u, managers) for u in active if u.role is Role.PARTNER_MANAGER
        }
        return cls(active, sees)

    def with_role(self, role: str, partner_id: str | None) -> list[str]:
        found = []
        for user in self.users:
            if user.role.value != role or role not in _STAFF:
                continue
            if role == "partner_manager":
                seen = self.sees.get(user.name)
                if partner_id is None or (seen is not None and partner_id not in seen):
                    continue
            found.append(user.name)
        return found

    def owners(self, level: LevelSettings, item: Item, number: int) -> tuple[str, ...]:
        """Who owns ``item`` at ``level`` (number ``number``, 1-based): the level's roles
        ("partner_manager": the partner's own managers) and users; at level 1 also the item's
        named owner and, for an item no role reaches, its approvers; a level nobody holds
        goes to the admins."""
        known = {u.name for u in self.users if u.role.value in _STAFF}
        names: list[str] = []
        for role in level.roles:
            names += self.with_role(role, item.partner_id)
        for name in level.users:
            if name in known:
                names.append(name)
            else:
                log.warning(
                    "escalation level %r names %r, who is no active staff user; "
                    "`partnerscope users list` shows them",
                    level.name,
                    name,
                )
        if number == 1:
            if item.owner and item.owner in known:
                names.append(item.owner)
            if not names:
                for role in _APPROVERS.get(item.object_type, ("admin",)):
                    names += self.with_role(role, item.partner_id)
        if not names:
            names = self.with_role("admin", None)
        return tuple(dict.fromkeys(names))


def _managers(workspace: Workspace) -> dict[str, str | None]:
    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import RunNotFoundError

    try:
        return RunData(workspace).managers
    except RunNotFoundError:
        return {}


# ---------------------------------------------------------------------------------- items


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _names(workspace: Workspace) -> dict[str, str]:
    """Each partner's name as the latest run knows it (not the warehouse: a run may be
    writing it while the scheduler escalates)."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import RunNotFoundError

    try:
        table = RunData(workspace).memberships.table.select(["partner_id", "name"])
    except (RunNotFoundError, FileNotFoundError):
        return {}
    return {p: str(n) for p, n in zip(*table.to_pydict().values(), strict=True) if n}


def items(workspace: Workspace, now: datetime | None = None) -> list[Item]:
    """Everything waiting for someone to act at ``now``, oldest first."""
    from sqlalchemy import select

    moment = now or clock.now_utc()
    names = _names(workspace)
    words = workspace.words
    found: list[Item] = []

    def partner(pid: str | None) -> str:
        return names.get(pid or "", pid or "")

    found += _alerts(workspace, moment, names)
    with appdb.connect(workspace).connect() as connection:
        for row in connection.execute(
            select(payout_periods).where(payout_periods.c.status == "draft")
        ):
            found.append(
                Item(
                    "payout_period",
                    row.period,
                    None,
                    f"the payout ledger of {row.period}, waiting for approval",
                    row.computed_at,
                    f"/payouts/{row.period}",
                )
            )
        for row in connection.execute(
            select(mdf_requests).where(mdf_requests.c.status == "requested")
        ):
            amount = words.money(row.requested_amount)
            found.append(
                Item(
                    "mdf_request",
                    str(row.request_id),
                    row.partner_id,
                    f"{partner(row.partner_id)}'s MDF request “{row.name}” ({amount}), "
                    "waiting for a decision",
                    row.submitted_at,
                    f"/mdf/requests/{row.request_id}",
                )
            )
        for row in connection.execute(
            select(deal_registrations).where(deal_registrations.c.status == "submitted")
        ):
            found.append(
                Item(
                    "deal_registration",
                    str(row.registration_id),
                    row.partner_id,
                    f"{partner(row.partner_id)}'s deal registration for {row.account_name}, "
                    "waiting for a decision",
                    row.submitted_at,
                    f"/registrations/{row.registration_id}",
                )
            )
        for row in connection.execute(
            select(applications).where(applications.c.status == "submitted")
        ):
            found.append(
                Item(
                    "application",
                    str(row.application_id),
                    None,
                    f"the partner application of {row.company}, waiting for a decision",
                    row.submitted_at,
                    f"/applications/{row.application_id}",
                    owner=row.owner,
                )
            )
    return sorted(found, key=lambda i: (i.since, i.object_type, i.object_id))


def _alerts(workspace: Workspace, now: datetime, names: dict[str, str]) -> list[Item]:
    """The latest run's alerts nobody has acted on (acknowledged, assigned, snoozed today or
    resolved)."""
    from sqlalchemy import select

    from partnerscope.evaluation.view import RunData
    from partnerscope.runs import RunNotFoundError, list_runs

    try:
        data = RunData(workspace)
        rows = data.alerts.table.to_pylist()
    except (RunNotFoundError, FileNotFoundError):
        return []
    if not rows:
        return []
    finished = {r.run_id: _utc(r.finished_at) for r in list_runs(workspace)}
    latest = finished.get(data.run.run_id, _utc(data.run.finished_at))
    with appdb.connect(workspace).connect() as connection:
        stored = {r.alert_id: r for r in connection.execute(select(alert_states))}
    zone = ZoneInfo(workspace.config.workspace.timezone)
    today = clock.local_date(now, workspace.config.workspace.timezone)
    out = []
    for row in rows:
        state = stored.get(row["alert_id"])
        woke = None
        if state is not None:
            if state.status != "open" or state.owner:
                continue
            if state.snoozed_until is not None:
                if today < state.snoozed_until:
                    continue
                start = datetime.combine(state.snoozed_until, time(), zone)
                woke = start.astimezone(UTC).replace(tzinfo=None)
        first = row.get("first_seen_run")
        since = finished.get(int(first), latest) if first is not None else latest
        pid = row["partner_id"]
        out.append(
            Item(
                "alert",
                row["alert_id"],
                pid,
                f"the alert on {names.get(pid, pid)}: {row['message']}",
                since,
                f"/alerts?partner={pid}",
                woke=woke,
            )
        )
    return out


# ------------------------------------------------------------------------------- escalate


def _reached(connection: Connection) -> dict[tuple[str, str], dict[int, datetime]]:
    from sqlalchemy import select

    out: dict[tuple[str, str], dict[int, datetime]] = {}
    for row in connection.execute(
        select(
            escalations.c.object_type,
            escalations.c.object_id,
            escalations.c.level,
            escalations.c.escalated_at,
        )
    ):
        out.setdefault((row.object_type, row.object_id), {})[row.level] = row.escalated_at
    return out


def _level_and_clock(item: Item, reached: dict[int, datetime]) -> tuple[int, datetime]:
    """The item's current level (1-based) and when its clock at that level started."""
    level = max(reached, default=1)
    start = reached.get(level, item.since)
    if item.woke is not None and item.woke > start:
        start = item.woke
    return level, start


def escalate(workspace: Workspace, now: datetime | None = None) -> int:
    """Escalate what waited past its level's SLA; the number of escalations made."""
    settings = workspace.config.escalation
    if not settings.enabled:
        return 0
    moment = now or clock.now_utc()
    levels = settings.levels
    waiting = items(workspace, moment)
    made = 0
    engine = appdb.connect(workspace)
    with engine.connect() as connection:
        reached = _reached(connection)
    people = _People.read(workspace)
    for item in waiting:
        level, start = _level_and_clock(item, reached.get((item.object_type, item.object_id), {}))
        if level >= len(levels):
            continue
        if moment < start + timedelta(hours=levels[level - 1].sla_hours):
            continue
        if _escalate_one(workspace, item, level + 1, people, moment, waited_since=start):
            made += 1
    return made


def _escalate_one(
    workspace: Workspace,
    item: Item,
    number: int,
    people: _People,
    now: datetime,
    *,
    waited_since: datetime,
) -> bool:
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    levels = workspace.config.escalation.levels
    level = levels[number - 1]
    before = levels[number - 2]
    owners = people.owners(level, item, number)
    words = workspace.words
    hours = (now - waited_since).total_seconds() / 3600
    waited = _duration(hours)
    try:
        with appdb.connect(workspace).begin() as connection:
            done = connection.execute(
                select(escalations.c.escalation_id).where(
                    escalations.c.object_type == item.object_type,
                    escalations.c.object_id == item.object_id,
                    escalations.c.level == number,
                )
            ).first()
            if done is not None:
                return False
            connection.execute(
                escalations.insert().values(
                    object_type=item.object_type,
                    object_id=item.object_id,
                    partner_id=item.partner_id,
                    level=number,
                    owners=list(owners),
                    escalated_at=now,
                )
            )
            audit.record(
                connection,
                actor=ACTOR,
                action="escalate",
                object_type=item.object_type,
                object_id=item.object_id,
                detail={
                    "level": number,
                    "level_name": level.name,
                    "owners": list(owners),
                    "waited_hours": round(hours, 1),
                    "partner_id": item.partner_id,
                },
            )
            noun = _NOUNS.get(item.object_type, "item")
            outbox.enqueue(
                connection,
                key=f"escalation:{item.object_type}:{item.object_id}:{number}",
                kind="escalation",
                title=f"Escalated to you ({level.name}): {_capital(item.title)}",
                lines=[
                    f"Nobody acted on this {noun} at level {number - 1} ({before.name}) for "
                    f"{waited} (the level allows {_duration(before.sla_hours)}), so it is now "
                    f"at level {number} ({level.name}).",
                    f"It has been waiting since {words.moment(item.since)}.",
                ],
                facts=[
                    ("Level", f"{number} of {len(levels)}: {level.name}"),
                    ("Owners", ", ".join(owners) or "nobody"),
                ],
                audience="staff",
                partner_id=item.partner_id,
                users=owners,
                only=True,
                link=item.link,
                object_type=item.object_type,
                object_id=item.object_id,
                now=now,
            )
    except IntegrityError:
        return False  # another process escalated it at the same moment
    return True


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _duration(hours: float) -> str:
    """``2 days``, ``1 day 6 hours``, ``5 hours``."""
    whole = round(hours)
    days, rest = divmod(whole, 24)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if rest or not days:
        parts.append(f"{rest} hour{'s' if rest != 1 else ''}")
    return " ".join(parts)


# --------------------------------------------------------------------------------- reading


def path(
    workspace: Workspace,
    object_type: str,
    object_ids: Iterable[str],
    now: datetime | None = None,
) -> dict[str, list[Step]]:
    """The escalation path of each item (by id): every level, its owners, when it was reached
    or, for the next one, when it will be if nobody acts (an item no longer waiting shows the
    levels it reached only)."""
    wanted = set(object_ids)
    moment = now or clock.now_utc()
    settings = workspace.config.escalation
    live = {
        i.object_id: i
        for i in (
            # (the alert page's path: no partner names, no reading of the warehouse)
            _alerts(workspace, moment, {}) if object_type == "alert" else items(workspace, moment)
        )
        if i.object_type == object_type and i.object_id in wanted
    }
    with appdb.connect(workspace).connect() as connection:
        reached = _reached(connection)
        stored = {
            (r.object_id, r.level): tuple(r.owners)
            for r in connection.execute(
                escalations.select().where(escalations.c.object_type == object_type)
            )
            if r.object_id in wanted
        }
    people = _People.read(workspace)
    out: dict[str, list[Step]] = {}
    for object_id in sorted(wanted):
        item = live.get(object_id)
        done = reached.get((object_type, object_id), {})
        if item is None and not done:
            continue
        steps: list[Step] = []
        level_now, start = _level_and_clock(item, done) if item else (max(done), None)
        for number, level in enumerate(settings.levels, start=1):
            when = done.get(number) or (item.since if item and number == 1 else None)
            owners = stored.get((object_id, number))
            if owners is None and item is not None:
                owners = people.owners(level, item, number)
            due = None
            if (
                item is not None
                and start is not None
                and number == level_now + 1
                and number <= len(settings.levels)
            ):
                due = start + timedelta(hours=settings.levels[level_now - 1].sla_hours)
            steps.append(Step(number, level.name, owners or (), when, due))
        out[object_id] = steps
    return out


def history(
    workspace: Workspace, partner_ids: frozenset[str] | None = None, limit: int = 500
) -> list[Escalated]:
    """The escalations made, newest first (``partner_ids``: only those of these partners and
    those of no partner)."""
    from sqlalchemy import select

    names = {i: lv.name for i, lv in enumerate(workspace.config.escalation.levels, start=1)}
    query = (
        select(escalations)
        .order_by(escalations.c.escalated_at.desc(), escalations.c.escalation_id.desc())
        .limit(limit)
    )
    with appdb.connect(workspace).connect() as connection:
        rows = connection.execute(query).all()
    return [
        Escalated(
            r.escalation_id,
            r.object_type,
            r.object_id,
            r.partner_id,
            r.level,
            names.get(r.level, f"Level {r.level}"),
            tuple(r.owners),
            r.escalated_at,
        )
        for r in rows
        if partner_ids is None or r.partner_id is None or r.partner_id in partner_ids
    ]


def unknown_users(workspace: Workspace) -> list[str]:
    """A sentence for each user an ``[escalation]`` level names who is no active staff user
    (escalating skips them)."""
    people = _People.read(workspace)
    known = {u.name for u in people.users if u.role.value in _STAFF}
    return [
        f"escalation level {number} ({level.name}) names {name!r}, who is no active staff "
        "user; add them with `partnerscope users add` or fix the name in [escalation]"
        for number, level in enumerate(workspace.config.escalation.levels, start=1)
        for name in level.users
        if name not in known
    ]


def noun(object_type: str) -> str:
    """What an item of ``object_type`` is called ("deal registration")."""
    return _NOUNS.get(object_type, object_type.replace("_", " "))
