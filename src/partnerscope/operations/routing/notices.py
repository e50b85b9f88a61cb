"""What a lead's SLA breach tells people, written with :func:`partnerscope.outbox.enqueue` in the
transaction that finds it (``check_sla``, or the notifications' sweep, which finds an
assignment past its SLA before anyone has run ``check_sla``): the partner's managers and the
partner, once per assignment (the keys name the assignment).

The partner is told of its own lead only; where the lead goes next is not said.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from partnerscope import outbox
from partnerscope.operations.routing.store import Assignment

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from partnerscope.present import Words

OBJECT_TYPE = "lead"


def breached(
    connection: Connection,
    words: Words,
    found: Assignment,
    names: Mapping[str, str],
    *,
    now: datetime,
) -> int:
    """Tell the partner's managers and the partner that lead ``found`` was not accepted by its
    SLA; the number of notifications written (0 when told before)."""
    if found.partner_id is None or found.sla_due_at is None:
        return 0
    partner = names.get(found.partner_id, found.partner_id)
    value = f" ({words.money(found.estimated_value)})" if found.estimated_value is not None else ""
    assigned = words.moment(found.assigned_at)
    due = words.moment(found.sla_due_at)
    written = 0
    if outbox.enqueue(
        connection,
        key=f"sla:{found.assignment_id}",
        kind="sla_breach",
        title=f"{partner} did not accept lead {found.lead_id} in time",
        lines=[
            f"Lead {found.lead_id}{value} was assigned to {partner} on {assigned} and was not "
            f"accepted by {due}.",
            "The lead is routed to the next partner when the SLA is checked.",
        ],
        facts=[("Partner", partner), ("Lead", found.lead_id), ("Due", due)],
        partner_id=found.partner_id,
        link=f"/leads/{found.lead_id}",
        object_type=OBJECT_TYPE,
        object_id=found.lead_id,
        now=now,
    ):
        written += 1
    if outbox.enqueue(
        connection,
        key=f"sla:{found.assignment_id}:partner",
        kind="sla_breach",
        title=f"Lead {found.lead_id} was not accepted in time",
        lines=[
            f"Lead {found.lead_id}{value} was assigned to you on {assigned}; it was due to be "
            f"accepted by {due}.",
            "A lead not accepted in time may be given to another partner.",
        ],
        audience="partner",
        partner_id=found.partner_id,
        roles=(),
        webhooks=(),  # the staff twin goes to the webhooks
        link=f"/leads/{found.lead_id}",
        object_type=OBJECT_TYPE,
        object_id=found.lead_id,
        now=now,
    ):
        written += 1
    return written
