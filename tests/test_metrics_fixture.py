"""Every built-in metric on a tiny fixture whose values are worked out by hand (METRICS.md).

Three partners and one direct deal; the main period is FY2025-Q2 (2025-04-01 … 2025-06-30, UTC,
fiscal year = calendar year), computed as of 2025-07-01 00:00 UTC.

    P1 Acme   var  EMEA  Gold    wins, a loss, an open deal, leads, MDF, costs, a 2024 win
    P2 Beta   si   EMEA  Silver  a second EMEA partner; EUR MDF and cost
    P3 Gamma  var  AMER  Gold    one won deal and nothing else: no losses, quota, leads, MDF
    O12       a direct deal (no partner, no attribution): only in the company level

Gold requires CERT-A and CERT-B, Silver CERT-A. Target accounts: A1 A2 A3 A4 A6 (not A5).
EUR rates (USD per EUR): 1.10 from 2025-01-01, 1.20 from 2025-05-01, 1.30 from 2025-06-01.
gross_margin = 0.6. Values are compared with rel=1e-9, which holds money to the cent.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from partnerscope.metrics.definition import BUILTIN_MEASURES, load_catalog
from partnerscope.metrics.engine import ALL_LEVELS, compute_metrics
from tests.conftest import make_workspace, query

AS_OF = datetime(2025, 7, 1)
GRAINS = ("month", "quarter", "year")
BUILTIN = [m.name for m in load_catalog() if m.builtin]

#: source name → (entity, CSV header in canonical column names, CSV rows; "# …" are comments)
TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,partner_type,region,program_tier",
        """
        P1,Acme,var,EMEA,Gold
        P2,Beta,si,EMEA,Silver
        P3,Gamma,var,AMER,Gold
        """,
    ),
    "accounts": (
        "accounts",
        "account_id,name,is_target",
        "A1,One,true\nA2,Two,true\nA3,Three,true\nA4,Four,true\nA5,Five,false\nA6,Six,true",
    ),
    "requirements": (
        "certification_requirements",
        "program_tier,certification",
        "Gold,CERT-A\nGold,CERT-B\nSilver,CERT-A",
    ),
    "fx": (
        "fx_rates",
        "currency,rate_date,rate",
        "EUR,2025-01-01,1.10\nEUR,2025-05-01,1.20\nEUR,2025-06-01,1.30",
    ),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,account_id,status,amount,discount_amount,currency,"
        "created_at,closed_at,mdf_activity_id",
        """
        O1,P1,sourced,A1,won,10000,500,USD,2025-04-01,2025-04-11,M1
        O2,P1,influenced,A2,won,1000,100,EUR,2025-03-02,2025-05-15,  # 1.20 → 1200, disc. 120
        O3,P1,sourced,A1,lost,4000,300,USD,2025-04-05,2025-06-10,
        O4,P1,sourced,A3,open,8000,,USD,2025-05-20,,M1
        O5,P1,sourced,A1,won,5000,,USD,2024-04-01,2024-05-01,
        O6,P1,sourced,A4,won,2000,,USD,2025-03-01,2025-03-31 23:30,  # last day of FY2025-Q1
        O7,P2,sourced,A2,won,3000,200,USD,2025-04-10,2025-04-20,
        O8,P2,influenced,A5,lost,1000,,USD,2025-04-01,2025-05-01,
        O9,P2,sourced,A3,open,2000,,USD,2025-06-01,,M2
        O10,P2,influenced,A1,won,6000,,USD,2025-05-01,2025-06-01,M1  # M1 is P1's activity
        O11,P3,sourced,A4,won,4000,,USD,2025-04-01,2025-05-01,
        O12,,,A6,won,7000,,USD,2025-04-01,2025-04-15,  # direct
        """,
    ),
    "leads": (
        "leads",
        "lead_id,partner_id,assigned_at,first_touch_at,converted",
        """
        L1,P1,2025-04-01 09:00,2025-04-01 10:00,true  # 1 h: within
        L2,P1,2025-04-02 09:00,2025-04-02 13:00,false  # 4 h: breach
        L3,P1,2025-05-01 09:00,2025-05-01 11:00,true  # 2 h exactly: within
        L4,P1,2025-06-30 23:00,,false  # untouched, 1 h before as-of: left out
        L5,P1,2025-06-30 21:00,,false  # untouched, 3 h before as-of: breach
        L6,P2,2025-04-10 08:00,2025-04-10 08:30,true  # 0.5 h: within
        L7,P2,2025-05-10 08:00,2025-05-10 09:30,false  # 1.5 h: within
        """,
    ),
    "mdf": (
        "mdf_activities",
        "activity_id,partner_id,paid_amount,currency,paid_at",
        "M1,P1,2000,USD,2025-04-15\nM2,P2,500,EUR,2025-06-10",  # M2: 500 × 1.30 = 650
    ),
    "certs": (
        "certifications",
        "record_id,partner_id,person_id,certification,issued_at,expires_at",
        """
        C1,P1,U1,CERT-A,2024-01-01,
        C2,P1,U1,CERT-C,2024-01-01,  # not required; U1 is one person
        C3,P1,U2,CERT-B,2025-01-01,2025-05-31  # lapsed before the end of Q2
        C4,P1,U3,CERT-A,2025-07-05,  # issued after Q2
        C5,P2,U1,CERT-A,2024-06-01,  # another partner's "U1"
        C6,P2,U5,CERT-A,2024-06-01,
        C7,P2,U5,CERT-B,2024-06-01,  # not required for Silver
        """,
    ),
    "compliance": (
        "compliance_checks",
        "check_id,partner_id,checked_at,check_type,weight,passed",
        """
        K1,P1,2024-06-30,audit,5,false
        K2,P1,2024-07-01,audit,2,true
        K3,P1,2025-03-15,data,1,false
        K4,P1,2025-06-20,data,1,true
        K5,P2,2025-05-01,audit,1,true
        K6,P2,2025-05-02,data,1,false
        """,
    ),
    "surveys": (
        "surveys",
        "response_id,partner_id,responded_at,kind,score,scale_min,scale_max",
        """
        S1,P1,2025-04-03,csat,4,1,5  # 1 + 4·(4−1)/(5−1) = 4
        S2,P1,2025-04-04,csat,8,0,10  # 1 + 4·8/10 = 4.2
        S3,P1,2025-04-05,csat,3,1,3  # 1 + 4·2/2 = 5
        S4,P1,2025-05-01,nps,10,0,10  # promoter
        S5,P1,2025-05-02,nps,9,0,10  # promoter
        S6,P1,2025-05-03,nps,7,0,10  # passive
        S7,P1,2025-05-04,nps,3,0,10  # detractor
        S8,P2,2025-06-01,csat,2,1,5  # 1 + 4·1/4 = 2
        S9,P2,2025-06-02,nps,6,0,10  # detractor
        """,
    ),
    "targets": (
        "targets",
        "partner_id,period_start,grain,quota",
        """
        P1,2025-04-01,quarter,10000
        P1,2025-01-01,year,40000
        P2,2025-04-01,quarter,12000
        P2,2025-05-01,month,1000
        P2,2025-07-01,quarter,6000  # begins after the as-of time
        """,
    ),
    "costs": (
        "partner_costs",
        "cost_id,partner_id,incurred_at,category,amount,currency",
        """
        PC1,P1,2025-05-01,incentive,300,USD
        PC2,P1,2025-06-01,Incentive,200,USD  # the category is case-insensitive
        PC3,P1,2025-04-20,support,400,USD
        PC4,P1,2025-06-15,travel,100,USD
        PC5,P2,2025-06-10,support,150,EUR  # × 1.30 = 195
        PC6,P2,2025-04-10,,50,USD  # no category: "other"
        """,
    ),
}


def source(name: str, entity: str, header: str) -> str:
    """A source whose CSV header already uses the canonical column names."""
    columns = "".join(f'{col} = "{col}"\n' for col in header.split(","))
    return (
        f'[sources.{name}]\nentity = "{entity}"\npath = "data/{name}.csv"\n'
        f"[sources.{name}.columns]\n{columns}"
    )


def csv_file(header: str, body: str) -> str:
    lines = [line.split("#")[0].strip() for line in body.splitlines()]
    return "\n".join([header, *[line for line in lines if line]]) + "\n"


def words(text: str) -> list[str]:
    return text.split()


def index(table: Any) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Result rows by (level, group_key, label)."""
    return {(r["level"], r["group_key"], r["label"]): r for r in table.to_pylist()}


def value(rows: dict, metric: str, level: str, group_key: str, label: str) -> float | None:
    return rows[(level, group_key, label)][metric]


def close(expected: float | None) -> Any:
    return None if expected is None else pytest.approx(expected, rel=1e-9, abs=1e-9)


def check(rows: dict, level: str, group_key: str, label: str, expected: dict[str, Any]) -> None:
    got = {m: value(rows, m, level, group_key, label) for m in expected}
    assert got == {m: close(v) for m, v in expected.items()}


@pytest.fixture(scope="module")
def fixture_ws(tmp_path_factory):
    config = "[economics]\ngross_margin = 0.6\n" + "".join(
        source(name, entity, header) for name, (entity, header, _) in TABLES.items()
    )
    files = {f"data/{n}.csv": csv_file(header, body) for n, (_, header, body) in TABLES.items()}
    ws = make_workspace(tmp_path_factory.mktemp("fixture"), config, files)
    assert ws.ingest().quarantined == 0
    return ws


@pytest.fixture(scope="module")
def rows(fixture_ws):
    with fixture_ws.warehouse(read_only=True) as wh:
        table = compute_metrics(wh.con, fixture_ws.config, BUILTIN, GRAINS, ALL_LEVELS, as_of=AS_OF)
    return index(table)


# ---- one partner, one quarter: every built-in metric ---------------------------------------------

#: P1 in FY2025-Q2. Won: O1 10000 (sourced, 10 days), O2 1000 EUR × 1.20 = 1200 (influenced,
#: 2025-03-02 → 05-15 = 29 + 30 + 15 = 74 days). Lost: O3. Open at 2025-06-30: O4 8000.
P1_Q2: dict[str, float | None] = {
    "won_revenue": 11200.0,  # 10000 + 1200
    "sourced_revenue": 10000.0,
    "influenced_revenue": 1200.0,
    "won_deals": 2.0,
    "lost_deals": 1.0,
    "closed_deals": 3.0,
    "win_rate": 2 / 3,
    "avg_deal_size": 5600.0,  # 11200 / 2
    "sales_cycle_days": 42.0,  # (10 + 74) / 2
    "open_deals": 1.0,  # O4; O3 closed 06-10, O2 05-15, O6 in March
    "open_pipeline": 8000.0,
    "new_pipeline": 22000.0,  # created in Q2: O1 10000 + O3 4000 + O4 8000 (O2 in March)
    "pipeline_velocity": 1 * (2 / 3) * 5600 / 42,  # = 88.89 per day
    "quota": 10000.0,  # the quarter row; the year row counts for the year only
    "quota_attainment": 1.12,  # 11200 / 10000
    "revenue_growth_yoy": 11200 / 5000 - 1,  # FY2024-Q2: O5 5000 → 1.24
    "new_customers": 1.0,  # A2 (O2); A1 was first won with P1 in 2024 (O5)
    "leads_assigned": 5.0,  # L1 … L5
    "leads_within_sla": 2.0,  # L1 (1 h), L3 (2 h exactly)
    "leads_sla_due": 4.0,  # L1 L2 L3 touched + L5 untouched for 3 h; L4 (1 h) left out
    "lead_sla_rate": 0.5,  # 2 / 4
    "median_response_hours": 2.0,  # median of 1, 4, 2
    "leads_converted": 2.0,  # L1, L3
    "lead_conversion_rate": 0.4,  # 2 / 5 (L4 counts here: it was assigned)
    "mdf_spend": 2000.0,  # M1, paid 2025-04-15
    "mdf_attributed_revenue": 10000.0,  # O1 (won, M1); O10 is P2's deal
    "mdf_roi": 4.0,  # (10000 − 2000) / 2000
    "mdf_pipeline": 18000.0,  # created in Q2 and linked to M1: O1 10000 + O4 8000
    "mdf_pipeline_ratio": 9.0,  # 18000 / 2000
    "certified_people": 1.0,  # U1 (two certificates); U2 lapsed 05-31, U3 issued in July
    "required_certifications_held": 1.0,  # CERT-A (CERT-C is not required)
    "required_certifications": 2.0,  # Gold: CERT-A, CERT-B
    "enablement_completion": 0.5,  # 1 / 2
    "compliance_weight_passed": 3.0,  # K2 2 + K4 1 (K1 of 2024-06-30 is outside the window)
    "compliance_weight": 4.0,  # K2 2 + K3 1 + K4 1
    "compliance_score": 75.0,  # 100 × 3 / 4
    "csat": 4.4,  # (4 + 4.2 + 5) / 3
    "nps_responses": 4.0,
    "nps_promoters": 2.0,  # 10, 9
    "nps_detractors": 1.0,  # 3 (7 is passive)
    "nps": 25.0,  # 100 × (2 − 1) / 4
    "discounts_on_won": 620.0,  # O1 500 + O2 100 EUR × 1.20 (lost O3's 300 is not counted)
    "incentive_payouts": 500.0,  # PC1 300 + PC2 200 ("Incentive")
    "other_partner_costs": 500.0,  # support 400 + travel 100
    "partner_investment": 3000.0,  # MDF 2000 + 500 + 500
    "contribution_margin": 3100.0,  # 11200 × 0.6 = 6720 − 620 − 2000 − 500 − 500
    "contribution_margin_pct": 3100 / 11200,
    "partner_cac": 3000.0,  # 3000 / 1 new customer
    "channel_revenue_share": 11200 / 31200,  # company: 24200 partners + 7000 direct
    "partners_with_quota": None,  # group-only metrics are null for a partner
    "partners_at_quota": None,
    "share_partners_at_quota": None,
    "target_accounts": 5.0,  # A1 A2 A3 A4 A6
    "covered_target_accounts": 4.0,  # A1 (O1 O3), A2 (O2), A3 (O4), A4 (O6, March)
    "coverage": 0.8,  # 4 / 5
    "coverage_gap": 0.2,
    "control_index": None,
}


def test_every_builtin_metric_has_a_hand_value():
    """The core catalog is checked by hand here; each area of metrics/measures/ in its own
    tests/test_metrics_<area>.py, which must name every metric of its file."""
    areas = {p.stem: p for p in BUILTIN_MEASURES.glob("*.toml")}
    in_areas: set[str] = set()
    for area, path in areas.items():
        names = set(tomllib.loads(path.read_text(encoding="utf-8")).get("metrics", {}))
        test = Path(__file__).with_name(f"test_metrics_{area}.py").read_text(encoding="utf-8")
        assert [n for n in sorted(names) if f'"{n}"' not in test] == [], area
        in_areas |= names
    assert sorted(P1_Q2) == sorted(set(BUILTIN) - in_areas)


def test_partner_quarter_every_metric(rows):
    check(rows, "partner", "P1", "FY2025-Q2", P1_Q2)


def test_second_partner_mdf_of_another_partner_fx_and_other_costs(rows):
    expected = {
        "won_revenue": 9000.0,  # O7 3000 + O10 6000
        "win_rate": 2 / 3,  # O8 lost
        "sales_cycle_days": 20.5,  # (10 + 31) / 2
        "pipeline_velocity": 1 * (2 / 3) * 4500 / 20.5,  # O9 open
        "quota": 13000.0,  # quarter row 12000 + the May month row 1000 (inside the quarter)
        "quota_attainment": 9000 / 13000,
        "revenue_growth_yoy": None,  # nothing won in FY2024-Q2: undefined
        "new_customers": 2.0,  # A2 and A1: first won with P2, whatever P1 did
        "lead_sla_rate": 1.0,  # L6 0.5 h, L7 1.5 h
        "median_response_hours": 1.0,  # median of 0.5 and 1.5
        "mdf_spend": 650.0,  # 500 EUR × 1.30 (rate of 2025-06-01 ≤ paid_at 06-10)
        "mdf_attributed_revenue": 0.0,  # O10 points at P1's activity M1: not linked for P2
        "mdf_roi": -1.0,  # (0 − 650) / 650
        "mdf_pipeline_ratio": 2000 / 650,  # O9 (M2)
        "certified_people": 2.0,  # P2's U1 and U5 (P1 also has a "U1": counted per partner)
        "enablement_completion": 1.0,  # Silver requires CERT-A only; CERT-B does not count
        "compliance_score": 50.0,  # K5 passed, K6 failed, weight 1 each
        "csat": 2.0,
        "nps": -100.0,  # one detractor
        "incentive_payouts": 0.0,
        "other_partner_costs": 245.0,  # support 150 EUR × 1.30 = 195 + uncategorised 50
        "contribution_margin": 4305.0,  # 9000 × 0.6 = 5400 − 200 − 650 − 0 − 245
        "partner_cac": 447.5,  # (650 + 245) / 2
        "coverage": 0.6,  # A1 A2 A3; A5 is not a target
    }
    check(rows, "partner", "P2", "FY2025-Q2", expected)


def test_partner_without_losses_quota_leads_mdf_or_surveys(rows):
    """P3 has one won deal and nothing else: sums and counts are 0, ratios over nothing null."""
    zero = words("""lost_deals influenced_revenue open_deals open_pipeline leads_assigned
        leads_within_sla leads_sla_due leads_converted mdf_spend mdf_pipeline
        mdf_attributed_revenue incentive_payouts other_partner_costs partner_investment
        discounts_on_won nps_responses nps_promoters nps_detractors certified_people
        required_certifications_held compliance_weight compliance_weight_passed""")
    null = words("""quota quota_attainment revenue_growth_yoy lead_sla_rate median_response_hours
        lead_conversion_rate mdf_roi mdf_pipeline_ratio compliance_score csat nps""")
    expected = {
        **dict.fromkeys(zero, 0.0),
        **dict.fromkeys(null),  # quota: no target is null, not a quota of 0
        "win_rate": 1.0,  # 1 won / (1 + 0 lost)
        "avg_deal_size": 4000.0,
        "sales_cycle_days": 30.0,
        "pipeline_velocity": 0.0,  # 0 open deals × 1 × 4000 / 30
        "enablement_completion": 0.0,  # 0 of the 2 Gold certifications
        "contribution_margin": 2400.0,  # 4000 × 0.6, no costs
        "contribution_margin_pct": 0.6,
        "new_customers": 1.0,
        "partner_cac": 0.0,  # 0 invested / 1 new customer
        "coverage": 0.2,  # A4
    }
    check(rows, "partner", "P3", "FY2025-Q2", expected)


# ---- groups: recomputed from the summed parts of their partners ---------------------------------


def test_portfolio_is_recomputed_from_summed_parts(rows):
    # portfolio = P1 + P2 + P3 (the direct deal O12 is not a partner's)
    expected = {
        "won_revenue": 24200.0,  # 11200 + 9000 + 4000
        "win_rate": 5 / 7,  # (2 + 2 + 1) / (3 + 3 + 1), not the mean of 2/3, 2/3, 1
        "avg_deal_size": 4840.0,  # 24200 / 5
        "sales_cycle_days": 31.0,  # (10 + 74 + 10 + 31 + 30) / 5
        "pipeline_velocity": 2 * (5 / 7) * 4840 / 31,  # open: O4, O9
        "quota": 23000.0,  # 10000 + 13000; P3 has none
        "quota_attainment": 24200 / 23000,  # P3's revenue counts, its missing quota does not
        "partners_with_quota": 2.0,
        "partners_at_quota": 1.0,  # P1 (1.12); P2 0.69
        "share_partners_at_quota": 0.5,
        "lead_sla_rate": 4 / 6,  # (2 + 2) / (4 + 2), not the mean of 0.5 and 1.0
        "median_response_hours": 1.5,  # median of 1, 4, 2, 0.5, 1.5
        "lead_conversion_rate": 3 / 7,
        "mdf_roi": (10000 - 2650) / 2650,
        "mdf_pipeline_ratio": 20000 / 2650,
        "certified_people": 3.0,  # 1 + 2 + 0: P1's U1 and P2's U1 are different people
        "required_certifications_held": 2.0,  # 1 + 1 + 0
        "enablement_completion": 2 / 5,  # (1 + 1 + 0) / (2 + 1 + 2)
        "compliance_score": 400 / 6,  # 100 × (3 + 1) / (4 + 2)
        # revenue-weighted over partners with both: P3 (4000 won, no checks) is left out
        "control_index": (75 * 11200 + 50 * 9000) / (11200 + 9000),  # = 63.86
        "csat": 3.8,  # (4 + 4.2 + 5 + 2) / 4
        "nps": 0.0,  # 100 × (2 − 2) / 5
        "contribution_margin": 9805.0,  # 3100 + 4305 + 2400
        "contribution_margin_pct": 9805 / 24200,
        "partner_cac": 3895 / 4,  # (3000 + 895 + 0) / (1 + 2 + 1)
        "covered_target_accounts": 4.0,  # A1 A2 A3 A4, each once (not 4 + 3 + 1)
        "coverage": 0.8,
        "coverage_gap": 0.2,
        "channel_revenue_share": 24200 / 31200,
    }
    check(rows, "portfolio", "all", "FY2025-Q2", expected)


@pytest.mark.parametrize("grains", [("quarter",), GRAINS], ids=["one grain", "every grain"])
def test_a_median_with_a_minimum_evidence_counts_its_own_values(fixture_ws, grains):
    # one grain: a partner's median comes from the monthly scan; more: from the per-period query
    config = fixture_ws.config.model_copy(
        update={"metrics": {"median_response_hours": {"min_evidence": 3}}}
    )
    with fixture_ws.warehouse(read_only=True) as wh:
        got = index(
            compute_metrics(
                wh.con, config, ["median_response_hours"], grains, ALL_LEVELS, as_of=AS_OF
            )
        )
    assert value(got, "median_response_hours", "partner", "P1", "FY2025-Q2") == 2.0  # 3 leads
    assert value(got, "median_response_hours", "partner", "P2", "FY2025-Q2") is None  # 2
    assert value(got, "median_response_hours", "portfolio", "all", "FY2025-Q2") == 1.5  # 5


def test_region_and_tier_groups(rows):
    emea = {
        "won_revenue": 20200.0,  # P1 + P2
        "win_rate": 4 / 6,
        "quota_attainment": 20200 / 23000,
        "share_partners_at_quota": 0.5,
        "covered_target_accounts": 4.0,  # P1's 4 and P2's 3 overlap in A1 A2 A3
        "enablement_completion": 2 / 3,  # (1 + 1) / (2 + 1)
        "control_index": (75 * 11200 + 50 * 9000) / 20200,
        "channel_revenue_share": 20200 / 31200,
        "revenue_growth_yoy": 20200 / 5000 - 1,
    }
    check(rows, "region", "EMEA", "FY2025-Q2", emea)
    amer = {
        "partners_with_quota": 0.0,
        "partners_at_quota": 0.0,
        "share_partners_at_quota": None,  # 0 / 0
        "control_index": None,  # P3 has no compliance score
        "compliance_score": None,
    }
    check(rows, "region", "AMER", "FY2025-Q2", amer)
    gold = {
        "enablement_completion": 0.25,  # P1 + P3: (1 + 0) / (2 + 2)
        "control_index": 75.0,  # only P1 has a score
    }
    check(rows, "program_tier", "Gold", "FY2025-Q2", gold)


def test_company_includes_direct_deals(rows):
    # O12: 7000, won 2025-04-15 after 14 days, no partner, on target account A6
    expected = {
        "won_revenue": 31200.0,  # 24200 + 7000
        "won_deals": 6.0,
        "sourced_revenue": 17000.0,  # a direct deal is neither sourced nor influenced
        "influenced_revenue": 7200.0,
        "sales_cycle_days": 169 / 6,  # (155 + 14) / 6
        "new_customers": 5.0,  # 4 + A6
        "channel_revenue_share": 1.0,
        "covered_target_accounts": 4.0,  # a direct opportunity does not cover A6
        "revenue_growth_yoy": 31200 / 5000 - 1,
    }
    check(rows, "company", "all", "FY2025-Q2", expected)
    assert {key[1] for key in rows if key[0] == "partner"} == {"P1", "P2", "P3"}


# ---- periods ------------------------------------------------------------------------------------


def test_periods_labels_and_completeness(rows):
    periods = {
        (key[2], r["period_start"].isoformat(), r["period_end"].isoformat(), r["complete"])
        for key, r in rows.items()
        if key[:2] == ("partner", "P1")
    }
    months = sorted(p for p in periods if len(p[0]) == 7)
    # from the earliest month with data (O5 created 2024-04-01) to the last month begun before
    # the as-of time: 2025-07-01 00:00 ends June, July has not begun
    assert len(months) == 15
    assert months[0] == ("2024-04", "2024-04-01", "2024-05-01", True)
    assert months[-1] == ("2025-06", "2025-06-01", "2025-07-01", True)
    assert {p for p in periods if p[0].startswith("FY")} == {
        ("FY2024-Q2", "2024-04-01", "2024-07-01", True),
        ("FY2024-Q3", "2024-07-01", "2024-10-01", True),
        ("FY2024-Q4", "2024-10-01", "2025-01-01", True),
        ("FY2025-Q1", "2025-01-01", "2025-04-01", True),
        ("FY2025-Q2", "2025-04-01", "2025-07-01", True),  # ends at the as-of time: complete
        ("FY2024", "2024-01-01", "2025-01-01", True),
        ("FY2025", "2025-01-01", "2026-01-01", False),  # so far
    }


def test_deal_closed_late_on_the_last_day_of_a_quarter(rows):
    # O6: created 2025-03-01 00:00, won 2025-03-31 23:30 UTC → March and FY2025-Q1
    check(rows, "partner", "P1", "2025-03", {"won_revenue": 2000.0, "won_deals": 1.0})
    check(rows, "partner", "P1", "2025-04", {"won_revenue": 10000.0, "won_deals": 1.0})  # O1
    q1 = {
        "won_revenue": 2000.0,
        "sales_cycle_days": 30 + 23.5 / 24,  # 30 days and 23.5 hours
        "new_customers": 1.0,  # A4
        "new_pipeline": 3200.0,  # O2 1200 (created 03-02) + O6 2000
        "open_deals": 1.0,  # at the end of Q1: O2 (O6 closed before the end, on its last day)
        "open_pipeline": 1200.0,
        "quota": None,  # the year row is not inside a quarter
    }
    check(rows, "partner", "P1", "FY2025-Q1", q1)
    year = {
        "won_revenue": 13200.0,  # Q1 2000 + Q2 11200
        "new_customers": 2.0,  # A4 (Q1), A2 (Q2); A1 was 2024
        "quota": 50000.0,  # year row 40000 + Q2 row 10000
        "quota_attainment": 13200 / 50000,
        "revenue_growth_yoy": 13200 / 5000 - 1,  # FY2024: O5
    }
    check(rows, "partner", "P1", "FY2025", year)


def test_open_pipeline_is_read_at_each_period_end(rows):
    # P1: O2 open 03-02 → 05-15, O3 04-05 → 06-10, O4 from 05-20
    expected = {
        "2025-04": (2.0, 5200.0),  # O2 1200 + O3 4000
        "2025-05": (2.0, 12000.0),  # O3 4000 + O4 8000 (O2 closed 05-15)
        "2025-06": (1.0, 8000.0),  # O4 (O3 closed 06-10)
        "FY2025-Q2": (1.0, 8000.0),  # the quarter's is its end's, not a sum of months
    }
    got = {
        label: tuple(
            value(rows, m, "partner", "P1", label) for m in ("open_deals", "open_pipeline")
        )
        for label in expected
    }
    assert got == expected


def test_quota_counts_in_periods_that_contain_the_target_span(rows):
    # P1: a quarter row (Q2) and a year row; P2: a quarter row (Q2) and a month row (May)
    for label, p1, p2 in [
        ("2025-04", None, None),  # a quarter row is not a month's quota
        ("2025-05", None, 1000.0),
        ("FY2025-Q1", None, None),
        ("FY2025-Q2", 10000.0, 13000.0),
    ]:
        assert value(rows, "quota", "partner", "P1", label) == p1, label
        assert value(rows, "quota", "partner", "P2", label) == p2, label
    # May: P2 won nothing (O7 04-20, O10 06-01) against 1000; P1 has no May quota
    check(rows, "partner", "P2", "2025-05", {"quota_attainment": 0.0})
    may = {"partners_with_quota": 1.0, "partners_at_quota": 0.0, "share_partners_at_quota": 0.0}
    check(rows, "portfolio", "all", "2025-05", may)
    check(rows, "portfolio", "all", "2025-04", {"quota": None, "share_partners_at_quota": None})


def test_quota_of_a_year_in_progress_counts_targets_that_have_not_begun(rows):
    # FY2025 (2025-01-01 … 2026-01-01, complete = False) contains the whole span of P2's
    # FY2025-Q3 row (2025-07-01 … 10-01) although the as-of time is 2025-07-01 00:00
    check(rows, "partner", "P1", "FY2025", {"quota": 50000.0})  # year 40000 + Q2 10000
    check(rows, "partner", "P2", "FY2025", {"quota": 19000.0})  # Q2 12000 + May 1000 + Q3 6000


def test_revenue_growth_against_the_same_period_a_year_earlier(rows):
    # 2025-05: P1 won O2 1200; 2024-05: O5 5000 → −0.76
    check(rows, "partner", "P1", "2025-05", {"revenue_growth_yoy": 1200 / 5000 - 1})
    check(rows, "partner", "P1", "2025-04", {"revenue_growth_yoy": None})  # 2024-04: 0 won
    check(rows, "partner", "P1", "FY2024-Q2", {"revenue_growth_yoy": None})  # no FY2023-Q2
    check(rows, "portfolio", "all", "FY2025-Q2", {"revenue_growth_yoy": 24200 / 5000 - 1})


def test_trailing_twelve_months_compliance_and_coverage(rows):
    # P1: K1 2024-06-30 w5 ✗, K2 2024-07-01 w2 ✓, K3 2025-03-15 w1 ✗, K4 2025-06-20 w1 ✓
    expected = {
        "FY2024-Q2": 0.0,  # 2023-07 … 2024-06: K1 → 0 / 5 (defined: there was a check)
        "FY2024-Q3": 100 * 2 / 7,  # 2023-10 … 2024-09: K1 K2
        "2025-05": 100 * 2 / 8,  # 2024-06 … 2025-05: K1 K2 K3
        "FY2025-Q2": 75.0,  # 2024-07 … 2025-06: K2 K3 K4 (K1 dropped out)
    }
    got = {label: value(rows, "compliance_score", "partner", "P1", label) for label in expected}
    assert got == {label: close(v) for label, v in expected.items()}
    # coverage: P1's only opportunity created by 2024-06 is O5 (A1) → 1 of 5 target accounts
    check(rows, "partner", "P1", "FY2024-Q2", {"coverage": 0.2, "coverage_gap": 0.8})
    # P3's only opportunity O11 was created in April 2025: nothing covered in Q1
    check(rows, "partner", "P3", "FY2025-Q1", {"covered_target_accounts": 0.0, "coverage": 0.0})


def test_certifications_held_at_period_end(rows):
    # at 2025-03-31 U2's CERT-B (lapsing 2025-05-31) is still valid; by 06-30 it is not (P1_Q2)
    q1 = {"certified_people": 2.0, "required_certifications_held": 2.0}  # U1 U2; CERT-A CERT-B
    check(rows, "partner", "P1", "FY2025-Q1", {**q1, "enablement_completion": 1.0})
    check(rows, "partner", "P1", "2025-04", {"certified_people": 2.0})


def test_as_of_time_decides_lead_sla_and_the_current_period(fixture_ws, rows):
    """Two hours later (2025-07-01 02:00) L4 has waited 3 h: a breach. July has begun."""
    metrics = ["lead_sla_rate", "compliance_score", "quota_attainment"]
    with fixture_ws.warehouse(read_only=True) as wh:
        table = compute_metrics(
            wh.con, fixture_ws.config, metrics, GRAINS, ("partner",), as_of=datetime(2025, 7, 1, 2)
        )
    later = index(table)
    assert value(rows, "lead_sla_rate", "partner", "P1", "FY2025-Q2") == 0.5  # at 00:00: 2 / 4
    # L1 L2 L3 L5 + L4 are due; L1 L3 within → 2 / 5
    sla = {"leads_sla_due": 5.0, "leads_within_sla": 2.0, "lead_sla_rate": 0.4}
    check(later, "partner", "P1", "FY2025-Q2", sla)
    assert later[("partner", "P1", "2025-07")]["complete"] is False
    assert later[("partner", "P1", "FY2025-Q3")]["complete"] is False
    # compliance at the end of July so far: 2024-08 … 2025-07 → K3 ✗ w1, K4 ✓ w1
    check(later, "partner", "P1", "2025-07", {"compliance_score": 50.0})
    # the current quarter has its quota from its first month on; nothing won in July yet
    check(later, "partner", "P2", "FY2025-Q3", {"quota": 6000.0, "quota_attainment": 0.0})
    check(later, "partner", "P2", "2025-07", {"quota": None})
    check(later, "partner", "P2", "FY2025", {"quota": 19000.0})  # 12000 + 1000 + 6000


def test_money_is_converted_at_ingest_at_the_rate_of_its_reference_date(fixture_ws, rows):
    # O2 closed 2025-05-15: the rate of 05-01 (1.20), not created_at's (1.10) nor 06-01's
    assert query(
        fixture_ws,
        "SELECT amount_local, fx_rate, amount, discount_amount FROM opportunities "
        "WHERE opportunity_id = 'O2'",
    ) == [(Decimal("1000.00"), Decimal("1.2"), Decimal("1200.00"), Decimal("120.00"))]
    assert query(fixture_ws, "SELECT paid_amount FROM mdf_activities WHERE currency = 'EUR'") == [
        (Decimal("650.00"),)  # M2: 500 EUR paid 2025-06-10 × 1.30
    ]
    assert query(fixture_ws, "SELECT amount FROM partner_costs WHERE currency = 'EUR'") == [
        (Decimal("195.00"),)  # PC5: 150 EUR × 1.30
    ]
    check(rows, "partner", "P1", "2025-05", {"won_revenue": 1200.0, "discounts_on_won": 120.0})


# ---- reporting time zone and fiscal year ---------------------------------------------------------

OPP_HEADER = "opportunity_id,partner_id,attribution,status,amount,created_at,closed_at"
NEW_YORK = (
    '[workspace]\ntimezone = "America/New_York"\nfiscal_year_start_month = 4\n'
    + source("partners", "partners", "partner_id,name")
    + source("opps", "opportunities", OPP_HEADER)
)


def test_reporting_time_zone_and_fiscal_year(workspace_factory):
    """Periods in New York time, fiscal year from April (FY2026 = 2025-04 … 2026-03); no
    [economics] gross margin, so the contribution margin is undefined."""
    opps = """
        W1,P1,sourced,won,1000,2025-03-01T12:00:00Z,2025-04-01T02:00:00Z  # 03-31 22:00 EDT
        W2,P1,sourced,won,500,2025-03-01T12:00:00Z,2025-04-01T05:00:00Z  # 04-01 01:00 EDT
        """
    files = {"data/partners.csv": "partner_id,name\nP1,Acme\n"}
    ws = workspace_factory(NEW_YORK, files | {"data/opps.csv": csv_file(OPP_HEADER, opps)})
    ws.ingest()
    metrics = ["won_revenue", "contribution_margin", "contribution_margin_pct"]
    with ws.warehouse(read_only=True) as wh:  # two computations on one connection
        # 2025-04-02 00:00 UTC = 2025-04-01 20:00 in New York
        table = compute_metrics(
            wh.con, ws.config, metrics, GRAINS, ("partner",), as_of=datetime(2025, 4, 2)
        ).to_pylist()
        # 2025-04-01 03:00 UTC is still March 31 in New York: March is the last month
        early = compute_metrics(
            wh.con, ws.config, ["won_revenue"], ("quarter",), as_of=datetime(2025, 4, 1, 3)
        ).to_pylist()
    got = {
        (r["label"], r["period_start"].isoformat(), r["complete"]): r["won_revenue"] for r in table
    }
    assert got == {
        ("2025-03", "2025-03-01", True): 1000.0,  # W1
        ("2025-04", "2025-04-01", False): 500.0,  # W2
        ("FY2025-Q4", "2025-01-01", True): 1000.0,
        ("FY2026-Q1", "2025-04-01", False): 500.0,
        ("FY2025", "2024-04-01", True): 1000.0,
        ("FY2026", "2025-04-01", False): 500.0,
    }
    assert {(r["contribution_margin"], r["contribution_margin_pct"]) for r in table} == {
        (None, None)
    }
    assert [(r["label"], r["complete"], r["won_revenue"]) for r in early] == [
        ("FY2025-Q4", False, 1000.0)
    ]


def test_large_entities_keep_one_grain_per_query_with_the_same_values(
    fixture_ws, rows, monkeypatch
):
    """Medians and distinct counts of entities up to ONE_QUERY_ROWS rows are one query for every
    grain; above it, one per grain. Every entity counted as large gives the same values, with
    three times the queries."""
    from partnerscope.metrics import engine, holistic

    made: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> list[Any]:
        found = holistic.holistic_queries(*args, **kwargs)
        made.append(len(found))
        return found

    monkeypatch.setattr(engine, "holistic_queries", counted)
    with fixture_ws.warehouse(read_only=True) as wh:
        small = compute_metrics(wh.con, fixture_ws.config, BUILTIN, GRAINS, ALL_LEVELS, as_of=AS_OF)
        monkeypatch.setattr(holistic, "ONE_QUERY_ROWS", -1)  # every entity is large
        large = compute_metrics(wh.con, fixture_ws.config, BUILTIN, GRAINS, ALL_LEVELS, as_of=AS_OF)
    assert index(small) == rows
    assert index(large) == rows
    assert made[1] == 3 * made[0], made
