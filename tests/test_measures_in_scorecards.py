"""The new measures (issue 30) in tier rules and scorecard weights, on a small workspace whose
answers are worked out here (as of 2024-07-01, calendar quarters; FY2024-Q2 = April–June).

Product families: X1 Network, X2 Security, X3 Cloud (3). Won deals, trailing 12 months to the
end of Q2: P1 X1 (Feb) X2 X3 → 3 of 3 families: portfolio coverage 1.0 ("complete product
portfolio coverage"); P2 X1 X2 → 2/3; P3 X1 X2 X3 → 1.0. At the end of Q1 every partner had sold
X1 only: 1/3.

Partner surveys sent and answered in Q2: P1 9.5, P2 9.0, P3 7.0 (none in Q1).

Tiers (performance): Elite needs portfolio coverage ≥ 1.0 and partner satisfaction ≥ 9.0;
Advanced satisfaction ≥ 8.0; Registered the rest. Q2: P1 Elite (1.0, 9.5); P2 Advanced (2/3
coverage, 9.0); P3 Registered (complete portfolio but 7.0). Q1: no survey, so every partner is
Registered; an upgrade takes effect at once.

Scorecard, by target (score = 100 × min(value / target, 1)), weights won revenue 0.5 (target
1,000), first-contact resolution 0.25 (target 0.80), renewal rate 0.25 (target 0.95):

=======  ============  ==========================  ====================  ========================
partner  won Q2        first-contact resolution    renewal rate          score
=======  ============  ==========================  ====================  ========================
P1       1,000 → 100   3 of 4 = 0.75 → 93.75       2 of 2 → 100          50 + 23.4375 + 25
                                                                         = 98.4375
P2       500 → 50      2 of 2 = 1.0 → 100          1 of 2 → 52.6316      25 + 25 + 13.1579
                                                                         = 63.1579
P3       500 → 50      no cases: no evidence       1 of 1 → 100          (25 + 25) / 0.75
                                                                         = 66.6667, coverage 0.75
=======  ============  ==========================  ====================  ========================
"""

from __future__ import annotations

from datetime import datetime

import pytest

from partnerscope.evaluation.view import RunData
from tests.conftest import make_workspace

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
partner_type = "type"
region = "region"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = "attribution"
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
product = "product"

[sources.families]
entity = "product_families"
path = "data/families.csv"
[sources.families.columns]
product = "product"
family = "family"

[sources.partner_surveys]
entity = "partner_surveys"
path = "data/partner_surveys.csv"
[sources.partner_surveys.columns]
response_id = "id"
partner_id = "partner"
sent_at = "sent"
responded_at = "answered"
satisfaction = "satisfaction"

[sources.cases]
entity = "support_cases"
path = "data/cases.csv"
[sources.cases.columns]
case_id = "id"
partner_id = "partner"
opened_at = "opened"
resolved_at = "resolved"
first_contact_resolution = "fcr"

[sources.subscriptions]
entity = "subscriptions"
path = "data/subscriptions.csv"
[sources.subscriptions.columns]
contract_id = "id"
partner_id = "partner"
account_id = "account"
start_date = "start"
end_date = "end"
recurring_value = "value"
outcome = "outcome"
renewal_value = "renewal"

[scorecard]
method = "target"
weights = { won_revenue = 0.5, first_contact_resolution_rate = 0.25, renewal_rate = 0.25 }
targets = { won_revenue = 1000, first_contact_resolution_rate = 0.80, renewal_rate = 0.95 }

[reports]
scorecard_metrics = [
  "won_revenue", "critical_response_rate", "customer_satisfaction", "renewal_rate",
  "portfolio_coverage", "product_diversity", "partner_satisfaction",
]

[tiers.performance]
levels = [
  { name = "Elite", min = { portfolio_coverage = 1.0, partner_satisfaction = 9.0 } },
  { name = "Advanced", min = { partner_satisfaction = 8.0 } },
  { name = "Registered" },
]
"""
PARTNERS = "id,name,type,region\nP1,Acme,var,EMEA\nP2,Beta,si,EMEA\nP3,Core,var,AMER\n"
OPPS = (
    "id,partner,attribution,account,status,amount,created,closed,product\n"
    "O1,P1,sourced,A1,won,300,2024-01-05,2024-02-10,X1\n"
    "O2,P1,sourced,A2,won,400,2024-03-20,2024-04-15,X2\n"
    "O3,P1,sourced,A3,won,600,2024-04-01,2024-05-20,X3\n"
    "O4,P2,sourced,A4,won,200,2024-01-02,2024-01-20,X1\n"
    "O5,P2,sourced,A5,won,500,2024-03-01,2024-04-10,X2\n"
    "O6,P3,sourced,A6,won,100,2024-02-01,2024-03-05,X1\n"
    "O7,P3,sourced,A7,won,200,2024-04-01,2024-06-10,X2\n"
    "O8,P3,sourced,A8,won,300,2024-04-01,2024-06-12,X3\n"
)
FAMILIES = "product,family\nX1,Network\nX2,Security\nX3,Cloud\n"
PARTNER_SURVEYS = (
    "id,partner,sent,answered,satisfaction\n"
    "S1,P1,2024-05-01,2024-05-02,9.5\n"
    "S2,P2,2024-05-01,2024-05-03,9.0\n"
    "S3,P3,2024-05-01,2024-05-04,7.0\n"
)
CASES = (
    "id,partner,opened,resolved,fcr\n"
    "K1,P1,2024-04-01T08:00:00,2024-04-01T10:00:00,true\n"
    "K2,P1,2024-04-05T08:00:00,2024-04-05T10:00:00,true\n"
    "K3,P1,2024-05-01T08:00:00,2024-05-01T10:00:00,true\n"
    "K4,P1,2024-06-01T08:00:00,2024-06-02T10:00:00,false\n"
    "K5,P2,2024-04-01T08:00:00,2024-04-01T09:00:00,true\n"
    "K6,P2,2024-05-01T08:00:00,2024-05-01T09:00:00,true\n"
)
SUBSCRIPTIONS = (
    "id,partner,account,start,end,value,outcome,renewal\n"
    "C1,P1,A1,2023-04-15,2024-04-14,100,renewed,100\n"
    "C2,P1,A2,2023-05-15,2024-05-14,100,renewed,100\n"
    "C3,P2,A4,2023-04-15,2024-04-14,100,renewed,100\n"
    "C4,P2,A5,2023-05-15,2024-05-14,100,churned,\n"
    "C5,P3,A6,2023-06-01,2024-05-31,100,renewed,100\n"
)
AS_OF = datetime(2024, 7, 1)
Q1, Q2 = "FY2024-Q1", "FY2024-Q2"


@pytest.fixture(scope="module")
def data(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("measures") / "ws"
    files = {
        "data/partners.csv": PARTNERS,
        "data/opps.csv": OPPS,
        "data/families.csv": FAMILIES,
        "data/partner_surveys.csv": PARTNER_SURVEYS,
        "data/cases.csv": CASES,
        "data/subscriptions.csv": SUBSCRIPTIONS,
    }
    ws = make_workspace(root, CONFIG, files)
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=AS_OF)
        yield RunData(ws)


def values(data, label, *names):  # type: ignore[no-untyped-def]
    rows = [r for r in data.results("quarter").table.to_pylist() if r["label"] == label]
    return {r["group_key"]: tuple(r[n] for n in names) for r in rows}


def test_the_inputs_worked_by_hand(data) -> None:  # type: ignore[no-untyped-def]
    found = values(data, Q2, "portfolio_coverage", "partner_satisfaction")
    assert found == {
        "P1": (1.0, 9.5),
        "P2": (pytest.approx(2 / 3), 9.0),
        "P3": (1.0, 7.0),
    }
    assert values(data, Q2, "first_contact_resolution_rate", "renewal_rate") == {
        "P1": (0.75, 1.0),
        "P2": (1.0, 0.5),
        "P3": (None, 1.0),
    }


def test_a_tier_rule_on_complete_portfolio_coverage_and_partner_satisfaction(  # type: ignore[no-untyped-def]
    data,
) -> None:
    tiers = [t for t in data.tiers.table.to_pylist() if t["ruleset"] == "performance"]
    placed = {(t["partner_id"], t["period"]): t["effective"] for t in tiers}
    assert {p: placed[(p, Q2)] for p in ("P1", "P2", "P3")} == {
        "P1": "Elite",
        "P2": "Advanced",
        "P3": "Registered",
    }
    assert {placed[(p, Q1)] for p in ("P1", "P2", "P3")} == {"Registered"}
    reason = next(t["reason"] for t in tiers if t["partner_id"] == "P3" and t["period"] == Q2)
    assert "Partner satisfaction" in reason


def test_a_scorecard_weighting_first_contact_resolution_and_renewals(  # type: ignore[no-untyped-def]
    data,
) -> None:
    cards = {c["partner_id"]: c for c in data.scorecards.table.to_pylist() if c["period"] == Q2}
    assert cards["P1"]["score"] == pytest.approx(50 + 0.25 * 93.75 + 25)
    assert cards["P2"]["score"] == pytest.approx(25 + 25 + 0.25 * 100 * 0.5 / 0.95)
    assert cards["P3"]["score"] == pytest.approx((25 + 25) / 0.75)
    assert cards["P3"]["evidence_coverage"] == pytest.approx(0.75)


def test_the_scorecard_lists_the_new_measures_a_partner_has(  # type: ignore[no-untyped-def]
    data,
) -> None:
    from partnerscope.reports.partner import partner_scorecard
    from partnerscope.reports.scorecard import scorecard

    report = scorecard(data, "P1", Q2)
    rows = {r["name"]: r for r in report.sections["metrics"]}
    # listed ([reports] scorecard_metrics) after the weighted ones: renewals, portfolio,
    # diversity, partner satisfaction; no critical case and no CSAT response was loaded, so
    # those two are left out
    assert "critical_response_rate" not in rows and "customer_satisfaction" not in rows
    assert rows["renewal_rate"]["weighted"] and not rows["portfolio_coverage"]["weighted"]
    assert (
        rows["portfolio_coverage"]["value"].text,
        rows["partner_satisfaction"]["value"].value,
    ) == (
        "100.0%",
        9.5,
    )
    # P1's Q2 revenue by family: Security 400, Cloud 600: 1 − (0.4² + 0.6²) = 0.48
    assert rows["product_diversity"]["value"].value == pytest.approx(0.48)
    # the partner's own edition shows them too (its own values, no peer median)
    edition = partner_scorecard(report, data.workspace.config.tiers.shown_to_partners)
    names = [r["name"] for r in edition.sections["metrics"]]
    assert {"portfolio_coverage", "partner_satisfaction"} <= set(names)
    assert all("cohort_median" not in r for r in edition.sections["metrics"])
