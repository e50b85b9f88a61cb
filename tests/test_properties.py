"""Property tests: whatever a CSV export looks like, every row is loaded or quarantined exactly
once, and an ingest that fails leaves the warehouse exactly as it was."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerscope.errors import DataFileError
from tests.conftest import make_workspace, query, snapshot

CONFIG = """
[sources.partners]
entity = "partners"
path = "data/partners.csv"
[sources.partners.columns]
partner_id = "id"
name = "name"

[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
rollup = {rollup}
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { expr = "CASE WHEN partner IS NOT NULL THEN 'sourced' END" }
status = "status"
amount = "amount"
currency = "ccy"
created_at = "created"
closed_at = "closed"

[sources.leads]
entity = "leads"
path = "data/leads.csv"
[sources.leads.columns]
lead_id = "id"
partner_id = "partner"
assigned_at = "assigned"
"""

HEADER = ["id", "partner", "status", "amount", "ccy", "created", "closed"]
NASTY = [
    "NULL",
    "-",
    "",
    "  ",
    "1e400",
    "99999999999999999999",
    "-1",
    "nan",
    "inf",
    "2024-13-45",
    "2024-02-30T25:61:00Z",
    "0000-00-00",
    "€1,000.5",
    "1.234,5",
    "[/b]",
    "'",
    "\\",
    "०१२",
    "P9",
    "won",
    "EUR",
]
garbage = st.one_of(
    st.sampled_from(NASTY),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='\x00\r\n"'),
        max_size=12,
    ),
)


def valid_row(i: int) -> list[str]:
    status = ("won", "lost", "open")[i % 3]
    closed = "" if status == "open" else f"2024-02-{1 + i % 27:02d}"
    return [
        f"O{i}",
        ("P1", "P2", "")[i % 3],
        status,
        f"{10 * i + 0.5}",
        "USD",
        "2024-01-15",
        closed,
    ]


@st.composite
def corrupted_rows(draw) -> list[list[str]]:
    rows = [valid_row(i) for i in range(draw(st.integers(1, 12)))]
    for _ in range(draw(st.integers(0, 10))):
        r = draw(st.integers(0, len(rows) - 1))
        action = draw(st.sampled_from(["garbage", "truncate", "extra", "blank", "bad_date", "dup"]))
        row = rows[r]
        if action == "garbage":
            row[draw(st.integers(0, len(row) - 1))] = draw(garbage)
        elif action == "truncate" and len(row) > 1:
            del row[draw(st.integers(1, len(row) - 1)) :]
        elif action == "extra":
            row.extend(draw(st.lists(garbage, min_size=1, max_size=3)))
        elif action == "blank":
            column = draw(st.sampled_from([0, 2, 5]))  # id, status, created: required
            if column < len(row):
                row[column] = ""
        elif action == "bad_date":
            column = draw(st.sampled_from([5, 6]))
            if column < len(row):
                row[column] = draw(st.sampled_from(["31/12/2024", "soon", "2024-1-1x"]))
        elif action == "dup":
            rows.append(list(rows[r]))
    return rows


def csv_lines(rows: list[list[str]]) -> str:
    # written as is, unquoted: a comma inside garbage makes an extra field, as in real exports
    return ",".join(HEADER) + "\n" + "".join(",".join(r) + "\n" for r in rows)


def is_blank(line: str) -> bool:
    """A line a reader skips: empty, or every one of the header's fields empty."""
    fields = line.split(",")
    return line == "" or (len(fields) == len(HEADER) and not any(fields))


WRONG_LEADS = [
    b"",
    b"sku,price\nA,1\n",
    bytes(range(256)),
    b"PAR1" + b"\x00" * 32,
]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=corrupted_rows(),
    second=corrupted_rows(),
    wrong=st.sampled_from(WRONG_LEADS),
    rollup=st.booleans(),
)
def test_every_row_is_loaded_or_quarantined_and_failures_change_nothing(
    tmp_path_factory, first, second, wrong, rollup
):
    ws = make_workspace(
        tmp_path_factory.mktemp("prop"),
        CONFIG.replace("{rollup}", str(rollup).lower()),
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": csv_lines(first),
            "data/leads.csv": "id,partner,assigned\n",
        },
    )
    report = ws.ingest()
    for f in report.files:
        assert f.rows_in == f.loaded + f.quarantined, f
    opps = next(f for f in report.files if f.source == "opps")
    lines = csv_lines(first).split("\n")[1:-1]
    expected_rows = {n for n, line in enumerate(lines, start=2) if not is_blank(line)}
    assert opps.rows_in == len(expected_rows)
    quarantined = [r for (r,) in query(ws, "SELECT \"row\" FROM _quarantine WHERE source = 'opps'")]
    stored = [r for (r,) in query(ws, "SELECT _source_row FROM opportunities")]
    # each row once: quarantined rows and stored rows are distinct rows of the file
    assert len(set(quarantined)) == len(quarantined) == opps.quarantined
    assert len(set(stored)) == len(stored) <= opps.loaded
    assert set(quarantined).isdisjoint(stored)
    assert set(quarantined) | set(stored) <= expected_rows
    if rollup:
        # the lines of an order are one stored record, named by its first line
        assert opps.records == len(stored)
    else:
        # superseded duplicates are loaded rows that lost to a newer one with the same key
        assert opps.loaded - len(stored) == opps.superseded

    # A later ingest whose last file is wrong: the opportunities before it are not kept.
    before = snapshot(ws)
    (ws.root / "data/opps.csv").write_text(csv_lines(second), encoding="utf-8")
    (ws.root / "data/leads.csv").write_bytes(wrong)
    with pytest.raises(DataFileError, match=r"leads\.csv"):
        ws.ingest()
    assert snapshot(ws) == before
