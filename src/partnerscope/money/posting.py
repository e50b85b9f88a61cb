"""The money module's facts in the warehouse: what ``partnerscope run`` posts before it computes,
so that the metrics take their incentive and MDF costs from the payout ledgers and the MDF
workflow without a manual step.

- Every **approved or paid** payout ledger: one ``partner_costs`` row per partner of the ledger,
  category ``incentive``, ``cost_id`` ``payout:<quarter>:<partner>``, incurred on the quarter's
  last day, for the partner's ledger total (its lines, adjustments included, so a clawback
  lowers the quarter whose ledger posts it, and a clawback larger than that quarter's earnings
  is a negative amount: a credit). Drafts are not costs.
- Every **MDF request** of the workflow: one ``mdf_activities`` row, exactly as
  :func:`~partnerscope.money.mdf.workflow.export_activities` writes it (``MDF-REQ-<number>``).

Each is posted by :func:`partnerscope.pipeline.post` (each ``partnerscope run``): written to a
CSV file under ``state/money/`` and loaded by the ingest loader as a source of partnerscope's
own (``payout_ledger``, ``mdf_workflow``); unchanged facts add no import.

Rows once posted are not removed: an approved ledger is locked for good and an MDF request is
never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from partnerscope.ingest.facts import Facts, folder, plural

if TYPE_CHECKING:
    from partnerscope.workspace import Workspace

#: the sources the posted files are loaded as (names in the import ledger and the quarantine)
PAYOUT_SOURCE = "payout_ledger"
MDF_SOURCE = "mdf_workflow"
#: ``partner_costs.cost_id`` of a posted incentive cost: ``payout:FY2026-Q1:P0001``
COST_PREFIX = "payout:"
COST_COLUMNS = (
    "cost_id",
    "partner_id",
    "incurred_at",
    "category",
    "amount",
    "currency",
    "updated_at",
)


#: the folder of ``state/`` the money files are kept in (the lineage of posted rows points there)
MODULE = "money"


def incentive_costs(workspace: Workspace) -> Facts | None:
    """The approved and paid payout ledgers as ``partner_costs`` rows (None: no such ledger)."""
    from partnerscope.amounts import text
    from partnerscope.cells import csv_text
    from partnerscope.metrics.calendar import FiscalCalendar
    from partnerscope.money.payouts import LOCKED, Payouts

    payouts = Payouts(workspace)
    locked = [p.period for p in payouts.periods() if p.status in LOCKED]
    if not locked:
        return None
    settings = workspace.config.workspace
    calendar = FiscalCalendar(settings.fiscal_year_start_month)
    rows = []
    for label in locked:
        ledger = payouts.ledger(label)
        last_day = calendar.parse(label).end - timedelta(days=1)
        for partner_id, total in ledger.partner_totals().items():
            rows.append(
                {
                    "cost_id": f"{COST_PREFIX}{label}:{partner_id}",
                    "partner_id": partner_id,
                    "incurred_at": last_day.isoformat(),
                    "category": "incentive",
                    "amount": text(total),
                    "currency": settings.base_currency,
                    "updated_at": _utc(ledger.approved_at),
                }
            )
    return Facts(
        PAYOUT_SOURCE,
        "partner_costs",
        folder(workspace, MODULE) / "incentive-costs.csv",
        COST_COLUMNS,
        csv_text(COST_COLUMNS, rows),
        f"{plural(len(rows), 'incentive cost')} of {plural(len(locked), 'approved ledger')}",
        len(rows),
    )


def mdf_requests(workspace: Workspace) -> Facts | None:
    """The MDF workflow's requests as ``mdf_activities`` rows (None: no request yet)."""
    from partnerscope.money.mdf.workflow import EXPORT_COLUMNS, activities_csv

    content, count = activities_csv(workspace)
    if not count:
        return None
    return Facts(
        MDF_SOURCE,
        "mdf_activities",
        folder(workspace, MODULE) / "mdf-requests.csv",
        EXPORT_COLUMNS,
        content,
        plural(count, "MDF request"),
        count,
    )


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds") + "+00:00"
