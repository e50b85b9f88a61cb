"""Issue 26 item 8: a workspace with deals only (no quotas, leads, surveys, enablement,
compliance, MDF, target accounts or direct deals). The scorecard is scored on the measures the
data supports and says so, the tiers say which measure they lack, and the executive summary
leaves out what the data cannot show.

As of 2024-07-01, FY2024-Q2 (calendar quarters), the partners' won revenue and win rates:

=======  ===========  ================
partner  won revenue  win rate
=======  ===========  ================
P1 Acme  300          2/3 (lost 40)
P2 Beta  100          1/2 (lost 80)
P3 Core  150          1
=======  ===========  ================

Of the eight default measures only won revenue (weight 0.2), win rate (0.1) and open
pipeline (0.1, 0 for everyone: every deal is closed) have data; their weights become 0.5, 0.25
and 0.25. Among three partners (compared with the portfolio: the cohort is too small) the
percentiles are won revenue P1 100, P3 50, P2 0; win rate P3 100, P1 50, P2 0 (shrinkage keeps
the order); open pipeline 50 each. Scores: P1 0.5 × 100 + 0.25 × 50 + 0.25 × 50 = 75,
P2 0 + 0 + 12.5 = 12.5, P3 25 + 25 + 12.5 = 62.5.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from partnerscope.evaluation.view import RunData
from partnerscope.reports import render
from partnerscope.reports.executive import executive
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"
partner_type = "type"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
"""
PARTNERS = "id,name,type\nP1,Acme,var\nP2,Beta,si\nP3,Core,var\n"
OPPS = (
    "id,partner,account,status,amount,created,closed\n"
    "O1,P1,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P1,A2,lost,50,2024-01-20,2024-03-02\n"
    "O3,P2,A3,won,300,2024-01-10,2024-03-20\n"
    "O4,P3,A4,won,60,2024-02-01,2024-02-25\n"
    "O5,P1,A5,won,200,2024-04-02,2024-04-20\n"
    "O6,P1,A6,won,100,2024-04-10,2024-06-05\n"
    "O7,P1,A7,lost,40,2024-04-15,2024-05-10\n"
    "O8,P2,A8,won,100,2024-04-03,2024-05-11\n"
    "O9,P2,A9,lost,80,2024-04-05,2024-06-01\n"
    "O10,P3,A10,won,150,2024-05-01,2024-05-30\n"
)
Q2 = "FY2024-Q2"
NOTE = (
    "Scored on 3 of 8 measures: Quota attainment, CSAT, Lead SLA rate, Enablement completion "
    "and Compliance score have no data in this workspace, so their weight is spread over the "
    "others"
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("deals_only") / "ws"
    ws = make_workspace(root, CONFIG, {"data/partners.csv": PARTNERS, "data/opps.csv": OPPS})
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=datetime(2024, 7, 1))
        yield ws


def cards_of(ws: Workspace) -> dict[str, dict[str, Any]]:
    data = RunData(ws)
    return {r["partner_id"]: r for r in data.scorecards.table.to_pylist() if r["period"] == Q2}


def test_scored_on_the_measures_with_data_and_says_so(ws: Workspace) -> None:
    cards = cards_of(ws)
    assert {p: c["score"] for p, c in cards.items()} == pytest.approx(
        {"P1": 75.0, "P2": 12.5, "P3": 62.5}
    )
    # before: the five measures without data counted as missing evidence (coverage 0.4),
    # so every partner was "scored on too little evidence"
    assert all(c["evidence_coverage"] == 1.0 for c in cards.values())
    assert not any(c["low_evidence"] for c in cards.values())
    assert all(c["note"] == NOTE for c in cards.values())
    view = RunData(ws).scorecard("P1", Q2)
    weights = {line.metric: line.weight for line in view.lines}
    assert weights["won_revenue"] == pytest.approx(0.5)
    assert weights["win_rate"] == pytest.approx(0.25)
    assert weights["quota_attainment"] == 0.0
    points = {line.metric: line.contribution for line in view.lines}
    assert points["won_revenue"] == pytest.approx(50.0)
    assert points["quota_attainment"] is None


def test_tiers_say_which_measure_they_lack(ws: Workspace) -> None:
    tiers = [t for t in RunData(ws).tiers.table.to_pylist() if t["period"] == Q2]
    performance = [t for t in tiers if t["ruleset"] == "performance"]
    assert {t["effective"] for t in performance} == {"Under review"}
    assert {t["reason"] for t in performance} == {
        "Under review; not Development: Quota attainment has no data in this workspace"
    }


def test_the_executive_summary_leaves_out_what_the_data_cannot_show(ws: Workspace) -> None:
    report = executive(RunData(ws), Q2)
    assert [k["name"] for k in report.sections["kpis"]] == ["won_revenue"]
    assert report.sections["left_out"] == [
        "Channel revenue share: left out: the data has no direct deals, so every deal is a "
        "partner's and the share would read 100 %",
        "Share of partners at quota: left out: no quotas are loaded",
        "Revenue growth YoY: left out: the data does not reach a year before this period",
        "Coverage: left out: no target accounts are loaded",
        "Control index: left out: no compliance scores are loaded",
        "MDF ROI: left out, with the MDF section: no MDF spend is loaded",
        "MDF pipeline ratio: left out: no MDF spend is loaded",
    ]
    assert report.sections["mdf"] == []
    # the performance tiers say why every partner is Under review
    assert report.sections["tier_notes"] == [
        "Performance tiers: Elite, Performance and Development need Quota attainment and CSAT, "
        "which have no data in this workspace: no partner can reach them"
    ]
    assert report.subtitle == "3 partners scored in FY2024-Q2"
    html = render.html(report)
    assert 'id="coverage"' not in html
    assert 'id="mdf"' not in html
    assert 'data-metric="channel_revenue_share"' not in html
    assert "100.0%" not in html
    assert "no partner can reach them" in html
