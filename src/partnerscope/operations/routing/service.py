"""Lead routing as the CLI and the web app call it: route a batch, record a first touch, a
decline or an outcome, check the SLA and re-route, list assignments, and write them as
canonical lead rows.

Every function takes the workspace first, ``now`` (naive UTC; tests control the clock) and
``by`` (the actor the audit log records) where it changes something, and raises a
:class:`RoutingError` saying what to fix. Each change is written with its audit entry in one
transaction, and an assignment moves on only from the state it was read in.

A batch is audited as one entry (its counts; each assignment row also names who routed it and
when); touches, declines, outcomes, breaches and re-routes are audited per lead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from partnerscope import appdb, audit
from partnerscope.appdb.tables import lead_assignments
from partnerscope.operations.routing import notices, store
from partnerscope.operations.routing.engine import Lead, Router
from partnerscope.operations.routing.facts import load_facts
from partnerscope.operations.routing.leadfile import LeadRow, RowProblem, read_leads
from partnerscope.operations.routing.store import (
    OPEN,
    REFUSED,
    Assignment,
    LeadNotFoundError,
    Rerouted,
    RoutingError,
    Status,
)
from partnerscope.workflow import Workflow

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from sqlalchemy.engine import Connection

    from partnerscope.settings.routing import RoutingSettings
    from partnerscope.workspace import Workspace

OBJECT_TYPE = "lead"
CHUNK = 5_000
#: an assignment's steps (workflow.py: text, moving on); a lead's refusals have no check name
LEADS = Workflow(
    lead_assignments.c.assignment_id,
    OBJECT_TYPE,
    "assignment",
    lambda _check, message: RoutingError(message),
)

#: progress of a batch: (leads routed, leads in the batch)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Batch:
    """What routing a batch did: the new assignments, the leads left alone because they were
    routed before (a batch can be routed again safely), and the rows that could not be read."""

    assignments: list[Assignment]
    already_routed: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    #: the run the partners' tiers, scores and SLA rates came from (None: no run yet)
    run_id: int | None = None

    def counts(self) -> Counter[str]:
        """Assignments per rule."""
        return Counter(a.rule for a in self.assignments)


def settings_of(workspace: Workspace, seed: int | None = None) -> RoutingSettings:
    settings = workspace.config.routing
    return settings if seed is None else settings.model_copy(update={"seed": seed})


def sla_hours(workspace: Workspace) -> float:
    return workspace.config.routing.sla_hours or workspace.config.workspace.sla_hours


def _router(workspace: Workspace, settings: RoutingSettings, now: datetime) -> Router:
    """A router over the warehouse's partners; its state is read in the transaction."""
    from partnerscope.clock import local_date

    today = local_date(now, workspace.config.workspace.timezone)
    return Router(load_facts(workspace, settings, today), settings)


def _start(router: Router, connection: Connection) -> dict[str, str]:
    """Load the open-lead counts and cursors into the router; the cursors as they were."""
    for pid, count in store.open_leads(connection).items():
        if pid in router.index:
            router.open[router.index[pid]] = count
    router.cursors = store.cursors(connection)
    return dict(router.cursors)


def route_file(
    workspace: Workspace,
    path: Path,
    *,
    now: datetime,
    by: str,
    seed: int | None = None,
    progress: Progress | None = None,
) -> Batch:
    """Route the leads of a CSV, XLSX or Parquet file (:mod:`.leadfile`); rows that cannot be
    read are reported in ``Batch.problems`` and the others routed."""
    from partnerscope.clock import local_date

    leads, problems = read_leads(
        workspace, path, local_date(now, workspace.config.workspace.timezone)
    )
    batch = route_leads(
        workspace, leads, now=now, by=by, seed=seed, progress=progress, file=path.name
    )
    return replace(batch, problems=problems)


def route_leads(
    workspace: Workspace,
    leads: Sequence[LeadRow],
    *,
    now: datetime,
    by: str,
    seed: int | None = None,
    progress: Progress | None = None,
    file: str | None = None,
) -> Batch:
    """Route each lead not routed before, in order; ``seed`` overrides ``[routing] seed``."""
    settings = settings_of(workspace, seed)
    hours = sla_hours(workspace)
    router = _router(workspace, settings, now)
    with appdb.connect(workspace).begin() as connection:
        # one routing at a time: each reads the open leads and cursors the last one left
        appdb.serialize(connection, lead_assignments)
        before = _start(router, connection)
        done = store.routed(connection, (row.lead.lead_id for row in leads))
        todo = [row for row in leads if row.lead.lead_id not in done]
        rows = []
        for i, row in enumerate(todo):
            decision = router.route(row.lead)
            rows.append(store.decision_values(decision, row, now=now, by=by, sla_hours=hours))
            if progress is not None and (i + 1) % CHUNK == 0:
                progress(i + 1, len(todo))
        for start in range(0, len(rows), CHUNK):
            connection.execute(lead_assignments.insert(), rows[start : start + CHUNK])
        store.save_cursors(connection, before, router.cursors, now)
        rules = Counter(r["rule"] for r in rows)
        audit.record(
            connection,
            actor=by,
            action="route",
            object_type="lead_batch",
            object_id=now.isoformat(timespec="seconds"),
            detail={
                "file": file,
                "routed": len(rows),
                "already_routed": len(leads) - len(todo),
                "rules": dict(sorted(rules.items())),
                "seed": settings.seed,
                "run_id": router.facts.run_id,
            },
        )
        routed = _assignments(connection, [r["lead_id"] for r in rows])
    if progress is not None:
        progress(len(todo), len(todo))
    return Batch(
        assignments=routed,
        already_routed=[row.lead.lead_id for row in leads if row.lead.lead_id in done],
        run_id=router.facts.run_id,
    )


def _assignments(connection: Connection, lead_ids: list[str]) -> list[Assignment]:
    """The latest attempt of each lead, in the order given."""
    from sqlalchemy import select

    t = lead_assignments
    latest: dict[str, Assignment] = {}
    for start in range(0, len(lead_ids), 500):
        query = select(t).where(t.c.lead_id.in_(lead_ids[start : start + 500]))
        for row in connection.execute(query.order_by(t.c.attempt)):
            found = store.assignment(row)
            latest[found.lead_id] = found
    return [latest[lead_id] for lead_id in lead_ids]


# -------------------------------------------------------------------- one lead at a time


def _current(connection: Connection, lead_id: str, partner_id: str) -> list[Assignment]:
    """The lead's attempts; the last one must be an open assignment to ``partner_id``."""
    attempts = store.history(connection, lead_id)
    if not attempts:
        raise LeadNotFoundError(
            f"no lead {lead_id!r} has been routed; `partnerscope leads list` shows the leads"
        )
    last = attempts[-1]
    if last.partner_id != partner_id:
        # the refusal reaches the partner that asked: it names no other partner
        mine = [a for a in attempts if a.partner_id == partner_id]
        if not mine:
            raise LeadNotFoundError(f"no lead {lead_id!r} was routed to {partner_id}")
        raise RoutingError(
            f"lead {lead_id} is no longer with {partner_id}: its assignment was "
            f"{mine[-1].status.value} ({mine[-1].closed_reason or 'closed'})"
        )
    if last.status.value not in OPEN:
        raise RoutingError(
            f"lead {lead_id}'s assignment to {partner_id} is {last.status.value}"
            f"{f' ({last.closed_reason})' if last.closed_reason else ''}; nothing to change"
        )
    return attempts


def _move(
    connection: Connection,
    found: Assignment,
    values: dict[str, Any],
    *,
    by: str,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Move an assignment on from the state it was read in, and log it."""
    LEADS.move(
        connection,
        found,
        found.assignment_id,
        values,
        by=by,
        action=action,
        object_id=found.lead_id,
        detail={"partner_id": found.partner_id, "attempt": found.attempt, **detail},
    )


def record_touch(
    workspace: Workspace,
    lead_id: str,
    partner_id: str,
    *,
    now: datetime,
    by: str,
    at: datetime | None = None,
) -> Assignment:
    """The partner's first contact with the lead, at ``at`` (default ``now``). A touch after
    ``sla_due_at`` is recorded too: it counts as a breach in lead_sla_rate, but the lead stays
    with the partner working it."""
    moment = at or now
    with appdb.connect(workspace).begin() as connection:
        found = _current(connection, lead_id, partner_id)[-1]
        if found.status is Status.TOUCHED:
            raise RoutingError(
                f"lead {lead_id} was first touched by {partner_id} at "
                f"{found.first_touch_at:%Y-%m-%d %H:%M}; only the first touch is recorded"
            )
        if not found.assigned_at <= moment <= now:
            raise RoutingError(
                f"the touch at {moment:%Y-%m-%d %H:%M} must lie between the assignment "
                f"({found.assigned_at:%Y-%m-%d %H:%M} UTC) and now ({now:%Y-%m-%d %H:%M} UTC)"
            )
        late = found.sla_due_at is not None and moment > found.sla_due_at
        _move(
            connection,
            found,
            {"status": Status.TOUCHED.value, "first_touch_at": moment, "updated_at": now},
            by=by,
            action="touch",
            detail={"at": moment.isoformat(), "within_sla": not late},
        )
        return store.history(connection, lead_id)[-1]


def record_outcome(
    workspace: Workspace,
    lead_id: str,
    partner_id: str,
    *,
    converted: bool,
    now: datetime,
    by: str,
    reason: str | None = None,
) -> Assignment:
    """Close the partner's assignment of the lead: converted to an opportunity, or closed
    without one. Either frees a place of the partner's capacity."""
    status = Status.CONVERTED if converted else Status.CLOSED
    with appdb.connect(workspace).begin() as connection:
        found = _current(connection, lead_id, partner_id)[-1]
        _move(
            connection,
            found,
            {
                "status": status.value,
                "closed_at": now,
                "closed_reason": _text(reason) if reason else None,
                "updated_at": now,
            },
            by=by,
            action=status.value,
            detail={"reason": reason},
        )
        return store.history(connection, lead_id)[-1]


def record_decline(
    workspace: Workspace,
    lead_id: str,
    partner_id: str,
    *,
    reason: str,
    now: datetime,
    by: str,
) -> tuple[Assignment, Assignment]:
    """The partner declines the lead: it is re-routed to the next eligible partner, never to
    one that declined or breached it before. Returns (the declined, the new assignment)."""
    why = _text(reason)
    router = _router(workspace, workspace.config.routing, now)
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, lead_assignments)  # it routes the lead again
        attempts = _current(connection, lead_id, partner_id)
        found = attempts[-1]
        _move(
            connection,
            found,
            {
                "status": Status.DECLINED.value,
                "closed_at": now,
                "closed_reason": f"declined: {why}",
                "updated_at": now,
            },
            by=by,
            action="decline",
            detail={"reason": why},
        )
        before = _start(router, connection)
        new = _reroute(
            connection,
            router,
            attempts,
            Rerouted.DECLINED,
            hours=sla_hours(workspace),
            now=now,
            by=by,
        )
        store.save_cursors(connection, before, router.cursors, now)
        return store.history(connection, lead_id)[-2], new


def check_sla(
    workspace: Workspace, *, now: datetime, by: str
) -> list[tuple[Assignment, Assignment]]:
    """Flag every assignment not first-touched by its ``sla_due_at`` as breached and re-route
    its lead; returns (the breached, the new assignment) pairs, earliest due first. The breach
    stays on the first partner's record: it counts against its lead_sla_rate."""
    from sqlalchemy import select

    t = lead_assignments
    router = _router(workspace, workspace.config.routing, now)
    hours = sla_hours(workspace)
    out = []
    names = _names(workspace)
    with appdb.connect(workspace).begin() as connection:
        appdb.serialize(connection, lead_assignments)  # it routes the breached leads again
        due = connection.execute(
            select(t.c.lead_id)
            .where(t.c.status == Status.ASSIGNED.value, t.c.sla_due_at < now)
            .order_by(t.c.sla_due_at, t.c.lead_id)
        ).scalars()
        before = _start(router, connection)
        for lead_id in list(due):
            attempts = store.history(connection, lead_id)
            found = attempts[-1]
            _move(
                connection,
                found,
                {
                    "status": Status.BREACHED.value,
                    "closed_at": now,
                    "closed_reason": f"not first-touched by {found.sla_due_at:%Y-%m-%d %H:%M} UTC",
                    "updated_at": now,
                },
                by=by,
                action="breach",
                detail={"sla_due_at": found.sla_due_at.isoformat() if found.sla_due_at else None},
            )
            notices.breached(connection, workspace.words, found, names, now=now)
            if found.partner_id in router.index:
                router.open[router.index[found.partner_id]] -= 1
            new = _reroute(
                connection, router, attempts, Rerouted.BREACHED, hours=hours, now=now, by=by
            )
            out.append((store.history(connection, lead_id)[-2], new))
        store.save_cursors(connection, before, router.cursors, now)
    return out


def _names(workspace: Workspace) -> dict[str, str]:
    """The partners' names for the notifications (ids alone when the warehouse is unreadable)."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.warehouse import partner_names

    try:
        return partner_names(workspace)
    except (PartnerscopeError, OSError):
        return {}


def _reroute(
    connection: Connection,
    router: Router,
    attempts: list[Assignment],
    after: Rerouted,
    *,
    hours: float,
    now: datetime,
    by: str,
) -> Assignment:
    """The lead's next attempt, excluding every partner that declined or breached it (the
    last attempt, closed by ``after``, is already closed in ``connection``, not yet in
    ``attempts``). Which partner it follows is kept as data, never written into the reason:
    each viewer is told of it only if it may see that partner."""
    last = attempts[-1]
    refused = frozenset(
        a.partner_id
        for a in attempts
        if a.partner_id is not None and (a.status.value in REFUSED or a is last)
    )
    lead = Lead(
        lead_id=last.lead_id,
        value=last.value,
        country=last.country,
        product=last.product,
        region=last.region,
        latitude=last.latitude,
        longitude=last.longitude,
    )
    decision = router.route(lead, attempt=last.attempt + 1, excluded=refused)
    row = LeadRow(lead, last.estimated_value, last.currency, last.source)
    assert last.partner_id is not None  # only a partner's attempt is declined or breached
    values = store.decision_values(
        decision, row, now=now, by=by, sla_hours=hours, after=(last.partner_id, after)
    )
    connection.execute(lead_assignments.insert().values(**values))
    audit.record(
        connection,
        actor=by,
        action="reroute",
        object_type=OBJECT_TYPE,
        object_id=last.lead_id,
        detail={
            "attempt": decision.attempt,
            "to": decision.partner_id or decision.queue,
            "after": {"partner_id": last.partner_id, "because": after.value},
        },
    )
    return store.history(connection, last.lead_id)[-1]


def _text(value: str) -> str:
    return LEADS.text(
        value, "a reason", "why does the partner decline or close the lead?", "reason"
    )


# -------------------------------------------------------------------------------- reading


def assignments(
    workspace: Workspace,
    *,
    lead_id: str | None = None,
    partner_id: str | None = None,
    status: Status | str | None = None,
    limit: int | None = 200,
    offset: int = 0,
    partners: Collection[str] | None = None,
) -> list[Assignment]:
    """Assignments with their explanations, newest first (a lead's attempts in order); of
    ``partners`` only, when given."""
    from sqlalchemy import select

    t = lead_assignments
    query = select(t).order_by(t.c.assigned_at.desc(), t.c.lead_id, t.c.attempt)
    if lead_id is not None:
        query = query.where(t.c.lead_id == lead_id)
    if partner_id is not None:
        query = query.where(t.c.partner_id == partner_id)
    if partners is not None:
        query = query.where(t.c.partner_id.in_(sorted(partners)))
    if status is not None:
        query = query.where(t.c.status == _status(status).value)
    query = query.offset(offset) if limit is None else query.limit(limit).offset(offset)
    with appdb.connect(workspace).connect() as connection:
        return [store.assignment(row) for row in connection.execute(query)]


def lead_history(workspace: Workspace, lead_id: str) -> list[Assignment]:
    """Every attempt of one lead, first first."""
    with appdb.connect(workspace).connect() as connection:
        attempts = store.history(connection, lead_id)
    if not attempts:
        raise LeadNotFoundError(
            f"no lead {lead_id!r} has been routed; `partnerscope leads list` shows the leads"
        )
    return attempts


def _status(value: Status | str) -> Status:
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        raise RoutingError(
            f"no status {value!r}; use one of {', '.join(s.value for s in Status)}"
        ) from None


def canonical_rows(workspace: Workspace) -> list[dict[str, Any]]:
    """Every assignment to a partner as a canonical ``leads`` row (schema.py), so that the
    metrics see it: the first attempt keeps the lead's id, a re-route is ``<lead_id>~<n>``.
    A breached attempt has no first touch, so it counts against that partner's
    lead_sla_rate; a decline is the partner's answer, so it counts as its first touch."""
    rows = []
    for found in assignments(workspace, limit=None):
        if found.partner_id is None:
            continue
        touch = found.first_touch_at
        if touch is None and found.status is Status.DECLINED:
            touch = found.closed_at
        rows.append(
            {
                "lead_id": found.canonical_id,
                "partner_id": found.partner_id,
                "assigned_at": found.assigned_at,
                "first_touch_at": touch,
                "converted": found.status is Status.CONVERTED,
                "estimated_value": found.estimated_value,
                "currency": found.currency,
                "country": found.country,
                "product": found.product,
                "source": found.source,
                "updated_at": found.updated_at,
            }
        )
    rows.sort(key=lambda r: (r["assigned_at"], r["lead_id"]))
    return rows
