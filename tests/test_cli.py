"""The command line through typer's CliRunner: exit codes and what a person reads."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.cli.app import console
from tests.conftest import PARTNERS_SOURCE, make_workspace

OPPS = """
[sources.opps]
entity = "opportunities"
path = "data/opps.csv"
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
"""

PARTNERS_CSV = "id,name\nP1,Acme\nP2,Beta\n"
OPPS_CSV = (
    "id,partner,status,amount,created,closed\n"
    "O1,P1,won,100,2024-01-01,2024-02-01\n"
    "O2,P2,open,50,2024-01-05,\n"
    "O3,P3,won,70,2024-01-01,2024-02-01\n"  # row 4: P3 is no partner
    "O4,P1,lost,0,2024-01-01,2024-03-01\n"
    "O5,P1,won,[/b]oops,2024-01-01,2024-02-01\n"  # row 6: not an amount (and not markup)
)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables and lines as wide as they need, so that cells are compared whole."""
    monkeypatch.setattr(console, "width", 250)


def run(*args, ok=True):
    result = CliRunner().invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def assert_one_error_line(result, *words):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.fixture
def loaded(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + OPPS,
        {"data/partners.csv": PARTNERS_CSV, "data/opps.csv": OPPS_CSV},
    )
    result = run("-w", str(ws.root), "ingest")
    return ws, result


def test_init_creates_a_valid_workspace(tmp_path):
    target = tmp_path / "new"
    result = run("init", str(target), "--name", "ACME channel")
    assert f"Created workspace {target}" in result.output
    text = (target / "partnerscope.toml").read_text(encoding="utf-8")
    assert 'name = "ACME channel"' in text
    assert (target / "data").is_dir() and (target / "state").is_dir()
    assert (target / ".gitignore").read_text(encoding="utf-8") == "state/\n"
    result = run("-w", str(target), "validate")
    assert "OK: 0 sources" in result.output
    # a second init refuses to overwrite
    again = run("init", str(target), ok=False)
    assert_one_error_line(again, "partnerscope.toml already exists; choose an empty folder")


def test_validate_failing(tmp_path):
    ws = make_workspace(tmp_path / "ws", PARTNERS_SOURCE)  # data/partners.csv is not there
    result = run("-w", str(ws.root), "validate", ok=False)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"Error: {ws.root / 'partnerscope.toml'}",
        f"  - sources.partners.path: no file matches 'data/partners.csv' (relative to {ws.root})",
    ]


def test_ingest_report(loaded):
    _, result = loaded
    out = result.stdout
    assert "Ingest batch 1" in out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    cells = [c.strip() for c in rows["opps"].split("│")[1:-1]]
    # source, file, rows in, loaded, quarantined, new, updated, unchanged, superseded
    assert cells == ["opps", "data/opps.csv", "5", "3", "2", "3", "0", "0", "0"]
    cells = [c.strip() for c in rows["partners"].split("│")[1:-1]]
    assert cells == ["partners", "data/partners.csv", "2", "2", "0", "2", "0", "0", "0"]
    assert "rows in = loaded + quarantined: 7 = 5 + 2" in out
    assert "see why with `partnerscope quarantine`" in out


def test_ingest_again_reports_unchanged(loaded):
    ws, _ = loaded
    out = run("-w", str(ws.root), "ingest", "opps").stdout
    line = next(line for line in out.splitlines() if "│ opps" in line)
    assert [c.strip() for c in line.split("│")[1:-1]] == [
        "opps",
        "data/opps.csv",
        "5",
        "3",
        "2",
        "0",
        "0",
        "3",
        "0",
    ]


def test_imports(loaded):
    ws, _ = loaded
    out = run("-w", str(ws.root), "imports").stdout
    lines = [line for line in out.splitlines() if "│" in line and "data/" in line]
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in lines]
    # newest first: import, batch, source, file, sha256 (12), rows in, loaded, quarantined, new…
    assert [row[:4] + row[5:11] for row in cells] == [
        ["3", "1", "opps", "data/opps.csv", "5", "3", "2", "3", "0", "0"],
        ["2", "1", "partners", "data/partners.csv", "2", "2", "0", "2", "0", "0"],
    ]
    assert all(len(row[4]) == 12 for row in cells)


def test_quarantine_listing_and_export(loaded, tmp_path):
    ws, _ = loaded
    out = run("-w", str(ws.root), "quarantine").stdout
    assert "Quarantined rows by reason" in out
    assert "unknown_reference" in out and "not_money" in out
    assert "'[/b]oops'" in out  # a cell is shown as written, never read as markup
    target = tmp_path / "quarantine.csv"
    out = run("-w", str(ws.root), "quarantine", "--export", str(target)).stdout
    assert f"wrote {target}" in out
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [
        (r["source"], r["file"], r["row"], r["column"], r["value"], r["rule"]) for r in rows
    ] == [
        ("opps", "data/opps.csv", "4", "partner_id", "P3", "unknown_reference"),
        ("opps", "data/opps.csv", "6", "amount", "[/b]oops", "not_money"),
    ]
    assert json.loads(rows[0]["record"])["partner"] == "P3"
    assert rows[1]["message"] == "amount (from column 'amount') is not an amount"
    # filters
    out = run("-w", str(ws.root), "quarantine", "--rule", "not_money", "--export", str(target))
    with target.open(encoding="utf-8", newline="") as fh:
        assert [r["row"] for r in csv.DictReader(fh)] == ["6"]
    out = run("-w", str(ws.root), "quarantine", "--source", "partners").stdout
    assert "Nothing quarantined" in out


def test_quarantine_shows_only_the_latest_import_of_each_file(loaded):
    ws, _ = loaded
    (ws.root / "data/opps.csv").write_text(
        OPPS_CSV.replace("O3,P3", "O3,P2").replace("[/b]oops", "10"), encoding="utf-8"
    )
    run("-w", str(ws.root), "ingest")
    out = run("-w", str(ws.root), "quarantine").stdout
    assert "Nothing quarantined" in out


def test_status(loaded):
    ws, _ = loaded
    out = run("-w", str(ws.root), "status").stdout
    counts = {
        cells[0]: cells[1]
        for line in out.splitlines()
        if line.count("│") == 3
        for cells in [[c.strip() for c in line.split("│")[1:-1]]]
    }
    assert counts["Partners"] == "2"
    assert counts["Opportunities"] == "3"
    assert counts["Leads"] == "0"
    assert counts["FX rates"] == "0" and counts["Partner costs"] == "0"
    assert "2 imports, the latest finished" in out


def test_schema():
    out = run("schema", "opportunities").stdout
    assert "opportunities — key (opportunity_id)" in out
    assert "closed_at" in out and "→ partners" in out
    assert "open, won, lost" in out
    result = run("schema", "deals", ok=False)
    assert_one_error_line(result, "unknown table 'deals'; tables are fx_rates, partners")


def test_errors_are_one_line(tmp_path, loaded):
    ws, _ = loaded
    # not a workspace
    assert_one_error_line(
        run("-w", str(tmp_path / "nowhere"), "status", ok=False),
        "is not a partnerscope workspace (no partnerscope.toml)",
    )
    # --file without exactly one source
    assert_one_error_line(
        run("-w", str(ws.root), "ingest", "--file", "x.csv", ok=False),
        "--file needs exactly one source",
    )
    # unknown source
    assert_one_error_line(
        run("-w", str(ws.root), "ingest", "deals", ok=False),
        "unknown source 'deals'; sources in partnerscope.toml: partners, opps",
    )
    # an expression DuckDB cannot run
    (ws.root / "partnerscope.toml").write_text(
        PARTNERS_SOURCE
        + OPPS.replace('"sourced" }', '"sourced" }\nname = { expr = "nosuch(id)" }'),
        encoding="utf-8",
    )
    assert_one_error_line(
        run("-w", str(ws.root), "ingest", ok=False),
        "data/opps.csv: the mapping of sources.opps cannot be applied to this file",
    )


def test_status_before_any_ingest(tmp_path):
    ws = make_workspace(tmp_path / "ws", PARTNERS_SOURCE, {"data/partners.csv": PARTNERS_CSV})
    assert_one_error_line(
        run("-w", str(ws.root), "status", ok=False),
        "no warehouse yet; load data with `partnerscope ingest`",
    )


def test_main_module_runs(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "partnerscope", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("partnerscope ")


def test_ingest_without_sources_says_what_to_declare(tmp_path) -> None:
    ws = tmp_path / "empty"
    run("init", str(ws))
    result = run("-w", str(ws), "ingest", ok=False)
    assert result.exit_code == 1
    assert "Error: no sources are declared in partnerscope.toml" in result.output
    assert "Traceback" not in result.output


def test_quarantine_leaves_out_rows_of_a_file_since_deleted(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + OPPS.replace('path = "data/opps.csv"', 'path = "data/opps*.csv"'),
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/opps.csv": OPPS_CSV,
            "data/opps_old.csv": OPPS_CSV.replace("O", "X").replace("P3", "P9"),
        },
    )
    run("-w", str(ws.root), "ingest")
    out = run("-w", str(ws.root), "quarantine").stdout
    assert "data/opps_old.csv" in out and "'P9'" in out
    (ws.root / "data/opps_old.csv").unlink()
    out = " ".join(run("-w", str(ws.root), "quarantine").stdout.split())
    assert "'P9'" not in out and "'P3'" in out
    assert (
        "1 file loaded before but since deleted (data/opps_old.csv): its rows are left out; "
        "list them with --deleted"
    ) in out
    # by reason: only the rows of data/opps.csv (one unknown partner, one bad amount)
    assert "│ opps │ unknown_reference │ partner_id │ 1 │" in out
    out = " ".join(run("-w", str(ws.root), "quarantine", "--deleted").stdout.split())
    assert "'P9'" in out and "files since deleted: data/opps_old.csv" in out
    assert "│ opps │ unknown_reference │ partner_id │ 2 │" in out
    # only the deleted file had problems of a rule: nothing to show, and the note says why
    out = " ".join(run("-w", str(ws.root), "quarantine", "--source", "partners").stdout.split())
    assert "Nothing quarantined" in out and "since deleted" not in out
    out = " ".join(run("-w", str(ws.root), "quarantine", "--rule", "not_money").stdout.split())
    assert "'[/b]oops'" in out and "since deleted" in out


def test_data_listings_take_format(loaded):
    ws, _ = loaded
    out = run("-w", str(ws.root), "quarantine", "--format", "json").stdout
    assert [(r["row"], r["column"]) for r in json.loads(out)] == [
        ("4", "partner_id"),
        ("6", "amount"),
    ]
    out = run("-w", str(ws.root), "imports", "--format", "csv").stdout
    records = list(csv.DictReader(out.splitlines()))
    assert [(r["source"], r["loaded"]) for r in records] == [("opps", "3"), ("partners", "2")]
    out = run("-w", str(ws.root), "status", "--format", "csv").stdout
    counts = {r["table"]: r["rows"] for r in csv.DictReader(out.splitlines())}
    assert counts["Opportunities"] == "3" and counts["Partners"] == "2"
