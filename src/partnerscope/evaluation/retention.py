"""Retention and product mix per partner for one period: what the web's ``/retention`` page, its
API twin and ``partnerscope retention`` show (docs/retention.md).

The measures are read from a stored run (never recomputed). The revenue share by product family
(:func:`family_revenue`) is read from the warehouse: the won revenue of each partner and family
in the period, the rows behind ``product_diversity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from partnerscope.present import finite

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import duckdb

    from partnerscope.evaluation.view import RunData
    from partnerscope.metrics.calendar import Period
    from partnerscope.present import Words

#: The framework's renewal goal.
RENEWAL_GOAL = 0.95

#: The columns of the retention table, in order: (metric, short heading).
RETENTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("contracts_due", "Terms due"),
    ("renewal_rate", "Renewal rate"),
    ("recurring_value_due", "Recurring value due"),
    ("gross_revenue_retention", "Gross revenue retention"),
    ("net_revenue_retention", "Net revenue retention"),
    ("expansion_revenue", "Expansion revenue"),
    ("customer_churn_rate", "Customer churn"),
)
#: The columns of the product mix table.
MIX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("product_diversity", "Product diversity"),
    ("product_families_sold", "Families sold (12 months)"),
    ("portfolio_coverage", "Portfolio coverage"),
)
METRICS = (
    *(m for m, _ in (*RETENTION_COLUMNS, *MIX_COLUMNS)),
    "customers_due",
    "churned_customers",
    "product_families",
)


@dataclass
class RetentionRow:
    partner_id: str
    name: str
    values: dict[str, float | None]

    @property
    def below_goal(self) -> bool:
        """The renewal rate is under the framework's 95 %."""
        rate = self.values.get("renewal_rate")
        return rate is not None and rate < RENEWAL_GOAL

    @property
    def complete_portfolio(self) -> bool:
        return self.values.get("portfolio_coverage") == 1.0


@dataclass
class RetentionTable:
    period: str
    #: every partner the caller may see, by name
    rows: list[RetentionRow]
    #: all partners together (the portfolio's values, computed from their rows)
    portfolio: RetentionRow


def retention_table(
    data: RunData, period: str | None, can_see: Callable[[str], bool] | None = None
) -> RetentionTable:
    """The retention and product mix measures of each partner the caller may see (``can_see``;
    None: every partner) in the period named (default: the latest with data), and of all
    partners."""
    import pyarrow.compute as pc

    start, label = data.pick_period(period)
    results = data.results().table
    now = results.filter(pc.equal(results["period_start"], start))
    wanted = [m for m in METRICS if m in now.column_names]
    rows = []
    for r in now.select(["group_key", *wanted]).to_pylist():
        pid = str(r["group_key"])
        if can_see is not None and not can_see(pid):
            continue
        rows.append(RetentionRow(pid, data.partner_name(pid), _values(r)))
    rows.sort(key=lambda row: (row.name.casefold(), row.partner_id))
    group = data.group_results("portfolio")
    at = group.filter(pc.equal(group["period_start"], start))
    whole = at.to_pylist()
    portfolio = RetentionRow("all", "All partners", _values(whole[0] if whole else {}))
    return RetentionTable(label, rows, portfolio)


def _values(r: dict[str, Any]) -> dict[str, float | None]:
    return {m: finite(r.get(m)) for m in METRICS}


def cell(words: Words, metric: str, value: float | None) -> str:
    """A value as people read it: shares as percentages, money with its currency."""
    if value is None:
        return "—"
    return words.of_metric(metric, value)


@dataclass(frozen=True)
class FamilyShare:
    """One partner's won revenue of one product family in a period, and its share of the
    partner's won revenue with a family."""

    partner_id: str
    family: str
    revenue: float
    share: float


def family_revenue(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    timezone: str,
    partner_ids: Iterable[str] | None = None,
) -> list[FamilyShare]:
    """The revenue share by product family per partner in ``period``: won opportunities closed
    in the period (their close time read in the workspace's time zone, as the metrics read it)
    whose product has a family, summed per partner and family; each partner's families largest
    first. Products without a family are left out, as product_diversity leaves them out.
    ``partner_ids``: only these partners (None: every partner)."""
    start, end = (_utc(d, timezone) for d in (period.start, period.end))
    found = con.execute(
        "SELECT o.partner_id, f.family, sum(o.amount) AS revenue "
        "FROM opportunities o JOIN product_families f ON o.product = f.product "
        "WHERE o.status = 'won' AND o.partner_id IS NOT NULL AND f.family IS NOT NULL "
        "AND o.closed_at >= ? AND o.closed_at < ? GROUP BY 1, 2",
        [start, end],
    ).fetchall()
    wanted = None if partner_ids is None else set(partner_ids)
    totals: dict[str, float] = {}
    for pid, _, revenue in found:
        totals[pid] = totals.get(pid, 0.0) + float(revenue or 0)
    out = [
        FamilyShare(
            str(pid),
            str(family),
            float(revenue or 0),
            float(revenue or 0) / totals[pid] if totals[pid] else 0.0,
        )
        for pid, family, revenue in found
        if wanted is None or pid in wanted
    ]
    out.sort(key=lambda s: (s.partner_id, -s.revenue, s.family))
    return out


def _utc(day: date, timezone: str) -> datetime:
    """Midnight of ``day`` in the time zone, as the naive UTC time the warehouse stores."""
    from zoneinfo import ZoneInfo

    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC).replace(tzinfo=None)
