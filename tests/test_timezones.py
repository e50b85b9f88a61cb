"""Time zones: naive source times are read in the source's zone and stored in UTC; explicit
offsets are honoured; the FX reference date is the date in the workspace reporting zone."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tests.conftest import quarantine, query

NEW_YORK_SOURCE = """
[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
timezone = "America/New_York"
[sources.opps.columns]
opportunity_id = "id"
status = { constant = "open" }
created_at = "ts"

[sources.formatted]
entity = "opportunities"
path = "data/formatted.csv"
timezone = "America/New_York"
[sources.formatted.columns]
opportunity_id = "id"
status = { constant = "open" }
created_at = { column = "ts", format = "%m/%d/%Y %H:%M" }

[sources.offsets]
entity = "opportunities"
path = "data/offsets.csv"
timezone = "America/New_York"
[sources.offsets.columns]
opportunity_id = "id"
status = { constant = "open" }
created_at = { column = "ts", format = "%Y-%m-%d %H:%M %z" }
"""


def test_naive_times_in_source_zone_stored_as_utc(workspace_factory):
    ws = workspace_factory(
        NEW_YORK_SOURCE,
        {
            "data/opps.csv": (
                "id,ts\n"
                # the day before US daylight saving time starts (EST, UTC−5)
                "A,2024-03-09 12:00\n"
                # DST started at 02:00 on 2024-03-10 (EDT, UTC−4)
                "B,2024-03-10 12:00\n"
                "C,2024-03-10 01:30\n"
                "D,2024-03-10 03:30\n"
                # DST ends at 02:00 on 2024-11-03
                "E,2024-11-02 12:00\n"
                "F,2024-11-04 12:00\n"
                # a date without a time is local midnight: EDT in July
                "G,2024-07-09\n"
                "H,2024-01-09\n"
                # explicit offsets are honoured, whatever the source zone
                "I,2024-03-10T12:00:00Z\n"
                "J,2024-03-10T12:00:00+02:00\n"
                "K,2024-03-10 12:00:00-0800\n"
                "L,2024-03-10T12:00:00.250+05:30\n"
                "R,2024-03-10 12:00:00 UTC\n"
            ),
            "data/formatted.csv": "id,ts\nM,03/09/2024 12:00\nN,03/10/2024 12:00\n",
            "data/offsets.csv": "id,ts\nP,2024-03-10 12:00 +0200\nQ,2024-07-01 00:30 -0100\n",
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (17, 17, 0)
    assert query(ws, "SELECT opportunity_id, created_at FROM opportunities ORDER BY 1") == [
        ("A", datetime(2024, 3, 9, 17, 0)),
        ("B", datetime(2024, 3, 10, 16, 0)),
        ("C", datetime(2024, 3, 10, 6, 30)),
        ("D", datetime(2024, 3, 10, 7, 30)),
        ("E", datetime(2024, 11, 2, 16, 0)),
        ("F", datetime(2024, 11, 4, 17, 0)),
        ("G", datetime(2024, 7, 9, 4, 0)),
        ("H", datetime(2024, 1, 9, 5, 0)),
        ("I", datetime(2024, 3, 10, 12, 0)),
        ("J", datetime(2024, 3, 10, 10, 0)),
        ("K", datetime(2024, 3, 10, 20, 0)),
        ("L", datetime(2024, 3, 10, 6, 30, 0, 250000)),
        ("M", datetime(2024, 3, 9, 17, 0)),
        ("N", datetime(2024, 3, 10, 16, 0)),
        ("P", datetime(2024, 3, 10, 10, 0)),
        ("Q", datetime(2024, 7, 1, 1, 30)),
        ("R", datetime(2024, 3, 10, 12, 0)),
    ]


def test_source_without_zone_uses_the_workspace_zone(workspace_factory):
    ws = workspace_factory(
        """
        [workspace]
        timezone = "Europe/Berlin"
        [sources.opps]
        entity = "opportunities"
        path = "data/opps.csv"
        [sources.opps.columns]
        opportunity_id = "id"
        status = { constant = "open" }
        created_at = "ts"
        """,
        # CET (UTC+1) in January, CEST (UTC+2) in July
        {"data/opps.csv": "id,ts\nW,2024-01-15 09:00\nS,2024-07-15 09:00\n"},
    )
    ws.ingest()
    assert query(ws, "SELECT opportunity_id, created_at FROM opportunities ORDER BY 1") == [
        ("S", datetime(2024, 7, 15, 7, 0)),
        ("W", datetime(2024, 1, 15, 8, 0)),
    ]


def test_unreadable_timestamp_is_quarantined(workspace_factory):
    ws = workspace_factory(
        NEW_YORK_SOURCE,
        {
            "data/opps.csv": "id,ts\nA,2024-02-30 10:00\nB,yesterday\n",
            "data/formatted.csv": "id,ts\nM,2024-03-09 12:00\n",
            "data/offsets.csv": "id,ts\n",
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (3, 0, 3)
    # sources load in name order: formatted (whose format the ISO text does not match), opps
    assert quarantine(ws) == [
        (2, "created_at", "2024-03-09 12:00", "not_timestamp"),
        (2, "created_at", "2024-02-30 10:00", "not_timestamp"),
        (3, "created_at", "yesterday", "not_timestamp"),
    ]


FX_BY_REPORTING_ZONE = """
[workspace]
base_currency = "USD"
timezone = "{zone}"

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
status = { constant = "won" }
amount = "amount"
currency = { constant = "EUR" }
created_at = "created"
closed_at = "closed"
"""

FX_DAYS = "ccy,date,rate\nEUR,2024-03-31,1.10\nEUR,2024-04-01,1.20\n"
# 20:00 UTC on 31 March is already 1 April (05:00) in Tokyo; 05:00 UTC on 1 April is still
# 31 March (22:00) in Los Angeles
CLOSES = (
    "id,amount,created,closed\n"
    "T,100,2024-03-01T00:00:00Z,2024-03-31T20:00:00Z\n"
    "L,100,2024-03-01T00:00:00Z,2024-04-01T05:00:00Z\n"
)


def test_fx_reference_date_is_read_in_the_reporting_zone(workspace_factory):
    expected = {
        # T: 31 Mar UTC → 1.10; L: 1 Apr UTC → 1.20
        "UTC": [
            ("L", Decimal("1.20000000"), Decimal("120.00")),
            ("T", Decimal("1.10000000"), Decimal("110.00")),
        ],
        # T: 1 Apr in Tokyo → 1.20; L: 1 Apr 14:00 in Tokyo → 1.20
        "Asia/Tokyo": [
            ("L", Decimal("1.20000000"), Decimal("120.00")),
            ("T", Decimal("1.20000000"), Decimal("120.00")),
        ],
        # T: 31 Mar 13:00 in LA → 1.10; L: 31 Mar 22:00 in LA → 1.10
        "America/Los_Angeles": [
            ("L", Decimal("1.10000000"), Decimal("110.00")),
            ("T", Decimal("1.10000000"), Decimal("110.00")),
        ],
    }
    for zone, rows in expected.items():
        ws = workspace_factory(
            FX_BY_REPORTING_ZONE.replace("{zone}", zone),
            {"data/fx.csv": FX_DAYS, "data/opps.csv": CLOSES},
        )
        ws.ingest()
        got = query(ws, "SELECT opportunity_id, fx_rate, amount FROM opportunities ORDER BY 1")
        assert got == rows, zone
        # stored times stay UTC whatever the reporting zone
        assert query(ws, "SELECT closed_at FROM opportunities ORDER BY opportunity_id") == [
            (datetime(2024, 4, 1, 5, 0),),
            (datetime(2024, 3, 31, 20, 0),),
        ]
