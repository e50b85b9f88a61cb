"""The worked examples on the real public datasets in ../shared/data, checked against
independent pandas computations on the same files."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.workspace import Workspace
from tests.conftest import SHARED_DATA, query, snapshot

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# skipped where the datasets are not beside the clone, a failure under CI (tests/conftest.py)
pytestmark = pytest.mark.shared_data


def example_workspace(root: Path, example: str) -> Workspace:
    """The example's partnerscope.toml in ``root``, its data paths made absolute."""
    root.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLES / example / "partnerscope.toml").read_text(encoding="utf-8")
    assert "../../../shared/data" in text
    (root / "partnerscope.toml").write_text(
        text.replace("../../../shared/data", SHARED_DATA.as_posix()), encoding="utf-8"
    )
    return Workspace.open(root)


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- Maven CRM --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    ws = example_workspace(tmp_path_factory.mktemp("maven"), "maven-crm")
    return ws, ws.ingest()


@pytest.fixture(scope="module")
def pipeline():
    return pd.read_csv(SHARED_DATA / "maven-crm" / "sales_pipeline.csv", dtype=str)


def test_maven_counts(maven, pipeline):
    ws, report = maven
    by_source = {f.source: f for f in report.files}
    assert (by_source["agents"].rows_in, by_source["agents"].loaded) == (35, 35)
    assert (by_source["accounts"].rows_in, by_source["accounts"].loaded) == (85, 85)
    deals = by_source["pipeline"]
    assert deals.rows_in == len(pipeline) == 8800
    assert deals.rows_in == deals.loaded + deals.quarantined
    assert query(ws, "SELECT count(*) FROM partners") == [(35,)]
    assert query(ws, "SELECT count(*) FROM accounts") == [(85,)]
    assert query(ws, "SELECT count(*) FROM opportunities") == [(deals.loaded,)]


def test_maven_prospecting_without_engage_date_is_quarantined(maven, pipeline):
    ws, _ = maven
    no_engage = pipeline[pipeline["engage_date"].isna()]
    assert set(no_engage["deal_stage"]) == {"Prospecting"}
    assert query(
        ws,
        "SELECT rule, \"column\", count(*) FROM _quarantine WHERE source = 'pipeline' GROUP BY ALL",
    ) == [("missing", "created_at", len(no_engage))]
    # the same rows: pandas index 0 is file row 2
    rows = [r for (r,) in query(ws, 'SELECT "row" FROM _quarantine ORDER BY 1')]
    assert rows == sorted(int(i) + 2 for i in no_engage.index)


def test_maven_quirks_are_mapped(maven, pipeline):
    ws, _ = maven
    assert query(ws, "SELECT count(*) FROM opportunities WHERE product = 'GTXPro'") == [(0,)]
    loaded = pipeline[pipeline["engage_date"].notna()]
    gtx_pro = loaded["product"].isin(["GTXPro", "GTX Pro"]).sum()
    assert query(ws, "SELECT count(*) FROM opportunities WHERE product = 'GTX Pro'") == [(gtx_pro,)]
    assert query(ws, "SELECT count(*) FROM accounts WHERE industry = 'technolgy'") == [(0,)]
    # revenue is in USD millions: Acme Corporation's 1100.04 is 1,100,040,000
    assert query(
        ws, "SELECT annual_revenue FROM accounts WHERE account_id = 'Acme Corporation'"
    ) == [(pytest.approx(1_100_040_000.0),)]


def test_maven_won_revenue_per_agent(maven, pipeline):
    ws, _ = maven
    won = pipeline[pipeline["deal_stage"] == "Won"]
    expected = won.groupby("sales_agent")["close_value"].apply(
        lambda values: cents(sum(Decimal(v) for v in values))
    )
    got = dict(
        query(
            ws, "SELECT partner_id, sum(amount) FROM opportunities WHERE status = 'won' GROUP BY 1"
        )
    )
    assert got == expected.to_dict()
    assert len(got) == 30  # five agents have no deals
    status_counts = dict(query(ws, "SELECT status, count(*) FROM opportunities GROUP BY 1"))
    assert status_counts == {
        "won": (pipeline["deal_stage"] == "Won").sum(),
        "lost": (pipeline["deal_stage"] == "Lost").sum(),
        "open": (pipeline["deal_stage"] == "Engaging").sum(),
    }


# -- AdventureWorks ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adventureworks(tmp_path_factory):
    ws = example_workspace(tmp_path_factory.mktemp("adventureworks"), "adventureworks")
    return ws, ws.ingest()


def test_adventureworks_partners(adventureworks):
    ws, _ = adventureworks
    resellers = pd.read_csv(SHARED_DATA / "adventureworks-resellers" / "Resellers.csv", dtype=str)
    assert len(resellers) == 701
    assert query(ws, "SELECT count(*) FROM partners") == [(701,)]
    warehouses = set(
        resellers.loc[resellers["BusinessType"].isin(["Warehouse", "Ware House"]), "ResellerKey"]
    )
    misspelt = set(resellers.loc[resellers["BusinessType"] == "Ware House", "ResellerKey"])
    assert len(misspelt) == 5
    distributors = {
        k
        for (k,) in query(ws, "SELECT partner_id FROM partners WHERE partner_type = 'distributor'")
    }
    assert distributors == warehouses
    assert misspelt <= distributors


def test_adventureworks_orders_roll_up(adventureworks):
    ws, report = adventureworks
    sales = next(f for f in report.files if f.source == "reseller_sales")
    fact = pd.read_csv(
        SHARED_DATA / "adventureworks-resellers" / "FactResellerSales.csv", dtype=str
    )
    assert (sales.rows_in, sales.loaded, sales.quarantined) == (len(fact), len(fact), 0)
    assert sales.inserted == fact["SalesOrderNumber"].nunique() == 3616
    expected = (
        fact.assign(amount=fact["SalesAmount"].map(Decimal))
        .groupby("SalesOrderNumber")["amount"]
        .sum()
        .map(cents)
        .to_dict()
    )
    got = dict(query(ws, "SELECT opportunity_id, amount FROM opportunities"))
    assert got == expected
    assert query(
        ws, "SELECT DISTINCT status, attribution, created_at = closed_at FROM opportunities"
    ) == [("won", "sourced", True)]


def test_adventureworks_append_june_file(tmp_path):
    """The June 2020 file (UTF-16, more columns) is appended with --file through the CLI."""
    ws = example_workspace(tmp_path / "aw", "adventureworks")
    ws.ingest()
    june = SHARED_DATA / "adventureworks-resellers" / "ResellerSales_202006.csv"
    assert june.read_bytes()[:2] == b"\xff\xfe"  # UTF-16 LE with BOM
    orders = pd.read_csv(june, encoding="utf-16", dtype=str)["SalesOrderNumber"].nunique()
    runner = CliRunner()
    args = ["-w", str(ws.root), "ingest", "reseller_sales", "--file", str(june)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert query(ws, "SELECT count(*) FROM opportunities") == [(3616 + orders,)]
    assert query(
        ws, "SELECT inserted, updated, encoding FROM _imports ORDER BY import_id DESC LIMIT 1"
    ) == [(orders, 0, "utf-16")]
    before = snapshot(ws)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert query(
        ws, "SELECT inserted, updated, unchanged FROM _imports ORDER BY import_id DESC LIMIT 1"
    ) == [(0, 0, orders)]
    after = snapshot(ws)
    assert {k: v for k, v in after.items() if k != "_imports"} == {
        k: v for k, v in before.items() if k != "_imports"
    }


def test_examples_validate_as_shipped(tmp_path):
    """The examples resolve ../../../shared/data from their own folder in a checkout."""
    for example in ("maven-crm", "adventureworks"):
        copy = tmp_path / "repo" / "examples" / example
        copy.mkdir(parents=True)
        shutil.copy(EXAMPLES / example / "partnerscope.toml", copy)
        relative = tmp_path / "shared"
        if not relative.exists():
            relative.symlink_to(SHARED_DATA.parent)
        result = CliRunner().invoke(app, ["-w", str(copy), "validate"])
        assert result.exit_code == 0, result.output


def test_adventureworks_headerless_pipe_export(tmp_path):
    """dw_DimReseller.csv: pipe-delimited, no header row, read with header = false."""
    names = [
        "key", "geography", "alternate_key", "phone", "business_type", "name", "employees",
        "order_frequency", "order_month", "first_order_year", "last_order_year", "product_line",
        "address1", "address2", "annual_sales", "bank", "min_payment_type", "min_payment_amount",
        "annual_revenue", "year_opened",
    ]  # fmt: skip
    root = tmp_path / "ws"
    root.mkdir()
    (root / "partnerscope.toml").write_text(
        f"""
[sources.resellers]
entity = "partners"
path = "{(SHARED_DATA / "adventureworks-resellers" / "dw_DimReseller.csv").as_posix()}"
header = false
column_names = {json.dumps(names)}
[sources.resellers.columns]
partner_id = "key"
name = "name"
joined_at = {{ expr = "year_opened || '-01-01'" }}
[sources.resellers.columns.partner_type]
column = "business_type"
[sources.resellers.columns.partner_type.map]
"Value Added Reseller" = "var"
"Specialty Bike Shop" = "retailer"
"Warehouse" = "distributor"
""",
        encoding="utf-8",
    )
    ws = Workspace.open(root)
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (701, 701, 0)
    assert query(ws, "SELECT encoding, delimiter FROM _imports") == [("utf-8", "|")]
    # the same resellers, by key, as in Resellers.csv
    resellers = pd.read_csv(SHARED_DATA / "adventureworks-resellers" / "Resellers.csv", dtype=str)
    expected = dict(zip(resellers["ResellerKey"], resellers["ResellerName"], strict=True))
    assert dict(query(ws, "SELECT partner_id, name FROM partners")) == expected
    # the last field of the first line, "…|30000.0000|1974", is the year opened
    assert query(ws, "SELECT joined_at FROM partners WHERE partner_id = '1'") == [
        (date(1974, 1, 1),)
    ]


# -- what users read, on real exports ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "period"), [("maven-crm", "FY2017-Q4"), ("adventureworks", "FY2020-Q2")]
)
def test_reports_on_real_exports_speak_the_users_language(tmp_path, example, period):
    """The reports of a run made today on an old export show its last quarter with deals, not
    an empty one, and they and the web app's main pages hold nothing tests/visible.py forbids
    (issue 25)."""
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports.write import Format, Kind, write_reports
    from tests.test_visible_text import workbook_texts
    from tests.visible import problems, text_of

    ws = example_workspace(tmp_path / "ws", example)
    ws.ingest()
    ws.run()
    data = RunData(ws)
    assert data.pick_period(None)[1] == period  # the last one of the export's closed deals
    top = max(data.scorecards.table.to_pylist(), key=lambda r: r["score"] or 0)["partner_id"]
    keys = list(ws.catalog.metrics)
    findings = []
    for kind, options in ((Kind.SCORECARD, {"partner": top}), (Kind.QBR, {"partner": top})):
        for fmt in (Format.HTML, Format.XLSX):
            for file in write_reports(ws, kind, fmt, out=tmp_path / kind.value, **options).files:
                assert period in file.name
                if fmt is Format.HTML:
                    findings += problems(text_of(file.read_text(encoding="utf-8")), keys)
                else:
                    findings += [f for _, t in workbook_texts(file) for f in problems(t, keys)]
    (file,) = write_reports(ws, Kind.EXECUTIVE, Format.HTML, out=tmp_path / "executive").files
    assert period in file.name
    findings += problems(text_of(file.read_text(encoding="utf-8")), keys)
    findings += web_findings(ws, top, keys)
    assert findings == []


def web_findings(ws: Workspace, partner: str, keys: list[str]) -> list[str]:
    """What the main pages of the web app show an admin, the partner's own user and finance,
    scanned as tests/test_visible_text.py scans the demo's."""
    from urllib.parse import quote

    from fastapi.testclient import TestClient

    from partnerscope.accounts import Accounts, Role
    from partnerscope.web import create_app
    from tests.visible import problems, text_of
    from tests.webtools import PASSWORD, sign_in

    accounts = Accounts.open(ws)
    accounts.add("ada", Role.ADMIN, PASSWORD, by="test")
    accounts.add("pat", Role.PARTNER_USER, PASSWORD, partner_id=partner, by="test")
    accounts.add("fin", Role.FINANCE, PASSWORD, by="test")
    app = create_app(ws.root, warm=False)
    own = f"/partners/{quote(partner)}"
    staff = ["/dashboard", "/partners", "/tiers", "/alerts", "/runs", "/quality", "/decisions"]
    shared = ["/", own, "/payouts", "/mdf"]
    findings = []
    for user, pages in (
        ("ada", [*shared, *staff, "/leads", "/registrations"]),
        ("pat", [*shared, "/leads", "/registrations"]),
        ("fin", ["/", "/payouts", "/mdf"]),
    ):
        client = TestClient(app)
        sign_in(client, user)
        for path in pages:
            page = client.get(path)
            assert page.status_code == 200, (user, path, page.status_code)
            findings += [f"{user} {path}: {f}" for f in problems(text_of(page.text), keys)]
    return findings
