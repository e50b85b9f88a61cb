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

Each kind is written to a CSV file under ``state/money/`` and loaded by the ingest loader as a
source of partnerscope's own (``payout_ledger``, ``mdf_workflow``): an import in the ledger with
its fingerprint and change date, lineage, quarantine with reasons and an upsert by key, all in
one transaction. A file whose content is that of its latest import (with nothing quarantined) is
not loaded again: unchanged facts add no import, and the run computes what it computed before.

Rows once posted are not removed: an approved ledger is locked for good and an MDF request is
never deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from partnerscope.config import SourceConfig
    from partnerscope.warehouse import Warehouse
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


@dataclass(frozen=True)
class Facts:
    """One file of facts to post."""

    source: str
    entity: str
    path: Path
    columns: tuple[str, ...]
    content: str
    #: what it holds, in words: "12 incentive costs of 2 approved ledgers"
    described: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()

    def source_config(self) -> SourceConfig:
        from partnerscope.config import SourceConfig

        return SourceConfig(
            entity=self.entity,
            path=str(self.path),
            format="csv",
            encoding="utf-8",
            delimiter=",",
            # every cell is written by partnerscope: an activity named "N/A" stays a name
            null_values=(),
            columns={c: c for c in self.columns},
        )


@dataclass(frozen=True)
class Posted:
    """What a run posted (nothing when the facts had not changed)."""

    summary: str
    import_ids: tuple[int, ...]
    quarantined: int


def folder(workspace: Workspace) -> Path:
    return workspace.state_dir / "money"


def incentive_costs(workspace: Workspace) -> Facts | None:
    """The approved and paid payout ledgers as ``partner_costs`` rows (None: no such ledger)."""
    from partnerscope.cells import csv_text
    from partnerscope.metrics.calendar import FiscalCalendar
    from partnerscope.money.amounts import text
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
        folder(workspace) / "incentive-costs.csv",
        COST_COLUMNS,
        csv_text(COST_COLUMNS, rows),
        f"{len(rows):,} incentive cost{'s' * (len(rows) != 1)} of {len(locked):,} approved "
        f"ledger{'s' * (len(locked) != 1)}",
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
        folder(workspace) / "mdf-requests.csv",
        EXPORT_COLUMNS,
        content,
        f"{count:,} MDF request{'s' * (count != 1)}",
    )


def post(workspace: Workspace) -> Posted | None:
    """Post the payout ledgers and MDF requests whose facts changed since they were last
    posted; None when nothing changed. Call it holding the workspace lock."""
    from partnerscope.atomic import write_bytes
    from partnerscope.ingest.loader import display_path, ingest

    facts = [f for f in (incentive_costs(workspace), mdf_requests(workspace)) if f is not None]
    if not facts:
        return None
    with workspace.warehouse(read_only=True) as warehouse:
        changed = [
            f for f in facts if _needs_posting(warehouse, display_path(f.path, workspace.root), f)
        ]
    for fact in facts:
        # the file always holds the latest facts (the lineage of posted rows points into it)
        data = fact.content.encode("utf-8")
        if not fact.path.is_file() or fact.path.read_bytes() != data:
            fact.path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(fact.path, data)
    if not changed:
        return None
    with workspace.warehouse() as warehouse:
        report = ingest(
            warehouse,
            workspace.config,
            workspace.root,
            [(f.source, f.path) for f in changed],
            sources={f.source: f.source_config() for f in changed},
        )
    parts = []
    for fact, done in zip(changed, report.files, strict=True):
        part = f"{fact.described} ({done.inserted:,} new, {done.updated:,} changed)"
        if done.quarantined:
            part += (
                f", {done.quarantined:,} not loaded: see `partnerscope quarantine "
                f"--source {fact.source}`"
            )
        parts.append(part)
    return Posted(
        summary="posted " + " and ".join(parts),
        import_ids=tuple(f.import_id for f in report.files),
        quarantined=report.quarantined,
    )


def _needs_posting(warehouse: Warehouse, file: str, fact: Facts) -> bool:
    """Whether the file's content differs from its latest import, or that import left rows
    in the quarantine (tried again: the partner may have been loaded since)."""
    rows = warehouse.con.execute(
        "SELECT fingerprint, quarantined FROM _imports WHERE source = ? AND file = ? "
        "ORDER BY import_id DESC LIMIT 1",
        [fact.source, file],
    ).fetchall()
    return not rows or rows[0][0] != fact.fingerprint or rows[0][1] > 0


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat(timespec="seconds") + "+00:00"
