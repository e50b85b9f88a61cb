"""Recognition awards: the shortlists by hand on a tiny workspace, and the winner recorded as
a decision (with its history and audit trail).

Calendar fiscal years; the run is as of 2026-01-01, so FY2025 is the latest complete year.

    partner    joined      FY2024 won        FY2025 won                       growth
    P1 Acme    2015-01-01  1000 (1 deal)     1000 + 2000 = 3000 (2 deals)     3000/1000 − 1 = 200 %
    P2 Beta    2016-01-01  2000 (1)          3 × 1000 = 3000 (3)              3000/2000 − 1 = 50 %
    P3 Gamma   2025-03-01  —                 5000 (1)                         none (nothing before)
    P4 Delta   2018-01-01  4000 (1)          2 × 2000 = 4000 (2)              0 %
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from partnerscope.workspace import Workspace
from tests.conftest import copy_workspace, make_workspace
from tests.test_metrics_fixture import csv_file, source

AS_OF = datetime(2026, 1, 1)

TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,partner_type,region,program_tier,joined_at",
        """
        P1,Acme,var,EMEA,Gold,2015-01-01
        P2,Beta,si,EMEA,Silver,2016-01-01
        P3,Gamma,var,AMER,Silver,2025-03-01
        P4,Delta,var,AMER,Gold,2018-01-01
        """,
    ),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,status,amount,currency,created_at,closed_at",
        """
        O1,P1,sourced,won,1000,USD,2024-02-01,2024-03-01
        O2,P1,sourced,won,1000,USD,2025-02-01,2025-03-01
        O3,P1,sourced,won,2000,USD,2025-05-01,2025-06-01
        O4,P2,sourced,won,2000,USD,2024-02-01,2024-03-01
        O5,P2,sourced,won,1000,USD,2025-01-01,2025-02-01
        O6,P2,sourced,won,1000,USD,2025-04-01,2025-05-01
        O7,P2,sourced,won,1000,USD,2025-08-01,2025-09-01
        O8,P3,sourced,won,5000,USD,2025-06-01,2025-07-01
        O9,P4,sourced,won,4000,USD,2024-05-01,2024-06-01
        O10,P4,sourced,won,2000,USD,2025-03-01,2025-04-01
        O11,P4,sourced,won,2000,USD,2025-09-01,2025-10-01
        """,
    ),
}

SETTINGS = """
[awards]
shortlist = 2
[awards.rules.partner_of_the_year]
require = [{ metric = "won_deals", at_least = 2 }]
[awards.rules.growth]
require = [{ metric = "won_deals", at_least = 2 }]
[awards.rules.innovation]
enabled = false
[awards.rules.customer_success]
enabled = false
[awards.rules.all_round]
label = "All-round Award"
rank_by = { won_revenue = 1, won_deals = 1 }
"""


def awards_workspace(root: Path) -> Workspace:
    """The tiny workspace, ingested and run as of 2026-01-01."""
    config = SETTINGS + "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    ws.run(as_of=AS_OF)
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return awards_workspace(tmp_path_factory.mktemp("awards") / "ws")


def lists(ws: Workspace, **kwargs: Any) -> dict[str, Any]:
    from partnerscope.evaluation.awards import shortlists

    return {s.award: s for s in shortlists(ws, **kwargs)}


def test_growth_by_hand(ws: Workspace) -> None:
    growth = lists(ws)["growth"]
    assert (growth.period, growth.considered, growth.eligible) == ("FY2025", 3, 3)
    # P1 200 %, P2 50 %, P4 0 %; P3 has no growth (nothing won the year before)
    assert [(n.rank, n.partner_id) for n in growth.nominees] == [(1, "P1"), (2, "P2")]
    assert growth.nominees[0].values["revenue_growth_yoy"] == pytest.approx(2.0)
    assert growth.nominees[0].reasons == (
        "Revenue growth YoY 200.0%: 1st of 3 eligible partners.",
        "Won deals 2, at least 2 required.",
    )


def test_emerging_partner_joined_within_two_years(ws: Workspace) -> None:
    emerging = lists(ws)["emerging_partner"]
    # only P3 joined after 2024-01-01 (two years before the end of FY2025)
    assert [n.partner for n in emerging.nominees] == ["Gamma"]
    assert emerging.nominees[0].reasons[0] == "Won revenue $5,000: the only eligible partner."
    assert emerging.nominees[0].reasons[-1] == (
        "Joined the program on Mar 1, 2025, within 2 years of the year's end."
    )


def test_several_measures_rank_by_their_mean_percentile(ws: Workspace) -> None:
    # won revenue: P3 5000 beats 3 → 100; P4 4000 → 2/3; P1, P2 3000 tie → 0.5/3
    # won deals: P2 3 → 100; P1, P4 2 tie, beat P3 → 1.5/3; P3 → 0
    # mean: P1 33.3, P2 58.3, P3 50, P4 58.3; P4 before P2 on won revenue (the first measure)
    s = lists(ws)["all_round"]
    assert [(n.partner_id, n.standing) for n in s.nominees] == [
        ("P4", pytest.approx(350 / 6)),
        ("P2", pytest.approx(350 / 6)),
    ]
    assert s.nominees[1].reasons == (
        "Won revenue $3,000: 3rd of 4 eligible partners.",
        "Won deals 3: 1st of 4 eligible partners.",
    )


def test_partner_of_the_year_by_the_mean_scorecard_score(ws: Workspace) -> None:
    import pyarrow.parquet as pq

    from partnerscope.runs import latest_run, run_folder

    run = latest_run(ws)
    assert run is not None
    cards = pq.read_table(run_folder(ws, run.run_id) / "scorecards.parquet").to_pylist()
    mean: dict[str, list[float]] = {}
    for c in cards:
        score = c["score"]
        if score is not None and date(2025, 1, 1) <= c["period_start"] < date(2026, 1, 1):
            mean.setdefault(c["partner_id"], []).append(score)
    expected = sorted(
        ((sum(v) / len(v), p) for p, v in mean.items() if p != "P3"), reverse=True
    )  # P3 won 1 deal: under the 2 required
    poy = lists(ws)["partner_of_the_year"]
    got = [(n.values["score"], n.partner_id) for n in poy.nominees]
    assert got == [(pytest.approx(s), p) for s, p in expected[:2]]
    assert poy.nominees[0].reasons[0].startswith("Scorecard score ")


def test_a_year_the_run_does_not_have(ws: Workspace) -> None:
    from partnerscope.evaluation.awards import AwardError

    with pytest.raises(AwardError, match="--year 2031: run 1 has the fiscal years FY2024, FY2025"):
        lists(ws, year=2031)
    assert lists(ws, year=2024)["growth"].nominees == ()


def test_the_winner_is_recorded_as_a_decision_and_audited(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from partnerscope.decisions.awards import AwardDecisionError, decide, decided, winner_of
    from partnerscope.decisions.service import Decisions

    copy = tmp_path_factory.mktemp("awards-decide") / "ws"
    copy_workspace(ws.root, copy)
    w = Workspace.open(copy)
    with pytest.raises(AwardDecisionError, match="P3 is not on the Growth Award FY2025"):
        decide(w, "growth", year=2025, partner_id="P3", reason="x", by="ada")
    record = decide(
        w,
        "growth",
        year=2025,
        partner_id="P1",
        reason="Tripled its revenue",
        by="ada",
        today=date(2026, 1, 20),
    )
    assert record.status.value == "committed"
    assert record.commit is not None
    assert (record.commit.committed_by, record.commit.rationale) == ("ada", "Tripled its revenue")
    assert winner_of(record) == ("P1", "Acme")
    # one look back a year on, no quarterly reviews
    assert (record.commit.review.first, record.commit.review.post) == (date(2027, 1, 20),) * 2
    assert [o.key for o in record.compare.options] == ["P1", "P2", "no_award"]
    cited = {(e.metric, e.group, e.period): e.value for e in record.compare.evidence}
    assert cited == {
        ("revenue_growth_yoy", "P1", "FY2025"): pytest.approx(2.0),
        ("won_deals", "P1", "FY2025"): 2.0,
    }
    assert list(decided(w)) == [("growth", 2025)]
    history = Decisions(w).store.history(record.decision_id)
    assert [(h.action, h.changed_by) for h in history] == [
        ("new", "ada"),
        ("edit", "ada"),
        ("commit", "ada"),
    ]
    with pytest.raises(AwardDecisionError, match="already decided in DEC-0001 by ada"):
        decide(w, "growth", year=2025, partner_id="P2", reason="y", by="ana")


def test_cli_shortlist_and_decide(ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> None:
    import json

    from typer.testing import CliRunner

    from partnerscope.cli import app

    copy = tmp_path_factory.mktemp("awards-cli") / "ws"
    copy_workspace(ws.root, copy)

    def run(*args: str, code: int = 0) -> Any:
        result = CliRunner().invoke(app, ["--workspace", str(copy), "awards", *args])
        assert result.exit_code == code, result.output
        return result

    rows = json.loads(run("shortlist", "--award", "growth", "--format", "json").stdout)
    assert [(r["rank"], r["partner"], r["decided"]) for r in rows] == [
        ("1", "Acme", ""),
        ("2", "Beta", ""),
    ]
    assert rows[0]["why"].startswith("Revenue growth YoY 200.0%: 1st of 3 eligible partners.")
    said = run(
        "decide", "growth", "--year", "2025", "--partner", "P2", "--reason", "Steady", "--by", "ana"
    ).stdout
    assert "DEC-0001: Growth Award FY2025 — Beta (P2), decided by ana." in " ".join(said.split())
    rows = json.loads(run("shortlist", "--award", "growth", "--format", "json").stdout)
    assert [r["decided"] for r in rows] == ["", "winner (DEC-0001)"]
    bad = run("decide", "nope", "--year", "2025", "--partner", "P1", "--reason", "x", code=1)
    assert "no award 'nope'" in bad.stderr and "Traceback" not in bad.output


def test_growth_only_of_partners_in_the_program_the_whole_year_before(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    copy = tmp_path_factory.mktemp("awards-tenure") / "ws"
    copy_workspace(ws.root, copy)
    toml = copy / "partnerscope.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace("[awards.rules.growth]\n", "[awards.rules.growth]\nmin_tenure_years = 10\n"),
        encoding="utf-8",
    )
    # ten years before 2026-01-01: P1 (2015) and P2 (2016-01-01, just) stay; P4 (2018) is out
    growth = lists(Workspace.open(copy))["growth"]
    assert [n.partner_id for n in growth.nominees] == ["P1", "P2"]
    assert growth.eligible == 2
