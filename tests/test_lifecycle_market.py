"""The market opportunity map (issue 28, item 1): the priority grid on a small fixture computed
by hand, the thresholds at their boundaries, market sizes overriding the accounts' estimate,
the CSV export, the CLI and a bad ``[market]`` value.

The fixture (money in USD, partners present from the deals won in the 12 months up to the
latest, 2025-06-01):

- partners: P1 Acme (DE), P2 Beta (DE), P3 Gamma (FR), P4 Delta (US, exited: never present);
- target accounts: DE Retail 600 + 400, DE Energy 500, FR Retail 300, FR Energy 200, US Retail
  1000; total 3000 (a DE Retail non-target of 9999 and a target without a country left out);
- won deals: DE Retail P1 100 + direct 150; FR Retail P2 50 + P3 50 (P2 is a DE partner: it
  counts as present in DE Retail, a vertical it won in); DE Energy direct 80; US Retail P4 200;
  FR Energy P3 70 in 2023 (outside the window).

By value, largest first (ties by territory): DE Retail 1000 (before it 0 → high), US Retail
1000 (1000/3000 = 33 % → high), DE Energy 500 (2000/3000 = 67 % → medium), FR Retail 300
(2500/3000 = 83 % → low), FR Energy 200 (low).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.lifecycle.market import (
    CSV_COLUMNS,
    MarketData,
    MarketMap,
    build,
    csv_text,
    opportunity_map,
)
from partnerscope.present import Words
from partnerscope.settings.market import MarketSettings
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace

SOURCES = {
    "partners": ("partners", "partner_id,name,country,region,status"),
    "accounts": ("accounts", "account_id,name,country,industry,annual_revenue,is_target"),
    "opps": (
        "opportunities",
        "opportunity_id,partner_id,attribution,account_id,status,amount,created_at,closed_at",
    ),
}
FILES = {
    "partners": """
        P1,Acme,DE,EMEA,active
        P2,Beta,DE,EMEA,active
        P3,Gamma,FR,EMEA,inactive
        P4,Delta,US,North America,exited
    """,
    "accounts": """
        A1,One,DE,Retail,600,true
        A2,Two,DE,Retail,400,true
        A3,Three,DE,Energy,500,true
        A4,Four,FR,Retail,300,true
        A5,Five,FR,Energy,200,true
        A6,Six,US,Retail,1000,true
        A8,Eight,DE,Retail,9999,false
        A9,Nine,,Retail,50,true
    """,
    "opps": """
        O1,P1,sourced,A1,won,100,2025-01-01,2025-03-01
        O2,P2,sourced,A4,won,50,2025-01-01,2025-04-01
        O3,,,A2,won,150,2025-01-01,2025-05-01
        O4,P4,influenced,A6,won,200,2025-01-01,2025-06-01
        O5,,,A3,won,80,2025-01-01,2025-02-01
        O6,P3,sourced,A4,won,50,2025-01-01,2025-02-01
        O7,P3,sourced,A5,won,70,2023-01-01,2023-02-01
        O8,P1,sourced,A3,lost,999,2025-01-01,2025-02-01
        O9,P1,sourced,A3,open,999,2025-01-01,
    """,
}
SIZES_SOURCE = """
[sources.fx]
entity = "fx_rates"
path = "data/fx.csv"
[sources.fx.columns]
currency = "currency"
rate_date = "rate_date"
rate = "rate"

[sources.sizes]
entity = "market_sizes"
path = "data/sizes.csv"
[sources.sizes.columns]
country = "Country"
region = "Region"
vertical = "Vertical"
market_value = "Market size"
currency = "Currency"
competitors = "Competitors"
competitor_share = "Competitor share"
updated_at = "As of"
"""
SIZES_FILES = {
    "data/fx.csv": "currency,rate_date,rate\nEUR,2025-01-01,1.5\n",
    "data/sizes.csv": (
        "Country,Region,Vertical,Market size,Currency,Competitors,Competitor share,As of\n"
        "de,,energy,1000,EUR,1,,2025-03-01\n"
        "FR,,Energy,200,USD,3,0.2,2025-03-01\n"
        "ES,Southern Europe,Retail,100,USD,,,2025-03-01\n"
    ),
}


def source(name: str, entity: str, header: str) -> str:
    columns = "".join(f'{col} = "{col}"\n' for col in header.split(","))
    return (
        f'[sources.{name}]\nentity = "{entity}"\npath = "data/{name}.csv"\n'
        f"[sources.{name}.columns]\n{columns}"
    )


def fixture(root: Path, *, extra: str = "", files: dict[str, str] | None = None) -> Workspace:
    config = "".join(source(n, e, h) for n, (e, h) in SOURCES.items()) + extra
    data = {
        f"data/{n}.csv": SOURCES[n][1]
        + "\n"
        + "".join(line.strip() + "\n" for line in body.strip().splitlines())
        for n, body in FILES.items()
    }
    ws = make_workspace(root, config, {**data, **(files or {})})
    report = ws.ingest()
    assert report.quarantined == 0
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return fixture(tmp_path_factory.mktemp("market"))


@pytest.fixture(scope="module")
def sized(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return fixture(tmp_path_factory.mktemp("sized"), extra=SIZES_SOURCE, files=SIZES_FILES)


def grid(market: MarketMap) -> dict[tuple[str, str], tuple[object, ...]]:
    return {
        (c.territory, c.vertical): (
            c.priority,
            c.value,
            c.value_band,
            c.partners,
            c.coverage,
            None if c.channel_share is None else round(c.channel_share, 4),
            c.competition,
            c.source,
        )
        for c in market.cells
    }


def test_the_priority_grid_by_country_is_the_hand_worked_one(ws: Workspace) -> None:
    market = opportunity_map(ws)
    assert grid(market) == {
        # 2 partners (P1, and P2 a DE partner that won in Retail), channel 100/250 = 40 %
        ("DE", "Retail"): ("Priority 3", 1000.0, "high", ("P1", "P2"), "covered", 0.4,
                           "unknown", "target accounts"),
        # P4 exited: no partner present, its deal still channel revenue (200/200)
        ("US", "Retail"): ("Priority 1", 1000.0, "high", (), "none", 1.0, "unknown",
                           "target accounts"),
        # the lost and open deals of P1 make no presence; direct 80 → channel 0 %
        ("DE", "Energy"): ("Priority 2", 500.0, "medium", (), "none", 0.0, "unknown",
                           "target accounts"),
        # P3 only (P2 is a DE partner), channel 100/100 = 100 %: one partner → thin
        ("FR", "Retail"): ("Priority 5", 300.0, "low", ("P3",), "thin", 1.0, "unknown",
                           "target accounts"),
        # P3's Energy deal of 2023 is outside the 12 months
        ("FR", "Energy"): ("Priority 4", 200.0, "low", (), "none", None, "unknown",
                           "target accounts"),
    }  # fmt: skip
    assert market.total_value == 3000.0
    assert [c.territory + " " + c.vertical for c in market.cells] == [
        "US Retail",
        "DE Energy",
        "DE Retail",
        "FR Energy",
        "FR Retail",
    ]
    assert [(c.territory, c.vertical) for c in market.gaps] == [("US", "Retail"), ("DE", "Energy")]
    assert market.counts() == {
        "Priority 1": 1,
        "Priority 2": 1,
        "Priority 3": 1,
        "Priority 4": 1,
        "Priority 5": 1,
        "Avoid": 0,
    }
    us = market.cell("us", "RETAIL")
    assert us is not None and us.why == (
        "High market value ($1,000, 33.3% of the total), no partner present, 100% of the won "
        "revenue through partners from elsewhere, no competitor listed: recruit here first."
    )
    de = market.cell("DE", "Retail")
    assert de is not None and de.why == (
        "High market value ($1,000, 33.3% of the total), 2 partners present, 40% of the won "
        "revenue through partners, no competitor listed: recruit when the first priorities are "
        "served."
    )
    fr = market.cell("FR", "Retail")
    assert fr is not None and fr.why == (
        "Low market value ($300, 10.0% of the total), one partner present, 100% of the won "
        "revenue through partners, no competitor listed: no recruitment needed."
    )
    assert market.basis == (
        "Market values are the annual revenue of the target accounts; one account without a "
        "country or an industry left out."
    )
    assert market.window == (
        "Partners present and the channel's share come from the deals won after Jun 1, 2024 up "
        "to Jun 1, 2025."
    )


def test_a_cell_asked_by_country_or_vertical_alone_is_its_first_priority(ws: Workspace) -> None:
    market = opportunity_map(ws)
    assert market.cell("DE", None).vertical == "Energy"  # type: ignore[union-attr]
    assert market.cell(None, "Retail").territory == "US"  # type: ignore[union-attr]
    assert market.cell(None, None) is None
    assert market.cell("IT", "Retail") is None


def test_all_won_deals_count_with_months_0(tmp_path: Path) -> None:
    ws = fixture(tmp_path / "w", extra="[market]\nmonths = 0\n")
    fr = opportunity_map(ws).cell("FR", "Energy")
    # P3's deal of 2023 now counts: present, channel 70/70; low value, thin → Priority 5
    assert fr is not None
    assert (fr.priority, fr.partners, fr.channel_share) == ("Priority 5", ("P3",), 1.0)


def test_the_region_roll_up_sums_the_countries(ws: Workspace) -> None:
    market = opportunity_map(ws, by="region")
    # DE and FR are EMEA (their partners' region); US has no partner left → No region
    assert grid(market) == {
        # 1000 + 300 of 3000, first: high; P1, P2, P3; channel (100 + 100)/(250 + 100)
        ("EMEA", "Retail"): ("Priority 3", 1300.0, "high", ("P1", "P2", "P3"), "covered",
                             0.5714, "unknown", "target accounts"),
        # 1300/3000 = 43 % before it: high
        ("No region", "Retail"): ("Priority 1", 1000.0, "high", (), "none", 1.0, "unknown",
                                  "target accounts"),
        # 2300/3000 = 77 % before it: medium
        ("EMEA", "Energy"): ("Priority 2", 700.0, "medium", (), "none", 0.0, "unknown",
                             "target accounts"),
    }  # fmt: skip
    emea = market.cell("FR", "Energy")
    assert emea is not None and emea.territory == "EMEA"


def test_market_sizes_override_the_estimate_of_the_cells_they_cover(sized: Workspace) -> None:
    """de/energy: 1000 EUR at 1.5 → 1500 USD, matched to DE Energy without regard to case;
    FR Energy lists 3 competitors; ES Retail is a cell of the market sizes only. Total 4100:
    DE Energy 1500 (0 → high), DE Retail 1000 (37 % → high), US Retail 1000 (61 % → medium),
    FR Retail 300 (85 % → low), FR Energy 200 (low, high competition → Avoid), ES Retail 100."""
    market = opportunity_map(sized)
    assert grid(market) == {
        ("DE", "Energy"): ("Priority 1", 1500.0, "high", (), "none", 0.0, "low",
                           "market sizes"),
        ("DE", "Retail"): ("Priority 3", 1000.0, "high", ("P1", "P2"), "covered", 0.4,
                           "unknown", "target accounts"),
        ("US", "Retail"): ("Priority 2", 1000.0, "medium", (), "none", 1.0, "unknown",
                           "target accounts"),
        ("FR", "Retail"): ("Priority 5", 300.0, "low", ("P3",), "thin", 1.0, "unknown",
                           "target accounts"),
        ("FR", "Energy"): ("Avoid", 200.0, "low", (), "none", None, "high", "market sizes"),
        ("ES", "Retail"): ("Priority 4", 100.0, "low", (), "none", None, "unknown",
                           "market sizes"),
    }  # fmt: skip
    fr = market.cell("FR", "Energy")
    assert fr is not None and fr.why == (
        "Low market value ($200, 4.9% of the total), no partner present, no won revenue yet, "
        "3 competitors holding 20% of the market (high competition): do not recruit here."
    )
    de = market.cell("DE", "Energy")
    assert de is not None and de.why.endswith("one competitor: recruit here first.")
    assert market.basis == (
        "Market values are the annual revenue of the target accounts, or the loaded market "
        "sizes where they cover a cell (3 cells); one account without a country or an "
        "industry left out."
    )
    assert [(c.territory, c.vertical) for c in market.gaps] == [("DE", "Energy"), ("US", "Retail")]
    regions = opportunity_map(sized, by="region")
    es = regions.cell("ES", "Retail")
    assert es is not None and es.territory == "Southern Europe"


def test_without_target_accounts_every_account_makes_the_value(tmp_path: Path) -> None:
    ws = fixture(tmp_path / "w")
    with ws.warehouse() as wh:
        wh.con.execute("UPDATE accounts SET is_target = false")
    market = opportunity_map(ws)
    de = market.cell("DE", "Retail")
    assert de is not None and (de.value, de.source, de.accounts) == (10999.0, "all accounts", 3)
    assert market.basis.startswith(
        "No account is marked a target (accounts.is_target): market values are the annual "
        "revenue of all accounts;"
    )


# ---- thresholds at their boundaries (pure: build() on data given by hand) -------------------


def data(
    values: list[float],
    *,
    won: list[tuple[str, str, str | None, float]] = (),  # type: ignore[assignment]
    partners: dict[str, tuple[str, str | None, str | None]] | None = None,
    sizes: list[tuple[str, str | None, str, float, int | None, float | None]] = (),  # type: ignore[assignment]
) -> MarketData:
    accounts = [(f"C{i}", "V", 1, v) for i, v in enumerate(values)]
    return MarketData(accounts, True, 0, list(sizes), list(won), partners or {})


def bands(values: list[float], **settings: float) -> list[str]:
    market = build(data(values), MarketSettings(**settings), Words(), by="country")
    return [market.cell(f"C{i}", "V").value_band for i in range(len(values))]  # type: ignore[union-attr]


def test_value_bands_at_their_boundaries() -> None:
    # 50 / 30 / 20: before them 0, 50 %, 80 % of the total
    assert bands([50, 30, 20]) == ["high", "medium", "low"]  # 50 % is not below 0.5
    assert bands([50, 30, 20], high_value_share=0.51) == ["high", "high", "low"]
    assert bands([50, 30, 20], medium_value_share=0.81) == ["high", "medium", "medium"]
    assert bands([50, 30, 20], high_value_share=0.8, medium_value_share=0.8) == [
        "high",
        "high",
        "low",
    ]
    # a cell worth nothing is of low value whatever the thresholds
    assert bands([10, 0], high_value_share=1.0, medium_value_share=1.0) == ["high", "low"]


def coverage(share_channel: float, partners: int, **settings: float) -> str:
    won = [("C0", "V", "P1", 100 * share_channel), ("C0", "V", None, 100 * (1 - share_channel))]
    found = {f"P{i + 1}": (f"P{i + 1}", "C0", None) for i in range(partners)}
    for i in range(1, partners):
        won.append(("C9", "V", f"P{i + 1}", 0.0))  # won in V elsewhere: present in C0 too
    market = build(
        data([100], won=won, partners=found), MarketSettings(**settings), Words(), by="country"
    )
    return market.cell("C0", "V").coverage  # type: ignore[union-attr]


def test_coverage_at_its_boundaries() -> None:
    assert coverage(0.3, 2) == "covered"  # exactly 30 % and 2 partners
    assert coverage(0.29, 2) == "thin"
    assert coverage(0.3, 1) == "thin"
    assert coverage(0.3, 2, covered_partners=3) == "thin"
    assert coverage(0.0, 2, covered_channel_share=0.0) == "covered"
    assert coverage(0.5, 0) == "none"


def competition(competitors: int | None, share: float | None, **settings: float) -> str:
    sizes = [("C0", None, "V", 10.0, competitors, share)]
    market = build(data([90], sizes=sizes), MarketSettings(**settings), Words(), by="country")
    # C0 V is the market sizes' 10 of 10: high value; C0 of the accounts is replaced
    cell = market.cell("C0", "V")
    assert cell is not None and cell.value == 10.0
    return cell.competition


def test_competition_at_its_boundaries() -> None:
    assert competition(3, None) == "high"
    assert competition(2, None) == "low"
    assert competition(2, 0.5) == "high"
    assert competition(2, 0.49) == "low"
    assert competition(None, None) == "unknown"
    assert competition(4, None, high_competitors=5) == "low"


def test_avoid_is_low_value_with_high_competition_only() -> None:
    sizes = [
        ("A", None, "V", 80.0, 5, None),  # high value, high competition: its grid priority
        ("B", None, "V", 15.0, 5, None),  # low value (80 % before it), high competition: Avoid
        ("C", None, "V", 5.0, 0, None),  # low value, no competitor: its grid priority
    ]
    market = build(data([], sizes=sizes), MarketSettings(), Words(), by="country")
    assert [market.cell(t, "V").priority for t in "ABC"] == [  # type: ignore[union-attr]
        "Priority 1",
        "Avoid",
        "Priority 4",
    ]
    grid = {"high": (5, 5, 5), "medium": (5, 5, 5), "low": (2, 2, 2)}
    custom = build(
        data([], sizes=sizes),
        MarketSettings(grid=grid),
        Words(),
        by="country",  # type: ignore[arg-type]
    )
    # a gap: priority 1–2 with no or thin coverage, whatever the grid says
    assert [c.territory for c in custom.gaps] == ["C"]
    assert custom.cell("B", "V").priority == "Avoid"  # type: ignore[union-attr]


# ---- the CSV export and the CLI ---------------------------------------------------------------


def test_the_csv_export_has_every_cell_with_its_columns(ws: Workspace) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text(opportunity_map(ws)))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["territory"] + " " + r["vertical"] for r in rows] == [
        "US Retail",
        "DE Energy",
        "DE Retail",
        "FR Energy",
        "FR Retail",
    ]
    de = rows[2]
    assert {k: de[k] for k in CSV_COLUMNS if k != "why"} == {
        "priority": "Priority 3",
        "territory": "DE",
        "region": "EMEA",
        "vertical": "Retail",
        "market_value": "1000.00",
        "value_share": "0.3333",
        "value_band": "high",
        "value_source": "target accounts",
        "accounts": "2",
        "partners_present": "2",
        "partners": "Acme; Beta",
        "won_revenue": "250.00",
        "channel_revenue": "100.00",
        "channel_share": "0.4000",
        "coverage": "covered",
        "competitors": "",
        "competitor_share": "",
        "competition": "unknown",
        "gap": "no",
    }
    assert rows[0]["gap"] == "yes" and rows[0]["channel_share"] == "1.0000"


runner = CliRunner()


def test_the_cli_prints_the_grid_and_the_gaps_and_writes_the_csv(
    ws: Workspace, tmp_path: Path
) -> None:
    target = tmp_path / "map.csv"
    result = runner.invoke(
        app, ["-w", str(ws.root), "market", "--csv", str(target), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [
        (r["priority"], r["country"], r["vertical"], r["market value"], r["partners present"],
         r["channel share"], r["competitors"])
        for r in rows
    ] == [
        ("Priority 1", "US", "Retail", "$1,000", "0", "100%", "—"),
        ("Priority 2", "DE", "Energy", "$500", "0", "0%", "—"),
        ("Priority 3", "DE", "Retail", "$1,000", "2", "40%", "—"),
        ("Priority 4", "FR", "Energy", "$200", "0", "—", "—"),
        ("Priority 5", "FR", "Retail", "$300", "1", "100%", "—"),
    ]  # fmt: skip
    assert target.read_text(encoding="utf-8") == csv_text(opportunity_map(ws))
    table = runner.invoke(app, ["-w", str(ws.root), "market"])
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert (
        "5 cells (Priority 1: 1, Priority 2: 1, Priority 3: 1, Priority 4: 1, Priority 5: 1" in text
    )
    assert "Gaps: where to recruit" in text
    gaps = runner.invoke(
        app, ["-w", str(ws.root), "market", "--gaps", "--by", "region", "--format", "json"]
    )
    assert gaps.exit_code == 0, gaps.output
    assert '"region": "No region"' in gaps.stdout and '"region": "EMEA"' in gaps.stdout
    assert "Retail" in gaps.stdout and "2 gaps of 3 cells" in gaps.stderr


def test_the_cli_refuses_an_unknown_vertical_and_an_unwritable_csv_on_one_line(
    ws: Workspace, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["-w", str(ws.root), "market", "--vertical", "retial"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --vertical 'retial': no such vertical in the market map (its verticals: "
        "Energy, Retail); did you mean 'Retail'?"
    ]
    only = runner.invoke(
        app, ["-w", str(ws.root), "market", "--vertical", "energy", "--format", "csv"]
    )
    assert only.exit_code == 0 and only.stdout.count("Energy") == 2  # DE and FR
    bad = runner.invoke(
        app, ["-w", str(ws.root), "market", "--csv", str(tmp_path / "no" / "such" / "m.csv")]
    )
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "--csv" in bad.stderr and "cannot write the file" in bad.stderr


def test_a_bad_market_value_is_one_located_error(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path / "w",
        "[market]\nhigh_value_share = 1.5\ncovered_partners = 0\ngrid = { high = [1, 2, 6] }\n",
    )
    result = runner.invoke(app, ["-w", str(ws.root), "validate"])
    assert result.exit_code == 1
    text = result.stderr
    assert "market.high_value_share: Input should be less than or equal to 1 (got 1.5)" in text
    assert "market.covered_partners: Input should be greater than or equal to 1 (got 0)" in text
    assert "market.grid.high.2: Input should be less than or equal to 5 (got 6)" in text
    crossed = make_workspace(
        tmp_path / "x", "[market]\nhigh_value_share = 0.9\nmedium_value_share = 0.6\n"
    )
    result = runner.invoke(app, ["-w", str(crossed.root), "validate"])
    assert result.exit_code == 1
    assert "market: high_value_share (0.9) must not be above medium_value_share (0.6)" in " ".join(
        result.stderr.split()
    )


# ---- the report ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["html", "pdf", "xlsx"])
def test_the_market_report_has_the_heat_map_and_the_gaps(
    ws: Workspace, tmp_path: Path, fmt: str
) -> None:
    result = runner.invoke(
        app, ["-w", str(ws.root), "report", "market", "--format", fmt, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (path,) = tmp_path.glob(f"market-*.{fmt}")
    assert "Wrote" in result.stdout and path.name in "".join(result.stdout.split())
    if fmt == "pdf":
        assert path.read_bytes().startswith(b"%PDF")
        return
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path)
        assert book.sheetnames == ["Market map", "Gaps", "About"]
        gaps = list(book["Gaps"].iter_rows(min_row=2, values_only=True))
        assert [(r[0], r[1], r[3], r[4]) for r in gaps] == [
            ("Priority 1", "US", "Retail", 1000),
            ("Priority 2", "DE", "Energy", 500),
        ]
        assert book["Market map"]["E2"].number_format == '"$"#,##0'
        return
    page = path.read_text(encoding="utf-8")
    assert '<img src="data:image/svg+xml;base64,' in page
    gaps = page.split('id="gaps"')[1].split("</section>")[0]
    assert re.findall(r'data-cell="([^"]+)"', gaps) == ["US|Retail", "DE|Energy"]
    assert "recruit here first." in gaps and "$1,000" in gaps
    assert 'data-priority="Priority 1"' in page


def test_the_market_report_takes_no_partner_or_period(ws: Workspace) -> None:
    result = runner.invoke(app, ["-w", str(ws.root), "report", "market", "--partner", "P1"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: the market map is read from the warehouse as it is now; leave out --partner, "
        "--period and --run"
    ]


# ---- the web page on the fixture (no run needed: the map reads the warehouse) ----------------


def test_the_page_on_the_fixture_in_words(ws: Workspace, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from partnerscope.accounts import Accounts, Role
    from partnerscope.web import create_app
    from tests.webtools import PASSWORD, sign_in

    accounts = Accounts.open(ws)
    if "ada" not in {u.name for u in accounts.everyone()}:
        accounts.add("ada", Role.ADMIN, PASSWORD, by="test")
    client = TestClient(create_app(ws.root, warm=False), base_url="https://testserver")
    sign_in(client, "ada")
    page = client.get("/market")
    assert page.status_code == 200, page.text
    text = " ".join(page.text.split())
    assert (
        "5 territories and verticals, $3,000 of market value in all: Priority 1 1, Priority 2 1, "
        "Priority 3 1, Priority 4 1, Priority 5 1, Avoid 0." in text
    )
    gaps = text.split('id="gaps"')[1].split("</section>")[0]
    assert (
        '<tr data-cell="US|Retail"><td>Priority 1</td><td>US</td><td>Retail</td>'
        '<td class="num">$1,000</td><td>no partner present, 100% of the won revenue through '
        "partners</td><td>High market value ($1,000, 33.3% of the total)" in gaps
    )
    cells = text.split('id="cells"')[1]
    assert (
        '<tr data-cell="DE|Retail"><td>Priority 3</td><td>DE</td><td>Retail</td>'
        '<td class="num">$1,000</td><td>Acme, Beta</td><td class="num">40%</td>'
        '<td class="num">—</td>' in cells
    )
    assert '<td class="num">—</td><td class="num">—</td><td>Low market value ($200' in cells
    empty = client.get("/market", params={"vertical": "Mining"})
    assert empty.status_code == 400 and "no such vertical" in empty.text


def test_an_empty_warehouse_makes_an_empty_map_that_says_what_to_load() -> None:
    from partnerscope.reports.market import heat_map

    market = build(MarketData([], False, 0, [], [], {}), MarketSettings(), Words(), by="country")
    assert market.cells == () and market.gaps == () and market.total_value == 0
    assert market.basis.startswith("No account with a country and an industry yet")
    assert market.window == "No won deal yet: no partner is present anywhere."
    assert heat_map(market, Words())["usermeta"] == {
        "empty": "No account with a country and an industry yet"
    }
