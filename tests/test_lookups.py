"""Lookups and line items: a normalized export (orders, order lines, dealers, reps, offices)
mapped in config only. Every expected value is summed or looked up by hand from the files below.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.config import load_config
from partnerscope.errors import ConfigError, DataFileError
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query, write_file

CONFIG = """
[lookups.reps]
path = "data/employees.csv"
key = "employeeNumber"

[lookups.offices]
path = "data/offices.csv"
key = "officeCode"

[lookups.order_lines]
path = "data/orderdetails.csv"

[sources.dealers]
entity = "partners"
path = "data/customers.csv"
[sources.dealers.columns]
partner_id = "customerNumber"
name = "customerName"
partner_manager = { lookup = "reps", key = "salesRepEmployeeNumber", column = "lastName" }
[sources.dealers.columns.region]
lookup = "offices"
key = { lookup = "reps", key = "salesRepEmployeeNumber", column = "officeCode" }
column = "territory"

[sources.orders]
entity = "opportunities"
path = "data/orders.csv"
[sources.orders.columns]
opportunity_id = "orderNumber"
partner_id = "customerNumber"
attribution = { constant = "sourced" }
created_at = "orderDate"
closed_at = { expr = "CASE WHEN status IN ('Shipped', 'Cancelled') THEN orderDate END" }
status = { column = "status", map = { Shipped = "won", Cancelled = "lost" }, otherwise = "open" }
stage = { aggregate = "count", source = "order_lines", key = "orderNumber" }
product = { aggregate = "max", source = "order_lines", key = "orderNumber", column = "productCode" }
[sources.orders.columns.amount]
aggregate = "sum"
source = "order_lines"
key = "orderNumber"
expr = "quantityOrdered * priceEach"
"""

OFFICES = "officeCode,city,territory\n1,San Francisco,NA\n4,Paris,EMEA\n5,Tokyo,Japan\n"
EMPLOYEES = "employeeNumber,lastName,officeCode\n1002,Murphy,1\n1370,Hernandez,4\n1621,Nishi,5\n"
CUSTOMERS = (
    "customerNumber,customerName,salesRepEmployeeNumber\n"
    "103,Atelier graphique,1370\n"
    "112,Signal Gift Stores,1002\n"
    "114,Australian Collectors,1621\n"
    "119,La Rochelle Gifts,1999\n"  # no rep 1999: quarantined
    "121,Baane Mini Imports,\n"  # no rep at all: no region, loaded
)
ORDERS = (
    "orderNumber,orderDate,status,customerNumber\n"
    "10100,2024-01-06,Shipped,103\n"
    "10101,2024-01-09,Shipped,112\n"
    "10102,2024-01-10,Cancelled,114\n"
    "10103,2024-02-01,In Process,103\n"
    "10104,2024-02-03,Shipped,112\n"  # no lines: quarantined
)
LINES = (
    "orderNumber,productCode,quantityOrdered,priceEach\n"
    "10100,S18_1749,30,136.00\n"  # 4080.00
    "10100,S18_2248,50,55.09\n"  # 2754.50 -> 6834.50
    "10101,S18_1589,26,108.06\n"  # 2809.56
    "10101,S18_4409,10,12.50\n"  # 125.00 -> 2934.56
    "10102,S24_1937,5,20.00\n"  # 100.00
    "10103,S10_1678,2,1000.50\n"  # 2001.00
    "10103,S10_1949,1,0.99\n"  # 0.99 -> 2001.99
    "99999,S10_0000,1,5.00\n"  # a line of no order: read, used by none
)
FILES = {
    "data/offices.csv": OFFICES,
    "data/employees.csv": EMPLOYEES,
    "data/customers.csv": CUSTOMERS,
    "data/orders.csv": ORDERS,
    "data/orderdetails.csv": LINES,
}


@pytest.fixture
def shop(workspace_factory) -> Workspace:
    ws: Workspace = workspace_factory(CONFIG, FILES)
    return ws


def test_amounts_are_summed_lines_and_regions_two_lookups_away(shop):
    report = shop.ingest()
    by_source = {f.source: f for f in report.files}
    assert (by_source["dealers"].loaded, by_source["dealers"].quarantined) == (4, 1)
    assert (by_source["orders"].loaded, by_source["orders"].quarantined) == (4, 1)
    assert query(
        shop, "SELECT partner_id, region, partner_manager FROM partners ORDER BY partner_id"
    ) == [
        ("103", "EMEA", "Hernandez"),  # rep 1370 -> office 4 -> EMEA
        ("112", "NA", "Murphy"),  # rep 1002 -> office 1 -> NA (North America, kept)
        ("114", "Japan", "Nishi"),
        ("121", None, None),
    ]
    assert query(
        shop,
        "SELECT opportunity_id, status, amount, stage, product FROM opportunities "
        "ORDER BY opportunity_id",
    ) == [
        ("10100", "won", Decimal("6834.50"), "2", "S18_2248"),
        ("10101", "won", Decimal("2934.56"), "2", "S18_4409"),
        ("10102", "lost", Decimal("100.00"), "1", "S24_1937"),
        ("10103", "open", Decimal("2001.99"), "2", "S10_1949"),
    ]
    assert query(
        shop,
        'SELECT source, "row", "column", value, rule, message FROM _quarantine ORDER BY source',
    ) == [
        (
            "dealers",
            5,
            "region",
            "1999",
            "not_in_lookup",
            "salesRepEmployeeNumber 1999 is not in reps (data/employees.csv)",
        ),
        (
            "orders",
            6,
            "product",
            "10104",
            "not_in_lookup",
            "orderNumber 10104 has no lines in order_lines (data/orderdetails.csv)",
        ),
    ]


def test_a_missing_second_hop_names_the_lookup_it_came_from(workspace_factory):
    files = {**FILES, "data/employees.csv": EMPLOYEES + "1188,Firrelli,7\n"}
    files["data/customers.csv"] = CUSTOMERS + "124,Mini Gifts,1188\n"
    ws = workspace_factory(CONFIG, files)
    ws.ingest(["dealers"])
    assert query(ws, 'SELECT value, message FROM _quarantine WHERE "row" = 7') == [
        ("7", "officeCode 7 (from reps) is not in offices (data/offices.csv)")
    ]


def test_every_file_read_is_in_the_ledger_and_a_reingest_changes_nothing(shop):
    first = shop.ingest()
    ledger = query(
        shop,
        "SELECT source, entity, file, rows_in, loaded, quarantined FROM _imports "
        f"WHERE batch_id = {first.batch_id} ORDER BY import_id",
    )
    # each lookup is read once, before the sources
    assert ledger == [
        ("reps", "lookup", "data/employees.csv", 3, 3, 0),
        ("offices", "lookup", "data/offices.csv", 3, 3, 0),
        ("order_lines", "lookup", "data/orderdetails.csv", 8, 8, 0),
        ("dealers", "partners", "data/customers.csv", 5, 4, 1),
        ("orders", "opportunities", "data/orders.csv", 5, 4, 1),
    ]
    assert [(r.lookup, r.file, r.rows, r.used_by) for r in first.lookups] == [
        ("reps", "data/employees.csv", 3, ("dealers",)),
        ("offices", "data/offices.csv", 3, ("dealers",)),
        ("order_lines", "data/orderdetails.csv", 8, ("orders",)),
    ]
    tables = "SELECT * EXCLUDE (_import_id) FROM {} ORDER BY 1"
    before = [query(shop, tables.format(t)) for t in ("partners", "opportunities")]
    again = shop.ingest()
    assert [(f.inserted, f.updated, f.unchanged) for f in again.files] == [(0, 0, 4), (0, 0, 4)]
    assert [query(shop, tables.format(t)) for t in ("partners", "opportunities")] == before
    prints = query(
        shop,
        "SELECT count(DISTINCT fingerprint), count(*) FROM _imports WHERE source = 'offices'",
    )
    assert prints == [(1, 2)]


def test_changing_only_a_lookup_file_updates_the_rows_that_use_it(shop):
    shop.ingest()
    write_file(shop.root / "data/offices.csv", OFFICES.replace("Paris,EMEA", "Paris,Europe"))
    report = shop.ingest(["offices"])  # a lookup's name loads the sources that read it
    assert [(f.source, f.updated, f.unchanged) for f in report.files] == [("dealers", 1, 3)]
    assert query(shop, "SELECT region FROM partners WHERE partner_id = '103'") == [("Europe",)]
    assert query(
        shop, "SELECT count(DISTINCT fingerprint) FROM _imports WHERE source = 'offices'"
    ) == [(2,)]


def test_paths_resolve_from_the_workspace_not_the_shell(shop, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(app, ["-w", str(shop.root), "ingest"])
    assert result.exit_code == 0, result.output
    assert query(shop, "SELECT sum(amount) FROM opportunities") == [(Decimal("11871.05"),)]


def test_a_repeated_key_in_a_lookup_names_the_file_key_and_rows(workspace_factory):
    files = {**FILES, "data/employees.csv": EMPLOYEES + "1370,Castillo,4\n"}
    ws = workspace_factory(CONFIG, files)
    with pytest.raises(DataFileError) as caught:
        ws.ingest()
    message = str(caught.value)
    assert "lookups.reps" in message
    assert "1370 on data/employees.csv row 3, data/employees.csv row 5" in message


def test_unknown_lookups_and_columns_are_config_problems(tmp_path, workspace_factory):
    config = CONFIG.replace('lookup = "reps", key = "salesRep', 'lookup = "rep", key = "salesRep')
    config = config.replace(
        'source = "order_lines"\nkey = "orderNumber"\nexpr',
        'source = "lines"\nkey = "orderNumber"\nexpr',
    )
    path = write_file(tmp_path / "partnerscope.toml", config)
    with pytest.raises(ConfigError) as caught:
        load_config(path, check_files=False)
    assert caught.value.problems == [
        "sources.dealers.columns.partner_manager.lookup: no lookup 'rep' among reps, offices, "
        "order_lines; did you mean 'reps'? A lookup is declared as [lookups.rep] with path and "
        "key",
        "sources.dealers.columns.region.key.lookup: no lookup 'rep' among reps, offices, "
        "order_lines; did you mean 'reps'? A lookup is declared as [lookups.rep] with path and "
        "key",
        "sources.orders.columns.amount.source: no lookup 'lines' among reps, offices, "
        "order_lines; did you mean 'order_lines'? A line file is declared as [lookups.lines] "
        "with its path",
    ]
    wrong = CONFIG.replace('column = "territory"', 'column = "teritory"')
    wrong = wrong.replace('expr = "quantityOrdered * priceEach"', 'column = "price"')
    ws = workspace_factory(wrong, FILES)
    with pytest.raises(ConfigError) as caught:
        ws.ingest()
    # both sources' problems at once, before anything loads
    assert caught.value.problems == [
        "sources.dealers.columns.region: offices (data/offices.csv) has no column 'teritory'; "
        "did you mean 'territory'? Its columns are 'officeCode', 'city', 'territory'",
        "sources.orders.columns.amount: order_lines (data/orderdetails.csv) has no column "
        "'price'; did you mean 'priceEach'? Its columns are 'orderNumber', 'productCode', "
        "'quantityOrdered', 'priceEach'",
    ]
    assert query(ws, "SELECT count(*) FROM _imports") == [(0,)]


def test_a_lookup_mapping_needs_its_parts(tmp_path):
    config = CONFIG.replace(
        'key = "salesRepEmployeeNumber", column = "lastName" }',
        'column = "lastName" }',
    )
    path = write_file(tmp_path / "partnerscope.toml", config)
    with pytest.raises(ConfigError) as caught:
        load_config(path, check_files=False)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(
        "sources.dealers.columns.partner_manager: a lookup takes lookup, key and column"
    )


def test_the_line_file_key_can_differ_from_the_parent_column(workspace_factory):
    config = CONFIG.replace(
        'key = "orderNumber"\nexpr', 'key = "order"\nparent_key = "orderNumber"\nexpr'
    ).replace('stage = { aggregate = "count", source = "order_lines", key = "orderNumber" }\n', "")
    config = config.replace(
        'product = { aggregate = "max", source = "order_lines", key = "orderNumber", '
        'column = "productCode" }\n',
        "",
    )
    files = {**FILES, "data/orderdetails.csv": LINES.replace("orderNumber,", "order,", 1)}
    ws = workspace_factory(config, files)
    ws.ingest()
    assert query(ws, "SELECT sum(amount) FROM opportunities") == [(Decimal("11871.05"),)]


def test_a_lookup_file_missing_is_named(shop, tmp_path):
    (shop.root / "data/offices.csv").unlink()
    with pytest.raises(ConfigError, match=r"lookups.offices.path: no file matches"):
        shop.ingest()
    with pytest.raises(ConfigError, match=r"lookups.offices.path: no file matches"):
        load_config(shop.root / "partnerscope.toml")


def test_cwd_independent_workspace_open(shop, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = Workspace.open(Path(shop.root))
    assert ws.ingest().loaded == 8


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "wholesaler"


def test_the_worked_example_matches_an_independent_recomputation(tmp_path):
    """examples/wholesaler (docs/lookups.md): amounts and regions recomputed from the raw files
    with the csv module equal what ingest stored."""
    import csv
    import shutil

    shutil.copytree(EXAMPLE, tmp_path / "ws", ignore=shutil.ignore_patterns("state"))
    ws = Workspace.open(tmp_path / "ws")
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (58, 56, 2)

    def rows(name: str) -> list[dict[str, str]]:
        with (EXAMPLE / "data" / name).open(encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    totals: dict[str, Decimal] = {}
    for line in rows("orderdetails.csv"):
        amount = int(line["quantityOrdered"]) * Decimal(line["priceEach"])
        totals[line["orderNumber"]] = totals.get(line["orderNumber"], Decimal(0)) + amount
    stored = dict(query(ws, "SELECT opportunity_id, amount FROM opportunities"))
    assert stored == {k: v for k, v in totals.items() if k in stored}
    assert len(stored) == 44

    office = {r["employeeNumber"]: r["officeCode"] for r in rows("employees.csv")}
    territory = {r["officeCode"]: r["territory"] for r in rows("offices.csv")}
    expected = {
        r["customerNumber"]: territory[office[r["salesRepEmployeeNumber"]]]
        for r in rows("customers.csv")
        if r["salesRepEmployeeNumber"] in office
    }
    assert dict(query(ws, "SELECT partner_id, region FROM partners")) == expected
    assert "NA" in expected.values()
    assert [m for (m,) in query(ws, "SELECT message FROM _quarantine ORDER BY source")] == [
        "salesRepEmployeeNumber 1999 is not in reps (data/employees.csv)",
        "orderNumber 10144 has no lines in order_lines (data/orderdetails.csv)",
    ]


def test_the_worked_example_is_what_its_script_writes(tmp_path):
    import runpy

    script = runpy.run_path(str(EXAMPLE.parents[1] / "scripts" / "make_wholesaler_example.py"))
    script["build"](tmp_path)
    for path in sorted(EXAMPLE.rglob("*")):
        if path.is_file() and "state" not in path.parts:
            relative = path.relative_to(EXAMPLE)
            assert (tmp_path / relative).read_bytes() == path.read_bytes(), relative


def test_lookup_files_are_read_with_their_own_format_options(workspace_factory):
    """A lookup takes a source's file settings: here a semicolon-separated cp1252 file with a
    title line, a malformed row (quarantined under the lookup, so that its rows add up) and a
    null token."""
    config = CONFIG.replace(
        '[lookups.offices]\npath = "data/offices.csv"\n',
        '[lookups.offices]\npath = "data/offices.csv"\nencoding = "cp1252"\ndelimiter = ";"\n'
        'skip_rows = 1\nnull_values = ["(none)"]\n',
    )
    offices = (
        "Offices export\n"
        "officeCode;city;territory\n"
        "1;San Francisco;NA\n"
        "4;Zürich;EMEA\n"
        "5;Tokyo;(none)\n"
        "6;Oslo;EMEA;extra\n"
    ).encode("cp1252")
    ws = workspace_factory(config, {**FILES, "data/offices.csv": offices})
    report = ws.ingest(["dealers"])
    assert query(ws, "SELECT partner_id, region FROM partners ORDER BY 1") == [
        ("103", "EMEA"),
        ("112", "NA"),
        ("114", None),  # office 5's territory is the null token
        ("121", None),
    ]
    assert query(
        ws,
        "SELECT rows_in, loaded, quarantined, encoding, delimiter FROM _imports "
        "WHERE source = 'offices'",
    ) == [(4, 3, 1, "cp1252", ";")]
    assert query(ws, "SELECT source, \"row\", rule FROM _quarantine WHERE source = 'offices'") == [
        ("offices", 6, "malformed_row")
    ]
    assert report.lookups[1].lookup == "offices"


def test_a_file_an_expr_reads_is_found_from_the_workspace(workspace_factory, tmp_path, monkeypatch):
    """The issue's workaround, a subquery over read_csv in an expr, no longer depends on the
    shell's folder (a lookup is still the way that fingerprints the file)."""
    config = CONFIG.replace(
        'partner_manager = { lookup = "reps", key = "salesRepEmployeeNumber", '
        'column = "lastName" }',
        "partner_manager = { expr = \"(SELECT e.lastName FROM read_csv('data/employees.csv', "
        'all_varchar = true) e WHERE e.employeeNumber = salesRepEmployeeNumber)" }',
    )
    ws = workspace_factory(config, FILES)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ws.ingest(["dealers"])
    assert query(ws, "SELECT partner_id, partner_manager FROM partners ORDER BY 1") == [
        ("103", "Hernandez"),
        ("112", "Murphy"),
        ("114", "Nishi"),
        ("121", None),
    ]


KEYS = st.sampled_from(["1", "2", "3", "10", " 2 ", "", "x"])


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    reps=st.dictionaries(st.sampled_from(["1", "2", "3", "4"]), st.sampled_from(["1", "4", "9"])),
    dealers=st.lists(KEYS, min_size=1, max_size=8),
    lines=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 5), st.integers(0, 999))),
)
def test_every_row_is_looked_up_or_quarantined_and_sums_are_exact(
    tmp_path_factory, reps, dealers, lines
):
    """Random lookups and line items: each dealer's region is what following the files by
    hand gives, or the row is quarantined naming the missing key; each order's amount is its
    lines' sum in cents, or the order is quarantined for having none."""
    employees = "employeeNumber,lastName,officeCode\n" + "".join(
        f"{k},Rep {k},{office}\n" for k, office in reps.items()
    )
    customers = "customerNumber,customerName,salesRepEmployeeNumber\n" + "".join(
        f"{100 + i},Dealer {i},{key}\n" for i, key in enumerate(dealers)
    )
    orders = "orderNumber,orderDate,status,customerNumber\n" + "".join(
        f"{10000 + i},2024-01-0{1 + i % 9},Shipped,{100 + i % len(dealers)}\n" for i in range(10)
    )
    details = "orderNumber,productCode,quantityOrdered,priceEach\n" + "".join(
        f"{10000 + order},S{n},{quantity},{cents / 100:.2f}\n"
        for n, (order, quantity, cents) in enumerate(lines)
    )
    ws = make_workspace(
        tmp_path_factory.mktemp("lookups"),
        CONFIG,
        {
            **FILES,
            "data/employees.csv": employees,
            "data/customers.csv": customers,
            "data/orders.csv": orders,
            "data/orderdetails.csv": details,
        },
    )
    report = ws.ingest()
    for f in report.files:
        assert f.rows_in == f.loaded + f.quarantined
    territory = {"1": "NA", "4": "EMEA", "5": "Japan"}
    regions = dict(query(ws, "SELECT partner_id, region FROM partners"))
    reasons = dict(query(ws, "SELECT value, message FROM _quarantine WHERE source = 'dealers'"))
    for i, key in enumerate(dealers):
        dealer, key = str(100 + i), key.strip()
        if not key:
            assert regions[dealer] is None
        elif key not in reps:
            assert dealer not in regions
            assert (
                reasons[key] == f"salesRepEmployeeNumber {key} is not in reps (data/employees.csv)"
            )
        elif reps[key] not in territory:
            assert dealer not in regions
            assert reasons[reps[key]] == (
                f"officeCode {reps[key]} (from reps) is not in offices (data/offices.csv)"
            )
        else:
            assert regions[dealer] == territory[reps[key]]
    totals: dict[str, int] = {}
    for order, quantity, cents in lines:
        totals[str(10000 + order)] = totals.get(str(10000 + order), 0) + quantity * cents
    amounts = dict(query(ws, "SELECT opportunity_id, amount FROM opportunities"))
    loaded_dealers = set(regions)
    for i in range(10):
        order, dealer = str(10000 + i), str(100 + i % len(dealers))
        if order in amounts:
            assert amounts[order] == Decimal(totals[order]) / 100
        else:
            assert order not in totals or dealer not in loaded_dealers


def test_a_null_token_blanking_a_looked_up_text_column_is_warned(workspace_factory):
    """ "NA" declared a null token on a lookup blanks North America's territory: the dealers'
    ingest says so, naming the lookup file, its column and the fix."""
    config = CONFIG.replace(
        '[lookups.offices]\npath = "data/offices.csv"\n',
        '[lookups.offices]\npath = "data/offices.csv"\nnull_values = ["NA", "-"]\n',
    )
    ws = workspace_factory(config, FILES)
    report = ws.ingest(["dealers"])
    assert query(ws, "SELECT region FROM partners WHERE partner_id = '112'") == [(None,)]
    assert report.files[0].warnings == (
        "data/offices.csv: the null token 'NA' blanked 1 of 3 values (33%) of column "
        "'territory' (region of sources.dealers). If 'NA' is a real value there, set "
        'null_values = ["-"] on [lookups.offices]',
    )
