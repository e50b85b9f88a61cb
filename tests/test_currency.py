"""Currency conversion at ingest (METRICS.md, Conventions): the latest rate on or before the
reference date (closed_at for won/lost, created_at for open), cents rounded half away from zero,
the local amount and the rate kept, no rate → quarantined as no_fx_rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.conftest import quarantine, query

FX_AND_OPPS = """
[workspace]
base_currency = "USD"

[sources.fx]
entity = "fx_rates"
path = "data/fx.csv"
[sources.fx.columns]
currency = "ccy"
rate_date = "date"
rate = "usd_per_unit"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
status = "status"
amount = "amount"
currency = "ccy"
created_at = "created"
closed_at = "closed"
"""

FX_CSV = (
    "ccy,date,usd_per_unit\n"
    "EUR,2024-01-01,1.10\n"
    "EUR,2024-02-01,1.0825\n"
    "EUR,2024-03-01,1.08345678\n"
    "GBP,2024-02-15,1.25\n"
)

OPPS_CSV = (
    "id,status,amount,ccy,created,closed\n"
    # row 2: won → closed_at 2024-02-10 → EUR rate of 2024-02-01 (1.0825): 100 × 1.0825 = 108.25
    "W1,won,100.00,EUR,2023-12-15,2024-02-10\n"
    # row 3: closed on a rate date uses that day's rate: 10 × 1.0825 = 10.825 → 10.83 (half up)
    "W2,won,10.00,EUR,2024-01-05,2024-02-01\n"
    # row 4: lost → closed_at 2024-03-05 → 1.08345678 (all 8 decimals): 1,083,456.78
    "L1,lost,1000000.00,EUR,2024-01-15,2024-03-05\n"
    # row 5: open → created_at 2024-01-20 → rate of 2024-01-01 (1.10): 50 × 1.10 = 55.00
    "O1,open,50,EUR,2024-01-20,\n"
    # row 6: open, created before the first EUR rate → no rate: quarantined
    "O2,open,50,EUR,2023-12-31,\n"
    # row 7: base currency, rate 1: 99.995 → 100.00 (half away from zero)
    "U1,won,99.995,USD,2024-01-02,2024-01-03\n"
    # row 8: GBP closed the day before the first GBP rate → quarantined
    "G1,won,80,GBP,2024-01-01,2024-02-14\n"
    # row 9: GBP closed on 2024-02-15 → 1.25: 80 × 1.25 = 100.00
    "G2,won,80,GBP,2024-01-01,2024-02-15\n"
    # row 10: a currency without any rate → quarantined
    "J1,won,1000,JPY,2024-01-01,2024-02-15\n"
    # row 11: lower-case code is read as EUR; 0.01 × 1.0825 = 0.010825 → 0.01
    "X1,won,0.01,eur,2024-01-01,2024-02-20\n"
    # row 12: open deal without an amount: nothing to convert, loads without a rate
    "N1,open,,JPY,2024-01-01,\n"
)


def test_amounts_converted_at_the_rate_of_their_reference_date(workspace_factory):
    ws = workspace_factory(FX_AND_OPPS, {"data/fx.csv": FX_CSV, "data/opps.csv": OPPS_CSV})
    report = ws.ingest()
    opps = next(f for f in report.files if f.source == "opps")
    assert (opps.rows_in, opps.loaded, opps.quarantined) == (11, 8, 3)
    assert query(
        ws,
        "SELECT opportunity_id, currency, amount_local, fx_rate, amount "
        "FROM opportunities ORDER BY opportunity_id",
    ) == [
        ("G2", "GBP", Decimal("80.00"), Decimal("1.25000000"), Decimal("100.00")),
        ("L1", "EUR", Decimal("1000000.00"), Decimal("1.08345678"), Decimal("1083456.78")),
        ("N1", "JPY", None, None, None),
        ("O1", "EUR", Decimal("50.00"), Decimal("1.10000000"), Decimal("55.00")),
        ("U1", "USD", Decimal("100.00"), Decimal("1.00000000"), Decimal("100.00")),
        ("W1", "EUR", Decimal("100.00"), Decimal("1.08250000"), Decimal("108.25")),
        ("W2", "EUR", Decimal("10.00"), Decimal("1.08250000"), Decimal("10.83")),
        ("X1", "EUR", Decimal("0.01"), Decimal("1.08250000"), Decimal("0.01")),
    ]
    assert quarantine(ws) == [
        (6, "currency", "EUR on 2023-12-31", "no_fx_rate"),
        (8, "currency", "GBP on 2024-02-14", "no_fx_rate"),
        (10, "currency", "JPY on 2024-02-15", "no_fx_rate"),
    ]


def test_rate_loaded_later_is_used_on_the_next_ingest(workspace_factory):
    """A quarantined row loads once its rate exists; the rate is never guessed before."""
    ws = workspace_factory(
        FX_AND_OPPS,
        {
            "data/fx.csv": "ccy,date,usd_per_unit\nEUR,2024-02-01,1.20\n",
            "data/opps.csv": "id,status,amount,ccy,created,closed\nE1,open,10,EUR,2024-01-10,\n",
        },
    )
    ws.ingest()
    assert query(ws, "SELECT count(*) FROM opportunities") == [(0,)]
    assert quarantine(ws) == [(2, "currency", "EUR on 2024-01-10", "no_fx_rate")]
    (ws.root / "data/fx.csv").write_text(
        "ccy,date,usd_per_unit\nEUR,2024-01-01,1.50\nEUR,2024-02-01,1.20\n", encoding="utf-8"
    )
    ws.ingest()
    assert query(ws, "SELECT opportunity_id, fx_rate, amount FROM opportunities") == [
        ("E1", Decimal("1.50000000"), Decimal("15.00"))
    ]


def test_blank_currency_with_an_amount_is_quarantined_not_dropped(workspace_factory):
    """A mapped currency column that is blank on a row with an amount: the amount cannot be
    converted, so the row is quarantined instead of being stored without its amount."""
    ws = workspace_factory(
        FX_AND_OPPS,
        {
            "data/fx.csv": FX_CSV,
            "data/opps.csv": (
                "id,status,amount,ccy,created,closed\n"
                "B1,won,100,,2024-01-05,2024-02-10\n"
                "B2,open,,,2024-01-05,\n"
            ),
        },
    )
    ws.ingest()
    assert query(ws, "SELECT opportunity_id, currency, amount FROM opportunities") == [
        ("B2", None, None)
    ]
    assert quarantine(ws) == [(2, "currency", None, "missing")]


def test_fx_rates_checks(workspace_factory):
    ws = workspace_factory(
        """
        [workspace]
        base_currency = "EUR"
        [sources.fx]
        entity = "fx_rates"
        path = "data/fx.csv"
        [sources.fx.columns]
        currency = "ccy"
        rate_date = "date"
        rate = "rate"
        base_currency = "quote"
        """,
        {
            "data/fx.csv": (
                "ccy,date,rate,quote\n"
                "USD,2024-01-01,0.91,EUR\n"
                "GBP,2024-01-01,0,EUR\n"
                "JPY,2024-01-01,0.0062,USD\n"
                "CHF,2024-01-01,1.05,eur\n"
                "US,2024-01-01,1,EUR\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (5, 2, 3)
    assert query(ws, "SELECT currency, rate_date, rate FROM fx_rates ORDER BY 1") == [
        ("CHF", date(2024, 1, 1), Decimal("1.05000000")),
        ("USD", date(2024, 1, 1), Decimal("0.91000000")),
    ]
    assert quarantine(ws) == [
        (3, "rate", "0", "positive_rate"),
        (4, "base_currency", "USD", "quoted_in_base"),
        (6, "currency", "US", "not_currency"),
    ]


def test_money_too_large_to_store_is_quarantined(workspace_factory):
    """Money is DECIMAL(18,2): an amount with more than 16 digits before the point, or one that
    only becomes that large after conversion, is quarantined instead of failing the ingest."""
    ws = workspace_factory(
        """
        [workspace]
        base_currency = "JPY"
        [sources.fx]
        entity = "fx_rates"
        path = "data/fx.csv"
        [sources.fx.columns]
        currency = "ccy"
        rate_date = "date"
        rate = "rate"
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.csv"
        [sources.opps.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        amount = "amount"
        currency = "ccy"
        created_at = "created"
        """,
        {
            "data/fx.csv": "ccy,date,rate\nUSD,2024-01-01,150\nEUR,2024-01-01,99999999999\n",
            "data/opps.csv": (
                "id,amount,ccy,created\n"
                "A,99999999999999999999,JPY,2024-01-02\n"
                "B,100000000000000,USD,2024-01-02\n"
                "C,1000,USD,2024-01-02\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.rows_in == report.loaded + report.quarantined == 5
    assert query(ws, "SELECT currency, rate FROM fx_rates") == [("USD", Decimal("150.00000000"))]
    assert query(ws, "SELECT opportunity_id, amount FROM opportunities") == [
        ("C", Decimal("150000.00"))
    ]
    assert quarantine(ws) == [
        (3, "rate", "99999999999", "above_maximum"),
        (2, "amount", "99999999999999999999", "above_maximum"),
        # 100,000,000,000,000 USD × 150 = 1.5e16 JPY: too large once converted
        (3, "amount", "100000000000000", "above_maximum"),
    ]


def test_rollup_sum_too_large_to_store_is_quarantined(workspace_factory):
    """Each line fits, their sum (6e15 + 6e15 = 1.2e16) does not: the record's lines are
    quarantined together, the other record loads."""
    ws = workspace_factory(
        """
        [sources.lines]
        entity = "opportunities"
        path = "data/lines.csv"
        rollup = true
        [sources.lines.columns]
        opportunity_id = "order"
        status = { constant = "open" }
        amount = "amount"
        created_at = "created"
        """,
        {
            "data/lines.csv": (
                "order,amount,created\n"
                "R1,6000000000000000,2024-01-01\n"
                "R2,2.50,2024-01-01\n"
                "R1,6000000000000000,2024-01-01\n"
                "R2,2.50,2024-01-01\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (4, 2, 2)
    assert query(ws, "SELECT opportunity_id, amount FROM opportunities") == [
        ("R2", Decimal("5.00"))
    ]
    assert quarantine(ws) == [
        (2, "amount", "6000000000000000", "above_maximum"),
        (4, "amount", "6000000000000000", "above_maximum"),
    ]
