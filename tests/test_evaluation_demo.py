"""The evaluation end to end on the demo: the planted patterns are found, the commands show
scorecards, tiers, alerts and plans, and a second run is reproducible and deduplicates."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pyarrow.parquet as pq
import pytest

from partnerscope.decisions.check import DECISION_ALERTS
from partnerscope.decisions.export import file_name
from partnerscope.decisions.record import Status
from partnerscope.decisions.service import Decisions
from partnerscope.demo.decision import OWNER, SIGNAL, STOP
from partnerscope.demo.findings import FOUND_BY, findings
from partnerscope.evaluation.pipeline import ALERTS, FLAGS, SCORECARDS, TIERS
from partnerscope.evaluation.view import read
from partnerscope.runs import get_run, list_runs, run_folder
from partnerscope.warehouse import partner_names
from partnerscope.workspace import Workspace
from tests.test_cli import run, wide_console  # noqa: F401

SCALE = 0.2  # 200 partners, 6 of each planted pattern
# one worker builds the demo once and runs these in order (the second run comes late)
pytestmark = pytest.mark.xdist_group("evaluation_demo")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("evaluation") / "demo"
    result = run("demo", str(root), "--scale", str(SCALE))
    assert "Planted patterns" in result.output
    return Workspace.open(root)


def planted(ws: Workspace) -> dict[str, list[str]]:
    return json.loads((ws.root / "data" / "planted.json").read_text(encoding="utf-8"))


def test_every_planted_pattern_is_found(demo: Workspace) -> None:
    found = {f.pattern: f for f in findings(demo, planted(demo))}
    assert set(found) == {"decliners", "sla_breakers", "compliance_violators", "risers", "collapse"}
    for pattern, finding in found.items():
        assert len(finding.planted) >= 1, pattern
        assert finding.missed == [], (pattern, finding.missed)


#: The most partners each pattern's finder (FOUND_BY) may name that were not planted with the
#: pattern, at this scale and the demo's seed: ordinary partners are noisy, so some are named.
#: Measured here (named in all, of them planted), the expectation and the bound:
#: - decliners 11 (17, 6): 8 by a score that fell three quarters in a row, 3 by a trailing year
#:   that halved. Were the last four scores of the 194 others exchangeable noise, 1 in 4! = 24
#:   would fall three times in a row: 8.1 expected, spread 2.8; bound 14, two spreads above.
#: - sla_breakers 6 (12, 6): a partner answers in time with a probability of 0.80 + 0.17 ×
#:   Beta(4, 2) (demo/deals.py), the threshold 0.8 its floor; 5x⁴ − 4x⁵ at x = 0.3: 3 % of
#:   partners, 6 of 194, sit within 5 points of it, and such a partner falls under it in a
#:   quarter by chance from half the time (at 0.80) to a third (0.82, 50 leads) and less: 2 or 3
#:   expected. Measured 3 ordinary partners at 0.70 to 0.79, and 2 decliners (fewer leads) and
#:   a riser, whose probability is drawn the same way; bound 8.
#: - compliance_violators 4 (10, 6): about 12 checks weighing 36 in the score's 12 months; under
#:   70 takes more than 10.8 of it failed, two of the 6 heavy checks and more. Those fail at
#:   0.6 × U(0.01, 0.10) (demo/programs.py): two of them for 15 × 0.36 × E[u²] = 2 % of
#:   partners, 3.9 of 194 expected (4 measured, at 61.1 to 69.4); bound 8, two spreads above.
#: - risers 19 (25, 6): 11 by a score up 30 points from the lower half of its cohort, 8 by a
#:   trailing year that doubled; no expectation from the rules; bound 24, a quarter above.
#: - collapse 28 (29, 1): a sudden-change alert on any of 4 metrics against 2 references;
#:   quarter-on-quarter changes of lumpy deals have heavy tails (z down to -13.7 for ordinary
#:   partners here), so this finder is broad; no expectation; bound 35, a quarter above.
#: Since the demo plants slumps in a fifth of the ordinary partners (demo/patterns.py,
#: SLUMP_SHARE: 32 of the 194 here, each with a warning quarter of fewer leads converted and a
#: slightly slower answer), the decline and SLA finders also name slumped partners, rightly:
#: - decliners measured 15 (21, 6), 10 of them slumped; bound 22: the 8.1 ± 2.8 of noise above
#:   plus up to 14 slumps, those that started in the last year or so.
#: - sla_breakers measured 15 (21, 6), 6 of them slumped; the other 9 sit near the 0.8 floor
#:   in a quarter of few leads (deal creation, and leads with it, now has a stronger season);
#:   bound 20.
#: A finder that named every partner would find every planted one too: these bound it.
NOT_PLANTED_AT_MOST = {
    "decliners": 22,
    "sla_breakers": 20,
    "compliance_violators": 8,
    "risers": 24,
    "collapse": 35,
}


def test_the_findings_name_few_partners_that_were_not_planted(demo: Workspace) -> None:
    latest = get_run(demo)
    rows = [*read(demo, latest, FLAGS).to_pylist(), *read(demo, latest, ALERTS).to_pylist()]
    every_planted = [p for ids in planted(demo).values() for p in ids]
    assert len(set(every_planted)) == len(every_planted) == 25  # disjoint: 4 × 6 and 1
    precision = {}
    for pattern, ids in planted(demo).items():
        _, names = FOUND_BY[pattern]
        named = {r["partner_id"] for r in rows if names(r)}
        assert set(ids) <= named, pattern  # recall, as above
        extra = named - set(ids)
        precision[pattern] = f"{len(ids)} of {len(named)}"
        assert len(extra) <= NOT_PLANTED_AT_MOST[pattern], (pattern, precision[pattern], extra)
    assert set(precision) == set(NOT_PLANTED_AT_MOST)


def test_the_run_records_its_evaluation(demo: Workspace) -> None:
    manifest = list_runs(demo)[0]
    summary = manifest.evaluation
    assert summary["grain"] == "quarter"
    assert summary["period"] == "FY2026-Q4"
    assert summary["partners"] == 200
    # every partner scored lands in exactly one tier of each rule set; the dormant ones are
    # marked inactive, so not scored and in no tier
    assert summary["scored"] < summary["partners"]
    assert sum(summary["tiers"]["revenue"].values()) == summary["scored"]
    assert sum(summary["tiers"]["performance"].values()) == summary["scored"]
    assert summary["alerts"]["ongoing"] == 0  # a first run has no earlier alerts


@pytest.mark.usefixtures("wide_console")
def test_scorecard_explains_a_decliner(demo: Workspace) -> None:
    decliner = planted(demo)["decliners"][0]
    out = run("-w", str(demo.root), "scorecard", decliner).output
    assert f"({decliner}) — FY2026-Q4" in out
    for part in ("Leading indicators", "Lagging indicators", "Revenue tier:", "Performance tier:"):
        assert part in out
    assert "flag Needs improvement (Revenue declining" in out
    assert "improvement plan since 2026-10-01" in out
    # the line of each weighted metric carries its weight
    assert "│ Won revenue " in out and "│ 20%    │" in out


def test_scorecard_contributions_add_up_to_the_score(demo: Workspace) -> None:
    folder = run_folder(demo, 1)
    cards = pq.read_table(folder / SCORECARDS).to_pylist()
    lines = pq.read_table(folder / "scorecard_metrics.parquet").to_pylist()
    totals: dict[tuple[str, object], float] = {}
    for line in lines:
        key = (line["partner_id"], line["period_start"])
        totals[key] = totals.get(key, 0.0) + (line["contribution"] or 0.0)
    for card in cards:
        if card["score"] is not None:
            key = (card["partner_id"], card["period_start"])
            assert totals[key] == pytest.approx(card["score"], abs=1e-9)
            assert 0 <= card["score"] <= 100


@pytest.mark.usefixtures("wide_console")
def test_ranking_tiers_and_alerts_commands(demo: Workspace) -> None:
    ranking = run("-w", str(demo.root), "scorecard", "--limit", "5").output
    assert "Scorecards FY2026-Q4 — run 1" in ranking
    assert "(top 5 of 200)" in ranking
    tiers = run("-w", str(demo.root), "tiers").output
    assert "Revenue tiers FY2026-Q4" in tiers and "Performance tiers FY2026-Q4" in tiers
    alerts = run("-w", str(demo.root), "alerts").output
    breaker = planted(demo)["sla_breakers"][0]
    assert breaker in alerts
    assert "below the threshold of 80.0%" in alerts
    assert "lead_sla_rate" not in alerts
    assert "Flags (" in alerts
    # partners by name, the id beside it; kinds and flags in words
    names = partner_names(demo)
    assert f"{names[breaker]} {breaker}" in alerts
    for code in ("anomaly_own", "│ threshold ", "bottom_of_cohort", "high_potential"):
        assert code not in alerts, code


@pytest.mark.usefixtures("wide_console")
def test_what_if_lists_the_partners_that_would_change_tier(demo: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "weights.toml"
    other.write_text(
        "[scorecard.weights]\nwon_revenue = 0.5\nquota_attainment = 0.5\n"
        "[tiers.performance]\ndowngrade_after = 1\n",
        encoding="utf-8",
    )
    out = run("-w", str(demo.root), "tiers", "--what-if", str(other)).output
    assert "tier placement(s) change in FY2026-Q4" in out
    # with downgrades at once, every pending downgrade of the run becomes a move
    stored = pq.read_table(run_folder(demo, 1) / TIERS).to_pylist()
    pending = [
        r["partner_id"]
        for r in stored
        if r["ruleset"] == "performance" and r["period"] == "FY2026-Q4" and r["pending"]
    ]
    assert pending
    for partner_id in pending:
        assert partner_id in out
    assert "Sensitivity of the performance tiers" in out
    assert "│ Won revenue " in out and "│ Quota attainment " in out


def test_a_what_if_file_is_validated(demo: Workspace, tmp_path: Path) -> None:
    other = tmp_path / "bad.toml"
    other.write_text("[scorecard.weights]\nwon_revenu = 1\n[incentives]\n", encoding="utf-8")
    result = run("-w", str(demo.root), "tiers", "--what-if", str(other), ok=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "a what-if file may only change [scorecard] and [tiers]" in result.output


@pytest.mark.usefixtures("wide_console")
def test_plans_are_opened_tracked_and_closed(demo: Workspace) -> None:
    decliner = planted(demo)["decliners"][0]
    listing = run("-w", str(demo.root), "plans").output
    assert decliner in listing
    run("-w", str(demo.root), "plans", "set", decliner, "--owner", "Ana", "--action", "QBR call")
    book = json.loads((demo.state_dir / "plans.json").read_text(encoding="utf-8"))
    (plan,) = [p for p in book["plans"] if p["partner_id"] == decliner]
    # the decline's action is among the first ones (a decliner can also be at the bottom of its
    # cohort by now, whose action then comes first)
    assert any(a.startswith("Find the cause of the decline") for a in plan["actions"][:-1])
    assert plan["owner"] == "Ana"
    assert plan["actions"][-1] == "QBR call"
    assert len(plan["check_ins"]) == 3


def test_a_second_run_reproduces_the_evaluation_and_dedupes_alerts(demo: Workspace) -> None:
    first = list_runs(demo)[0]
    run("-w", str(demo.root), "run", "--as-of", first.as_of)
    second = list_runs(demo)[-1]
    a, b = run_folder(demo, first.run_id), run_folder(demo, second.run_id)
    assert pq.read_table(a / SCORECARDS).equals(pq.read_table(b / SCORECARDS))
    assert pq.read_table(a / TIERS).equals(pq.read_table(b / TIERS))
    alerts = pq.read_table(b / ALERTS).to_pylist()
    assert alerts and all(x["status"] == "ongoing" and x["first_seen_run"] == 1 for x in alerts)
    assert second.evaluation["alerts"] == {"new": 0, "ongoing": len(alerts)}
    # open plans record the second run's score
    book = json.loads((demo.state_dir / "plans.json").read_text(encoding="utf-8"))
    tracked = [p for p in book["plans"] if p["status"] == "open"]
    assert tracked and all(p["progress"][-1]["run_id"] == second.run_id for p in tracked)
    # the run checks the demo's decision: its reversal signal fires on the demo data
    assert second.decisions == {"committed": 1, "signals_fired": 1, "reviews_due": 0}
    (fired,) = pq.read_table(b / DECISION_ALERTS).to_pylist()
    assert fired["alert_id"] == "DEC-0001:signal:0"


@pytest.mark.usefixtures("wide_console")
def test_the_demo_commits_a_decision_whose_signal_fires(demo: Workspace, tmp_path: Path) -> None:
    record = Decisions(demo).store.get(1)
    assert record.status is Status.COMMITTED and record.commit is not None
    assert (record.commit.option, record.owner) == ("B", OWNER)
    assert [c.condition for c in record.commit.signals] == [SIGNAL, STOP]
    assert all(e.sufficient for e in record.compare.evidence)
    result = record.compare.result
    assert result is not None and result["run_id"] == 1
    assert [o["key"] for o in result["options"]] == ["A", "B", "C"]
    assert {b["input"] for b in result["break_even"]} == set(
        record.compare.scenario.key_assumptions
    )
    due = run("-w", str(demo.root), "decisions", "due", "--on", "2026-10-01").output
    assert f"reversal signal fired: portfolio: {SIGNAL}" in due
    assert "review due" not in due  # the initial review is 30 days after the commit
    run("-w", str(demo.root), "decisions", "export", "--out", str(tmp_path))
    text = (tmp_path / file_name(record)).read_text(encoding="utf-8")
    assert "Recommended by the model under the criteria" in text
    # the scenario bands are drawn next to the record, and the record shows them
    chart = tmp_path / f"{Path(file_name(record)).stem}-scenario.svg"
    assert f"![Monthly P10–P90 bands and P50 of each option]({chart.name})" in text
    svg = ElementTree.parse(chart).getroot()
    words = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {
        "A Keep the current approach",
        "B Pilot in phases",
        "Coverage",
        "Control index",
    } <= words
    png = tmp_path / "bands.png"
    run("-w", str(demo.root), "scenario", "--trials", "300", "--chart", str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # compared again with fewer trials: the record keeps the new result and the history says so
    out = run("-w", str(demo.root), "decide", "compare", "1", "--trials", "500").output
    assert f"Kept in DEC-0001 (version {record.version + 1})" in out
    assert Decisions(demo).store.get(1).compare.result["spec"]["trials"] == 500
    assert Decisions(demo).store.history(1)[-1].action == "compare"


def test_plans_close(demo: Workspace) -> None:
    decliner = planted(demo)["decliners"][1]
    run("-w", str(demo.root), "plans", "close", decliner, "--reason", "recovered")
    book = json.loads((demo.state_dir / "plans.json").read_text(encoding="utf-8"))
    (plan,) = [p for p in book["plans"] if p["partner_id"] == decliner]
    assert plan["status"] == "closed" and plan["closed_reason"] == "recovered"
    result = run("-w", str(demo.root), "plans", "close", decliner, "--reason", "x", ok=False)
    assert result.exit_code == 1
    assert "has no open improvement plan" in result.output


def test_the_panel_is_the_same_whatever_order_the_values_come_in(demo: Workspace) -> None:
    import numpy as np
    import pyarrow as pa

    from partnerscope.evaluation.panel import build_panel
    from partnerscope.runs import read_memberships, read_results

    results, members = read_results(demo, 1), read_memberships(demo, 1)
    stored = build_panel(results, members, "quarter")  # stored order: columns side by side
    shuffled = results.take(pa.array(np.random.default_rng(1).permutation(results.num_rows)))
    joined = build_panel(shuffled, members, "quarter")  # any other order: joined
    assert stored.partner.tolist() == joined.partner.tolist()
    assert stored.period.tolist() == joined.period.tolist()
    # the demo's window: FY2022-Q4 (from September 2022) to FY2026-Q4, 17 finished quarters
    assert stored.labels == joined.labels
    assert (stored.labels[0], stored.labels[-1], len(stored.labels)) == (
        "FY2022-Q4",
        "FY2026-Q4",
        17,
    )
    for name, values in stored.values.items():
        np.testing.assert_array_equal(values, joined.values[name], err_msg=name)
