"""Write examples/wholesaler/: a small normalized export (orders, order lines, dealers, sales
reps, offices) made from the demo generator, with the partnerscope.toml that maps it through
lookups and line items (docs/lookups.md).

    .venv/bin/python scripts/make_wholesaler_example.py [OUT_DIR]

The same demo seed always gives the same files. Two rows are planted to show the quarantine: a
dealer whose rep is not in the reps file, and an order without lines.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from partnerscope.demo.generate import generate_demo

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "wholesaler"
DEALERS = 12
ORDERS_PER_DEALER = 4
#: one office per demo region; "NA" is North America's territory code
OFFICES = (
    ("1", "San Francisco", "NA", "North America"),
    ("2", "London", "EMEA", "EMEA"),
    ("3", "Singapore", "APAC", "APAC"),
    ("4", "Sao Paulo", "LATAM", "LATAM"),
)
OPEN_STATUSES = ("In Process", "On Hold", "Disputed")

CONFIG = """\
# A wholesaler selling through dealers, its export normalized over five files
# (made by scripts/make_wholesaler_example.py from the demo generator; see docs/lookups.md).

[workspace]
name = "Wholesaler (normalized export)"
base_currency = "USD"

# Files read only to fill the sources' columns: nothing is loaded from them on their own.
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
country = "country"
status = { column = "status", map = { Active = "active", Inactive = "inactive" } }
# the rep's name, one lookup away
partner_manager = { lookup = "reps", key = "salesRepEmployeeNumber", column = "lastName" }

# the territory of the rep's office, two lookups away
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
stage = "status"
created_at = "orderDate"
# an order on hold or disputed is still open: only a shipped or cancelled one has a close date
closed_at = { expr = "CASE WHEN status IN ('Shipped', 'Cancelled') THEN closedDate END" }
status = { column = "status", map = { Shipped = "won", Cancelled = "lost" }, otherwise = "open" }

# the order's amount is the sum of its lines
[sources.orders.columns.amount]
aggregate = "sum"
source = "order_lines"
key = "orderNumber"
expr = "quantityOrdered * priceEach"
"""


def _cents(amount: float) -> int:
    return int(Decimal(str(amount)) * 100)


def _lines(order: str, product: str, cents: int, n: int) -> list[list[str]]:
    """``n`` lines whose quantity times unit price add up to ``cents`` exactly."""
    rows = []
    left = cents
    for i in range(n):
        last = i == n - 1
        quantity = 1 if last else 2 + (int(order[-2:]) + i) % 9
        share = left if last else cents // (n + 1) // quantity * quantity
        price = share // quantity
        left -= price * quantity
        rows.append(
            [order, f"{product[:3].upper()}-{i + 1:02d}", str(quantity), f"{price / 100:.2f}"]
        )
    return rows


def build(out: Path) -> None:
    from python_calamine import CalamineWorkbook

    with tempfile.TemporaryDirectory() as tmp:
        generate_demo(Path(tmp), scale=0.02, seed=42)
        sheet = CalamineWorkbook.from_path(str(Path(tmp) / "data" / "partners.xlsx"))
        partners = sheet.get_sheet_by_name("Partners").to_python()[1 : DEALERS + 1]
        with (Path(tmp) / "data" / "opportunities.csv").open(encoding="utf-8") as fh:
            deals = list(csv.DictReader(fh))
    office_of_region = {region: code for code, _, _, region in OFFICES}
    reps: dict[str, list[str]] = {}
    dealers = []
    for row in partners:
        pid, name, _, region, country, _, manager, _, status = (str(v) for v in row[:9])
        if manager not in reps:
            reps[manager] = [str(1002 + 100 * len(reps)), manager.split()[-1], manager.split()[0]]
            reps[manager].append(office_of_region[region])
        dealers.append([str(100 + int(pid[1:])), name, reps[manager][0], country, status])
    dealers.append(["199", "Harbour Toys Ltd", "1999", "United Kingdom", "Active"])  # no rep 1999
    orders: list[list[str]] = []
    lines: list[list[str]] = []
    wanted = {d[0] for d in dealers}
    by_dealer: dict[str, list[dict[str, str]]] = {}
    for deal in deals:
        partner = deal["PartnerAccountId"]
        dealer = str(100 + int(partner[1:])) if partner else ""
        if deal["CurrencyIsoCode"] == "USD" and dealer in wanted and deal["Amount"]:
            by_dealer.setdefault(dealer, []).append(deal)
    # each dealer's first orders, long closed, and its latest, often still open
    chosen = sorted(
        (d for ds in by_dealer.values() for d in ds[: ORDERS_PER_DEALER - 1] + ds[-1:]),
        key=lambda d: (d["CreatedDate"], d["Id"]),
    )
    for deal in chosen:
        dealer = str(100 + int(deal["PartnerAccountId"][1:]))
        number = str(10100 + len(orders))
        created = datetime.fromisoformat(deal["CreatedDate"].replace("Z", "+00:00")).date()
        closed = date.fromisoformat(deal["CloseDate"])
        if deal["IsClosed"] == "true":
            status = "Shipped" if deal["IsWon"] == "true" else "Cancelled"
        else:
            status = OPEN_STATUSES[len(orders) % len(OPEN_STATUSES)]
        orders.append([number, dealer, created.isoformat(), closed.isoformat(), status])
        cents = _cents(float(deal["Amount"]))
        lines.extend(_lines(number, deal["Product_Family__c"], cents, 1 + len(orders) % 3))
    orders.append([str(10100 + len(orders)), dealers[0][0], "2024-03-01", "", "In Process"])
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    _write(
        data / "offices.csv", ["officeCode", "city", "territory"], [list(o[:3]) for o in OFFICES]
    )
    _write(
        data / "employees.csv",
        ["employeeNumber", "lastName", "firstName", "officeCode"],
        list(reps.values()),
    )
    _write(
        data / "customers.csv",
        ["customerNumber", "customerName", "salesRepEmployeeNumber", "country", "status"],
        dealers,
    )
    _write(
        data / "orders.csv",
        ["orderNumber", "customerNumber", "orderDate", "closedDate", "status"],
        orders,
    )
    _write(
        data / "orderdetails.csv",
        ["orderNumber", "productCode", "quantityOrdered", "priceEach"],
        lines,
    )
    (out / "partnerscope.toml").write_text(CONFIG, encoding="utf-8")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=OUT, help=f"default: {OUT}")
    target = parser.parse_args().out
    build(target)
    print(f"wrote {target}")
