"""Assignments in the app database: reading them back, the open-lead counts and round-robin
cursors a batch starts from, and writing decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from partnerscope.appdb.tables import lead_assignments, routing_cursors
from partnerscope.errors import PartnerscopeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sqlalchemy.engine import Connection

    from partnerscope.operations.routing.engine import Decision
    from partnerscope.operations.routing.leadfile import LeadRow


class RoutingError(PartnerscopeError, ValueError):
    """A lead that cannot be routed, touched, declined or closed as asked."""


class LeadNotFoundError(RoutingError, LookupError):
    """No assignment of that lead (or of that lead to that partner)."""


class Status(StrEnum):
    """Where an assignment stands: assigned → touched → converted or closed; assigned or
    touched → declined; assigned → breached; a self-service lead is queued."""

    ASSIGNED = "assigned"
    TOUCHED = "touched"
    DECLINED = "declined"
    BREACHED = "breached"
    CONVERTED = "converted"
    CLOSED = "closed"
    QUEUED = "queued"


class Rerouted(StrEnum):
    """Why a lead came to its next attempt."""

    DECLINED = "declined"
    BREACHED = "breached"


#: a partner's open leads: those counted against its capacity
OPEN = (Status.ASSIGNED.value, Status.TOUCHED.value)
#: a lead's partners it never goes back to
REFUSED = (Status.DECLINED.value, Status.BREACHED.value)


@dataclass(frozen=True)
class Assignment:
    assignment_id: int
    lead_id: str
    attempt: int
    partner_id: str | None
    queue: str | None
    status: Status
    band: str
    rule: str
    #: why this partner, in full: for staff who may see every partner it names
    reason: str
    #: why this partner, as the partner itself is told (None on rows routed before 0.1)
    partner_reason: str | None
    #: the partner whose decline or SLA breach sent the lead on (None on a first attempt)
    rerouted_from: str | None
    rerouted_after: Rerouted | None
    eligible: dict[str, Any]
    distance_km: float | None
    assigned_at: datetime
    sla_due_at: datetime | None
    first_touch_at: datetime | None
    closed_at: datetime | None
    closed_reason: str | None
    updated_at: datetime
    routed_by: str
    value: float | None
    estimated_value: Decimal | None
    currency: str | None
    country: str | None
    region: str | None
    product: str | None
    source: str | None
    latitude: float | None
    longitude: float | None

    @property
    def ref(self) -> str:
        return f"lead {self.lead_id}"

    @property
    def assignee(self) -> str:
        """The partner, or the self-service queue."""
        return self.partner_id or f"queue {self.queue}"

    def explained(self, sees: Callable[[str], bool] = lambda _: True) -> str:
        """Why the lead is with this partner, in full; the partner whose decline or breach
        sent it here is named only if ``sees`` it (a viewer's visibility), else "another
        partner"."""
        if self.rerouted_after is None:
            return self.reason
        who = self.rerouted_from or ""
        shown = who if who and sees(who) else "another partner"
        what = "declined" if self.rerouted_after is Rerouted.DECLINED else "breached the SLA"
        return f"re-routed after {shown} {what}: {self.reason}"

    @property
    def canonical_id(self) -> str:
        """Its ``lead_id`` as a canonical leads row: the lead's own for the first attempt,
        ``<lead_id>~<attempt>`` for a re-route (one row per partner the lead went to)."""
        return self.lead_id if self.attempt == 1 else f"{self.lead_id}~{self.attempt}"


def assignment(row: Any) -> Assignment:
    data = dict(row._mapping)
    data["status"] = Status(data["status"])
    after = data["rerouted_after"]
    data["rerouted_after"] = None if after is None else Rerouted(after)
    value = data["estimated_value"]
    data["estimated_value"] = None if value is None else Decimal(value)
    return Assignment(**data)


def decision_values(
    decision: Decision,
    lead: LeadRow,
    *,
    now: datetime,
    by: str,
    sla_hours: float,
    after: tuple[str, Rerouted] | None = None,
) -> dict[str, Any]:
    """The row of one decision (``after``: the partner whose decline or breach it follows)."""
    assigned = decision.partner_id is not None
    return {
        "lead_id": decision.lead_id,
        "attempt": decision.attempt,
        "partner_id": decision.partner_id,
        "queue": decision.queue,
        "status": (Status.ASSIGNED if assigned else Status.QUEUED).value,
        "band": decision.band.value,
        "rule": decision.rule,
        "reason": decision.reason,
        "partner_reason": decision.partner_reason,
        "rerouted_from": None if after is None else after[0],
        "rerouted_after": None if after is None else after[1].value,
        "eligible": {
            "ids": list(decision.eligible),
            "count": decision.eligible_count,
            "excluded": decision.excluded,
        },
        "distance_km": decision.distance_km,
        "assigned_at": now,
        "sla_due_at": now + timedelta(hours=sla_hours) if assigned else None,
        "first_touch_at": None,
        "closed_at": None,
        "closed_reason": None,
        "updated_at": now,
        "routed_by": by,
        "value": lead.lead.value,
        "estimated_value": None if lead.estimated_value is None else str(lead.estimated_value),
        "currency": lead.currency,
        "country": lead.lead.country,
        "region": lead.lead.region,
        "product": lead.lead.product,
        "source": lead.source,
        "latitude": lead.lead.latitude,
        "longitude": lead.lead.longitude,
    }


def open_leads(connection: Connection) -> dict[str, int]:
    from sqlalchemy import func, select

    t = lead_assignments
    rows = connection.execute(
        select(t.c.partner_id, func.count())
        .where(t.c.status.in_(OPEN), t.c.partner_id.is_not(None))
        .group_by(t.c.partner_id)
    )
    return {pid: int(n) for pid, n in rows}


def cursors(connection: Connection) -> dict[str, str]:
    from sqlalchemy import select

    rows = connection.execute(select(routing_cursors.c.pool, routing_cursors.c.partner_id))
    return {str(pool): str(pid) for pool, pid in rows}


def save_cursors(
    connection: Connection, before: dict[str, str], after: dict[str, str], now: datetime
) -> None:
    for pool, partner_id in after.items():
        if pool not in before:
            connection.execute(
                routing_cursors.insert().values(pool=pool, partner_id=partner_id, updated_at=now)
            )
        elif before[pool] != partner_id:
            connection.execute(
                routing_cursors.update()
                .where(routing_cursors.c.pool == pool)
                .values(partner_id=partner_id, updated_at=now)
            )


def routed(connection: Connection, lead_ids: Iterable[str]) -> set[str]:
    """Those of ``lead_ids`` that already have an assignment."""
    from sqlalchemy import select

    ids, found = list(lead_ids), set[str]()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        query = select(lead_assignments.c.lead_id).where(lead_assignments.c.lead_id.in_(chunk))
        found.update(connection.execute(query.distinct()).scalars())
    return found


def history(connection: Connection, lead_id: str) -> list[Assignment]:
    """Every attempt of a lead, first first."""
    from sqlalchemy import select

    query = (
        select(lead_assignments)
        .where(lead_assignments.c.lead_id == lead_id)
        .order_by(lead_assignments.c.attempt)
    )
    return [assignment(row) for row in connection.execute(query)]
