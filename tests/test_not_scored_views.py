"""Issue 26 items 7, 8 and 15 as a person sees them: a partner left out of scoring is shown as
such in the CLI and on the web (no score, no rank, no tier), the scorecard's note on the
measures without data is said once, the tier notes are printed under the tier distribution,
and the data-quality page leaves out the rows of a file since deleted, as `quarantine` does.

The workspace is the one of tests/test_inactive_run.py, as of 2024-07-01, in FY2024-Q2: P1 Acme
$200 won, P2 Beta $100, P4 Dune $50 (joined in April) are scored; P3 Core is inactive. Only
deals are loaded, so each is scored on 3 of the 8 measures of the scorecard (won revenue, win
rate, open pipeline) and no partner can reach the performance tiers above Under review (they
need quota attainment and CSAT).
"""

from __future__ import annotations

import csv
import json
import re
from typing import Any

import pytest

from tests.conftest import make_workspace
from tests.test_cli import OPPS, OPPS_CSV, PARTNERS_CSV, PARTNERS_SOURCE, run, wide_console  # noqa: F401
from tests.test_inactive_run import ws  # noqa: F401
from tests.webtools import PASSWORD, WebWorld

NOTE = (
    "Scored on 3 of 8 measures: Quota attainment, CSAT, Lead SLA rate, Enablement completion "
    "and Compliance score have no data in this workspace, so their weight is spread over the "
    "others."
)
TIER_NOTE = (
    "Elite, Performance and Development need Quota attainment and CSAT, which have no data in "
    "this workspace: no partner can reach them."
)


def flat(text: str) -> str:
    return " ".join(text.split())


def words_of(html: str) -> str:
    """A page's text as a person reads it (tags and scripts out, spaces folded)."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return flat(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'"))


# ---------------------------------------------------------------- CLI


def test_the_ranking_shows_a_partner_not_scored_without_score_rank_or_tier(ws: Any) -> None:  # noqa: F811
    out = run("-w", str(ws.root), "scorecard").stdout
    lines = out.splitlines()
    (core,) = [line for line in lines if "Core P3" in line]
    cells = [c.strip() for c in core.split("│")[1:-1]]
    # no rank number, the reason instead of a score, and nothing in the other columns
    assert cells == ["", "Core P3", "Inactive — not scored", "—", "—", "—", "—", "—"]
    (acme,) = [line for line in lines if "Acme P1" in line]
    assert [c.strip() for c in acme.split("│")[1:4]] == ["1", "Acme P1", "75.0"]
    (dune,) = [line for line in lines if "Dune P4" in line]
    assert [c.strip() for c in dune.split("│")[1:4]] == ["3", "Dune P4", "25.0"]
    assert "(top 4 of 4), 1 not scored" in out
    # the note every scored partner shares: said once, under the table
    assert flat(out).count(NOTE) == 1
    assert "nan" not in out.lower() and "None" not in out


def test_the_ranking_as_json_keeps_the_reason(ws: Any) -> None:  # noqa: F811
    out = run("-w", str(ws.root), "scorecard", "--format", "json").stdout
    records = {r["partner"]: r for r in json.loads(out)}
    assert records["Core P3"]["Score"] == "Inactive — not scored"
    assert records["Core P3"]["#"] == "" and records["Core P3"]["revenue tier"] == "—"
    assert records["Acme P1"]["Score"] == "75.0"


def test_a_scorecard_of_a_partner_not_scored(ws: Any) -> None:  # noqa: F811
    out = flat(run("-w", str(ws.root), "scorecard", "P3").stdout)
    assert "Core (P3) — FY2024-Q2" in out
    assert "Inactive — not scored: no score, rank or tier in FY2024-Q2" in out
    assert "percentile" not in out and "Revenue tier" not in out
    # a partner that joined in April was not yet in the program in Q1
    out = flat(run("-w", str(ws.root), "scorecard", "P4", "--period", "FY2024-Q1").stdout)
    assert "Not yet in the program in this period — not scored" in out
    out = flat(run("-w", str(ws.root), "scorecard", "P1").stdout)
    assert "score 75.0 / 100" in out and NOTE in out


def test_tiers_count_only_the_partners_scored_and_say_why(ws: Any) -> None:  # noqa: F811
    out = run("-w", str(ws.root), "tiers").stdout
    # three partners scored hold a tier; Core is named apart
    assert re.search(r"│ Registered\s+│ 3 ", out)
    assert re.search(r"│ Under review\s+│ 3 ", out)
    said = flat(out)
    assert TIER_NOTE in said
    # the tier note comes under the performance table, not the revenue one
    assert said.index("Performance tiers FY2024-Q2") < said.index(TIER_NOTE)
    assert "1 partner not scored in FY2024-Q2, so in no tier: Core (Inactive — not scored)" in said
    out = run("-w", str(ws.root), "tiers", "--format", "csv").stdout
    records = list(csv.DictReader(out.splitlines()))
    counts = {(r["rules"], r["tier"]): r["partners"] for r in records}
    assert counts["Revenue", "Registered"] == "3" and counts["Performance", "Elite"] == "0"
    assert len(records) == 8


# ---------------------------------------------------------------- web


@pytest.fixture(scope="module")
def world(ws: Any) -> WebWorld:  # noqa: F811
    from partnerscope.accounts import Accounts, Role

    accounts = Accounts.open(ws)
    accounts.add("ada", Role("admin"), PASSWORD, by="test")
    accounts.add("core", Role("partner_user"), PASSWORD, partner_id="P3", by="test")
    accounts.add("acme", Role("partner_user"), PASSWORD, partner_id="P1", by="test")
    return WebWorld(ws.root)


def test_the_tiers_page_leaves_out_and_names_the_partners_not_scored(world: WebWorld) -> None:
    client = world.client("ada")
    page = client.get("/tiers")
    assert page.status_code == 200
    assert 'data-row="revenue:Registered" data-partners="3"' in page.text
    text = words_of(page.text)
    assert f"Performance tiers: {TIER_NOTE}" in text
    assert "1 partner not scored in FY2024-Q2, so in no tier: Core (Inactive — not scored)." in text
    data = client.get("/api/v1/tiers").json()
    assert data["not_scored"] == [
        {"partner_id": "P3", "name": "Core", "note": "Inactive — not scored"}
    ]
    assert data["notes"] == {"performance": TIER_NOTE.rstrip(".")}


def test_the_partner_list_says_not_scored_and_the_note_once(world: WebWorld) -> None:
    client = world.client("ada")
    page = client.get("/partners")
    row = re.search(r'<tr data-row="P3".*?</tr>', page.text, flags=re.S)
    assert row is not None
    cells = words_of(row.group(0))
    assert "Inactive — not scored" in cells
    assert "Registered" not in cells and "Under review" not in cells
    assert words_of(page.text).count(NOTE) == 1
    rows = {r["partner_id"]: r for r in client.get("/api/v1/partners").json()["rows"]}
    assert rows["P3"]["scored"] is False and rows["P3"]["revenue_tier"] is None
    assert rows["P1"]["scored"] is True and rows["P1"]["note"] == NOTE.rstrip(".")


def test_a_partner_page_says_not_scored_to_staff_and_to_the_partner(world: WebWorld) -> None:
    for user in ("ada", "core"):
        page = world.client(user).get("/partners/P3")
        assert page.status_code == 200
        score = re.search(r'<td data-field="score">(.*?)</td>', page.text, flags=re.S)
        assert score is not None
        assert words_of(score.group(1)) == "Inactive — not scored", user


def test_a_partner_sees_its_own_measures_note_and_nothing_of_others(world: WebWorld) -> None:
    page = world.client("acme").get("/partners/P1")
    score = re.search(r'<td data-field="score">(.*?)</td>', page.text, flags=re.S)
    assert score is not None
    assert words_of(score.group(1)) == "75.0 (+50.0 from the period before)"
    text = words_of(page.text)
    assert text.count(NOTE.rstrip(".")) == 1  # said once, with the scorecard
    for other in ("Core", "Beta", "Dune", "percentile", "not scored"):
        assert other not in text, other


# ---------------------------------------------------------------- data quality


def test_the_quality_page_leaves_out_rows_of_a_file_since_deleted(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from partnerscope.accounts import Accounts, Role

    monkeypatch.setenv("PARTNERSCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    loaded = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + OPPS.replace('path = "data/opps.csv"', 'path = "data/opps*.csv"'),
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/opps.csv": OPPS_CSV,
            "data/opps_old.csv": OPPS_CSV.replace("O", "X").replace("P3", "P9"),
        },
    )
    loaded.ingest()
    Accounts.open(loaded).add("ana", Role("analyst"), PASSWORD, by="test")
    client = WebWorld(loaded.root).client("ana")
    # each file: one unknown partner (row 4) and one bad amount (row 6)
    assert client.get("/api/v1/quality").json()["total"] == 4
    (loaded.root / "data/opps_old.csv").unlink()
    data = client.get("/api/v1/quality").json()
    assert data["total"] == 2 and data["deleted_files"] == ["data/opps_old.csv"]
    assert {r["file"] for r in data["rows"]} == {"data/opps.csv"}
    assert [(s["rule"], s["rows"]) for s in data["summary"]] == [
        ("not_money", 1),
        ("unknown_reference", 1),
    ]
    text = words_of(client.get("/quality").text)
    assert (
        "1 file loaded before but since deleted (data/opps_old.csv): its rows are left out. "
        "Show them too"
    ) in text
    assert "'P9'" not in text and "P9" not in text
    data = client.get("/api/v1/quality?deleted=true").json()
    assert data["total"] == 4
    assert words_of(client.get("/quality?deleted=true").text).count("P9") == 1
