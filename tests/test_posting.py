"""Routed leads and registered deals reach the metrics: `partnerscope run` posts them before it
computes, as it posts the money module's facts (tests/test_money_costs.py).

Routing, on tests/test_routing.py's workspace (sla_hours 2, the routing SLA 2 hours too): L1 and
L2 (Germany, Cloud) go to P1 and P2 on 2025-05-05 09:00; P2 touches L2 after 90 minutes; P1
lets L1 run out, so at 11:01 it is re-routed to P2 as ``L1~2``, which P2 touches at 12:00. In
FY2025-Q2:

    P1  leads_assigned 1 (L1)         touched in time 0 of 1 due  lead_sla_rate 0
    P2  leads_assigned 2 (L2, L1~2)   touched in time 2 of 2 due  lead_sla_rate 1

Registrations, on tests/test_registrations.py's workspace (O1 direct open, O2 P1's won in
January, O3 direct lost): P2 registers "Acme Widgets" for 25,000 on 2025-03-03 (no account of
the warehouse), approved the same day: an open opportunity of P2's created in FY2025-Q1.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app as cli
from partnerscope.operations import registrations as reg
from partnerscope.operations.routing import service
from partnerscope.runs import read_results
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query, write_file
from tests.test_registrations import FIXTURE, template  # noqa: F401 (a fixture)
from tests.test_routing import CERTS, NOW, PARTNERS, lead_rows
from tests.test_routing import CONFIG as ROUTING_CONFIG
from tests.test_runs import value

pytestmark = pytest.mark.xdist_group("registrations")

Q1, Q2 = "FY2025-Q1", "FY2025-Q2"
JULY = datetime(2025, 7, 1)
#: tests/test_routing.py's configuration without its hand-made leads source: the run posts them
_BEFORE, _AFTER = ROUTING_CONFIG.split("[sources.routed]")
CONFIG = _BEFORE + "[routing]" + _AFTER.split("[routing]", 1)[1]


def imports(ws: Workspace) -> list[tuple]:
    return query(
        ws, "SELECT import_id, source, inserted, updated, removed FROM _imports ORDER BY 1"
    )


def lead_metrics(ws: Workspace, partner: str) -> tuple:
    return tuple(
        value(ws, m, partner, Q2) for m in ("leads_assigned", "leads_sla_due", "lead_sla_rate")
    )


# ------------------------------------------------------------------------------- routing


@pytest.fixture
def routed(tmp_path: Path) -> Workspace:
    ws = make_workspace(
        tmp_path / "ws",
        CONFIG,
        {"data/partners.csv": PARTNERS, "data/certs.csv": CERTS},
    )
    ws.ingest(["partners", "certs"])
    return ws


def breach_one(ws: Workspace) -> None:
    service.route_leads(
        ws,
        lead_rows(("L1", 50_000, "DE", "Cloud"), ("L2", 50_000, "DE", "Cloud")),
        now=NOW,
        by="ops",
    )
    service.record_touch(
        ws, "L2", "P2", now=NOW + timedelta(hours=3), by="p2", at=NOW + timedelta(minutes=90)
    )
    (pair,) = service.check_sla(ws, now=NOW + timedelta(hours=2, minutes=1), by="ops")
    assert (pair[0].partner_id, pair[1].partner_id, pair[1].canonical_id) == ("P1", "P2", "L1~2")
    service.record_touch(ws, "L1", "P2", now=NOW + timedelta(hours=3), by="p2")


@pytest.mark.slow
def test_a_breached_first_attempt_counts_against_the_first_partner(routed: Workspace) -> None:
    breach_one(routed)

    run = routed.run(as_of=JULY)

    assert run.posted["summary"] == "posted 3 routed leads, 1 re-routed (3 new, 0 changed)"
    assert run.posted["quarantined"] == 0
    assert query(
        routed,
        "SELECT lead_id, partner_id, first_touch_at, estimated_value, currency, _source_file "
        "FROM leads ORDER BY lead_id",
    ) == [
        ("L1", "P1", None, None, "USD", "state/routing/routed-leads.csv"),
        (
            "L1~2",
            "P2",
            NOW + timedelta(hours=3),
            None,
            "USD",
            "state/routing/routed-leads.csv",
        ),
        (
            "L2",
            "P2",
            NOW + timedelta(minutes=90),
            None,
            "USD",
            "state/routing/routed-leads.csv",
        ),
    ]
    # P1: L1 assigned, due, untouched → 0 of 1; P2: L2 and the re-routed L1~2 → 2 of 2
    assert lead_metrics(routed, "P1") == (1, 1, 0.0)
    assert lead_metrics(routed, "P2") == (2, 2, 1.0)

    ledger = imports(routed)
    again = routed.run(as_of=JULY)
    assert again.posted == {} and imports(routed) == ledger
    assert again.digest == run.digest
    assert read_results(routed, again.run_id).equals(read_results(routed, run.run_id))

    # a conversion later is a change of L1~2 only
    service.record_outcome(routed, "L1", "P2", converted=True, now=NOW + timedelta(days=2), by="p2")
    converted = routed.run(as_of=JULY)
    assert converted.posted["summary"] == ("posted 3 routed leads, 1 re-routed (0 new, 1 changed)")
    assert value(routed, "lead_conversion_rate", "P2", Q2) == pytest.approx(0.5)
    assert lead_metrics(routed, "P1") == (1, 1, 0.0)


def test_a_workspace_that_routed_nothing_posts_nothing(routed: Workspace) -> None:
    ledger = imports(routed)
    first = routed.run(as_of=JULY)
    assert first.posted == {} and imports(routed) == ledger
    assert not (routed.state_dir / "routing").exists()
    assert not (routed.state_dir / "registrations").exists()


# ------------------------------------------------------------------------- registrations


@pytest.fixture
def registered(template: Path, tmp_path: Path) -> Workspace:  # noqa: F811 (the fixture)
    """A copy of tests/test_registrations.py's workspace."""
    import shutil

    return Workspace.open(shutil.copytree(template, tmp_path / "ws"))


def register(ws: Workspace, partner: str, name: str, *, at: datetime) -> int:
    found = reg.submit(
        ws,
        partner,
        account_name=name,
        amount="25000",
        expected_close=datetime(2025, 6, 30).date(),
        by="pat",
        now=at,
    )
    number = found.registration.registration_id
    reg.approve(ws, number, by="mgr", now=at)
    return number


def pipeline(ws: Workspace, partner: str, label: str) -> tuple:
    return tuple(
        value(ws, m, partner, label)
        for m in ("open_deals", "open_pipeline", "new_pipeline", "won_revenue")
    )


def add_opportunity(ws: Workspace, line: str) -> None:
    _, header, body = FIXTURE["opps"]
    lines = [row.strip() for row in body.strip().splitlines()]
    write_file(ws.root / "data" / "opps.csv", "\n".join([header, *lines, line]) + "\n")
    assert ws.ingest(["opps"]).quarantined == 0


@pytest.mark.slow
def test_registered_deals_reach_pipeline_and_wins_once(registered: Workspace) -> None:
    ws = registered
    linked = register(ws, "P2", "Acme Widgets", at=datetime(2025, 3, 3, 12))
    won = register(ws, "P3", "Vandelay Industries", at=datetime(2025, 3, 10, 9))

    opened = ws.run(as_of=datetime(2025, 4, 1))

    assert opened.posted["summary"] == "posted 2 deal registrations (2 new, 0 changed)"
    assert query(
        ws,
        "SELECT opportunity_id, partner_id, attribution, status, amount, _source_file "
        "FROM opportunities WHERE opportunity_id LIKE 'REG-%' ORDER BY 1",
    ) == [
        (
            f"REG-{n}",
            p,
            "sourced",
            "open",
            Decimal("25000.00"),
            "state/registrations/registered-deals.csv",
        )
        for n, p in [(linked, "P2"), (won, "P3")]
    ]
    # open at the end of Q1, created in Q1, nothing won
    assert pipeline(ws, "P2", Q1) == (1, 25000.0, 25000.0, 0.0)
    assert pipeline(ws, "P3", Q1) == (1, 25000.0, 25000.0, 0.0)

    # P3's registration is won without a CRM opportunity: the registration is the deal
    reg.mark_won(ws, won, by="mgr", now=datetime(2025, 4, 20, 12))
    # P2's becomes the CRM's O4: from then on that is the deal, and REG-<n> is gone
    add_opportunity(ws, "O4,P2,sourced,A9,won,25000,2025-03-03,2025-04-10")
    reg.mark_won(ws, linked, crm_opportunity_id="O4", by="mgr", now=datetime(2025, 4, 10, 12))

    closed = ws.run(as_of=JULY)

    assert closed.posted["summary"] == ("posted 1 deal registration (0 new, 1 changed, 1 removed)")
    assert query(
        ws,
        "SELECT opportunity_id, status, closed_at FROM opportunities "
        "WHERE partner_id IN ('P2', 'P3') ORDER BY 1",
    ) == [("O4", "won", datetime(2025, 4, 10)), (f"REG-{won}", "won", datetime(2025, 4, 20, 12))]
    # P2: O4 only, once: open at the end of Q1 (created 3 March), won in Q2
    assert pipeline(ws, "P2", Q1) == (1, 25000.0, 25000.0, 0.0)
    assert pipeline(ws, "P2", Q2) == (0, 0.0, 0.0, 25000.0)
    assert value(ws, "won_deals", "P2", Q2) == 1
    # P3: the registration, won in Q2
    assert pipeline(ws, "P3", Q2) == (0, 0.0, 0.0, 25000.0)
    # the removal is dated: the incremental run equals a full one
    assert closed.mode == "incremental" and closed.recomputed_from == "2025-03-01"
    full = ws.run(as_of=JULY, full=True)
    assert full.digest == closed.digest

    ledger = imports(ws)
    again = ws.run(as_of=JULY)
    assert again.posted == {} and imports(ws) == ledger
    assert again.digest == closed.digest
    assert read_results(ws, again.run_id).equals(read_results(ws, full.run_id))


def test_the_run_command_says_what_it_posted(registered: Workspace) -> None:
    register(registered, "P2", "Acme Widgets", at=datetime(2025, 3, 3, 12))
    done = CliRunner().invoke(cli, ["-w", str(registered.root), "run", "--as-of", "2025-04-01"])
    assert done.exit_code == 0, done.output
    text = re.sub(r"\s+", " ", done.output)
    assert "posted 1 deal registration (1 new, 0 changed)." in text
