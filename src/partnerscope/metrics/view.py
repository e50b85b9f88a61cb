"""One partner's metrics in a period, beside the previous period and the cohort median.

Read from a stored run (never recomputed), so the CLI, reports and the web show the same values.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from partnerscope.errors import PartnerscopeError, did_you_mean
from partnerscope.metrics.calendar import FiscalCalendar, Grain, Period
from partnerscope.metrics.definition import Metric
from partnerscope.runs import get_run, read_memberships, read_results

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.workspace import Workspace

COHORTS = ("partner_type", "region", "program_tier", "revenue_band")


class ViewError(PartnerscopeError, LookupError):
    """A partner, period or cohort that the run does not have."""


@dataclass(frozen=True)
class MetricRow:
    metric: Metric
    value: float | None
    previous: float | None
    cohort_median: float | None


@dataclass(frozen=True)
class PartnerView:
    run_id: int
    as_of: str
    partner_id: str
    partner_name: str
    period: Period
    previous: Period
    complete: bool
    cohort: str
    cohort_key: str | None
    cohort_size: int
    rows: list[MetricRow]


def partner_view(
    workspace: Workspace,
    partner_id: str,
    period_text: str | None,
    *,
    cohort: str = "partner_type",
    run_id: int | None = None,
) -> PartnerView:
    import pyarrow.compute as pc

    if cohort not in COHORTS:
        raise ViewError(f"--cohort {cohort!r}: choose one of {', '.join(COHORTS)}")
    run = get_run(workspace, run_id)
    calendar = FiscalCalendar(workspace.config.workspace.fiscal_year_start_month)
    results = read_results(workspace, run.run_id)
    partners = results.filter(pc.equal(results["level"], "partner"))
    period = _period(calendar, partners, period_text)
    previous = period.previous()
    members = read_memberships(workspace, run.run_id)
    members = members.filter(
        pc.and_(
            pc.equal(members["grain"], period.grain.value),
            pc.equal(members["period_start"], period.start),
        )
    )
    ids = members["partner_id"].to_pylist()
    if partner_id not in ids:
        raise ViewError(
            f"no partner {partner_id!r} in run {run.run_id}{did_you_mean(partner_id, ids)}"
        )
    me = members.filter(pc.equal(members["partner_id"], partner_id)).to_pylist()[0]
    peers = set(
        members.filter(pc.equal(members[cohort], me[cohort]))["partner_id"].to_pylist()
        if me[cohort] is not None
        else []
    )

    def rows_of(start: object) -> list[dict[str, object]]:
        mask = pc.and_(
            pc.equal(partners["grain"], period.grain.value),
            pc.equal(partners["period_start"], start),
        )
        rows: list[dict[str, object]] = partners.filter(mask).to_pylist()
        return rows

    now = {r["group_key"]: r for r in rows_of(period.start)}
    before = {r["group_key"]: r for r in rows_of(previous.start)}
    this = now.get(partner_id, {})
    catalog = workspace.catalog
    out = []
    for metric in catalog:
        if metric.group_only or metric.name not in results.column_names:
            continue
        peer_values = [
            v for pid in peers if (v := _number(now.get(pid, {}).get(metric.name))) is not None
        ]
        out.append(
            MetricRow(
                metric,
                _number(this.get(metric.name)),
                _number(before.get(partner_id, {}).get(metric.name)),
                statistics.median(peer_values) if peer_values else None,
            )
        )
    return PartnerView(
        run_id=run.run_id,
        as_of=run.as_of,
        partner_id=partner_id,
        partner_name=str(me.get("name") or partner_id),
        period=period,
        previous=previous,
        complete=bool(this.get("complete", False)),
        cohort=cohort,
        cohort_key=me[cohort],
        cohort_size=len(peers),
        rows=out,
    )


def _number(value: object) -> float | None:
    """A metric value, or None when undefined (null or NaN)."""
    return float(value) if isinstance(value, int | float) and value == value else None


def _period(calendar: FiscalCalendar, table: pa.Table, text: str | None) -> Period:
    import pyarrow.compute as pc

    if text is None:
        quarters = table.filter(pc.and_(pc.equal(table["grain"], "quarter"), table["complete"]))
        if quarters.num_rows == 0:
            raise ViewError("the run has no complete quarter; name a period with --period")
        start = pc.max(quarters["period_start"]).as_py()
        return calendar.period_of(start, Grain.QUARTER)
    period = calendar.parse(text)
    starts = table.filter(pc.equal(table["grain"], period.grain.value))["period_start"]
    if period.start not in set(starts.to_pylist()):
        first, last = pc.min(starts).as_py(), pc.max(starts).as_py()
        raise ViewError(
            f"{period.label} is not in the run: its {period.grain.value}s run from "
            f"{calendar.period_of(first, period.grain).label} to "
            f"{calendar.period_of(last, period.grain).label}"
        )
    return period
