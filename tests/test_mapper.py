"""The mapping assistant, `partnerscope map FILE --entity ...`: a proposed source block that
validates and loads as it is (issue 26, "Also: a mapping assistant")."""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.ingest.mapper import words_of
from partnerscope.workspace import Workspace
from tests.conftest import csv_text, make_workspace, query


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(console, "width", 250)


def run(*args, ok=True):
    result = CliRunner().invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


#: a wholesaler's orders: dealers, US dates, statuses in its own words
ORDERS = csv_text(
    [
        ["orderNumber", "orderDate", "shippedDate", "status", "Dealer", "Company", "Order Total"],
        ["10100", "1/6/2003", "1/13/2003", "Shipped", "D1", "C1", "10,223.83"],
        ["10101", "1/9/2003", "1/11/2003", "Shipped", "D1", "C2", "10549.01"],
        ["10102", "1/10/2003", "1/15/2003", "Cancelled", "D2", "C3", "5494.78"],
        ["10103", "1/29/2003", "2/7/2003", "On Hold", "D2", "C1", "50218.95"],
        ["10104", "1/31/2003", "2/2/2003", "Disputed", "", "C4", "40206.20"],
        ["10105", "2/11/2003", "2/12/2003", "Shipped", "D1", "C2", "53959.21"],
    ]
)
DEALERS = csv_text(
    [["dealerId", "dealerName", "Territory"], ["D1", "Acme", "NA"], ["D2", "Beta", "EMEA"]]
)


def test_header_words():
    assert words_of("PartnerAccountId") == "partner account id"
    assert words_of("Partner_Discount__c") == "partner discount"
    assert words_of("Annual Revenue (USD)") == "annual revenue usd"
    assert words_of("orderNumber") == "order number"
    assert words_of("MDF_Activity__c") == "mdf activity"


def test_map_proposes_matches_formats_and_a_status_map(tmp_path):
    ws = make_workspace(tmp_path / "ws", "", {"data/orders.csv": ORDERS})
    result = run(
        "-w", str(ws.root), "map", str(ws.root / "data/orders.csv"), "--entity", "opportunities"
    )
    text = result.stdout
    block = tomllib.loads(text)["sources"]["orders"]
    assert block["entity"] == "opportunities"
    assert block["path"] == "data/orders.csv"  # relative to the workspace
    columns = block["columns"]
    assert columns["opportunity_id"] == "orderNumber"
    assert columns["partner_id"] == "Dealer"
    assert columns["account_id"] == "Company"
    assert columns["amount"] == "Order Total"
    assert columns["created_at"] == {"column": "orderDate", "format": "%m/%d/%Y"}
    # the ship date only for shipped or cancelled orders: an order on hold is open
    assert columns["closed_at"] == {
        "expr": "CASE WHEN lower(\"status\") IN ('cancelled', 'shipped') THEN \"shippedDate\" END",
        "format": "%m/%d/%Y",
    }
    assert columns["status"] == {
        "column": "status",
        "map": {"Shipped": "won", "Cancelled": "lost", "Disputed": "open", "On Hold": "open"},
    }
    assert columns["attribution"] == {"expr": "CASE WHEN \"Dealer\" IS NOT NULL THEN 'sourced' END"}
    # every other canonical column is named as having no match
    assert columns["stage"] == "status"  # in the source's own words
    for name in ("name", "product", "discount_amount", "mdf_activity_id", "updated_at"):
        assert f"#   {name}: " in text
    assert "#   currency: " in text and "Left out: the workspace's base currency." in text
    assert "REQUIRED" not in text and result.stderr == ""


def test_the_proposal_validates_and_loads_every_order(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        "",
        {"data/orders.csv": ORDERS, "data/dealers.csv": DEALERS},
    )
    for file, entity in (("dealers.csv", "partners"), ("orders.csv", "opportunities")):
        proposal = run("-w", str(ws.root), "map", str(ws.root / "data" / file), "--entity", entity)
        with (ws.root / "partnerscope.toml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + proposal.stdout)
    run("-w", str(ws.root), "validate")
    out = " ".join(run("-w", str(ws.root), "ingest").stdout.split())
    assert "rows in = loaded + quarantined: 8 = 8 + 0" in out
    rows = query(
        Workspace(ws.root),
        "SELECT opportunity_id, partner_id, attribution, status, amount, CAST(closed_at AS DATE) "
        "FROM opportunities ORDER BY 1",
    )
    assert rows == [
        ("10100", "D1", "sourced", "won", Decimal("10223.83"), date(2003, 1, 13)),
        ("10101", "D1", "sourced", "won", Decimal("10549.01"), date(2003, 1, 11)),
        ("10102", "D2", "sourced", "lost", Decimal("5494.78"), date(2003, 1, 15)),
        ("10103", "D2", "sourced", "open", Decimal("50218.95"), None),
        ("10104", None, None, "open", Decimal("40206.20"), None),  # disputed: open, no close
        ("10105", "D1", "sourced", "won", Decimal("53959.21"), date(2003, 2, 12)),
    ]
    # the dealers: "NA" is North America's code here, a null token by default (another item)
    assert query(Workspace(ws.root), "SELECT partner_id, name FROM partners ORDER BY 1") == [
        ("D1", "Acme"),
        ("D2", "Beta"),
    ]


def test_unknown_entity_names_the_closest(tmp_path):
    ws = make_workspace(tmp_path / "ws", "", {"data/dealers.csv": DEALERS})
    result = run(
        "-w",
        str(ws.root),
        "map",
        str(ws.root / "data/dealers.csv"),
        "--entity",
        "partner",
        ok=False,
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unknown entity 'partner'" in result.stderr
    assert "did you mean 'partners'?" in result.stderr


def test_a_required_column_without_match_is_marked_and_said(tmp_path):
    ws = make_workspace(tmp_path / "ws", "", {"data/t.csv": "x,y\n1,2\n"})
    result = run("-w", str(ws.root), "map", str(ws.root / "data/t.csv"), "--entity", "leads")
    assert "# lead_id = ?   # no match: REQUIRED" in result.stdout
    assert "# file columns not used: x, y" in result.stdout
    assert "No match for the required lead_id, partner_id, assigned_at" in result.stderr
    tomllib.loads(result.stdout)  # still TOML


def test_on_the_demo_files_the_proposal_loads_what_the_demo_mapping_loads(tmp_path):
    """Mapped by the assistant alone, every one of the demo's twelve exports (CSV, a UTF-16
    CSV with semicolons, an XLSX workbook, Parquet; US and German dates; a Salesforce report)
    validates and loads the very rows the demo's hand-written mapping (with a preset) loads,
    but for what a file cannot say: the time zone of the survey tool's times, and that the
    demo counts a "Trade Show Booth" as other where the assistant proposes event."""
    from partnerscope.demo import generate_demo
    from partnerscope.schema import TABLES

    demo_root = tmp_path / "demo"
    generate_demo(demo_root, scale=0.02, seed=42)
    files = {
        "fx_rates": "fx_rates.csv",
        "partners": "partners.xlsx",
        "accounts": "accounts.csv",
        "opportunities": "opportunities.csv",
        "leads": "leads.parquet",
        "mdf_activities": "mdf_activities.csv",
        "certifications": "certifications.csv",
        "certification_requirements": "certification_requirements.csv",
        "compliance_checks": "compliance_checks.csv",
        "surveys": "surveys.csv",
        "targets": "quotas.csv",
        "partner_costs": "partner_costs.csv",
    }
    run("init", str(tmp_path / "mine"))
    mine = tmp_path / "mine"
    for entity, file in files.items():
        shutil.copy(demo_root / "data" / file, mine / "data" / file)
        proposal = run("-w", str(mine), "map", f"data/{file}", "--entity", entity)
        assert "REQUIRED" not in proposal.stdout and proposal.stderr == ""
        with (mine / "partnerscope.toml").open("a", encoding="utf-8") as fh:
            fh.write("\n" + proposal.stdout)
    run("-w", str(mine), "validate")
    out = " ".join(run("-w", str(mine), "ingest").stdout.split())
    assert re.search(r"rows in = loaded \+ quarantined: ([\d,]+) = \1 \+ 0", out), out
    (demo_root / "state").mkdir(exist_ok=True)
    Workspace.open(demo_root).ingest()
    unknowable = {"surveys": "responded_at", "mdf_activities": "activity_type"}
    for table in files:  # the demo exports no market_sizes
        skip = ", ".join(["_import_id", *[c for t, c in unknowable.items() if t == table]])
        # the rows of this file (the demo loads a direct sales CRM's accounts and deals too)
        sql = (
            f"SELECT * EXCLUDE ({skip}) FROM {table} WHERE _source_file = 'data/{files[table]}' "
            f"ORDER BY {', '.join(TABLES[table].key)}"
        )
        theirs = query(Workspace(demo_root), sql)
        assert len(theirs) > 10, table
        assert query(Workspace(mine), sql) == theirs, table


def test_the_worked_example_of_docs_mapping_is_what_the_commands_print(tmp_path):
    """docs/mapping.md quotes `map` and `profile` on its two files: the quotes stay true."""
    page = (Path(__file__).parents[1] / "docs" / "mapping.md").read_text(encoding="utf-8")
    dealers, orders = re.findall(r"```csv\n(.*?)```", page, re.S)[:2]
    ws = make_workspace(
        tmp_path / "ws", "", {"data/dealers.csv": dealers, "data/orders.csv": orders}
    )

    def quoted(command: str) -> str:
        block = page.split(f"$ {command}\n", 1)[1]
        return block.split("```", 1)[0]

    proposal = run("-w", str(ws.root), "map", "data/orders.csv", "--entity", "opportunities")
    assert proposal.stdout == quoted("partnerscope map data/orders.csv --entity opportunities")
    for file, entity in (("dealers.csv", "partners"), ("orders.csv", "opportunities")):
        text = run("-w", str(ws.root), "map", f"data/{file}", "--entity", entity).stdout
        with (ws.root / "partnerscope.toml").open("a", encoding="utf-8") as fh:
            fh.write(text)
    run("-w", str(ws.root), "validate")
    profile = run("-w", str(ws.root), "profile", "orders").stdout
    assert profile == quoted("partnerscope profile orders")


def test_an_id_named_its_own_way_is_proposed_as_the_key_with_a_check(tmp_path):
    """A dealer list whose dealers are "customers": customerNumber is the partner id."""
    text = "customerNumber,customerName,country\n101,Polaris,Australia\n102,Sterling,Spain\n"
    ws = make_workspace(tmp_path / "ws", "", {"data/customers.csv": text})
    out = run("-w", str(ws.root), "map", "data/customers.csv", "--entity", "partners").stdout
    assert tomllib.loads(out)["sources"]["customers"]["columns"] == {
        "partner_id": "customerNumber",
        "name": "customerName",
        "country": "country",
    }
    assert "# partner_id: 'customerNumber' holds a different value on every row" in out


def test_a_market_study_export_is_mapped_to_market_sizes(tmp_path):
    """A market study's headers in its own words ("Industry", "Market Size", "As of")."""
    study = csv_text(
        [
            ["Country", "Region", "Industry", "Market Size", "Competitors", "As of"],
            ["Germany", "EMEA", "Retail", "1200000", "3", "2026-06-30"],
        ]
    )
    ws = make_workspace(tmp_path / "ws", "", {"data/market.csv": study})
    text = run(
        "-w", str(ws.root), "map", str(ws.root / "data/market.csv"), "--entity", "market_sizes"
    ).stdout
    columns = tomllib.loads(text)["sources"]["market"]["columns"]
    assert columns == {
        "country": "Country",
        "region": "Region",
        "vertical": "Industry",
        "market_value": "Market Size",
        "competitors": "Competitors",
        "updated_at": "As of",
    }
