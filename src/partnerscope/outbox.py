"""The outbox: what tells people something is written here, in the same transaction as the event
that causes it, and delivered later by ``partnerscope.notify`` (its worker fans each notification
out to its recipients and channels, with retries).

A capability (a payout approved, a registration in conflict, an approval requested) calls
:func:`enqueue` with the connection of its own transaction: if the event rolls back, so does the
notification; if it commits, the notification is there to be sent, however the process ends.
Each notification has a ``key`` naming the event (``payout:2026-10:approved``): writing the same
key again changes nothing, so an event re-evaluated (a run of the same period, a sweep that runs
every minute) tells people once.

A notification's ``audience`` is "staff" (never delivered to a partner user, however it is
addressed) or "partner": for the users of ``partner_id`` too, so its title, lines and facts must
hold nothing the vendor keeps to itself (scores, percentiles, flags, alerts, internal notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from partnerscope import clock
from partnerscope.appdb.tables import notifications

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = ["CADENCES", "KINDS", "Kind", "enqueue"]

Audience = Literal["staff", "partner"]

#: how a user may take a kind: as it happens, in a daily or weekly digest, or not at all
CADENCES = ("immediately", "daily", "weekly", "off")


@dataclass(frozen=True)
class Kind:
    #: what a person sees in their preferences ("New alerts")
    label: str
    #: one sentence on what it is
    description: str
    #: staff roles told by default (a partner manager only of the partners they look after)
    roles: tuple[str, ...]
    #: the cadence when the user has not chosen
    cadence: str = "immediately"


#: Every kind of notification. A kind's default recipients are its ``roles`` (staff who may see
#: the partner) plus, for a "partner" notification, the partner's own users.
KINDS: dict[str, Kind] = {
    "alert": Kind(
        "New alerts", "A run raised an alert on a partner you look after.", ("partner_manager",)
    ),
    "signal": Kind(
        "Decision signals", "A signal a decision watches has fired.", ("admin", "analyst")
    ),
    "review_due": Kind("Reviews due", "A decision's review date has come.", ("admin", "analyst")),
    "approval": Kind(
        "Approvals waiting",
        "Something waits for your approval: a payout ledger, an MDF request, a deal "
        "registration or a partner application.",
        ("finance",),
    ),
    "sla_breach": Kind(
        "Lead SLA breaches", "A lead was not accepted within its SLA.", ("partner_manager",)
    ),
    "registration": Kind(
        "Deal registrations",
        "A registration is in conflict, decided, or about to expire.",
        ("partner_manager",),
    ),
    "onboarding": Kind(
        "Onboarding",
        "An onboarding task or check-in is overdue.",
        ("partner_manager",),
    ),
    "payout": Kind("Payouts", "A payout ledger was approved or paid.", ("finance",)),
    "escalation": Kind(
        "Escalations",
        "An alert or approval nobody acknowledged in time has reached your level.",
        (),
    ),
    "task": Kind("Tasks", "A rule opened a task for you.", ()),
    "nudge": Kind("Program nudges", "A suggestion for the partner from the program's rules.", ()),
    "report": Kind("Scheduled reports", "A report sent on a schedule (scorecards, summaries).", ()),
    "digest": Kind("Digests", "Your daily or weekly summary.", ()),
}


def enqueue(
    connection: Connection,
    *,
    key: str,
    kind: str,
    title: str,
    lines: Sequence[str] = (),
    facts: Sequence[tuple[str, str]] = (),
    audience: Audience = "staff",
    partner_id: str | None = None,
    roles: Sequence[str] | None = None,
    users: Sequence[str] = (),
    addresses: Sequence[str] = (),
    webhooks: Sequence[str] | None = None,
    only: bool = False,
    link: str | None = None,
    attachment: dict[str, Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Write a notification in ``connection``'s transaction; its id, or None when ``key`` was
    written before (nothing changes).

    Recipients: the kind's default ``roles`` (or those given), the named ``users``, external
    email ``addresses``, and the configured webhooks (``webhooks``: their names; None: every
    webhook that takes the kind). With ``only``, just those named (no default roles).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; one of {', '.join(KINDS)}")
    if audience == "partner" and not partner_id:
        raise ValueError("a notification for a partner's users names the partner")
    if len(key) > 200:
        raise ValueError(f"notification key longer than 200 characters: {key[:60]}…")
    values = {
        "key": key,
        "kind": kind,
        "audience": audience,
        "partner_id": partner_id,
        "recipients": {
            "roles": list(KINDS[kind].roles if roles is None else roles),
            "users": list(users),
            "addresses": list(addresses),
            "webhooks": None if webhooks is None else list(webhooks),
            "only": only,
        },
        "title": title,
        "body": {"lines": list(lines), "facts": [list(f) for f in facts]},
        "link": link,
        "attachment": attachment,
        "object_type": object_type,
        "object_id": object_id,
        "created_at": now or clock.now_utc(),
    }
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(notifications)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(notifications.c.notification_id)
    )
    new = connection.execute(statement).scalar_one_or_none()
    return None if new is None else int(new)
