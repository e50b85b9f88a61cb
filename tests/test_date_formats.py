"""Non-ISO dates (issue 26, item 12): the format is read from the values and the setting that
reads them is printed in the ingest summary and by `partnerscope quarantine`."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.ingest.dates import detect, fix
from tests.conftest import PARTNERS_SOURCE, csv_text, make_workspace, query

OPPS = """
[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
{extra}
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = {{ constant = "sourced" }}
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
"""


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(console, "width", 250)


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("values", "expected", "ambiguous"),
    [
        (["3/15/2018", "12/1/2018", ""], "%m/%d/%Y", None),  # 15 > 12: the day is second
        (["15/3/2018", "1/12/2018"], "%d/%m/%Y", None),
        (["3/5/2018", "4/1/2018"], "%m/%d/%Y", "%d/%m/%Y"),  # no part above 12
        (["15.03.2018", "01.04.2018"], "%d.%m.%Y", None),
        (["2018/03/15", "2018/04/01"], "%Y/%m/%d", None),
        (["3/15/2018 14:30", "3/16/2018 09:05"], "%m/%d/%Y %H:%M", None),
        (
            ["3/15/2018 2:30 PM", "3/16/2018 9:05:10 AM", "3/17/2018 1:00 PM"],
            "%m/%d/%Y %I:%M %p",
            None,
        ),
        (["15.03.2018 14:30:00"], "%d.%m.%Y %H:%M:%S", None),
    ],
)
def test_detect_reads_the_format_from_the_values(values, expected, ambiguous):
    guess = detect(values)
    assert guess is not None
    assert (guess.format, guess.ambiguous_with) == (expected, ambiguous)


def test_detect_gives_up_on_values_in_no_usual_format():
    assert detect(["2018-03-15", "yesterday", "soon"]) is None
    assert detect(["", None]) is None


def test_fix_names_the_setting_and_the_ambiguity():
    guess = detect(["3/5/2018"])
    assert guess is not None
    assert fix("orders", "closed_at", guess, timestamp=True) == (
        "values such as '3/5/2018' read as month/day/year: set date_format = \"%m/%d/%Y\" in "
        '[sources.orders] (or format = "%m/%d/%Y" on columns.closed_at alone); day and month '
        "are ambiguous (no value has a part above 12): if they are written day/month/year, use "
        '"%d/%m/%Y" instead'
    )
    stamped = detect(["3/15/2018 14:30"])
    assert stamped is not None
    assert 'set timestamp_format = "%m/%d/%Y %H:%M" in [sources.orders]' in fix(
        "orders", "created_at", stamped, timestamp=True
    )


def rows(n: int) -> str:
    body = [["id", "partner", "status", "amount", "created", "closed"]]
    for i in range(1, n + 1):
        body.append([f"O{i}", "P1", "won", 100, f"3/{i + 12}/2018", f"4/{i + 12}/2018"])
    return csv_text(body)


def test_ingest_and_quarantine_print_the_fix_and_the_fix_loads_every_row(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + OPPS.format(extra=""),
        {"data/partners.csv": "id,name\nP1,Acme\n", "data/opps.csv": rows(10)},
    )
    fix_text = (
        "created_at: 10 of 10 rows of sources.opps are not read as dates; values such as "
        "'3/13/2018' read as month/day/year: set date_format = \"%m/%d/%Y\" in [sources.opps] "
        '(or format = "%m/%d/%Y" on columns.created_at alone)'
    )
    out = run("-w", str(ws.root), "ingest")
    assert "11 = 1 + 10" in out  # every row quarantined ...
    assert fix_text in out  # ... and the summary says why and how to read them
    out = run("-w", str(ws.root), "quarantine")
    assert fix_text in out
    # closed_at is never reached: a row is quarantined with its first problem only
    assert "closed_at: 10 of 10" not in out

    (ws.root / "partnerscope.toml").write_text(
        PARTNERS_SOURCE + OPPS.format(extra='date_format = "%m/%d/%Y"'), encoding="utf-8"
    )
    out = run("-w", str(ws.root), "ingest")
    assert "11 = 11 + 0" in out
    assert "Hint:" not in out
    assert query(ws, "SELECT min(created_at), max(closed_at) FROM opportunities")[0] == (
        datetime(2018, 3, 13),
        datetime(2018, 4, 22),
    )


def test_a_few_bad_dates_are_no_format_problem(tmp_path):
    body = [["id", "partner", "status", "amount", "created", "closed"]]
    for i in range(1, 11):
        created = "3/15/2018" if i == 1 else f"2018-03-{i:02d}"
        body.append([f"O{i}", "P1", "won", 100, created, "2018-04-01"])
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + OPPS.format(extra=""),
        {"data/partners.csv": "id,name\nP1,Acme\n", "data/opps.csv": csv_text(body)},
    )
    out = run("-w", str(ws.root), "ingest")
    assert "11 = 10 + 1" in out
    assert "Hint:" not in out


@given(
    days=st.lists(st.dates(min_value=date(1990, 1, 1), max_value=date(2069, 12, 31)), min_size=1),
    fmt=st.sampled_from(["%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%m/%d/%Y %H:%M"]),
)
@settings(max_examples=60, deadline=None)
def test_detect_finds_the_format_the_values_were_written_in(days, fmt):
    values = [d.strftime(fmt.replace(" %H:%M", " 14:30")) for d in days]
    guess = detect(values)
    assert guess is not None
    assert guess.matched == guess.tried == len(values[:500])
    if guess.ambiguous_with is None:
        assert guess.format == fmt
    else:  # no day above 12: either order reads them all, and the guess says so
        assert fmt in (guess.format, guess.ambiguous_with)
        assert all(d.day <= 12 for d in days)
    # a day above 12 in a day/month format settles it
    if fmt.startswith(("%m/%d", "%d/%m")) and any(d.day > 12 for d in days):
        assert guess.format == fmt and guess.ambiguous_with is None


def test_the_fix_changes_a_format_already_declared(tmp_path):
    """A column with its own (wrong) format: that format is what to change, as it wins over
    date_format."""
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE
        + OPPS.format(extra="").replace(
            'created_at = "created"', 'created_at = { column = "created", format = "%d/%m/%Y" }'
        ),
        {"data/partners.csv": "id,name\nP1,Acme\n", "data/opps.csv": rows(10)},
    )
    out = run("-w", str(ws.root), "ingest")
    assert (
        "created_at: 10 of 10 rows of sources.opps are not read as dates; values such as "
        "'3/13/2018' read as month/day/year: change format = \"%d/%m/%Y\" on columns.created_at "
        'of [sources.opps] to format = "%m/%d/%Y"'
    ) in out
