"""Issue 26 item 7 end to end: a run stores each partner's status and join date with its
memberships, and the evaluation leaves out the inactive and the not yet joined."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
status = "status"
joined_at = "joined"

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
PARTNERS = (
    "id,name,status,joined\n"
    "P1,Acme,active,2023-01-01\n"
    "P2,Beta,active,2023-01-01\n"
    "P3,Core,inactive,2023-01-01\n"
    "P4,Dune,active,2024-04-15\n"
)
OPPS = (
    "id,partner,account,status,amount,created,closed\n"
    "O1,P1,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P2,A2,won,300,2024-01-10,2024-03-20\n"
    "O3,P1,A3,won,200,2024-04-02,2024-04-20\n"
    "O4,P2,A4,won,100,2024-04-03,2024-05-11\n"
    "O5,P4,A5,won,50,2024-05-03,2024-06-11\n"
)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("inactive") / "ws"
    ws = make_workspace(root, CONFIG, {"data/partners.csv": PARTNERS, "data/opps.csv": OPPS})
    ws.ingest()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{root / 'app.db'}")
        ws.run(as_of=datetime(2024, 7, 1))
        yield ws


def test_a_run_leaves_out_the_inactive_and_the_not_yet_joined(ws: Any) -> None:
    cards = {(r["partner_id"], r["period"]): r for r in RunData(ws).scorecards.table.to_pylist()}
    assert cards["P3", "FY2024-Q2"]["status"] == "inactive"
    assert cards["P3", "FY2024-Q2"]["score"] is None
    assert cards["P3", "FY2024-Q2"]["note"] == "Inactive — not scored"
    # P4 joined in April: not scored in Q1, scored in Q2
    assert cards["P4", "FY2024-Q1"]["status"] == "not_started"
    assert cards["P4", "FY2024-Q1"]["score"] is None
    assert cards["P4", "FY2024-Q2"]["scored"] is True
    # three partners scored in Q2 (P1, P2, P4), two in Q1 (P1, P2)
    assert cards["P1", "FY2024-Q2"]["cohort_size"] == 3
    assert cards["P1", "FY2024-Q1"]["cohort_size"] == 2


def test_reports_of_a_partner_left_out(ws: Any) -> None:
    from partnerscope.reports import render
    from partnerscope.reports.executive import executive
    from partnerscope.reports.scorecard import scorecard

    data = RunData(ws)
    view = data.scorecard("P3", "FY2024-Q2")
    assert all(p.next_tier is None for p in view.placements)
    html = render.html(scorecard(data, "P3", "FY2024-Q2"))
    assert "Inactive — not scored" in html
    report = executive(data, "FY2024-Q2")
    assert report.subtitle == "3 partners scored in FY2024-Q2"
