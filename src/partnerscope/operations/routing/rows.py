"""Routed leads as facts the run posts (:func:`partnerscope.pipeline.post`): every assignment to a
partner as a row of the canonical ``leads`` table (:func:`~.service.canonical_rows`: the first
attempt keeps the lead's id, a re-route is ``<lead_id>~<n>``), so that a breached first attempt
counts against that partner's lead_sla_rate in the next run. Queued leads are nobody's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from partnerscope.ingest.facts import Facts, cell, folder, plural

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the source the posted file is loaded as (its name in the import ledger and the quarantine)
SOURCE = "lead_routing"
#: the canonical ``leads`` columns the rows fill, in this order
COLUMNS = (
    "lead_id",
    "partner_id",
    "assigned_at",
    "first_touch_at",
    "converted",
    "estimated_value",
    "currency",
    "country",
    "product",
    "source",
    "updated_at",
)


def routed_leads(workspace: Workspace) -> Facts:
    """Every assignment to a partner as a ``leads`` row, written to
    ``state/routing/routed-leads.csv``."""
    from partnerscope.cells import csv_text
    from partnerscope.operations.routing.service import canonical_rows

    base = workspace.config.workspace.base_currency
    rows = []
    for row in canonical_rows(workspace):
        if row["currency"] is None:
            # an amount without a currency was given in the base currency
            row = {**row, "currency": base}
        rows.append({c: cell(row[c]) for c in COLUMNS})
    again = sum("~" in r["lead_id"] for r in rows)
    described = plural(len(rows), "routed lead")
    if again:
        described += f", {again:,} re-routed"
    return Facts(
        SOURCE,
        "leads",
        folder(workspace, "routing") / "routed-leads.csv",
        COLUMNS,
        csv_text(COLUMNS, rows),
        described,
        len(rows),
    )
