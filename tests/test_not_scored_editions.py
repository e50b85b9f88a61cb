"""Issue 26 items 7 and 8 in the editions a reader gets of a run: the partner's own scorecard
edition (JSON, HTML and its page in the portal), the executive summary's tier table and the
what-if of `tiers --what-if`.

The workspace is the one of tests/test_inactive_run.py, as of 2024-07-01, in FY2024-Q2: P1 Acme
($200 won), P2 Beta ($100) and P4 Dune ($50, joined in April) are scored; P3 Core is inactive.
In FY2024-Q1, P1 and P2 are scored; P3 is inactive and P4 not yet in the program. Only deals are
loaded, so each partner scored is scored on 3 of the 8 measures and every one of them is
Registered (revenue) and Under review (performance).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from partnerscope.evaluation.view import RunData
from tests.test_cli import run
from tests.test_inactive_run import ws  # noqa: F401
from tests.webtools import PASSWORD, WebWorld

NOTE = (
    "Scored on 3 of 8 measures: Quota attainment, CSAT, Lead SLA rate, Enablement completion "
    "and Compliance score have no data in this workspace, so their weight is spread over the "
    "others"
)


def flat(text: str) -> str:
    return " ".join(text.split())


def words_of(html: str) -> str:
    """A page's text as a person reads it (tags and scripts out, spaces folded)."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", " ", html, flags=re.S)
    return flat(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'"))


def edition(ws: Any, partner_id: str, period: str = "FY2024-Q2") -> Any:  # noqa: F811
    from partnerscope.reports.partner import partner_scorecard
    from partnerscope.reports.scorecard import scorecard

    report = scorecard(RunData(ws), partner_id, period)
    return partner_scorecard(report, ws.config.tiers.shown_to_partners)


def printed(report: Any) -> str:
    """The partner edition as the page its PDF is printed from (web/routes/partners.py)."""
    from partnerscope.reports import render
    from partnerscope.web.routes.partners import PARTNER_PRINT

    return render.environment().from_string(PARTNER_PRINT).render(report=report, images={})


# ---------------------------------------------------------------- the partner edition


def test_the_partner_edition_of_a_partner_scored_carries_its_measures_note(ws: Any) -> None:  # noqa: F811
    report = edition(ws, "P1")
    summary = report.sections["summary"]
    assert summary["note"] == NOTE
    assert summary["scored"] is True
    assert summary["score"].text == "75.0"
    assert [(t["ruleset"], t["tier"]) for t in report.sections["tiers"]] == [
        ("revenue", "Registered")
    ]
    text = words_of(printed(report))
    assert text.count(NOTE + ".") == 1
    assert "Revenue tier: Registered" in text
    # nothing of the vendor's judgements or of other partners
    for other in ("Core", "Beta", "Dune", "percentile", "not scored", "Performance tier"):
        assert other not in text, other


def test_the_partner_edition_of_a_partner_not_scored_says_so_instead_of_tiers(ws: Any) -> None:  # noqa: F811
    report = edition(ws, "P3")
    summary = report.sections["summary"]
    assert summary["note"] == "Inactive — not scored"
    assert summary["scored"] is False
    assert summary["coverage_note"] == ""
    # no tier it does not hold, no score it was not given
    assert report.sections["tiers"] == []
    assert report.sections["explanation"] == []
    assert "contributions" not in report.charts
    text = words_of(printed(report))
    assert "Inactive — not scored: no score or tier in FY2024-Q2." in text
    assert "Revenue tier" not in text and "Registered" not in text
    assert "enough evidence" not in text and "How the score is made" not in text
    # its own metrics are still shown: it won nothing
    assert "Won revenue" in text
    # a partner not yet in the program in the period
    text = words_of(printed(edition(ws, "P4", "FY2024-Q1")))
    assert (
        "Not yet in the program in this period — not scored: no score or tier in FY2024-Q1." in text
    )
    assert "Registered" not in text


@pytest.fixture(scope="module")
def world(ws: Any) -> WebWorld:  # noqa: F811
    from partnerscope.accounts import Accounts, Role

    accounts = Accounts.open(ws)
    accounts.add("ada", Role("admin"), PASSWORD, by="test")
    accounts.add("core", Role("partner_user"), PASSWORD, partner_id="P3", by="test")
    accounts.add("acme", Role("partner_user"), PASSWORD, partner_id="P1", by="test")
    accounts.add("max", Role("partner_manager"), PASSWORD, partners=["P1"], by="test")
    return WebWorld(ws.root)


def test_a_partner_sees_its_note_once_on_its_page(world: WebWorld) -> None:
    client = world.client("acme")
    page = client.get("/partners/P1")
    assert page.status_code == 200
    text = words_of(page.text)
    assert text.count(NOTE) == 1
    score = re.search(r'<td data-field="score">(.*?)</td>', page.text, flags=re.S)
    assert score is not None
    assert words_of(score.group(1)) == "75.0 (+50.0 from the period before)"
    data = client.get("/api/v1/partners/P1").json()
    assert data["sections"]["summary"]["note"] == NOTE
    assert data["sections"]["summary"]["scored"] is True
    for other in ("Core", "Beta", "Dune", "percentile", "not scored"):
        assert other not in text, other


def test_a_partner_not_scored_sees_no_tier_on_its_page(world: WebWorld) -> None:
    client = world.client("core")
    page = client.get("/partners/P3")
    assert page.status_code == 200
    text = words_of(page.text)
    assert "Inactive — not scored: no score or tier in FY2024-Q2." in text
    assert "Revenue tier" not in text and "Registered" not in text
    data = client.get("/api/v1/partners/P3").json()
    assert data["sections"]["summary"]["scored"] is False
    assert data["sections"]["tiers"] == []
    for other in ("Acme", "Beta", "Dune", "percentile"):
        assert other not in text, other
    # the PDF of its own edition is printed from the same page (test above)
    pdf = client.get("/partners/P3/scorecard.pdf")
    assert pdf.status_code in (200, 503), pdf.text


# ---------------------------------------------------------------- the executive summary


def test_the_executive_tier_table_counts_only_the_partners_scored(ws: Any) -> None:  # noqa: F811
    from partnerscope.reports import render
    from partnerscope.reports.executive import executive

    report = executive(RunData(ws), "FY2024-Q2")
    counts = {(t["ruleset"], t["tier"]): t["partners"] for t in report.sections["tiers"]}
    # P1, P2 and P4 scored; P3 (inactive) holds no tier
    assert counts["revenue", "Registered"] == 3
    assert counts["performance", "Under review"] == 3
    assert sum(counts.values()) == 6
    # counted by reason, not named: a partner manager's dashboard shows this summary too
    said = "1 partner not scored in FY2024-Q2, so in no tier: 1 inactive."
    assert report.sections["not_scored"] == said
    assert said in words_of(render.html(report))
    # the tier history: two partners scored in Q1 (P3 inactive, P4 not yet joined), three in Q2
    bars = {
        (r["period"], r["category"]): r["count"]
        for r in report.charts["tiers"]["datasets"]["values"]
    }
    assert bars["FY2024-Q1", "Under review"] == 2
    assert bars["FY2024-Q2", "Under review"] == 3


def test_the_dashboard_says_how_many_were_not_scored_and_names_no_one(world: WebWorld) -> None:
    # the dashboard is the executive summary; a partner manager sees it for the partners of
    # others too, so the sentence counts and names no partner
    for user in ("ada", "max"):
        text = words_of(world.client(user).get("/dashboard").text)
        assert "1 partner not scored in FY2024-Q2, so in no tier: 1 inactive." in text, user
    assert "Core" not in words_of(world.client("max").get("/dashboard").text)


def test_the_executive_summary_counts_the_partners_not_scored_by_reason() -> None:
    from partnerscope.reports.executive import not_scored_sentence

    reasons = {f"P{i}": "Inactive — not scored" for i in range(7)}
    reasons["P9"] = "Not yet in the program in this period — not scored"
    said = not_scored_sentence(reasons, "FY2024-Q2")
    assert said == (
        "8 partners not scored in FY2024-Q2, so in no tier: 7 inactive, "
        "1 not yet in the program in this period."
    )
    assert not_scored_sentence({}, "FY2024-Q2") == ""


# ---------------------------------------------------------------- the what-if


def test_the_what_if_counts_the_partners_scored(ws: Any, tmp_path: Path) -> None:  # noqa: F811
    from partnerscope.evaluation.whatif import what_if

    path = tmp_path / "what-if.toml"
    path.write_text("[scorecard]\nmin_cohort_size = 1\n", encoding="utf-8")
    result = what_if(ws, path)
    assert (result.partners, result.scored) == (4, 3)
    out = flat(run("-w", str(ws.root), "tiers", "--what-if", str(path)).stdout)
    assert "0 tier placement(s) change in FY2024-Q2 (run 1, 3 partners scored, 1 not)" in out
    # scoring the inactive too: Core is scored, and its placements change from 'not scored'
    path.write_text("[scorecard]\nscore_inactive = true\n", encoding="utf-8")
    result = what_if(ws, path)
    assert (result.partners, result.scored) == (4, 4)
    core = [c for c in result.outcomes if c.partner_id == "P3"]
    assert [(c.scored_before, c.scored_after) for c in core] == [(False, True)] * 2
    out = run("-w", str(ws.root), "tiers", "--what-if", str(path)).stdout
    # its two placements change: from no tier to the lowest of each rule set
    assert "2 tier placement(s) change in FY2024-Q2 (run 1, 4 partners scored)" in flat(out)
    (revenue,) = [line for line in out.splitlines() if "Core" in line and "Revenue" in line]
    assert [c.strip() for c in revenue.split("│")[2:4]] == ["Revenue", "not scored"]


def test_the_staff_scorecard_of_a_partner_not_scored_shows_no_tier_or_rank(ws: Any) -> None:  # noqa: F811
    from partnerscope.reports import render
    from partnerscope.reports.scorecard import scorecard

    report = scorecard(RunData(ws), "P3", "FY2024-Q2")
    assert report.sections["summary"]["scored"] is False
    text = words_of(render.html(report))
    assert "Inactive — not scored: no score, rank or tier in FY2024-Q2." in text
    for absent in ("Revenue tier", "Registered", "Under review", "enough evidence", "Rank in"):
        assert absent not in text, absent
    assert "Won revenue" in text  # its metrics are still shown
    # a partner scored keeps its tiles and tiers
    scored = words_of(render.html(scorecard(RunData(ws), "P1", "FY2024-Q2")))
    assert "Rank in its peer group" in scored and "Registered" in scored
