"""The workspace commands in a user's first hour: the demo keeps what a user added to its
folder, ``-w`` takes the config file itself, hints quote a command the user can run, a password
is never asked for without a terminal, the init template is clean, and a ledger command refuses
a period that is not a quarter before suggesting anything."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.cli.app import console, program
from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, make_workspace
from tests.test_payouts import ws  # noqa: F401


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setattr(console, "width", 250)


def invoke(*args, code=0, **kwargs):
    result = CliRunner().invoke(app, list(args), **kwargs)
    if result.exc_info and result.exit_code != code:
        import traceback

        traceback.print_exception(*result.exc_info)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


# -- demo --------------------------------------------------------------------------------------


def test_the_demo_refuses_to_replace_what_was_added_to_its_folder(web_world, tmp_path, monkeypatch):
    world = web_world.copy(tmp_path / "demo")
    (world.root / "data" / "mine.csv").write_text("id\n1\n", encoding="utf-8")
    with (world.root / "partnerscope.toml").open("a", encoding="utf-8") as fh:
        fh.write("# my note\n")
    refused = invoke("demo", str(world.root), "--scale", "0.01", code=1)
    message = " ".join(refused.stderr.split())
    # the web tests' five users; a file of the user's; the config edited
    assert "replacing it would lose what was added since: 5 users (ada, ana, fin, max, pat)" in (
        message
    )
    assert "1 file not the demo's (data/mine.csv)" in message
    assert "1 demo file changed since (partnerscope.toml)" in message
    assert "add --force to replace it anyway" in message
    assert (world.root / "data" / "mine.csv").exists()  # nothing was touched

    # --force replaces it, and the hints quote the command as the user runs it
    script = tmp_path / "venv" / "bin" / "partnerscope"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    done = invoke("demo", str(world.root), "--scale", "0.01", "--force")
    assert f"try: venv/bin/partnerscope -w {world.root} scorecard P" in done.output
    assert f"venv/bin/partnerscope -w {world.root} alerts\n" in done.output
    assert not re.search(r"(?m)^\s+(try: )?partnerscope -w", done.output)
    assert not (world.root / "data" / "mine.csv").exists()
    # a demo nothing was added to since is replaced without --force: nothing is lost
    again = invoke("demo", str(world.root), "--scale", "0.01")
    assert "Demo workspace ready" in again.output


def test_the_command_hints_quote(tmp_path, monkeypatch):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "partnerscope"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    # not activated: the path of the running executable, from the current folder
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert program() == "venv/bin/partnerscope"
    # activated (the running executable is the one on PATH): its name
    monkeypatch.setenv("PATH", str(bin_dir))
    assert program() == "partnerscope"
    # `python -m partnerscope`, nothing on PATH: the same
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "partnerscope" / "__main__.py")])
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert program().endswith(" -m partnerscope")


# -- -w, users add, init -----------------------------------------------------------------------


def test_workspace_option_takes_the_config_file_itself(tmp_path):
    invoke("init", str(tmp_path / "ws"))
    config = tmp_path / "ws" / "partnerscope.toml"
    out = invoke("-w", str(config), "validate").stdout
    assert f"{config} is valid" in out
    (tmp_path / "ws" / "data" / "x.csv").write_text("a\n", encoding="utf-8")
    wrong = invoke("-w", str(tmp_path / "ws" / "data" / "x.csv"), "validate", code=1)
    assert "x.csv is a file; --workspace takes the folder of a workspace" in wrong.stderr


def test_users_add_without_a_terminal_says_to_pipe_the_password(tmp_path):
    invoke("init", str(tmp_path / "ws"))
    root = ["-w", str(tmp_path / "ws")]
    # CliRunner's stdin is no terminal, as in a script or CI
    result = invoke(*root, "users", "add", "bo", "--role", "analyst", input="\n", code=1)
    line = " ".join(result.stderr.split())
    assert line.startswith("Error: no terminal to type the password on")
    assert "--password-stdin" in line and "users add bo --role analyst" in line
    assert "GetPassWarning" not in result.output
    piped = invoke(*root, "users", "add", "bo", "--role", "analyst", "--password-stdin",
                   input="a long enough passphrase\n")  # fmt: skip
    assert "Added bo (analyst)." in piped.stdout


def test_the_init_template_validates_and_has_no_empty_section(tmp_path):
    invoke("init", str(tmp_path / "ws"))
    text = (tmp_path / "ws" / "partnerscope.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)
    assert all(values for values in config.values()), config  # no empty [table]
    assert "later section of the guide" not in text
    assert "NA" not in config.get("ingest", {}).get("null_values", [])
    # the commented examples are valid settings once uncommented
    example = "\n".join(
        line[2:]
        for line in text[text.index("# [incentives]") :].splitlines()
        if line.startswith(("# [", "# min_payout", "# mode"))
    )
    (tmp_path / "ws" / "partnerscope.toml").write_text(text + "\n" + example, encoding="utf-8")
    assert "is valid" in invoke("-w", str(tmp_path / "ws"), "validate").stdout


# -- payouts -----------------------------------------------------------------------------------


def test_a_ledger_of_no_quarter_is_refused_without_a_failing_suggestion(ws):  # noqa: F811
    root = ["-w", str(ws.root)]
    for label in ("2026Q9", "FY2025-Q9", "2025-05"):
        bad = invoke(*root, "payouts", "show", label, code=1)
        line = " ".join(bad.stderr.split())
        assert f"Error: {label!r} is not a fiscal quarter" in line
        assert "written like FY2026-Q1" in line and "payouts compute" not in line
    # a quarter the run does not have: no `payouts compute` that would fail
    later = " ".join(invoke(*root, "payouts", "show", "FY2030-Q1", code=1).stderr.split())
    assert "no ledger for 'FY2030-Q1'" in later and "none can be computed yet" in later
    assert "payouts compute" not in later
    # a quarter the run has: the suggested command works, and a label as 2025-Q2 is the same
    suggested = " ".join(invoke(*root, "payouts", "show", "2025-Q2", code=1).stderr.split())
    command = re.search(r"`partnerscope (payouts compute [^`]+)`", suggested)
    assert command and command.group(1) == "payouts compute FY2025-Q2"
    invoke(*root, *command.group(1).split())
    assert "FY2025-Q2: draft" in invoke(*root, "payouts", "show", "2025-Q2").stdout


def test_a_ledger_suggestion_before_any_run(tmp_path):
    invoke("init", str(tmp_path / "ws"))
    result = invoke("-w", str(tmp_path / "ws"), "payouts", "show", "FY2026-Q1", code=1)
    assert "payouts compute" not in result.stderr
    assert "none can be computed yet" in " ".join(result.stderr.split())


def test_python_m_hint(monkeypatch, tmp_path):
    """Under `python -m partnerscope` with nothing on PATH the hint runs the interpreter."""
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "__main__.py")])
    monkeypatch.setenv("PATH", "")
    monkeypatch.chdir(tmp_path)
    assert program() == f"{Path(sys.executable).absolute()} -m partnerscope"


# -- validate reads the files ------------------------------------------------------------------

ORDERS = """
[sources.orders]
entity = "opportunities"
path = "data/orders/*.csv"
[sources.orders.columns]
opportunity_id = "order_no"
partner_id = "sales_agnet"
attribution = { constant = "sourced" }
status = { column = "Status", map = { Shipped = "won", Cancelled = "lost" }, otherwise = "open" }
amount = { expr = 'quantity * "Price Each"' }
created_at = { expr = "coalesce(ordered, shiped)" }
closed_at = { expr = "(SELECT max(x) FROM read_csv('elsewhere.csv'))" }
"""


def test_validate_reports_each_mapped_column_a_file_lacks(tmp_path):
    header = "order_no,sales_agent,Status,Quantity,Price Each,ordered,shipped\n"
    row = "1,P1,Shipped,2,10.5,2024-01-02,2024-01-03\n"
    folder = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE + ORDERS,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/orders/2024.csv": header + row,
            # a second file of the same export, as long as the head validate reads and more
            "data/orders/2025.csv": header + row * 20_000,
        },
    )
    result = invoke("-w", str(folder.root), "validate", code=1)
    assert result.stderr.splitlines() == [
        f"Error: {folder.root / 'partnerscope.toml'}",
        "  - sources.orders: column 'sales_agnet' (for partner_id) is not in "
        "data/orders/2024.csv (nor in 1 more of its files); did you mean 'sales_agent'?",
        # an expr's names match in any case ("quantity" is Quantity); a subquery is not checked
        "  - sources.orders: column 'shiped' (in the expr of created_at) is not in "
        "data/orders/2024.csv (nor in 1 more of its files); did you mean 'shipped'?",
    ]
    # before, validate said "is valid … OK" and only ingest found it, without a did-you-mean
    config = folder.config_path.read_text(encoding="utf-8")
    folder.config_path.write_text(
        config.replace('"sales_agnet"', '"sales_agent"').replace("shiped", "shipped"),
        encoding="utf-8",
    )
    assert "OK: 2 sources" in invoke("-w", str(folder.root), "validate").stdout


def test_validate_reports_a_missing_column_without_a_close_one_with_the_files_columns(tmp_path):
    folder = make_workspace(
        tmp_path / "ws", PARTNERS_SOURCE, {"data/partners.csv": "code,title\nP1,Acme\n"}
    )
    result = invoke("-w", str(folder.root), "validate", code=1)
    assert result.stderr.splitlines()[1:] == [
        "  - sources.partners: column 'id' (for partner_id) is not in data/partners.csv; its "
        "columns are 'code', 'title'",
        "  - sources.partners: column 'name' (for name) is not in data/partners.csv; its "
        "columns are 'code', 'title'",
    ]


def test_validate_checks_the_columns_of_lookups_and_line_files(tmp_path):
    """examples/wholesaler (docs/lookups.md) with a mistyped lookup key, looked-up column and
    a name in an expr."""
    import shutil

    root = tmp_path / "wholesaler"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "wholesaler", root)
    config = root / "partnerscope.toml"
    assert "is valid" in invoke("-w", str(root), "validate").stdout
    text = config.read_text(encoding="utf-8")
    for right, wrong in (
        ('column = "lastName"', 'column = "lastNme"'),
        ('key = "officeCode"', 'key = "officeCod"'),
        ("WHEN status IN", "WHEN statuss IN"),
    ):
        assert right in text
        text = text.replace(right, wrong)
    config.write_text(text, encoding="utf-8")
    problems = invoke("-w", str(root), "validate", code=1).stderr.splitlines()[1:]
    assert problems == [
        "  - lookups.offices.key: column 'officeCod' (its key) is not in data/offices.csv; did "
        "you mean 'officeCode'?",
        "  - sources.dealers.columns.partner_manager: reps (data/employees.csv) has no column "
        "'lastNme'; did you mean 'lastName'? Its columns are 'employeeNumber', 'lastName', "
        "'firstName', 'officeCode'",
        "  - sources.orders: column 'statuss' (in the expr of closed_at) is not in "
        "data/orders.csv; did you mean 'status'?",
    ]
