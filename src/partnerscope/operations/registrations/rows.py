"""Registered deals as rows of the canonical ``opportunities`` table, for the metrics.

A protected registration is an open opportunity, a won one a won opportunity (closed when it
was marked won) and an expired one a lost opportunity (closed when it expired): its protection
lapsed without a win. Submitted and rejected registrations are not deals yet, or not at all.
Each row is the partner's, ``sourced``, with ``opportunity_id`` ``REG-<n>``, the amount in the
base currency, ``created_at`` the submission time and the account of the warehouse the
registration matches (same rule as conflicts), if any.

A won registration linked to its CRM opportunity (``crm_opportunity_id``) gives no row: the
CRM's opportunity is the deal, and counting the registration too would count it twice.

Each ``partnerscope run`` posts the rows (:func:`registered_deals`, by
:func:`partnerscope.pipeline.post`) as the source ``deal_registrations`` from
``state/registrations/registered-deals.csv``, a complete file: the row of a registration linked
to its CRM opportunity since it was last posted is removed from the warehouse.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from partnerscope.amounts import text
from partnerscope.ingest.facts import Facts, folder, plural
from partnerscope.operations.registrations.conflicts import (
    account_of,
    matcher,
    warehouse_accounts,
)
from partnerscope.operations.registrations.model import Registration, RegistrationStatus

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the source the posted file is loaded as (its name in the import ledger and the quarantine)
SOURCE = "deal_registrations"
#: the canonical ``opportunities`` columns the rows fill, in this order
COLUMNS = (
    "opportunity_id",
    "partner_id",
    "attribution",
    "account_id",
    "name",
    "product",
    "stage",
    "status",
    "amount",
    "currency",
    "created_at",
    "closed_at",
    "updated_at",
)


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds") + "+00:00"


def _status(status: RegistrationStatus) -> str | None:
    """The canonical ``opportunities.status`` of a registration's state (none: no row)."""
    match status:
        case RegistrationStatus.SUBMITTED | RegistrationStatus.REJECTED:
            return None
        case RegistrationStatus.PROTECTED:
            return "open"
        case RegistrationStatus.WON:
            return "won"
        case RegistrationStatus.EXPIRED:
            return "lost"


def canonical_rows(workspace: Workspace) -> list[dict[str, str]]:
    """Every approved registration (protected, won, expired) not linked to a CRM
    opportunity, as a row of the canonical ``opportunities`` table."""
    from partnerscope.operations.registrations.service import registrations

    deals = [
        (found, status)
        for found in registrations(workspace)
        if (status := _status(found.status)) is not None and not found.crm_opportunity_id
    ]
    if not deals:
        return []
    match = matcher(workspace)
    accounts = warehouse_accounts(workspace)
    currency = workspace.config.workspace.base_currency
    rows = []
    for found, status in deals:
        account = account_of(found, match)
        hits = [
            (hit.score, account_id)
            for account_id, other in accounts
            if (hit := match.match(account, other)) is not None
        ]
        rows.append(
            {
                "opportunity_id": found.opportunity_id,
                "partner_id": found.partner_id,
                "attribution": "sourced",
                "account_id": max(hits)[1] if hits else "",
                "name": found.account_name,
                "product": ", ".join(found.products),
                "stage": f"registration {found.status.value}",
                "status": status,
                "amount": text(found.amount),
                "currency": currency,
                "created_at": _utc(found.submitted_at),
                "closed_at": _utc(found.closed_at) if status != "open" else "",
                "updated_at": _utc(_last_change(found)),
            }
        )
    return rows


def _last_change(found: Registration) -> datetime:
    return max(t for t in (found.submitted_at, found.decided_at, found.closed_at) if t)


def registered_deals(workspace: Workspace) -> Facts:
    """The registered deals as ``opportunities`` rows, written to
    ``state/registrations/registered-deals.csv``: a complete file (a row gone from it is
    removed)."""
    from partnerscope.cells import csv_text

    rows = canonical_rows(workspace)
    return Facts(
        SOURCE,
        "opportunities",
        folder(workspace, "registrations") / "registered-deals.csv",
        COLUMNS,
        csv_text(COLUMNS, rows),
        plural(len(rows), "deal registration"),
        len(rows),
        complete=True,
    )
