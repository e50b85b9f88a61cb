"""Listing commands print data a script can read: ``--format csv|json`` parses with the
standard library, the lines beside a table go to stderr, and a piped table keeps every cell
whole instead of cutting it to the 80 columns of a terminal.

The workspace is the web tests' demo (tests/webtools.py: scale 0.1, seed 42, five users, the
FY2026-Q3 ledger approved and FY2026-Q4's a draft, one paid MDF request each for P0001 and
P0002, three deal registrations of the demo).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from typer.testing import CliRunner

from partnerscope.accounts import Accounts
from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.workspace import Workspace


def out(world, *args):
    result = CliRunner().invoke(app, ["-w", str(world.root), *args])
    assert result.exit_code == 0, result.output
    return result


def test_payouts_list_as_json(web_world):
    result = out(web_world, "payouts", "list", "--format", "json")
    ledgers = json.loads(result.stdout)
    assert [(ledger["quarter"], ledger["status"]) for ledger in ledgers] == [
        ("FY2026-Q3", "approved"),
        ("FY2026-Q4", "draft"),
    ]
    assert web_world.approved == "FY2026-Q3"
    assert ledgers[0]["approved"].endswith(" test") and ledgers[1]["approved"] == ""
    assert set(ledgers[0]) == {
        "quarter",
        "status",
        "run",
        "computed",
        "approved",
        "paid",
        "reference",
    }


def test_a_ledgers_lines_as_json_with_the_total_on_stderr(web_world):
    result = out(
        web_world, "payouts", "show", "FY2026-Q4", "--partner", "P0001", "--format", "json"
    )
    lines = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert [(line["rule"], line["amount"]) for line in lines] == [
        ("Quarterly bonus", "$31,893.16"),
        ("New-customer bonus", "$4,000.00"),
    ]
    assert lines[1]["why"] == "4 new customer(s) × 1,000.00"
    assert "2 line(s), total $35,893.16 (draft)" in result.stderr


def test_users_list_as_csv(web_world):
    rows = list(csv.reader(io.StringIO(out(web_world, "users", "list", "--format", "csv").stdout)))
    assert rows[0] == ["user", "role", "partners", "API tokens", "email"]
    # the world is the session's, where other tests issue tokens: the column counts each
    # user's tokens not revoked, as the store holds them now
    live = Counter(
        t.user
        for t in Accounts.open(Workspace.open(web_world.root)).tokens()
        if t.revoked_at is None
    )
    assert sorted(rows[1:]) == [
        ["ada", "admin", "all", str(live["ada"]), ""],
        ["ana", "analyst", "all", str(live["ana"]), ""],
        ["fin", "finance", "all", str(live["fin"]), ""],
        ["max", "partner_manager", "P0003, managed by Marco Rossi", str(live["max"]), ""],
        ["pat", "partner_user", "P0001", str(live["pat"]), ""],
    ]


def test_mdf_requests_as_csv(web_world):
    result = out(web_world, "mdf", "list", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["partner"], r["name"], r["status"]) for r in rows] == [
        ("Lumen Bridge Partners GmbH P0001", "P0001 roadshow", "paid"),
        ("Titan Cloud Solutions Inc. P0002", "P0002 roadshow", "paid"),
    ]
    assert [(r["requested"], r["approved"], r["claimed"], r["paid"]) for r in rows] == [
        ("$900.00", "$900.00", "$800.00", "$800.00")
    ] * 2
    assert "2 request(s)" in result.stderr and "request(s)" not in result.stdout


def test_a_piped_table_keeps_long_names_whole(web_world, monkeypatch):
    """CliRunner's output is no terminal, as a pipe: the table is printed at its own width."""
    monkeypatch.setattr(console, "width", 80)
    result = out(web_world, "registrations", "list")
    assert "│ Granite Cloud Solutions GmbH (P0007) │ Müller Logistik GmbH " in result.stdout
    assert "mueller-logistik.de" in result.stdout and "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) > 80
    rows = json.loads(out(web_world, "registrations", "list", "--format", "json").stdout)
    assert [(r["#"], r["account"], r["status"]) for r in rows][:3] == [
        ("1", "Müller Logistik GmbH", "protected"),
        ("2", "Mueller Logistik", "submitted"),
        ("3", "Brightwave Media Ltd", "submitted"),
    ]


def test_the_data_model_as_csv_names_each_columns_table():
    result = CliRunner().invoke(app, ["schema", "partners", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0] == {
        "table": "partners",
        "key": "partner_id",
        "column": "partner_id",
        "type": "string",
        "required": "yes",
        "allowed / default": "",
        "description": "Stable partner identifier.",
    }
    assert rows[2]["allowed / default"].startswith("var, si, distributor")
    every = json.loads(CliRunner().invoke(app, ["schema", "--format", "json"]).stdout)
    assert {"partners", "opportunities", "fx_rates"} <= {r["table"] for r in every}


def test_decisions_due_as_json_with_the_quiet_signals_on_stderr(web_world):
    """The demo's decision DEC-0001 has its initial review on 2026-10-31."""
    result = out(web_world, "decisions", "due", "--on", "2026-11-01", "--format", "json")
    due = json.loads(result.stdout)
    assert {"decision": "DEC-0001", "kind": "review due"} in [
        {k: r[k] for k in ("decision", "kind")} for r in due
    ]
    review = next(r for r in due if r["kind"] == "review due")
    assert "initial review 2026-10-31 is due" in review["what"]
    before = json.loads(
        out(web_world, "decisions", "due", "--on", "2026-10-30", "--format", "json").stdout
    )
    assert "review due" not in [r["kind"] for r in before]


def test_alerts_and_flags_as_json_match_the_runs_files(web_world):
    """`alerts --format json` is the run's alerts, `--flags` its flags; each parses alone."""
    from partnerscope.evaluation.pipeline import ALERTS, FLAGS
    from partnerscope.evaluation.view import read
    from partnerscope.runs import get_run
    from partnerscope.workspace import Workspace

    ws = Workspace.open(web_world.root)
    manifest = get_run(ws, None)
    stored_alerts = read(ws, manifest, ALERTS).to_pylist()
    stored_flags = read(ws, manifest, FLAGS).to_pylist()
    result = out(web_world, "alerts", "--format", "json")
    alerts = json.loads(result.stdout)
    assert len(alerts) == len(stored_alerts) > 0
    assert sorted(a["why"] for a in alerts) == sorted(a["message"] for a in stored_alerts)
    assert f"{len(stored_flags)} flags: add --flags" in result.stderr
    flags = json.loads(out(web_world, "alerts", "--flags", "--format", "json").stdout)
    assert len(flags) == len(stored_flags) > 0
    assert sorted(f["evidence"] for f in flags) == sorted(f["evidence"] for f in stored_flags)
    plans = json.loads((web_world.root / "state" / "plans.json").read_text())["plans"]
    rows = list(csv.DictReader(io.StringIO(out(web_world, "plans", "--format", "csv").stdout)))
    opened = sorted(p["partner_id"] for p in plans if p["status"] == "open")
    assert len(opened) > 0
    assert sorted(r["partner"].rsplit(" ", 1)[1] for r in rows) == opened
    assert {r["status"] for r in rows} == {"open"}
