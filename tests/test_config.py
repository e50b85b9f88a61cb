"""Configuration validation: every problem at once, each with its key and a hint, through
load_config and `partnerscope validate`."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from partnerscope.cli import app
from partnerscope.config import load_config
from partnerscope.errors import ConfigError

TZ_HINT = "use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'"
ENTITIES = (
    "fx_rates, partners, accounts, opportunities, leads, mdf_activities, certifications, "
    "certification_requirements, compliance_checks, surveys, targets, partner_costs, "
    "market_sizes, support_cases, subscriptions, partner_surveys, territories, "
    "partner_territories, product_families, audits, audit_findings"
)

MANY_PROBLEMS = """
[workspace]
timezone = "Mars/Olympus"
base_curency = "USD"

[sources.p]
entity = "partner"
path = "data/p.csv"

[sources.o]
entity = "opportunities"
path = "data/missing.csv"
timezone = "Nowhere/Land"
[sources.o.columns]
opportunity_id = "id"
amount_usd = "amount"
status = { column = "stage", map = { Won = "won", Lost = "closed" } }
closed_at = { column = "closed", fromat = "%m/%d/%Y" }
"""


def expected_problems(root):
    return [
        # shape (pydantic) first …
        "workspace.base_curency: unknown key; did you mean 'base_currency'?",
        "sources.o.columns.closed_at.fromat: unknown key; did you mean 'format'?",
        # … then meaning, for everything that could still be read
        f"workspace.timezone: unknown time zone 'Mars/Olympus'; {TZ_HINT}",
        f"sources.o.timezone: unknown time zone 'Nowhere/Land'; {TZ_HINT}",
        f"sources.p.entity: unknown entity 'partner'; did you mean 'partners'?; entities are "
        f"{ENTITIES}",
        "sources.o.columns.amount_usd: opportunities has no column 'amount_usd'; did you mean "
        "'amount'?; see `partnerscope schema opportunities`",
        "sources.o.columns.status: 'closed' is not an allowed value; use one of open, won, lost",
        "sources.o.columns: required column 'created_at' of opportunities is not mapped; add "
        '`created_at = "<column in your file>"`',
        f"sources.o.path: no file matches 'data/missing.csv' (relative to {root})",
    ]


def write_config(root, text):
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "p.csv").write_text("id\n", encoding="utf-8")
    path = root / "partnerscope.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_config(tmp_path, MANY_PROBLEMS)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == str(path)
    assert info.value.problems == expected_problems(tmp_path)
    assert str(info.value).startswith(f"{path}: 9 problems in the configuration\n  - ")


def test_validate_command_lists_every_problem(tmp_path):
    write_config(tmp_path, MANY_PROBLEMS)
    result = CliRunner().invoke(app, ["-w", str(tmp_path), "validate"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {tmp_path / 'partnerscope.toml'}"
    assert lines[1:] == [f"  - {p}" for p in expected_problems(tmp_path)]


def test_validate_ok(tmp_path):
    write_config(
        tmp_path,
        """
        [sources.p]
        entity = "partners"
        path = "data/p.csv"
        [sources.p.columns]
        partner_id = "id"
        name = "id"
        """,
    )
    result = CliRunner().invoke(app, ["-w", str(tmp_path), "validate"])
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output
    assert "data/p.csv" in result.output
    assert "OK: 1 sources, 113 metrics (0 of this workspace's own), config hash " in result.output


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (
            '[workspace]\nbase_currency = "usd"',
            "workspace.base_currency: String should match pattern '^[A-Z]{3}$' (got 'usd')",
        ),
        ("[wrkspace]\nname = 'x'", "wrkspace: unknown key; did you mean 'workspace'?"),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\ndelimter = ";"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"',
            "sources.p.delimter: unknown key; did you mean 'delimiter'?",
        ),
        (
            '[sources.p]\npath = "data/p.csv"',
            "sources.p.entity: required key is missing",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = { column = "id", constant = "P" }\nname = "id"',
            "sources.p.columns.partner_id: give exactly one of column, constant or expr "
            "(got column, constant)",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = 5\nname = "id"',
            "sources.p.columns.partner_id: Input should be a valid string (got 5)",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"\n'
            'partner_type = { column = "t", map = { Reseller = "reseller" } }',
            "sources.p.columns.partner_type: 'reseller' is not an allowed value; use one of "
            "var, si, distributor, oem, msp, retailer, referral, other",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"\n'
            'status = { constant = "dormant" }',
            "sources.p.columns.status: 'dormant' is not an allowed value; use one of active, "
            "inactive, exited",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"\n'
            'partner_type = { column = "t", default = "reseller" }',
            "sources.p.columns.partner_type: 'reseller' is not an allowed value; use one of "
            "var, si, distributor, oem, msp, retailer, referral, other",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = { column = "id", scale = 2 }',
            "sources.p.columns.name.scale: name is not numeric",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\nheader = false\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"',
            "sources.p.column_names: a file without a header row needs column_names = [...] in "
            "file order",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\ncolumn_names = ["id"]\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"',
            "sources.p.column_names: only used with header = false",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\n'
            'decimal_separator = ","\nthousands_separator = ","\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"',
            "sources.p: decimal_separator and thousands_separator are both ','; set "
            "thousands_separator to the mark that groups digits in your file",
        ),
        (
            '[sources.p]\nentity = "partners"\npath = "data/p.csv"\npreset = "hubspot"\n'
            '[sources.p.columns]\npartner_id = "id"\nname = "id"',
            "sources.p.preset: unknown preset 'hubspot'; choose one of",
        ),
        ("[workspace\n", "TOML syntax:"),
    ],
)
def test_single_problems_name_key_and_fix(tmp_path, toml, problem):
    path = write_config(tmp_path, toml)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0].startswith(problem)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"no partnerscope\.toml here; create one with"):
        load_config(tmp_path / "partnerscope.toml")


def test_files_are_not_checked_when_asked_not_to(tmp_path):
    path = write_config(
        tmp_path,
        """
        [sources.p]
        entity = "partners"
        path = "data/later/*.csv"
        [sources.p.columns]
        partner_id = "id"
        name = "id"
        """,
    )
    assert load_config(path, check_files=False).sources["p"].paths == ["data/later/*.csv"]
    with pytest.raises(ConfigError, match="no file matches 'data/later/"):
        load_config(path)


def test_thousands_separator_follows_the_decimal_separator(tmp_path):
    path = write_config(
        tmp_path,
        """
        [sources.eu]
        entity = "partners"
        path = "data/p.csv"
        decimal_separator = ","
        [sources.eu.columns]
        partner_id = "id"
        name = "id"
        [sources.us]
        entity = "partners"
        path = "data/p.csv"
        [sources.us.columns]
        partner_id = "id"
        name = "id"
        """,
    )
    sources = load_config(path).sources
    assert (sources["eu"].decimal_separator, sources["eu"].thousands_separator) == (",", ".")
    assert (sources["us"].decimal_separator, sources["us"].thousands_separator) == (".", ",")


def test_an_award_naming_no_metric_is_a_located_problem(tmp_path):
    """Like a scorecard weight, an enabled award's measures are checked when the file loads;
    a disabled award is not."""
    path = write_config(
        tmp_path,
        """
        [awards.rules.growth]
        rank_by = { won_revenu = 1.0 }
        [awards.rules.innovation]
        enabled = false
        rank_by = { no_such_thing = 1.0 }
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        "awards.rules.growth: no metric 'won_revenu'; did you mean 'won_revenue'? "
        "(`partnerscope metrics list` shows them)"
    ]
