"""The money module's facts reach the metrics: `partnerscope run` posts every approved payout
ledger to partner_costs (category 'incentive') and every MDF request to mdf_activities before it
computes, through the ingest loader.

The workspace is tests/test_payouts.py's (fiscal year = calendar year) with a gross margin of
30 % and two costs of P1's imported from another system:

    K1  P1  2025-05-10  support     2,000.00   → other_partner_costs
    K2  P1  2025-06-01  Incentive     500.00   → incentive_payouts, beside the ledger's

The FY2025-Q2 ledger (worked out in tests/test_payouts.py) comes to P1 13,000.00 (12,000 bonus
band + 1,000 new customer), P2 136,000.03, P3 4,500.00, P4 1,000.00. P1's MDF request #1 for
an event: approved 5,000 on 2025-05-02, claimed 3,000, paid on 2025-06-15 (FY2025-Q2).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app as cli
from partnerscope.errors import DataFileError
from partnerscope.money import mdf
from partnerscope.money.payouts import Payouts
from partnerscope.runs import list_runs, read_results, run_folder
from tests.conftest import make_workspace, quarantine, query, write_file
from tests.test_payouts import CERTS, CONFIG, JULY, OCTOBER, OPPS, Q2, TARGETS
from tests.test_runs import value

D = Decimal
Q3 = "FY2025-Q3"

COSTS_CONFIG = (
    CONFIG
    + """
[economics]
gross_margin = 0.3

[sources.costs]
entity = "partner_costs"
path = "data/costs.csv"
[sources.costs.columns]
cost_id = "id"
partner_id = "partner"
incurred_at = "date"
category = "category"
amount = "amount"
"""
)
COSTS = """id,partner,date,category,amount
K1,P1,2025-05-10,support,2000
K2,P1,2025-06-01,Incentive,500
"""
ECONOMICS = (
    "incentive_payouts",
    "mdf_spend",
    "other_partner_costs",
    "partner_investment",
    "contribution_margin",
    "partner_cac",
)


@pytest.fixture
def ws(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        COSTS_CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\nP3,Gamma\nP4,Delta\n",
            "data/opps.csv": OPPS,
            "data/targets.csv": TARGETS,
            "data/certs.csv": CERTS,
            "data/costs.csv": COSTS,
        },
    )
    ws.ingest()
    ws.run(as_of=JULY)
    return ws


def economics(ws, partner, label):
    return {m: value(ws, m, partner, label) for m in ECONOMICS}


def imports(ws):
    return query(ws, "SELECT import_id, source, inserted, updated FROM _imports ORDER BY 1")


def pay_request(ws, *, paid_on: datetime, partner="P1", name="Summit") -> int:
    """A request of 5,000 approved in May 2025, claimed for 3,000 and paid on ``paid_on``."""
    mdf.set_budget(ws, partner, "FY2025", 50000, reason="test", by="lee", now=datetime(2025, 5, 1))
    found = mdf.submit(
        ws,
        partner,
        activity_type="event",
        name=name,
        amount=5000,
        by="pam",
        now=datetime(2025, 5, 1),
    )
    mdf.approve(ws, found.request_id, by="fin", now=datetime(2025, 5, 2))
    mdf.claim(
        ws, found.request_id, amount="3000", proof="INV-1", by="pam", now=datetime(2025, 6, 10)
    )
    mdf.pay(ws, found.request_id, by="fin", now=paid_on)
    return found.request_id


def approve(ws, label):
    payouts = Payouts(ws)
    payouts.compute(label, by="fin")
    return payouts.approve(label, by="boss")


def test_an_approved_ledger_and_a_paid_request_are_the_quarters_costs(ws):
    before = economics(ws, "P1", Q2)
    # before: only the imported costs (K2 500 incentive, K1 2,000 other), no MDF spend
    assert before["incentive_payouts"] == 500.0 and before["mdf_spend"] == 0.0
    ledger = approve(ws, Q2)
    assert ledger.partner_totals()["P1"] == D("13000.00")
    pay_request(ws, paid_on=datetime(2025, 6, 15))

    run = ws.run(as_of=JULY)

    assert run.posted["summary"] == (
        "posted 4 incentive costs of 1 approved ledger (4 new, 0 changed) and "
        "1 MDF request (1 new, 0 changed)"
    )
    # P1 in FY2025-Q2: won 120,000, no discounts
    #   incentive_payouts   = 13,000 (ledger) + 500 (K2, imported)        = 13,500
    #   mdf_spend           = 3,000 (request #1, paid 2025-06-15)
    #   other_partner_costs = 2,000 (K1)
    #   partner_investment  = 3,000 + 13,500 + 2,000                      = 18,500
    #   contribution_margin = 120,000 × 30 % − 0 − 18,500                 = 17,500
    #   partner_cac         = 18,500 / 1 new customer (A1)                = 18,500
    assert economics(ws, "P1", Q2) == {
        "incentive_payouts": 13500.0,
        "mdf_spend": 3000.0,
        "other_partner_costs": 2000.0,
        "partner_investment": 18500.0,
        "contribution_margin": 17500.0,
        "partner_cac": 18500.0,
    }
    # P2: 136,000.03 of incentives; 610,000.10 × 30 % − 136,000.03 = 47,000.00; two new
    # customers (A2, A3): CAC 68,000.015
    got = economics(ws, "P2", Q2)
    assert got["incentive_payouts"] == pytest.approx(136000.03)
    assert got["contribution_margin"] == pytest.approx(47000.0)
    assert got["partner_cac"] == pytest.approx(68000.015)
    # one row per partner, on the quarter's last day, with the ledger's lineage
    assert query(
        ws,
        "SELECT cost_id, partner_id, incurred_at, category, amount, currency, _source_file "
        "FROM partner_costs WHERE cost_id LIKE 'payout:%' ORDER BY cost_id",
    ) == [
        (f"payout:{Q2}:{pid}", pid, date(2025, 6, 30), "incentive", D(amount), "USD", file)
        for pid, amount in [
            ("P1", "13000.00"),
            ("P2", "136000.03"),
            ("P3", "4500.00"),
            ("P4", "1000.00"),
        ]
        for file in ["state/money/incentive-costs.csv"]
    ]
    # the month the posted rows start in onward is recomputed; the same as a full run
    assert run.mode == "incremental" and run.recomputed_from == "2025-05-01"
    assert ws.run(as_of=JULY, full=True).digest == run.digest


def test_a_draft_ledger_is_not_a_cost(ws):
    first = list_runs(ws)[-1]
    Payouts(ws).compute(Q2, by="fin")
    again = ws.run(as_of=JULY)
    assert query(ws, "SELECT count(*) FROM partner_costs WHERE cost_id LIKE 'payout:%'") == [(0,)]
    assert again.posted == {} and again.inputs["max_import_id"] == first.inputs["max_import_id"]
    assert value(ws, "incentive_payouts", "P1", Q2) == 500.0  # K2 only
    assert again.digest == first.digest


def test_a_clawback_lowers_the_later_quarters_cost_even_below_zero(ws):
    approve(ws, Q2)
    # O2 (600,000, P2) is reversed after Q2 was approved
    write_file(
        ws.root / "data" / "opps2.csv",
        "id,partner,account,status,amount,created,closed,updated\n"
        "O2,P2,A2,lost,600000.00,2025-03-01,2025-05-15,2025-08-20\n",
    )
    ws.ingest()
    posting = ws.run(as_of=OCTOBER)
    assert posting.posted["summary"].startswith("posted 4 incentive costs of 1 approved ledger")
    # the run read the imports it posted: the next ledger is computed from it right away
    q3 = approve(ws, Q3)
    assert q3.run_id == posting.run_id
    # Q3: the clawbacks of P2's Q2 bands, large deal, new customer and uplift
    # (−91,500.02 − 12,000 − 1,000 − 30,500.01), nothing earned; P3 one certification (C3)
    assert q3.partner_totals() == {"P2": D("-135000.03"), "P3": D("250.00")}

    run = ws.run(as_of=OCTOBER)

    assert run.posted["summary"] == (
        "posted 6 incentive costs of 2 approved ledgers (2 new, 0 changed)"
    )
    # the clawback is Q3's: Q2 keeps what was booked for it, Q3 is a credit
    assert value(ws, "incentive_payouts", "P2", Q2) == pytest.approx(136000.03)
    assert value(ws, "incentive_payouts", "P2", Q3) == pytest.approx(-135000.03)
    assert value(ws, "partner_investment", "P2", Q3) == pytest.approx(-135000.03)
    assert value(ws, "incentive_payouts", "P3", Q3) == 250.0
    # over the year P2 was paid 1,000 net: the new customer A3
    assert value(ws, "incentive_payouts", "P2", "FY2025") == pytest.approx(1000.0)
    # from the posted rows' month (30 September) on, as a full run would
    assert run.mode == "incremental" and run.recomputed_from == "2025-09-01"
    assert ws.run(as_of=OCTOBER, full=True).digest == run.digest


def test_an_mdf_request_counts_in_the_quarter_it_is_paid_in(ws):
    mdf.set_budget(ws, "P1", "FY2025", 50000, reason="test", by="lee", now=datetime(2025, 5, 1))
    waiting = mdf.submit(
        ws,
        "P1",
        activity_type="content",
        name="N/A",
        amount=900,
        by="pam",
        now=datetime(2025, 5, 3),
    )
    found = mdf.submit(
        ws,
        "P1",
        activity_type="event",
        name="Summit",
        amount=5000,
        by="pam",
        now=datetime(2025, 5, 1),
    )
    mdf.approve(ws, found.request_id, by="fin", now=datetime(2025, 5, 2))
    mdf.claim(
        ws, found.request_id, amount="3000", proof="INV-1", by="pam", now=datetime(2025, 6, 10)
    )
    first = ws.run(as_of=JULY)
    assert first.posted["summary"] == "posted 2 MDF requests (2 new, 0 changed)"
    # claimed, not paid: no spend yet
    assert value(ws, "mdf_spend", "P1", Q2) == 0.0
    assert query(
        ws, "SELECT activity_id, name, status FROM mdf_activities ORDER BY activity_id"
    ) == [
        (f"MDF-REQ-{waiting.request_id}", "N/A", "requested"),
        (f"MDF-REQ-{found.request_id}", "Summit", "claimed"),
    ]

    mdf.pay(ws, found.request_id, by="fin", now=datetime(2025, 8, 5))
    paid = ws.run(as_of=OCTOBER)

    assert paid.posted["summary"] == "posted 2 MDF requests (0 new, 1 changed)"
    assert value(ws, "mdf_spend", "P1", Q2) == 0.0
    assert value(ws, "mdf_spend", "P1", Q3) == 3000.0
    # Q3: 3,000 of MDF, nothing won, no incentives, no other costs
    assert value(ws, "partner_investment", "P1", Q3) == 3000.0
    # the budget does not count the posted request twice: 50,000 − 3,000 paid
    assert mdf.budget_left(ws, "P1", "FY2025") == D("47000.00")


def test_running_again_without_a_change_posts_nothing(ws):
    approve(ws, Q2)
    pay_request(ws, paid_on=datetime(2025, 6, 15))
    posted = ws.run(as_of=JULY)
    ledger = imports(ws)

    again = ws.run(as_of=JULY)

    assert again.posted == {} and imports(ws) == ledger
    assert again.inputs == posted.inputs and again.digest == posted.digest
    assert read_results(ws, again.run_id).equals(read_results(ws, posted.run_id))
    assert economics(ws, "P1", Q2)["incentive_payouts"] == 13500.0


def test_a_workspace_without_money_facts_is_unchanged(ws):
    first = list_runs(ws)[-1]
    ledger = imports(ws)
    again = ws.run(as_of=JULY)
    assert again.posted == {} and imports(ws) == ledger
    assert again.digest == first.digest
    assert not (ws.state_dir / "money").exists()
    manifest = (run_folder(ws, again.run_id) / "manifest.json").read_text("utf-8")
    assert '"posted": {}' in manifest


def test_an_interrupted_post_leaves_the_previous_state(ws, monkeypatch):
    from partnerscope.ingest import loader

    approve(ws, Q2)
    pay_request(ws, paid_on=datetime(2025, 6, 15))
    ledger, costs, runs = imports(ws), query(ws, "SELECT * FROM partner_costs"), list_runs(ws)
    upsert = loader._upsert

    def fail_on_mdf(con, plan, *args):
        if plan.table.name == "mdf_activities":  # the second file, after the costs were written
            raise DataFileError("disk full")
        return upsert(con, plan, *args)

    monkeypatch.setattr(loader, "_upsert", fail_on_mdf)
    with pytest.raises(DataFileError, match="disk full"):
        ws.run(as_of=JULY)
    assert imports(ws) == ledger and query(ws, "SELECT * FROM partner_costs") == costs
    assert list_runs(ws) == runs

    monkeypatch.setattr(loader, "_upsert", upsert)
    run = ws.run(as_of=JULY)
    assert run.posted["summary"].startswith("posted 4 incentive costs")
    assert value(ws, "incentive_payouts", "P1", Q2) == 13500.0


def test_only_an_incentive_cost_may_be_negative(ws):
    write_file(
        ws.root / "data" / "costs.csv",
        COSTS
        + "K3,P2,2025-05-01,support,-10\nK4,P2,2025-05-01,,-20\nK5,P2,2025-05-01,INCENTIVE,-30\n",
    )
    ws.ingest(["costs"])
    assert [(row, rule) for row, _, _, rule in quarantine(ws)] == [
        (4, "negative_cost"),
        (5, "negative_cost"),
    ]
    assert query(ws, "SELECT amount FROM partner_costs WHERE cost_id = 'K5'") == [(D("-30.00"),)]


def test_the_run_command_says_what_it_posted(ws):
    approve(ws, Q2)
    done = CliRunner().invoke(cli, ["-w", str(ws.root), "run", "--as-of", "2025-07-01"])
    assert done.exit_code == 0, done.output
    text = re.sub(r"\s+", " ", done.output)
    assert "posted 4 incentive costs of 1 approved ledger (4 new, 0 changed)." in text
