"""Territories the channel should cover, the territories some partners are authorized for, and
the planted conflicting account: one customer held under three account records (the demo's own
and two in the direct sales team's CRM, spelt differently) with a partner's, a direct and a
second partner's opportunity open at once, so that only the account identity finds the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from partnerscope.demo.measure_plan import UNCOVERED_COUNTRY, MeasurePlan
from partnerscope.demo.vocabulary import INDUSTRIES, LEGAL_FORMS
from partnerscope.demo.world import (
    COUNTRIES,
    REGIONS,
    Accounts,
    IntArray,
    Partners,
    rng_for,
)

#: Vertical territories (country, vertical) the vendor targets beside whole countries.
VERTICALS = (
    ("United States", "Healthcare"),
    ("United States", "Public Sector"),
    ("Germany", "Manufacturing"),
    ("United Kingdom", "Financial Services"),
)
#: Legal forms the demo's account names end with, spelt out (the second CRM's spelling).
SPELT_OUT = {"Corp": "Corporation", "Limited": "Ltd.", "Company": "Co.", "Co": "Company"}
#: Countries the vendor sells in without a coverage target.
NOT_TARGET = ("Argentina", "Chile")


def _countries() -> list[tuple[str, str]]:
    """(country, region) of each demo country once, then the uncovered one."""
    seen: dict[str, str] = {}
    for name, region, *_ in COUNTRIES:
        seen.setdefault(name, REGIONS[region])
    return [*seen.items(), UNCOVERED_COUNTRY]


def make_territories() -> pa.Table:
    rows: list[tuple[str, str, str | None]] = [(c, r, None) for c, r in _countries()]
    regions = dict(_countries())
    rows += [(c, regions[c], v) for c, v in VERTICALS]
    return pa.table(
        {
            "Territory": [f"TER-{i + 1:03d}" for i in range(len(rows))],
            "Territory Name": [c if v is None else f"{c} · {v}" for c, _, v in rows],
            "Country": [c for c, _, _ in rows],
            "Region": [r for _, r, _ in rows],
            "Vertical": pa.array([v for _, _, v in rows], pa.string()),
            "Target": ["N" if c in NOT_TARGET and v is None else "Y" for c, _, v in rows],
        }
    )


def make_partner_territories(partners: Partners, seed: int) -> pa.Table:
    """Authorizations of some partners: distributors serve every country of their region, and
    a few partners per vertical territory serve it beside their own country. Partners without
    rows serve their own country (the table's default), and nobody serves the uncovered one."""
    rng = rng_for(seed, "partner territories")
    territories = make_territories().to_pylist()
    by_country = {t["Country"]: t["Territory"] for t in territories if t["Vertical"] is None}
    regions = dict(_countries())
    pairs: list[tuple[str, str]] = []
    names = [c[0] for c in COUNTRIES]
    for i in np.flatnonzero(partners.active):
        home = names[partners.country[i]]
        if partners.type_code[i] == 2:  # distributors
            pairs += [
                (partners.ids[i], by_country[c])
                for c, r in _countries()
                if r == regions[home] and c != UNCOVERED_COUNTRY[0]
            ]
    for t in territories:
        if t["Vertical"] is None:
            continue
        local = np.flatnonzero(
            partners.active & (np.array([names[c] for c in partners.country]) == t["Country"])
        )
        for i in rng.choice(local, min(3, len(local)), replace=False) if len(local) else []:
            pairs += [
                (partners.ids[i], by_country[t["Country"]]),
                (partners.ids[i], t["Territory"]),
            ]
    pairs = sorted(set(pairs))
    return pa.table(
        {"Partner ID": [p for p, _ in pairs], "Territory": [t for _, t in pairs]},
    )


@dataclass(frozen=True)
class Conflict:
    """The planted conflicting account and the opportunities on it."""

    account_id: str  # the demo's own record (accounts.csv)
    records: tuple[str, str]  # the direct sales CRM's two records of the same customer
    partner_opportunity: str  # the open partner opportunity on account_id (opportunities.csv)
    opportunities: tuple[str, str]  # the direct and the second partner's (direct_deals.csv)


def plant_conflict(
    partners: Partners,
    accounts: Accounts,
    opportunities: pa.Table,
    measures: MeasurePlan,
    taken: IntArray,
    seed: int,
) -> tuple[Conflict, pa.Table, pa.Table]:
    """Choose an account with a partner's opportunity open at the export, and write the direct
    sales team's CRM: two more records of that customer and two opportunities open on them."""
    rng = rng_for(seed, "conflicting account")
    table = opportunities.select(["Id", "AccountId", "PartnerAccountId", "IsClosed", "CreatedDate"])
    recent = pc.and_(
        pc.and_(pc.equal(table["IsClosed"], "false"), pc.is_valid(table["PartnerAccountId"])),
        pc.greater_equal(table["CreatedDate"], "2026-07-01"),
    )
    rows = table.filter(recent).to_pylist()
    index = {pid: i for i, pid in enumerate(partners.ids)}
    names = [c[0] for c in COUNTRIES]
    account_index = {a: i for i, a in enumerate(accounts.ids)}
    # the second partner carries no pattern: its new deal changes no planted partner's numbers
    planted = {measures.service_collapse, measures.rising_churn, *map(int, taken)}

    by_country: dict[int, list[int]] = {}
    for i in np.flatnonzero(partners.active):
        if int(i) not in planted:
            by_country.setdefault(names.index(names[partners.country[i]]), []).append(int(i))

    def second_partner(r: dict[str, str]) -> int | None:
        home = names.index(names[partners.country[index[r["PartnerAccountId"]]]])
        others = [i for i in by_country.get(home, []) if partners.ids[i] != r["PartnerAccountId"]]
        return others[0] if others else None

    # the first, in a random order, whose partner has a second in its country
    chosen = next(rows[int(i)] for i in rng.permutation(len(rows)) if second_partner(rows[int(i)]))
    a = account_index[chosen["AccountId"]]
    other = second_partner(chosen)
    assert other is not None
    name, domain = accounts.names[a], accounts.domains[a]
    country = names[accounts.country[a]]
    words = name.split(" ")
    if words[-1] in SPELT_OUT:  # "Corp" → "Corporation": the name carries a legal form
        formal = " ".join([*words[:-1], SPELT_OUT[words[-1]]])
    else:
        formal = f"{name} {LEGAL_FORMS.get(country, 'Inc.')}"
    records = ("CRM-0070412", "CRM-0091877")
    account_rows = pa.table(
        {
            "Company ID": list(records),
            "Company Name": [formal, name.upper()],
            "Company Domain": [f"www.{domain}", domain],
            "Country": [country, country],
            "Industry": [INDUSTRIES[accounts.industry[a]]] * 2,
        }
    )
    deals = ("DS-2026-0418", "DS-2026-0433")
    created = chosen["CreatedDate"][:10]
    deal_rows = pa.table(
        {
            "opportunity_id": list(deals),
            "opportunity_name": [f"{name} - Core Platform", f"{name} - Security Pack"],
            "account_id": list(records),
            "partner_id": pa.array([None, partners.ids[other]], pa.string()),
            "partner_role": pa.array([None, "Sourced"], pa.string()),
            "stage": ["Proposal", "Qualification"],
            "amount": [240_000.0, 95_000.0],
            "currency": ["USD", "USD"],
            "created_date": [created, str(max(date.fromisoformat(created), date(2026, 8, 3)))],
            "close_date": ["2026-12-15", "2027-01-29"],
            "last_modified": ["2026-09-28T10:15:00Z", "2026-09-29T08:40:00Z"],
        }
    )
    conflict = Conflict(
        account_id=chosen["AccountId"],
        records=records,
        partner_opportunity=chosen["Id"],
        opportunities=deals,
    )
    return conflict, account_rows, deal_rows
