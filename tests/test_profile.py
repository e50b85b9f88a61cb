"""Ingest totals and `partnerscope profile`: what a source holds, in words, and the warnings
that catch a wrong mapping (issue 26, item 3)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.cli.app import console
from tests.conftest import PARTNERS_SOURCE, csv_text, make_workspace, query

ORDERS = """
[sources.orders]
entity = "opportunities"
path = "data/orders.csv"
[sources.orders.columns]
opportunity_id = "orderNumber"
partner_id = "dealer"
attribution = {{ constant = "sourced" }}
amount = "{amount}"
created_at = "orderDate"
closed_at = "shippedDate"
[sources.orders.columns.status]
column = "status"
map = {{ "Shipped" = "won", "Cancelled" = "lost", "On Hold" = "open" }}
"""

PARTNERS_CSV = "id,name\nP1,Acme\nP2,Beta\n"


def orders_csv() -> str:
    """25 orders: order n has line total n x 100 (sum 32,500) and the grand total of all lines
    in `grandTotal` (the wrong column the user first mapped)."""
    rows = [["orderNumber", "dealer", "orderDate", "shippedDate", "status", "lines", "grandTotal"]]
    for n in range(1, 26):
        status = "Shipped" if n <= 20 else "Cancelled" if n <= 23 else "On Hold"
        shipped = f"2024-02-{n:02d}" if n <= 23 else ""
        partner = "P1" if n % 5 else "P2"
        rows.append([f"O{n}", partner, f"2024-01-{n:02d}", shipped, status, n * 100, "2945300.12"])
    return csv_text(rows)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(console, "width", 250)


def run(*args, ok=True):
    result = CliRunner().invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def config(amount: str) -> str:
    return PARTNERS_SOURCE + ORDERS.format(amount=amount)


def test_ingest_prints_totals_and_warns_of_a_repeated_amount_then_of_a_10x_move(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        config("grandTotal"),
        {"data/partners.csv": PARTNERS_CSV, "data/orders.csv": orders_csv()},
    )
    out = " ".join(run("-w", str(ws.root), "ingest").stdout.split())
    # 25 orders, each with the grand total: 25 x 2,945,300.12 = 73,632,503
    assert "orders (data/orders.csv):" in out
    assert "amount: $73,632,503 in total, on 25 of 25 rows" in out
    assert (
        "amount: every row of sources.orders has amount $2,945,300.12; one value on nearly "
        "every row is seldom real: check the mapping of amount (from column 'grandTotal')"
    ) in out
    assert "created_at: Jan 1, 2024 to Jan 25, 2024, on 25 of 25 rows" in out
    assert "closed_at: Feb 1, 2024 to Feb 23, 2024, on 23 of 25 rows" in out
    assert "opportunity_id: 25 distinct, on 25 of 25 rows" in out
    assert "partner_id: 2 distinct, on 25 of 25 rows" in out
    assert "status: won 20, lost 3, open 2" in out
    # the partners source: 2 partners
    assert "partner_id: 2 distinct, on 2 of 2 rows" in out

    # the user fixes the mapping: order n is n x 100, 32,500 in all
    (ws.root / "partnerscope.toml").write_text(config("lines"), encoding="utf-8")
    out = " ".join(run("-w", str(ws.root), "ingest").stdout.split())
    assert "amount: $32,500 in total, on 25 of 25 rows" in out
    assert "has amount" not in out  # no value repeats now
    # 32,500 / 73,632,503 = 1/2,265.6
    assert (
        "amount: the total of sources.orders is $32,500, 1/2,265.6 of the $73,632,503 of its "
        "previous import (batch 1); if the data did not change that much, check the mapping "
        "of amount"
    ) in out
    assert query(
        ws, 'SELECT source, "column", total, "rows" FROM _import_totals ORDER BY batch_id'
    ) == [("orders", "amount", 73632503, 25), ("orders", "amount", 32500, 25)]

    # the same file again: the same total, no warning
    out = " ".join(run("-w", str(ws.root), "ingest").stdout.split())
    assert "previous import" not in out


def test_profile_shows_the_same_before_loading(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        config("grandTotal"),
        {"data/partners.csv": PARTNERS_CSV, "data/orders.csv": orders_csv()},
    )
    out = " ".join(run("-w", str(ws.root), "profile", "orders").stdout.split())
    assert "25 of 25 rows would load" in out
    assert "amount: $73,632,503 in total, on 25 of 25 rows" in out
    assert "every row of sources.orders has amount 2,945,300.12" in out
    assert "status: won 20, lost 3, open 2" in out
    # nothing was written: no warehouse yet
    assert not ws.warehouse_path.exists()


def test_profile_says_which_rows_would_be_quarantined_and_reads_the_date_format(tmp_path):
    rows = [["orderNumber", "dealer", "orderDate", "shippedDate", "status", "lines", "g"]]
    for n in range(1, 11):
        rows.append([f"O{n}", "P1", f"3/{n + 12}/2018", f"4/{n}/2018", "Shipped", 10, 1])
    ws = make_workspace(
        tmp_path / "ws",
        config("lines"),
        {"data/partners.csv": PARTNERS_CSV, "data/orders.csv": csv_text(rows)},
    )
    out = " ".join(run("-w", str(ws.root), "profile", "orders").stdout.split())
    assert "0 of 10 rows would load" in out
    assert (
        "10 would be quarantined (not_timestamp), such as: created_at (from column 'orderDate') "
        "is not a date and time"
    ) in out
    assert (
        "created_at: 10 of 10 rows of sources.orders are not read as dates; values such as "
        "'3/13/2018' read as month/day/year: set date_format = \"%m/%d/%Y\" in "
        '[sources.orders] (or format = "%m/%d/%Y" on columns.created_at alone)'
    ) in out
    # 4/1 .. 4/10: no part above 12, either order reads them
    assert "day and month are ambiguous" in out.split("closed_at: 10 of 10")[1]


def test_profile_of_an_unknown_source_names_the_known_ones(tmp_path):
    ws = make_workspace(tmp_path / "ws", PARTNERS_SOURCE, {"data/partners.csv": PARTNERS_CSV})
    result = run("-w", str(ws.root), "profile", "partnrs", ok=False)
    assert result.exit_code == 1
    assert "unknown source 'partnrs'" in result.output
    assert "Traceback" not in result.output


def test_profile_reads_lookups_and_line_items_as_the_ingest_does(tmp_path):
    """examples/wholesaler: the order amount is the sum of its lines (a lookup source); the
    profile before loading and the ingest after it give the same totals."""
    import shutil
    from pathlib import Path

    root = tmp_path / "wholesaler"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "wholesaler", root)
    before = " ".join(run("-w", str(root), "profile", "orders").stdout.split())
    assert not (root / "state" / "warehouse.duckdb").exists()  # lookups read, nothing written
    # a lookup's name profiles the sources that read it
    by_lookup = " ".join(run("-w", str(root), "profile", "reps").stdout.split())
    assert "dealers (data/customers.csv), nothing loaded:" in by_lookup
    after = " ".join(run("-w", str(root), "ingest").stdout.split())
    total = query_total(root)
    assert f"amount: {total} in total, on 44 of 44 rows" in before
    assert f"amount: {total} in total, on 44 of 44 rows" in after
    assert "1 would be quarantined (not_in_lookup): orderNumber " in before
    assert (
        "status: lost 23, won 13, open 8" in before and "status: lost 23, won 13, open 8" in after
    )


def query_total(root) -> str:
    """The order amounts recomputed from the raw files: each order's lines summed."""
    import csv
    from decimal import Decimal

    with (root / "data" / "orderdetails.csv").open(encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    with (root / "data" / "orders.csv").open(encoding="utf-8") as fh:
        orders = {r["orderNumber"] for r in csv.DictReader(fh)}
    total = sum(
        Decimal(r["quantityOrdered"]) * Decimal(r["priceEach"])
        for r in lines
        if r["orderNumber"] in orders
    )
    return f"${round(total):,}"


def test_ingest_prints_the_warnings_of_each_file(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + 'region = "region"\n',
        {"data/partners.csv": "id,name,region\nP1,Acme,EMEA\nP2,Beta,NULL\nP3,Gamma,APAC\n"},
    )
    out = " ".join(run("-w", str(ws.root), "ingest").stdout.split())
    assert (
        "Warning: data/partners.csv: the null token 'NULL' blanked 1 of 3 values (33%) of "
        "column 'region' (region)."
    ) in out
    assert "region: APAC 1, EMEA 1, (empty) 1" in out
