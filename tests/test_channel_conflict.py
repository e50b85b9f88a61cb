"""The channel conflict list (lifecycle.coverage.channel_conflicts) on the hand-checked fixture
of tests/test_metrics_coverage.py: the same opportunities the metric counts, pair by pair."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from partnerscope.lifecycle.coverage import channel_conflicts, conflict_totals, revenue_at_stake
from partnerscope.metrics.entities_market import rebuild_account_identities
from tests.test_metrics_coverage import fixture_workspace, join_contoso, separate

Q2 = {"since": datetime(2025, 4, 1), "until": datetime(2025, 7, 1)}


def pairs(conflicts: list) -> list[tuple[str, str]]:
    return [(c.mine.opportunity_id, c.other.opportunity_id) for c in conflicts]


def test_conflicts_pair_by_pair(tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    separate(ws)
    with ws.warehouse(read_only=True) as wh:
        found = channel_conflicts(wh.con, **Q2)
        p2 = channel_conflicts(wh.con, partners={"P2"}, **Q2)
        april = channel_conflicts(wh.con, since=datetime(2025, 4, 1), until=datetime(2025, 5, 1))
        totals = conflict_totals(wh.con, **Q2)
        largest = channel_conflicts(wh.con, limit=2, **Q2)
    # largest partner opportunity first; O5/O6 only touch; O9 overlaps its own partner's O1
    assert pairs(found) == [("O4", "O3"), ("O3", "O4"), ("O1", "O2"), ("O7", "O6")]
    assert revenue_at_stake(found) == Decimal("6400.00")
    assert (totals.opportunities, totals.pairs, totals.revenue_at_stake) == (4, 4, Decimal(6400))
    assert pairs(largest) == [("O4", "O3"), ("O3", "O4")]
    direct = found[2]
    assert (direct.kind, direct.other.partner_id, direct.other.partner_name) == (
        "partner vs direct",
        None,
        None,
    )
    assert direct.mine.partner_name == "Acme" and direct.mine.account_name == "Contoso GmbH"
    # both open from O2's creation to its close
    assert direct.overlap == (datetime(2025, 5, 1), datetime(2025, 5, 20))
    assert found[0].kind == "partner vs partner" and found[0].overlap == (
        datetime(2025, 4, 20),
        datetime(2025, 4, 30),
    )
    assert found[3].overlap == (datetime(2025, 6, 1), None)
    assert pairs(p2) == [("O4", "O3")]
    # as of 1 May: O2 (created that day) did not exist yet, so O1 was not in conflict
    assert pairs(april) == [("O4", "O3"), ("O3", "O4")]


def test_two_account_records_of_one_customer(tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    join_contoso(ws)
    with ws.warehouse(read_only=True) as wh:
        found = channel_conflicts(wh.con, **Q2)
    before = [("O4", "O3"), ("O3", "O4"), ("O1", "O2"), ("O7", "O6")]
    joined = [("O1", "O8"), ("O8", "O1"), ("O8", "O2"), ("O8", "O9"), ("O9", "O8")]
    assert sorted(pairs(found)) == sorted([*before, *joined])
    assert revenue_at_stake(found) == Decimal("7400.00")  # 6400 + O8 900 + O9 100
    with ws.warehouse(read_only=True) as wh:
        totals = conflict_totals(wh.con, **Q2)
    assert (totals.opportunities, totals.pairs, totals.revenue_at_stake) == (6, 9, Decimal(7400))
    o8 = next(c for c in found if c.mine.opportunity_id == "O8" and c.other.opportunity_id == "O1")
    assert (o8.customer, o8.mine.account_name, o8.other.account_name) == (
        "A1",
        "Contoso",
        "Contoso GmbH",
    )


def test_an_import_of_accounts_again_rebuilds_the_identities(tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    join_contoso(ws)
    with ws.warehouse() as wh, wh.transaction():
        assert rebuild_account_identities(wh.con) == 4
        rows = wh.con.execute("SELECT count(*) FROM account_identities").fetchall()
    assert rows == [(4,)]


def test_the_commands(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from partnerscope.cli import app

    ws = fixture_workspace(tmp_path / "ws")
    join_contoso(ws)
    w = ["-w", str(ws.root)]
    runner = CliRunner()
    gaps = runner.invoke(app, [*w, "coverage", "gaps", "--at", "2025-06-30", "--format", "json"])
    assert gaps.exit_code == 0, gaps.output
    rows = json.loads(gaps.stdout)
    assert [r["territory"] for r in rows] == ["France", "Germany finance", "Italy", "Spain"]
    assert rows[3]["nearest partners"].startswith("Delta (")
    assert "not certified" in rows[3]["nearest partners"]
    assert "Market coverage 20% (1 of 5 target territories); goal 95%." in gaps.stderr
    period = ["--since", "2025-04-01", "--until", "2025-07-01"]
    found = runner.invoke(app, [*w, "coverage", "conflicts", *period, "--format", "csv"])
    assert found.exit_code == 0, found.output
    lines = found.stdout.splitlines()
    assert lines[0] == (
        "account,partner,opportunity,open,amount,other party,their opportunity,their window,"
        "conflict"
    )
    assert len(lines) == 1 + 9
    assert lines[3] == (
        'Contoso GmbH,Acme,O1,2025-04-01 – open,"$1,000",Direct sales,O2,'
        "2025-05-01 – 2025-05-20,partner vs direct"
    )
    assert "6 partner opportunities in conflict; revenue at stake $7,400." in found.stderr
    one = runner.invoke(app, [*w, "coverage", "conflicts", *period, "--partner", "P9"])
    assert one.exit_code != 0 and "no partner 'P9'" in one.output and "Traceback" not in one.output
    rebuilt = runner.invoke(app, [*w, "coverage", "identities"])
    assert rebuilt.exit_code == 0 and "4 account records resolved to" in rebuilt.output


def test_the_ingest_of_accounts_resolves_their_identities(tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")  # ingests the fixture's four account records
    with ws.warehouse(read_only=True) as wh:
        stored = wh.con.execute("SELECT account_id FROM account_identities ORDER BY 1").fetchall()
        accounts = wh.con.execute("SELECT account_id FROM accounts ORDER BY 1").fetchall()
    assert stored == accounts and len(stored) == 4
    join_contoso(ws)  # a person's own identities, until accounts change
    again = ws.ingest()  # the same files: nothing changes, so the identities are kept
    assert sum(f.inserted + f.updated + f.removed for f in again.files) == 0
    with ws.warehouse(read_only=True) as wh:
        kept = wh.con.execute("SELECT identity_id FROM account_identities ORDER BY 1").fetchall()
    assert len(set(kept)) == 3


def test_a_change_of_the_identities_alone_recomputes_the_next_run(tmp_path: Path) -> None:
    from tests.test_metrics_coverage import AS_OF

    ws = fixture_workspace(tmp_path / "ws")
    separate(ws)
    ws.run(as_of=AS_OF)
    same = ws.run(as_of=AS_OF)
    assert same.mode != "full"
    join_contoso(ws)  # as a person's review decision does, without an import
    after = ws.run(as_of=AS_OF)
    assert (after.mode, after.reason) == ("full", "the account identities changed")
