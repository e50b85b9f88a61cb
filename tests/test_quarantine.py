"""Every quarantine rule, with the exact row (header = row 1), column, value and rule, and
rows in = loaded + quarantined."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query

OPPS_SOURCE = """
[workspace]
base_currency = "USD"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = "attr"
status = "status"
amount = "amount"
currency = "ccy"
created_at = "created"
closed_at = "closed"
"""

OPPS_HEADER = "id,partner,attr,status,amount,ccy,created,closed\n"
OPPS_ROWS = [
    # (row, line, expected quarantine entry or None when it loads)
    (2, "O1,P1,sourced,won,100,USD,2024-01-01,2024-02-01", None),
    (3, ",P1,sourced,won,100,USD,2024-01-01,2024-02-01", ("opportunity_id", None, "missing")),
    (
        4,
        "O3,P1,sourced,won,100,USD,not a date,2024-02-01",
        ("created_at", "not a date", "not_timestamp"),
    ),
    (5, "O4,P1,sourced,won,abc,USD,2024-01-01,2024-02-01", ("amount", "abc", "not_money")),
    (6, "O5,P1,sourced,pending,100,USD,2024-01-01,", ("status", "pending", "not_allowed")),
    (7, "O6,P1,sourced,won,-5,USD,2024-01-01,2024-02-01", ("amount", "-5", "below_minimum")),
    (8, "O7,P1,sourced,won,100,USD,2024-01-01,", ("closed_at", None, "closed_needs_date")),
    (
        9,
        "O8,P1,sourced,lost,100,USD,2024-03-01,2024-02-01",
        ("closed_at", "2024-02-01", "closed_after_created"),
    ),
    (
        10,
        "O9,P1,,won,100,USD,2024-01-01,2024-02-01",
        ("attribution", None, "attribution_needs_partner"),
    ),
    (
        11,
        "O10,P9,sourced,won,100,USD,2024-01-01,2024-02-01",
        ("partner_id", "P9", "unknown_reference"),
    ),
    (
        12,
        "O11,P1,sourced,won,100,EUR,2024-01-01,2024-02-01",
        ("currency", "EUR on 2024-02-01", "no_fx_rate"),
    ),
    (
        13,
        "O12,P1,sourced,won,100,USD,2024-01-01,2024-02-01,surplus",
        (None, "O12,P1,sourced,won,100,USD,2024-01-01,2024-02-01,surplus", "malformed_row"),
    ),
    (
        14,
        "O13,P1,sourced,open,100,USD,2024-01-01,2024-02-01",
        ("closed_at", "2024-02-01", "open_has_no_close"),
    ),
    (15, "O14,P1,sourced,won,,USD,2024-01-01,2024-02-01", ("amount", None, "won_needs_amount")),
    (16, "O15,P1,sourced,won,100,EURO,2024-01-01,2024-02-01", ("currency", "EURO", "not_currency")),
    (
        17,
        "O16,,influenced,won,100,USD,2024-01-01,2024-02-01",
        ("attribution", "influenced", "attribution_needs_partner"),
    ),
    (
        18,
        "O17,P1,sourced,won,100,USD,2024-01-01",
        (None, "O17,P1,sourced,won,100,USD,2024-01-01", "malformed_row"),
    ),
    (19, "O18,,,lost,0,USD,2024-01-01,2024-01-01", None),
]


def test_each_rule_names_row_column_value(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE + OPPS_SOURCE,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS_HEADER + "".join(line + "\n" for _, line, _ in OPPS_ROWS),
        },
    )
    report = ws.ingest()
    opps = next(f for f in report.files if f.source == "opps")
    assert (opps.rows_in, opps.loaded, opps.quarantined) == (18, 2, 16)
    assert report.rows_in == report.loaded + report.quarantined == 2 + 18
    expected = sorted((row, *entry) for row, _, entry in OPPS_ROWS if entry is not None)
    assert quarantine(ws) == expected
    assert query(ws, "SELECT opportunity_id, _source_row FROM opportunities ORDER BY 2") == [
        ("O1", 2),
        ("O18", 19),
    ]


def test_first_problem_is_the_reason_and_all_are_listed(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE + OPPS_SOURCE,
        {
            "data/partners.csv": "id,name\nP1,Acme\n",
            "data/opps.csv": OPPS_HEADER + ",P7,sourced,maybe,xyz,USD,2024-01-01,\n",
        },
    )
    ws.ingest()
    rows = query(
        ws, "SELECT \"row\", rule, problems, record FROM _quarantine WHERE source = 'opps'"
    )
    assert len(rows) == 1
    row, rule, problems, record = rows[0]
    assert (row, rule) == (2, "missing")
    assert problems == [
        "opportunity_id: opportunity_id (from column 'id') is empty but required",
        "status: status (from column 'status') must be one of open, won, lost; map the source "
        "value with sources.opps.columns.status.map",
        "amount: amount (from column 'amount') is not an amount",
        # 'maybe' is not 'open', so the table check wants a close date as well
        "closed_at: closed_at is required when status is won or lost",
        "partner_id: partner_id is not in partners; load it there first or correct the id",
    ]
    # the original cells are kept, as read
    assert json.loads(record) == {
        "id": "",
        "partner": "P7",
        "attr": "sourced",
        "status": "maybe",
        "amount": "xyz",
        "ccy": "USD",
        "created": "2024-01-01",
        "closed": "",
        "__row": 2,
    }


def test_partner_column_rules(workspace_factory):
    ws = workspace_factory(
        """
        [sources.partners]
        entity = "partners"
        path = "data/partners.csv"
        [sources.partners.columns]
        partner_id = "id"
        name = "name"
        joined_at = "joined"
        latitude = "lat"
        partner_type = "type"
        """,
        {
            "data/partners.csv": (
                "id,name,joined,lat,type\n"
                "P1,Ok,2024-01-31,48.1,VAR\n"
                "P2,Bad date,31/12/2024,48.1,var\n"
                "P3,Bad number,2024-01-31,north,var\n"
                "P4,Too far north,2024-01-31,90.5,var\n"
                "P5,Too far south,2024-01-31,-90.5,var\n"
                "P6,,2024-01-31,0,var\n"
                "P7,Unknown type,2024-01-31,0,wholesaler\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (7, 1, 6)
    assert query(ws, "SELECT partner_id, partner_type FROM partners") == [("P1", "var")]
    assert quarantine(ws) == [
        (3, "joined_at", "31/12/2024", "not_date"),
        (4, "latitude", "north", "not_number"),
        (5, "latitude", "90.5", "above_maximum"),
        (6, "latitude", "-90.5", "below_minimum"),
        (7, "name", None, "missing"),
        (8, "partner_type", "wholesaler", "not_allowed"),
    ]


def test_other_table_checks(workspace_factory):
    ws = workspace_factory(
        PARTNERS_SOURCE
        + """
        [sources.leads]
        entity = "leads"
        path = "data/leads.csv"
        [sources.leads.columns]
        lead_id = "id"
        partner_id = "partner"
        assigned_at = "assigned"
        first_touch_at = "touched"
        converted = "converted"

        [sources.surveys]
        entity = "surveys"
        path = "data/surveys.csv"
        [sources.surveys.columns]
        response_id = "id"
        partner_id = "partner"
        responded_at = "at"
        kind = "kind"
        score = "score"
        scale_min = "lo"
        scale_max = "hi"
        """,
        {
            "data/partners.csv": "id,name\nP1,Acme\n",
            "data/leads.csv": (
                "id,partner,assigned,touched,converted\n"
                "L1,P1,2024-01-01 10:00,2024-01-01 11:00,yes\n"
                "L2,P1,2024-01-01 10:00,2024-01-01 09:00,no\n"
                "L3,,2024-01-01 10:00,,no\n"
            ),
            "data/surveys.csv": (
                "id,partner,at,kind,score,lo,hi\n"
                "S1,P1,2024-01-01,csat,4,1,5\n"
                "S2,P1,2024-01-01,csat,6,1,5\n"
                "S3,P1,2024-01-01,nps,9,1,10\n"
                "S4,P1,2024-01-01,nps,9,0,10\n"
            ),
        },
    )
    report = ws.ingest()
    assert report.rows_in == report.loaded + report.quarantined == 1 + 3 + 4
    assert quarantine(ws) == [
        (3, "first_touch_at", "2024-01-01 09:00", "touch_after_assign"),
        (4, "partner_id", None, "missing"),
        (3, "score", "6", "score_in_scale"),
        (4, "kind", "nps", "nps_scale"),
    ]
    assert query(ws, "SELECT lead_id, converted FROM leads") == [("L1", True)]
    assert query(ws, "SELECT response_id FROM surveys ORDER BY 1") == [("S1",), ("S4",)]


def test_row_numbers_count_blank_lines_and_multiline_cells(workspace_factory):
    """The row a person sees when opening the file: a blank line is a row, a quoted cell that
    spans two lines is one."""
    ws = workspace_factory(
        PARTNERS_SOURCE,
        {
            "data/partners.csv": (
                "id,name\n"
                'P1,"Acme\nInternational"\n'  # row 2 (two lines)
                "P2,Beta,surplus\n"  # row 3
                "\n"  # row 4: blank, not a record
                "P3,\n"  # row 5
                "P4,Delta\n"  # row 6
                "\n"
            )
        },
    )
    report = ws.ingest()
    assert (report.rows_in, report.loaded, report.quarantined) == (4, 2, 2)
    assert quarantine(ws) == [
        (3, None, "P2,Beta,surplus", "malformed_row"),
        (5, "name", None, "missing"),
    ]
    assert query(ws, "SELECT partner_id, _source_row FROM partners ORDER BY 1") == [
        ("P1", 2),
        ("P4", 6),
    ]


ROLLUP_SOURCE = (
    PARTNERS_SOURCE
    + """
[sources.lines]
entity = "opportunities"
path = "data/lines.csv"
rollup = true
[sources.lines.columns]
opportunity_id = "order"
partner_id = "partner"
attribution = { constant = "sourced" }
status = { constant = "won" }
amount = "amount"
created_at = "date"
closed_at = "date"
"""
)


def test_rollup_rejects_a_record_with_its_lines_and_names_the_line_to_blame(
    workspace_factory,
) -> None:
    lines = (
        "order,partner,amount,date\n"
        "SO1,P1,10,2024-01-05\n"  # row 2: fine, but its record has a bad line
        "SO1,P1,ten,2024-01-05\n"  # row 3: the bad line
        "SO1,P1,30,2024-01-05\n"  # row 4: fine, rejected with row 3
        "SO2,P9,5,2024-01-06\n"  # row 5: unknown partner, a record-level rule
        "SO3,P2,7,2024-01-07\n"  # row 6: loads
        "SO3,P2,8,2024-01-07\n"  # row 7: loads, summed with row 6
    )
    ws = workspace_factory(
        ROLLUP_SOURCE, {"data/partners.csv": PARTNERS_CSV, "data/lines.csv": lines}
    )
    report = ws.ingest()
    by_file = {f.source: f for f in report.files}
    assert (by_file["lines"].rows_in, by_file["lines"].loaded) == (6, 2)
    assert by_file["lines"].quarantined == 4
    rows = query(
        ws,
        'SELECT "row", rule, message FROM _quarantine WHERE source = \'lines\' ORDER BY "row"',
    )
    assert [(r[0], r[1]) for r in rows] == [
        (2, "not_money"),
        (3, "not_money"),
        (4, "not_money"),
        (5, "unknown_reference"),
    ]
    assert rows[0][2].startswith("another line of this record (row 3) is rejected: amount")
    assert rows[1][2].startswith("amount (from column 'amount') is not an amount")
    assert rows[2][2].startswith("another line of this record (row 3) is rejected: ")
    assert rows[3][2].startswith(
        "its record (the lines sharing its key) is rejected: partner_id is not in partners"
    )
    assert query(ws, "SELECT opportunity_id, amount FROM opportunities") == [
        ("SO3", Decimal("15.00"))
    ]
