"""Subscriptions sold through partners (one row per annual term, with how it ended) and the
product families of the demo's products, with the planted rising churn
(:mod:`partnerscope.demo.measure_plan`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from partnerscope.demo.columns import dates, ids, labels, money
from partnerscope.demo.deals import PRODUCTS
from partnerscope.demo.measure_plan import CHURN_FROM, MeasurePlan
from partnerscope.demo.world import (
    AS_OF,
    CURRENCIES,
    DAY,
    QUARTER_SEC,
    WARMUP,
    Accounts,
    Partners,
    day_number,
    rng_for,
)

#: The family of each product (PRODUCTS order): services and support renewals are one family.
FAMILIES = (
    "Platform",
    "Analytics",
    "Security",
    "Data Protection",
    "Networking",
    "Services & Support",
    "Services & Support",
)
#: Products sold on subscription (indexes into PRODUCTS) and their shares.
SUBSCRIBED = (0, 2, 3, 4, 6)
SUBSCRIBED_SHARE = (0.30, 0.20, 0.20, 0.15, 0.15)
#: How the billing system exports a term's outcome; the config maps it onto the canonical one.
OUTCOMES = ("Open", "Renewed", "Upsell", "Downsell", "Cancelled")
OUTCOME_SHARE = (0.0, 0.74, 0.12, 0.04, 0.10)
#: Chance the rising-churn partner loses a customer due in each of its last four quarters.
RISING_CHURN = (0.15, 0.30, 0.45, 0.60)
FIRST_START = day_number(date(2021, 10, 1))
TERM_DAYS = 365


def make_product_families() -> pa.Table:
    return pa.table({"Product": list(PRODUCTS), "Product Family": list(FAMILIES)})


def make_subscriptions(
    partners: Partners, accounts: Accounts, measures: MeasurePlan, seed: int
) -> pa.Table:
    """Annual terms: each customer's first term starts between October 2021 and the window's
    last quarter, and each term renews (at the same, a higher or a lower value) or churns when it
    ends; terms that end after the export are open. Terms due before the window are left out.
    The last row is a term renewed before it started (a bad row the ingest quarantines)."""
    rng = rng_for(seed, "subscriptions")
    n_partners = len(partners)
    msp = partners.type_code == 4
    customers = np.where(
        partners.active,
        np.round((2 + 4 * np.sqrt(partners.annual_revenue / 1e6)) * np.where(msp, 3, 1)),
        0,
    ).astype(np.int64)
    customers[measures.rising_churn] = max(int(customers[measures.rising_churn]), 220)
    p = np.repeat(np.arange(n_partners), customers)
    n = len(p)
    last = day_number(date(2026, 6, 30))
    first = np.maximum(FIRST_START, partners.joined_day[p])
    start = first + (rng.random(n) * np.maximum(last - first, 1)).astype(np.int64)
    value = np.round(rng.lognormal(np.log(14_000), 0.8, n), -2)
    product = rng.choice(SUBSCRIBED, n, p=SUBSCRIBED_SHARE)
    account = rng.integers(0, len(accounts.ids), n)
    churn_base = np.clip(rng.lognormal(np.log(0.09), 0.35, n_partners), 0.02, 0.25)
    quarter_of = QUARTER_SEC // DAY

    rows: list[dict[str, npt.NDArray[Any]]] = []
    alive = np.ones(n, dtype=bool)
    customer = np.arange(n)
    as_of_day = AS_OF // DAY
    while alive.any():
        c = customer[alive]
        s = start[alive]
        end = s + TERM_DAYS - 1
        decided = end < as_of_day
        outcome = np.where(decided, rng.choice(len(OUTCOMES), len(c), p=OUTCOME_SHARE), 0).astype(
            np.int64
        )
        # the partner's own churn instead of the mean share of cancellations
        churned = decided & (rng.random(len(c)) < churn_base[p[c]])
        window_q = np.searchsorted(quarter_of, end, side="right") - 1 - WARMUP
        rising = p[c] == measures.rising_churn
        for k, chance in enumerate(RISING_CHURN):
            due = rising & (window_q == CHURN_FROM + k) & decided
            churned = np.where(due, rng.random(len(c)) < chance, churned)
        outcome = np.where(churned, 4, np.where(decided & (outcome == 4), 1, outcome))
        factor = np.select(
            [outcome == 2, outcome == 3],
            [rng.uniform(1.10, 1.40, len(c)), rng.uniform(0.70, 0.90, len(c))],
            default=1.0,
        )
        renewal = np.where((outcome >= 1) & (outcome <= 3), np.round(value[c] * factor, -2), 0)
        signed = end - rng.integers(0, 45, len(c))
        rows.append(
            {
                "customer": c,
                "start": s,
                "end": end,
                "value": value[c],
                "outcome": outcome,
                "renewal": renewal,
                "signed": signed,
            }
        )
        value[c] = np.where(renewal > 0, renewal, value[c])
        start[c] = end + 1
        alive[c] = decided & (outcome != 4)
    cols = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    keep = cols["end"] >= QUARTER_SEC[WARMUP] // DAY
    cols = {k: v[keep] for k, v in cols.items()}
    order = np.lexsort((cols["customer"], cols["start"]))
    cols = {k: v[order] for k, v in cols.items()}
    c, outcome = cols["customer"], cols["outcome"]
    renewed = (outcome >= 1) & (outcome <= 3)
    m = len(c)
    width = max(6, len(str(m + 1)))
    table = pa.table(
        {
            "Contract ID": ids("SUB-", np.arange(1, m + 1), width),
            "Partner ID": pa.array(partners.ids).take(pa.array(p[c])),
            "Customer ID": pa.array(accounts.ids).take(pa.array(account[c])),
            "Product": labels(PRODUCTS, product[c]),
            "Start Date": dates(cols["start"]),
            "End Date": dates(cols["end"]),
            "ARR": money(cols["value"].astype(np.float64)),
            "Currency": labels(CURRENCIES, partners.currency[p[c]]),
            "Status": labels(OUTCOMES, outcome),
            "Renewal Date": dates(cols["signed"], ~renewed),
            "Renewal ARR": money(cols["renewal"].astype(np.float64), ~renewed),
        }
    )
    bad = pa.table(
        {
            "Contract ID": [f"SUB-{m + 1:0{width}d}"],
            "Partner ID": [partners.ids[measures.rising_churn]],
            "Customer ID": [accounts.ids[1]],
            "Product": [PRODUCTS[0]],
            "Start Date": [date(2025, 4, 1)],
            "End Date": [date(2026, 3, 31)],
            "ARR": [18_000.0],
            "Currency": ["USD"],
            "Status": ["Renewed"],
            # the year typed wrong: renewed a year before the term started
            "Renewal Date": [date(2024, 3, 20)],
            "Renewal ARR": [18_000.0],
        }
    )
    return pa.concat_tables([table, bad.cast(table.schema)])
