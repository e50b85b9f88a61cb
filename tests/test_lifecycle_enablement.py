"""Enablement paths (issue 28, item 4): certification levels, each partner's gaps against its
tier and the next one, expiry warnings and the requirements posted for enablement_completion.

Values are worked out by hand on a small workspace, judged on 2026-02-01 unless said:

    P1 Acme   Gold    U1 Sales Foundation (never lapses), U1 Sales Advanced until 2026-03-31,
                      U2 Implementation Specialist until 2026-02-15 renewed on 2026-01-20,
                      U3 Master Technical Specialist (without Solutions Architect)
    P2 Beta   Silver  U5 Sales Foundation from 2026-01-10, U6 Implementation Specialist with
                      no expiry in the data (24 months: until 2026-05-31), U6 Solutions
                      Architect lapsed 2025-06-30
    P3 Gamma  Gold    U7 "SF-101" (an alias of Sales Foundation) and nothing else

[enablement.tiers]: Registered ⊂ Silver ⊂ Gold ⊂ Platinum, in that order (the tier order).
"""

from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest

from partnerscope.errors import ConfigError, PartnerscopeError
from partnerscope.lifecycle.enablement import (
    Gap,
    add_months,
    all_gaps,
    certifications_held,
    expiring,
    partner_gaps,
    tier_requirements,
)
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, query

PARTNERS = "partner_id,name,program_tier\nP1,Acme,Gold\nP2,Beta,Silver\nP3,Gamma,Gold\n"

CERTS = """record_id,partner_id,person_id,certification,issued_at,expires_at
C1,P1,U1,Sales Foundation,2024-01-01,
C2,P1,U1,Sales Advanced,2024-03-31,2026-03-31
C3,P1,U2,Implementation Specialist,2024-02-15,2026-02-15
C5,P1,U2,Implementation Specialist,2026-01-20,2028-01-20
C6,P1,U3,Master Technical Specialist,2025-06-01,2027-06-01
C4,P2,U5,Sales Foundation,2026-01-10,
C8,P2,U6,Solutions Architect,2023-06-30,2025-06-30
C9,P2,U6,Implementation Specialist,2024-05-31,
C7,P3,U7,SF-101,2025-01-01,
"""

SF, SA, SM = "Sales Foundation", "Sales Advanced", "Sales Master"
IS, AR, MT = "Implementation Specialist", "Solutions Architect", "Master Technical Specialist"

ENABLEMENT = f"""
[enablement]
aliases = {{ "SF-101" = "{SF}" }}
[enablement.tiers]
Registered = ["{SF}"]
Silver = ["{SF}", "{IS}"]
Gold = ["{SF}", "{SA}", "{IS}", "{AR}"]
Platinum = ["{SF}", "{SA}", "{SM}", "{IS}", "{AR}", "{MT}"]
"""

ON = date(2026, 2, 1)


def source(name: str, entity: str, header: str) -> str:
    columns = "".join(f'{col} = "{col}"\n' for col in header.split(","))
    return (
        f'[sources.{name}]\nentity = "{entity}"\npath = "data/{name}.csv"\n'
        f"[sources.{name}.columns]\n{columns}"
    )


def config(extra: str = ENABLEMENT) -> str:
    return (
        source("partners", "partners", PARTNERS.splitlines()[0])
        + source("certs", "certifications", CERTS.splitlines()[0])
        + extra
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = make_workspace(
        tmp_path_factory.mktemp("enablement") / "ws",
        config(),
        {"data/partners.csv": PARTNERS, "data/certs.csv": CERTS},
    )
    assert ws.ingest().quarantined == 0
    return ws


def test_certifications_held_at_the_expiry_boundary(ws):
    # C2 expires 2026-03-31: held the day before, no longer on the day itself (as the metric
    # certified_people counts it: valid while expires_at is after the day)
    assert certifications_held(ws, "P1", date(2026, 3, 30)) == {SF, SA, IS, MT}
    assert certifications_held(ws, "P1", date(2026, 3, 31)) == {SF, IS, MT}
    # issued that day: held from it on, not the day before; the data's own names
    assert certifications_held(ws, "P2", date(2026, 1, 9)) == {IS}
    assert certifications_held(ws, "P2", date(2026, 1, 10)) == {SF, IS}
    assert certifications_held(ws, "P3", ON) == {"SF-101", SF}  # the data's name, its level
    assert certifications_held(ws, "P9", ON) == set()


def test_gaps_against_the_tier_and_the_next_one(ws):
    p1 = partner_gaps(ws, "P1", ON)
    paths = {p.key: p for p in p1.paths}
    assert paths["sales"].highest == SA
    assert paths["technical"].highest == MT  # held without Solutions Architect: data wins
    assert [(lv.name, lv.people, lv.needs) for lv in paths["technical"].levels] == [
        (IS, 1, ()),  # U2 (C3 and its renewal C5: one person)
        (AR, 0, ()),  # its prerequisite IS is held
        (MT, 1, ()),
    ]
    assert (p1.tier, p1.required) == ("Gold", (SF, SA, IS, AR))
    assert p1.missing == (Gap(AR, ()),)
    assert p1.held_required == 3
    assert p1.next_tier == "Platinum"
    assert p1.next_missing == (Gap(SM, ()),)  # MT is held; SM needs SA, held
    p3 = partner_gaps(ws, "P3", ON)
    # SF-101 is Sales Foundation; nothing technical: Solutions Architect needs IS first
    assert p3.missing == (Gap(SA, ()), Gap(IS, ()), Gap(AR, (IS,)))
    assert p3.missing[2].describe() == "Solutions Architect (needs Implementation Specialist first)"
    assert p3.next_missing == (Gap(SM, (SA,)), Gap(MT, (AR,)))
    p2 = partner_gaps(ws, "P2", ON)
    assert (p2.missing, p2.next_tier) == ((), "Gold")
    assert p2.next_missing == (Gap(SA, ()), Gap(AR, ()))  # AR lapsed 2025-06-30
    # the partners missing most for their tier first
    assert [g.partner_id for g in all_gaps(ws, ON)] == ["P3", "P1", "P2"]


def test_validity_months_apply_when_the_data_gives_no_expiry(ws):
    assert add_months(date(2024, 5, 31), 24) == date(2026, 5, 31)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    # C9 (no expires_at, IS: 24 months) lapses 2026-05-31; C4 (a foundation) never
    assert partner_gaps(ws, "P2", date(2026, 5, 30)).missing == ()
    assert partner_gaps(ws, "P2", date(2026, 5, 31)).missing == (Gap(IS, ()),)
    assert partner_gaps(ws, "P2", date(2040, 1, 1)).missing == (Gap(IS, ()),)


def test_expiry_warnings_window_edges_and_renewals(ws):
    # C2 expires 2026-03-31: 60 days after 2026-01-30 (listed), 61 after 01-29 (not)
    (c2,) = expiring(ws, date(2026, 1, 30))
    assert (c2.partner_id, c2.person_id, c2.name, c2.expires, c2.days) == (
        "P1",
        "U1",
        SA,
        date(2026, 3, 31),
        60,
    )
    assert expiring(ws, date(2026, 1, 29)) == []
    assert [e.person_id for e in expiring(ws, date(2026, 1, 29), days=61)] == ["U1"]
    # C3 (2026-02-15) would be listed but is renewed by C5, issued within 90 days before it
    assert [e.name for e in partner_gaps(ws, "P1", ON).expiring] == [SA]
    # on the day of expiry it is no longer expiring: it lapsed, and U1 holds it no more
    p1 = partner_gaps(ws, "P1", date(2026, 3, 31))
    assert p1.expiring == ()
    assert [(e.person_id, e.name, e.days) for e in p1.lapsed] == [("U1", SA, 0)]
    # C8 lapsed 2025-06-30: within the 365 lapsed days on 2026-02-01 (216 days ago)
    assert [(e.name, e.days) for e in partner_gaps(ws, "P2", ON).lapsed] == [(AR, -216)]
    # 365 days after it lapsed it is still listed, 366 days after not; C9 lapsed 2026-05-31
    lapsed = partner_gaps(ws, "P2", date(2026, 6, 30)).lapsed
    assert [(e.name, e.days) for e in lapsed] == [(AR, -365), (IS, -30)]
    assert [e.name for e in partner_gaps(ws, "P2", date(2026, 7, 1)).lapsed] == [IS]


def test_an_unknown_partner_is_refused_with_the_closest_id(ws):
    with pytest.raises(PartnerscopeError, match=r"no partner 'P11'.*did you mean 'P1'"):
        partner_gaps(ws, "P11", ON)


def test_a_cycle_of_prerequisites_is_one_clear_error(tmp_path):
    toml = """
    [[enablement.paths.sales.levels]]
    name = "A"
    requires = ["C"]
    [[enablement.paths.sales.levels]]
    name = "B"
    [[enablement.paths.sales.levels]]
    name = "C"
    """
    ws = make_workspace(tmp_path / "ws", toml)
    with pytest.raises(ConfigError) as caught:
        _ = ws.config
    assert caught.value.problems == [
        "enablement: a cycle of prerequisites: A → C → B → A (remove one of them from a "
        "level's requires)"
    ]


def test_an_unknown_level_is_a_located_error_with_the_closest_name(tmp_path):
    toml = """
    [enablement.tiers]
    Gold = ["Sales Fundation"]
    [[enablement.paths.sales.levels]]
    name = "Sales Foundation"
    [[enablement.paths.sales.levels]]
    name = "Sales Advanced"
    requires = ["Sales Foundatoin"]
    """
    ws = make_workspace(tmp_path / "ws", toml)
    with pytest.raises(ConfigError) as caught:
        _ = ws.config
    (problem,) = caught.value.problems
    assert "paths.sales.levels[1].requires: no level 'Sales Foundatoin'; did you mean " in problem
    assert "tiers.Gold: no level 'Sales Fundation'; did you mean 'Sales Foundation'?" in problem


def completion(ws: Workspace) -> dict[str, float]:
    """enablement_completion of each partner in January 2026 (at its end, 2026-01-31)."""
    from partnerscope.evaluation.view import RunData

    results = RunData(ws).results("month")
    return {
        p: row["enablement_completion"]
        for p in ("P1", "P2", "P3")
        for row in results.rows(p)
        if row["label"] == "2026-01"
    }


def test_the_tiers_of_the_configuration_feed_enablement_completion(ws, tmp_path):
    """[enablement.tiers] is posted as certification_requirements by each run: changing it
    changes enablement_completion after the next run."""
    own = Workspace.open(shutil.copytree(ws.root, tmp_path / "ws"))
    no_alias = ENABLEMENT.replace('aliases = { "SF-101" = "Sales Foundation" }\n', "")
    own.config_path.write_text(config(no_alias), encoding="utf-8")
    own = Workspace.open(own.root)
    own.run(as_of=datetime(2026, 2, 1))
    assert query(own, "SELECT count(*) FROM certification_requirements") == [(13,)]
    # on 2026-01-31, P1 (Gold: SF SA IS AR) holds SF SA IS → 3/4; P2 (Silver: SF IS) both;
    # P3 holds "SF-101", not a name the metric knows without the alias → 0/4
    assert completion(own) == {"P1": 0.75, "P2": 1.0, "P3": 0.0}
    # Gold no longer requires Solutions Architect; SF-101 is the data's name of SF
    own.config_path.write_text(
        config(
            ENABLEMENT.replace(
                f'Gold = ["{SF}", "{SA}", "{IS}", "{AR}"]', f'Gold = ["{SF}", "{SA}", "{IS}"]'
            )
        ),
        encoding="utf-8",
    )
    own = Workspace.open(own.root)
    assert tier_requirements(own) is not None
    own.run(as_of=datetime(2026, 2, 1))
    # Gold is posted as SF-101, SA, IS: P1 holds SA IS → 2/3, P3 SF-101 → 1/3; Silver too
    # requires SF-101 now: P2 holds IS → 1/2. The row of Gold's AR is removed.
    assert completion(own) == pytest.approx({"P1": 2 / 3, "P2": 0.5, "P3": 1 / 3})
    assert query(
        own,
        "SELECT certification FROM certification_requirements WHERE program_tier = 'Gold' "
        "ORDER BY 1",
    ) == [(IS,), ("SF-101",), (SA,)]
    # without [enablement.tiers] the posted file is emptied: its rows are removed
    own.config_path.write_text(config(""), encoding="utf-8")
    own = Workspace.open(own.root)
    facts = tier_requirements(own)
    assert facts is not None and facts.rows == 0
    own.run(as_of=datetime(2026, 2, 1))
    assert query(own, "SELECT count(*) FROM certification_requirements") == [(0,)]


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from partnerscope.cli.app import console

    monkeypatch.setattr(console, "width", 250)


def cli(ws: Workspace, *args: str, code: int = 0) -> str:
    from typer.testing import CliRunner

    from partnerscope.cli import app

    result = CliRunner().invoke(app, ["-w", str(ws.root), "enablement", *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.output


@pytest.mark.usefixtures("wide_console")
def test_the_cli(ws):
    import csv
    import io
    import json

    out = cli(ws, "paths", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["path"], r["rank"], r["level"], r["requires"], r["valid for"]) for r in rows] == [
        ("Sales", "1", SF, "—", "never lapses"),
        ("Sales", "2", SA, SF, "24 months"),
        ("Sales", "3", SM, SA, "24 months"),
        ("Technical", "1", IS, "—", "24 months"),
        ("Technical", "2", AR, IS, "24 months"),
        ("Technical", "3", MT, AR, "24 months"),
    ]
    assert rows[3]["tiers"] == "Silver, Gold, Platinum"
    out = cli(ws, "gaps", "--on", "2026-02-01", "--format", "json")
    found = json.loads(out)
    assert [(g["partner"], g["held of required"], g["missing for its tier"]) for g in found] == [
        ("Gamma (P3)", "1 of 4", f"{SA}, {IS}, {AR} (needs {IS} first)"),
        ("Acme (P1)", "3 of 4", AR),
        ("Beta (P2)", "2 of 2", "—"),
    ]
    assert found[1]["next tier also needs"] == SM
    out = cli(ws, "gaps", "P2", "--on", "2026-02-01", "--format", "csv")
    assert out.splitlines() == [
        "path,level,people holding it,status,Silver requires,Gold requires",
        f"Sales,{SF},1,held,yes,yes",
        f"Sales,{SA},0,not held,—,missing",
        f"Sales,{SM},0,needs {SA} first,—,—",
        f"Technical,{IS},1,held,yes,yes",  # U6's C9: 24 months from 2024-05-31
        f"Technical,{AR},0,not held,—,missing",  # U6's lapsed 2025-06-30
        f"Technical,{MT},0,needs {AR} first,—,—",
    ]
    out = cli(ws, "gaps", "P3", "--on", "2026-02-01")
    assert "Gold: 1 of 4 held; missing Sales Advanced, Implementation Specialist, Solutions " in out
    assert "Sales Master (needs Sales Advanced first)" in out
    out = cli(ws, "expiring", "--on", "2026-01-30")
    assert "Acme (P1) │ U1     │ Sales Advanced │ Mar 31, 2026 │ 60" in out
    assert "1 certification(s) expiring within 60 days of Jan 30, 2026" in out
    assert "0 certification(s) expiring within 30" in cli(
        ws, "expiring", "--on", "2026-01-30", "--days", "30"
    )
    out = cli(ws, "gaps", "P11", code=1)
    assert "no partner 'P11' in the warehouse" in out and "did you mean 'P1'?" in out


def test_a_bad_value_names_its_key(tmp_path):
    ws = make_workspace(tmp_path / "ws", "[enablement]\nexpiry_warning_days = 0\n")
    with pytest.raises(ConfigError) as caught:
        _ = ws.config
    (problem,) = caught.value.problems
    assert problem.startswith("enablement.expiry_warning_days:")
