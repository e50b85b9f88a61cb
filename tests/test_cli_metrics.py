"""The metric commands through typer's CliRunner: run, runs, metrics, show."""

from __future__ import annotations

import pytest

from partnerscope.runs import get_run
from tests.conftest import make_workspace
from tests.test_cli import assert_one_error_line, run, wide_console  # noqa: F401
from tests.test_runs import CONFIG as RUNS_CONFIG
from tests.test_runs import LEADS, OPPS


@pytest.fixture
def ws(tmp_path):
    ws = make_workspace(
        tmp_path,
        RUNS_CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS,
            "data/leads.csv": LEADS,
        },
    )
    run("-w", str(ws.root), "ingest")
    return ws


def cells(out, label):
    """The cells of the table row starting with ``label`` (case-insensitive)."""
    for line in out.splitlines():
        parts = [c.strip() for c in line.replace("┃", "│").split("│")[1:-1]]
        if parts and parts[0].lower() == label.lower():
            return parts
    raise AssertionError(f"no row {label!r} in\n{out}")


def test_metrics_lists_the_catalog_even_outside_a_workspace():
    out = run("metrics").output
    assert "win_rate" in out
    assert "won_deals / closed_deals" in out
    assert "Metrics (2+" in out


def field(out, key):
    """The value of one `key  value` line of `metrics show`."""
    (line,) = [line for line in out.splitlines() if line.strip().startswith(key + "  ")]
    return line.strip().removeprefix(key).strip()


def test_metrics_show_prints_definition_inputs_and_sql():
    out = run("metrics", "show", "win_rate").output
    assert "win_rate — Win rate" in out
    assert field(out, "formula") == "won_deals / closed_deals"
    assert field(out, "inputs") == "won_deals (opportunities), closed_deals (opportunities)"
    assert 'FROM "opportunities"' in out
    assert "used by: pipeline_velocity" in out


def test_an_unknown_metric_is_one_line_with_a_suggestion():
    assert_one_error_line(run("metrics", "show", "win_rat", ok=False), "did you mean 'win_rate'")


def test_run_runs_and_show_partner(ws):
    out = run("-w", str(ws.root), "run", "--as-of", "2024-05-01").output
    assert "Run 1 (full: first run)" in out
    assert "periods 2024-01-01 to 2024-04-01" in out
    runs = run("-w", str(ws.root), "runs").output
    assert "│ 1   │" in runs and "full" in runs
    shown = run("-w", str(ws.root), "show", "partner", "P1", "--period", "2024-Q1").output
    assert "Acme (P1) — FY2024-Q1" in shown
    assert "partner type: Other partner (2 partners)" in shown
    # P1 won 100 of 150 closed in Q1; P2, its only peer, won nothing (O4 closed 1 April);
    # the previous quarter FY2023-Q4 is before the data: undefined, not zero
    head = ["metric", "FY2024-Q1", "", "FY2023-Q4", "median by partner type"]
    assert cells(shown, "Metric") == head
    assert cells(shown, "Won revenue") == ["Won revenue", "$100", "", "—", "$50"]
    assert cells(shown, "Win rate") == ["Win rate", "50.0%", "", "—", "50.0%"]
    # no catalog key, no unit code, no hash
    for key in ("won_revenue", "win_rate", "partner_type", "USD", "None", "nan"):
        assert key not in shown, key
    manifest = get_run(ws)
    assert manifest.config_hash[:8] not in runs
    assert manifest.config_hash[:8] in run("-w", str(ws.root), "runs", "--hashes").output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--period", "2024-13"], ["is not a period", "FY2026-Q1"]),
        (["--period", "FY2030"], ["FY2030 is not in the run", "FY2024"]),
        (["--cohort", "colour"], ["--cohort 'colour'", "partner_type"]),
    ],
)
def test_show_partner_errors_are_one_line(ws, args, words):
    run("-w", str(ws.root), "run", "--as-of", "2024-05-01")
    result = run("-w", str(ws.root), "show", "partner", "P1", *args, ok=False)
    assert_one_error_line(result, *words)


def test_show_needs_a_run_and_a_known_partner(ws):
    assert_one_error_line(
        run("-w", str(ws.root), "show", "partner", "P1", ok=False), "no run yet", "partnerscope run"
    )
    run("-w", str(ws.root), "run", "--as-of", "2024-05-01")
    assert_one_error_line(
        run("-w", str(ws.root), "show", "partner", "P3", ok=False), "no partner 'P3'"
    )


def test_a_bad_as_of_is_one_line(ws):
    assert_one_error_line(
        run("-w", str(ws.root), "run", "--as-of", "yesterday", ok=False),
        "--as-of 'yesterday' is not a date or time",
    )


@pytest.fixture
def ws2019(tmp_path):
    """The same deals and leads five years earlier: the data ends on 2 April 2019."""
    ws = make_workspace(
        tmp_path,
        RUNS_CONFIG,
        {
            "data/partners.csv": "id,name\nP1,Acme\nP2,Beta\n",
            "data/opps.csv": OPPS.replace("2024-", "2019-"),
            "data/leads.csv": LEADS.replace("2024-", "2019-"),
        },
    )
    run("-w", str(ws.root), "ingest")
    return ws


def test_a_run_as_of_now_on_old_data_says_so_before_computing(ws2019):
    out = run("-w", str(ws2019.root), "run").output
    # the last event is lead L3's first touch at 09:30 on 2 April 2019
    note = (
        "note: your data ends Apr 2, 2019, more than a quarter before now: the periods after "
        "2019-04 will be empty. To look from the end of the data, run `partnerscope run "
        "--as-of data-end`."
    )
    assert note in " ".join(out.split())
    assert out.index("data ends Apr 2, 2019") < out.index("Run 1")


def test_run_as_of_data_end_ends_the_periods_with_the_data(ws2019):
    out = " ".join(run("-w", str(ws2019.root), "run", "--as-of", "data-end").output.split())
    assert "Data ends Apr 2, 2019: looking from the end of 2019-04 (May 1, 2019, 00:00 UTC)." in out
    assert "periods 2019-01-01 to 2019-04-01" in out
    assert "more than a quarter" not in out
    assert get_run(ws2019).as_of == "2019-05-01T00:00:00"


def test_recent_data_gives_no_note(ws):
    # the data ends 2 April 2024, but a run as of 2024-05-01 is not "now": no note either way
    out = run("-w", str(ws.root), "run", "--as-of", "2024-05-01").output
    assert "more than a quarter" not in out


def test_data_end_without_data_is_one_line(tmp_path):
    files = {
        "data/partners.csv": "id,name\nP1,Acme\n",
        "data/opps.csv": OPPS.splitlines()[0] + "\n",
        "data/leads.csv": LEADS.splitlines()[0] + "\n",
    }
    ws = make_workspace(tmp_path, RUNS_CONFIG, files)
    run("-w", str(ws.root), "ingest")
    assert_one_error_line(
        run("-w", str(ws.root), "run", "--as-of", "data-end", ok=False),
        "--as-of data-end: the warehouse has no dated rows yet",
        "partnerscope ingest",
    )


def test_the_listings_print_csv_and_json(ws):
    import csv
    import io
    import json

    assert json.loads(run("-w", str(ws.root), "runs", "--format", "json").output) == []
    run("-w", str(ws.root), "run", "--as-of", "2024-05-01")
    (listed,) = json.loads(run("-w", str(ws.root), "runs", "--format", "json").output)
    assert listed["run"] == "1" and listed["data as of (UTC)"] == "2024-05-01 00:00:00"
    assert listed["mode"] == "full"
    catalog = list(csv.DictReader(io.StringIO(run("metrics", "--format", "csv").output)))
    win_rate = next(r for r in catalog if r["name to type"] == "win_rate")
    assert win_rate["metric"] == "Win rate"
    assert win_rate["definition"] == "won_deals / closed_deals"
    shown = run("-w", str(ws.root), "show", "partner", "P1", "-p", "2024-Q1", "--format", "json")
    rows = {r["metric"]: r for r in json.loads(shown.output)}
    assert rows["Won revenue"] == {
        "metric": "Won revenue",
        "FY2024-Q1": "$100",
        "change": "",
        "FY2023-Q4": "—",
        "median by partner type": "$50",
    }


def test_a_run_with_partners_but_no_activity_says_there_is_nothing_to_evaluate(tmp_path):
    """Partners alone (no deal, lead or other event yet): the run stores its metrics and says
    that no period can be judged, instead of failing on an empty panel."""
    from tests.test_runs import PARTNERS_SOURCE

    ws = make_workspace(tmp_path, PARTNERS_SOURCE, {"data/partners.csv": "id,name\nP1,Acme\n"})
    run("-w", str(ws.root), "ingest")
    out = run("-w", str(ws.root), "run").output
    assert "Nothing to evaluate yet: no complete period has data." in out
    assert "Evaluated None" not in out
    assert get_run(ws, 1).evaluation["period"] is None
