"""Retention (subscriptions) and product mix (product families) on a fixture worked out by hand
(docs/retention.md). The main period is FY2025-Q2 (2025-04-01 … 2025-06-30, UTC, calendar
fiscal year), computed as of 2025-07-01.

    P1 Acme   var  EMEA  Gold    every outcome; sells all three families
    P2 Beta   si   EMEA  Silver  two terms of one account ending the same day; one family
    P3 Gamma  msp  AMER  Gold    no term due in Q2; one family
    O10       a direct deal (no partner): only in the company level

Families: X1, X2 → Compute; Y1 → Storage; Z1 → Security (3). Q9 has no family.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from partnerscope.metrics.definition import load_catalog
from partnerscope.metrics.engine import ALL_LEVELS, compute, compute_metrics
from tests import test_engine_parity as parity
from tests.conftest import make_workspace, quarantine
from tests.test_metrics_fixture import AS_OF, GRAINS, check, csv_file, index, source

#: the parity suite's engines (PostgreSQL, Spark) and its fixture opening them
ENGINES, Opener, assert_same, engine = (
    parity.ENGINES,
    parity.Opener,
    parity.assert_same,
    parity.engine,
)

RETENTION = [
    "contracts_due",
    "contracts_renewed",
    "renewal_rate",
    "recurring_value_due",
    "recurring_value_retained",
    "recurring_value_renewed",
    "gross_revenue_retention",
    "net_revenue_retention",
    "expansion_revenue",
    "customers_due",
    "churned_customers",
    "customer_churn_rate",
]
MIX = ["product_families", "product_families_sold", "portfolio_coverage", "product_diversity"]

TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,partner_type,region,program_tier",
        "P1,Acme,var,EMEA,Gold\nP2,Beta,si,EMEA,Silver\nP3,Gamma,msp,AMER,Gold",
    ),
    "families": (
        "product_families",
        "product,family",
        "X1,Compute\nX2,Compute\nY1,Storage\nZ1,Security",
    ),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,product,status,amount,created_at,closed_at",
        """
        O1,P1,sourced,X1,won,6000,2025-03-01,2025-04-10
        O2,P1,sourced,Y1,won,2000,2025-03-01,2025-05-10
        O3,P1,sourced,Z1,won,2000,2025-03-01,2025-06-10
        O4,P1,sourced,X2,lost,5000,2025-03-01,2025-05-01  # lost: no revenue
        O5,P1,sourced,Q9,won,9000,2025-03-01,2025-05-20  # no family: left out of the mix
        O11,P1,sourced,X1,won,5000,2025-01-01,2025-02-01  # FY2025-Q1
        O6,P2,sourced,X1,won,3000,2025-03-01,2025-04-20
        O7,P2,sourced,X2,won,1000,2025-03-01,2025-06-01  # Compute again: 4000
        O8,P2,sourced,Y1,won,4000,2024-08-01,2024-09-15  # sold in the trailing year, not in Q2
        O9,P3,sourced,Z1,won,5000,2025-03-01,2025-04-05
        O10,,,Y1,won,10000,2025-03-01,2025-04-15  # direct
        """,
    ),
    "subs": (
        "subscriptions",
        "contract_id,partner_id,account_id,start_date,end_date,recurring_value,outcome,"
        "renewed_at,renewal_value",
        """
        S1,P1,A1,2024-04-01,2025-03-31,1000,renewed,2025-03-01,1000  # Q1
        S2,P1,A1,2025-04-01,2026-03-31,1000,open,,  # not due yet
        S3,P1,A2,2024-05-01,2025-04-30,1000,expanded,2025-04-20,1500
        S4,P1,A3,2024-06-01,2025-05-31,2000,churned,,  # A3 keeps S7: not lost
        S7,P1,A3,2024-09-01,2025-12-31,300,open,,
        S5,P1,A4,2024-06-15,2025-06-14,1000,contracted,2025-06-01,600
        S8,P1,A6,2024-06-20,2025-06-20,800,churned,,  # A6's last term: lost
        S6,P1,A5,2024-06-20,2025-06-19,500,open,,  # undecided: left out
        S10,P1,,2024-05-16,2025-05-15,700,renewed,2025-05-01,700  # no account
        T1,P2,A1,2024-04-02,2025-04-01,3000,renewed,2025-03-20,3000
        T2,P2,A7,2024-05-11,2025-05-10,1000,churned,,  # same day as T3, kept: not lost
        T3,P2,A7,2024-05-11,2025-05-10,500,expanded,2025-05-01,700
        T4,P2,A8,2024-07-01,2025-06-30,2000,churned,,  # lost
        """,
    ),
}


def workspace(root: Path, settings: str = "") -> Any:
    config = settings + "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return workspace(tmp_path_factory.mktemp("retention"))


@pytest.fixture(scope="module")
def rows(ws: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    with ws.warehouse(read_only=True) as wh:
        table = compute_metrics(wh.con, ws.config, RETENTION + MIX, GRAINS, ALL_LEVELS, as_of=AS_OF)
    return index(table)


# ---- retention ---------------------------------------------------------------------------------

#: P1 in Q2: due and decided S3 S4 S5 S8 S10 (S6 open, S2 S7 end later, S1 in Q1).
P1_Q2 = {
    "contracts_due": 5,
    "contracts_renewed": 3,  # S3 expanded, S5 contracted, S10 renewed
    "renewal_rate": 0.6,  # 3 / 5
    "recurring_value_due": 5500,  # 1000 + 2000 + 1000 + 800 + 700
    "recurring_value_retained": 2300,  # min(1500, 1000) + 0 + 600 + 0 + 700
    "recurring_value_renewed": 2800,  # 1500 + 0 + 600 + 0 + 700
    "gross_revenue_retention": 2300 / 5500,
    "net_revenue_retention": 2800 / 5500,
    "expansion_revenue": 500,  # S3: 1500 − 1000
    "customers_due": 4,  # A2 A3 A4 A6 (S10 has no account)
    "churned_customers": 1,  # A6; A3 churned S4 but keeps S7 (ends 2025-12-31)
    "customer_churn_rate": 0.25,
}
#: P2 in Q2: T1 T2 T3 T4.
P2_Q2 = {
    "contracts_due": 4,
    "contracts_renewed": 2,  # T1, T3
    "renewal_rate": 0.5,
    "recurring_value_due": 6500,  # 3000 + 1000 + 500 + 2000
    "recurring_value_retained": 3500,  # 3000 + 0 + 500 + 0
    "recurring_value_renewed": 3700,  # 3000 + 0 + 700 + 0
    "gross_revenue_retention": 3500 / 6500,
    "net_revenue_retention": 3700 / 6500,
    "expansion_revenue": 200,  # T3: 700 − 500
    "customers_due": 3,  # A1 A7 A8
    "churned_customers": 1,  # A8; A7's T2 churned but T3 (same day) renewed
    "customer_churn_rate": 1 / 3,
}


def test_retention_of_a_partner_quarter(rows: Any) -> None:
    check(rows, "partner", "P1", "FY2025-Q2", P1_Q2)
    check(rows, "partner", "P2", "FY2025-Q2", P2_Q2)


def test_retention_without_terms_due_has_no_rates(rows: Any) -> None:
    check(
        rows,
        "partner",
        "P3",
        "FY2025-Q2",
        {
            "contracts_due": 0,
            "renewal_rate": None,
            "gross_revenue_retention": None,
            "net_revenue_retention": None,
            "expansion_revenue": 0,
            "customers_due": 0,
            "customer_churn_rate": None,
        },
    )


def test_retention_of_groups_is_summed_not_averaged(rows: Any) -> None:
    portfolio = {
        "contracts_due": 9,
        "contracts_renewed": 5,
        "renewal_rate": 5 / 9,  # not (0.6 + 0.5) / 2
        "recurring_value_due": 12000,
        "gross_revenue_retention": 5800 / 12000,
        "net_revenue_retention": 6500 / 12000,
        "expansion_revenue": 700,
        "customers_due": 7,  # P1's A1 and P2's A1 are two customers (A1 is P2's only here)
        "churned_customers": 2,
        "customer_churn_rate": 2 / 7,
    }
    check(rows, "portfolio", "all", "FY2025-Q2", portfolio)
    check(rows, "region", "EMEA", "FY2025-Q2", portfolio)
    check(rows, "company", "all", "FY2025-Q2", portfolio)
    check(rows, "partner_type", "msp", "FY2025-Q2", {"contracts_due": 0, "renewal_rate": None})


def test_retention_months_and_other_quarters(rows: Any) -> None:
    # May: S10 renewed (05-15), S4 churned (05-31) but A3 keeps S7
    may = {"contracts_due": 2, "renewal_rate": 0.5, "customers_due": 1}
    check(rows, "partner", "P1", "2025-05", may | {"customer_churn_rate": 0.0})
    # Q1: S1 renewed 1000 → 1000; A1 continues with S2
    q1 = {"contracts_due": 1, "renewal_rate": 1.0, "gross_revenue_retention": 1.0}
    check(rows, "partner", "P1", "FY2025-Q1", q1 | {"customer_churn_rate": 0.0})
    # the year so far: Q1 and Q2 together
    year = {"contracts_due": 6, "renewal_rate": 4 / 6, "recurring_value_due": 6500}
    check(rows, "partner", "P1", "FY2025", year | {"customer_churn_rate": 1 / 5})


# ---- product mix -------------------------------------------------------------------------------


def test_product_mix_of_partners(rows: Any) -> None:
    # P1 Q2 won: Compute 6000, Storage 2000, Security 2000 (O5 has no family, O4 lost)
    # shares .6 .2 .2: 1 − (.36 + .04 + .04) = 0.56; sold in the trailing year: all three
    p1 = {
        "product_families": 3,
        "product_families_sold": 3,
        "portfolio_coverage": 1.0,
        "product_diversity": 0.56,
    }
    check(rows, "partner", "P1", "FY2025-Q2", p1)
    # P2 Q2: Compute only (3000 + 1000) → 0; sold in the year to June: Compute, Storage (O8)
    p2 = {"product_families_sold": 2, "portfolio_coverage": 2 / 3, "product_diversity": 0.0}
    check(rows, "partner", "P2", "FY2025-Q2", p2)
    p3 = {"product_families_sold": 1, "portfolio_coverage": 1 / 3, "product_diversity": 0.0}
    check(rows, "partner", "P3", "FY2025-Q2", p3)


def test_product_diversity_of_groups_is_computed_from_their_deals(rows: Any) -> None:
    # portfolio Q2: Compute 6000 + 4000, Storage 2000, Security 2000 + 5000 = 19000:
    # 1 − (10000² + 2000² + 7000²) / 19000² = 1 − 153/361 = 208/361 (not the partners' mean
    # (0.56 + 0 + 0) / 3)
    check(rows, "portfolio", "all", "FY2025-Q2", {"product_diversity": 208 / 361})
    # EMEA (P1, P2): Compute 10000, Storage 2000, Security 2000: 1 − 108/196
    emea = {"product_diversity": 88 / 196, "product_families_sold": 3}
    check(rows, "region", "EMEA", "FY2025-Q2", emea)
    # company: the direct Storage deal too: Compute 10000, Storage 12000, Security 7000
    company = {"product_diversity": 1 - 293 / 841, "portfolio_coverage": 1.0}
    check(rows, "company", "all", "FY2025-Q2", company)
    # P1's year: Compute 6000 + 5000 (O11), Storage 2000, Security 2000: 1 − 129/225
    check(rows, "partner", "P1", "FY2025", {"product_diversity": 96 / 225})
    # one month, one family: 0; a period without won revenue has no diversity
    check(rows, "partner", "P1", "2025-04", {"product_diversity": 0.0})
    check(rows, "partner", "P3", "2025-06", {"product_diversity": None})


def test_diversity_needs_its_by_column() -> None:
    from partnerscope.errors import ConfigError

    spec = {
        "entity": "family_opportunities",
        "agg": "diversity",
        "measure": "amount",
        "time": "closed_at",
    }
    with pytest.raises(ConfigError) as raised:
        load_catalog({"my_mix": spec})
    assert "metrics.my_mix.by: agg = 'diversity' needs the column" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_catalog({"my_mix": spec | {"by": "familly"}})
    assert "has no column 'familly'" in str(raised.value)
    with pytest.raises(ConfigError) as raised:
        load_catalog({"my_sum": spec | {"agg": "sum", "by": "family"}})
    assert "metrics.my_sum.by: only used with agg = 'diversity'" in str(raised.value)


# ---- bad input ---------------------------------------------------------------------------------


def test_a_renewal_before_its_start_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    header = TABLES["subs"][1]
    body = """
        S1,P1,A1,2024-04-01,2025-03-31,1000,renewed,2024-03-01,1000  # renewed before start
        S2,P1,A1,2025-04-01,2025-03-31,1000,open,,  # ends before it starts
        S3,P1,A2,2024-05-01,2025-04-30,1000,churned,,500  # churned with a renewal value
        S4,P1,A2,2024-05-01,2025-04-30,1000,renewed,2025-04-01,  # renewed without a value
        S5,P1,A3,2024-05-01,2025-04-30,1000,renewed,2025-04-01,1000  # loads
        """
    config = source("partners", *TABLES["partners"][:2]) + source("subs", "subscriptions", header)
    files = {
        "data/partners.csv": csv_file(TABLES["partners"][1], TABLES["partners"][2]),
        "data/subs.csv": csv_file(header, body),
    }
    ws = make_workspace(tmp_path, config, files)
    assert ws.ingest().quarantined == 4
    assert [(r[0], r[1], r[3]) for r in quarantine(ws)] == [
        (2, "renewed_at", "renewal_after_start"),
        (3, "end_date", "end_after_start"),
        (4, "renewal_value", "churn_has_no_value"),
        (5, "renewal_value", "renewal_needs_value"),
    ]


# ---- the same on every engine ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_retention_and_mix_are_the_same_on_every_engine(engine: Opener, tmp_path: Path) -> None:
    settings = '[workspace]\ntimezone = "America/New_York"\nfiscal_year_start_month = 7\n'
    for name, text in (("utc", ""), ("new-york-july", settings)):
        ws = workspace(tmp_path / name, text)
        run = {"as_of": AS_OF, "metrics": RETENTION + MIX, "grains": GRAINS, "levels": ALL_LEVELS}
        with ws.warehouse(read_only=True) as wh:
            expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, **run)
            with engine(wh.con) as backend:
                got = compute(backend, ws.config, ws.catalog, **run)
        assert expected.results is not None and got.results is not None
        assert expected.results.num_rows > 100
        assert_same(expected.results, got.results)


def test_one_grain_alone_gives_the_same_values(ws: Any, rows: Any) -> None:
    # with one grain the engine computes a partner's in-period medians in the parts' own scan;
    # a diversity sums per family first and keeps its own query
    with ws.warehouse(read_only=True) as wh:
        alone = index(
            compute_metrics(
                wh.con, ws.config, RETENTION + MIX, ("quarter",), ("partner",), as_of=AS_OF
            )
        )
    for partner in ("P1", "P2", "P3"):
        key = ("partner", partner, "FY2025-Q2")
        assert alone[key] | {"grain": None} == {k: rows[key][k] for k in alone[key]} | {
            "grain": None
        }
    assert alone[("partner", "P1", "FY2025-Q2")]["product_diversity"] == pytest.approx(0.56)


def test_the_diversity_aggregate_in_words():
    from types import SimpleNamespace

    from partnerscope.metrics.definition import load_catalog
    from partnerscope.reports.content import formula_words

    catalog = load_catalog()
    words = formula_words(SimpleNamespace(catalog=catalog), catalog["product_diversity"])
    assert words == (
        "1 − Herfindahl index of the shares of amount by family over family opportunities"
    )
