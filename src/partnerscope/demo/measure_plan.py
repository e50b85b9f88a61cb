"""Who carries the patterns planted for the service, retention, coverage and conflict measures.

Drawn from streams of their own (:func:`~partnerscope.demo.world.rng_for`), after the older
patterns (:mod:`partnerscope.demo.patterns`) are chosen and apart from them, so that the older
files and ``planted.json`` stay byte for byte what they were. The new patterns are listed in
``data/planted-measures.json`` (:data:`PLANTED_FILE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from partnerscope.demo.deals import PRODUCTS
from partnerscope.demo.patterns import Plan
from partnerscope.demo.world import MID, STRATEGIC, Partners, day_number, rng_for

#: The file beside ``planted.json`` that names the new patterns' partners, territory and account.
PLANTED_FILE = "planted-measures.json"
MEASURE_PATTERNS = (
    "service_collapse",
    "rising_churn",
    "uncovered_territory",
    "conflicting_account",
    "complete_portfolio",
)
#: Window quarters (0-based) in which the service collapse shows: the last two.
COLLAPSE_FROM = 10
#: Window quarters in which the rising churn shows, each worse than the one before: the last four.
CHURN_FROM = 8
#: The target market with no partner at all (not among the demo's partners' countries).
UNCOVERED_COUNTRY = ("Poland", "EMEA")


@dataclass(frozen=True)
class MeasurePlan:
    service_collapse: int  # partner index
    rising_churn: int  # partner index


def plan_measures(partners: Partners, plan: Plan, seed: int) -> MeasurePlan:
    """Two busy partners present through the whole window and carrying no older pattern."""
    rng = rng_for(seed, "measure patterns")
    free = partners.active & (partners.joined_day < day_number(date(2023, 4, 1)))
    for mask in plan.masks.values():
        free &= ~mask
    busy = (partners.band == STRATEGIC) | (partners.band == MID)
    collapse = int(rng.choice(np.flatnonzero(free & busy)))
    free[collapse] = False
    msp = partners.type_code == 4
    candidates = np.flatnonzero(free & busy & msp)
    if len(candidates) == 0:  # pragma: no cover - every demo size has mid-size MSPs
        candidates = np.flatnonzero(free & busy)
    churn = int(rng.choice(candidates))
    return MeasurePlan(service_collapse=collapse, rising_churn=churn)


def complete_portfolio(opportunities: pa.Table, partners: Partners, plan: Plan) -> str:
    """A partner whose won deals covered every product family in each trailing 12 months
    ending at the window's last four quarter ends (the Elite tier's "complete product portfolio
    coverage"), carrying no other pattern; the first by id."""
    import duckdb

    from partnerscope.demo.retention import FAMILIES

    families = pa.table({"product": list(PRODUCTS), "family": list(FAMILIES)})
    deals = opportunities.select(["PartnerAccountId", "IsWon", "CloseDate", "Product_Family__c"])
    taken = {pid for ids in plan.planted.values() for pid in ids}
    con = duckdb.connect()
    con.register("deals", deals)
    con.register("families", families)
    rows = con.execute(
        """
        WITH ends AS (SELECT unnest([DATE '2025-12-31', DATE '2026-03-31', DATE '2026-06-30',
                                     DATE '2026-09-30']) AS period_end),
        won AS (SELECT d.PartnerAccountId AS partner, CAST(d.CloseDate AS DATE) AS closed,
                       f.family
                FROM deals d JOIN families f ON f.product = d.Product_Family__c
                WHERE d.IsWon = 'true' AND d.PartnerAccountId IS NOT NULL),
        covered AS (SELECT w.partner, e.period_end, count(DISTINCT w.family) AS n
                    FROM won w JOIN ends e ON w.closed > e.period_end - INTERVAL 1 YEAR
                                         AND w.closed <= e.period_end
                    GROUP BY ALL)
        SELECT partner FROM covered
        WHERE n = (SELECT count(DISTINCT family) FROM families)
        GROUP BY partner HAVING count(*) = 4 ORDER BY partner
        """
    ).fetchall()
    eligible = [r[0] for r in rows if r[0] not in taken]
    if not eligible:  # pragma: no cover - the demo's busy partners sell every family
        raise ValueError("no demo partner sells every product family")
    return str(eligible[0])
