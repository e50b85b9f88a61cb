"""Onboarding plans and measures (issue 28, item 3), with values worked out by hand on a small
workspace (see the comments on the rows).

Due dates: a task of week w is due on started_on + (7w − 1) days.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from partnerscope import audit
from partnerscope.appdb import connect
from partnerscope.cli import app
from partnerscope.cli.app import console
from partnerscope.errors import ConfigError
from partnerscope.lifecycle import onboarding as ob
from partnerscope.lifecycle.onboarding_measures import add_months, measures, month_since
from partnerscope.settings.graph import find_cycle
from partnerscope.settings.onboarding import OnboardingSettings
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace

#: P1 joined on a Sunday; P4 has no joining date (it has a plan all the same)
PARTNERS = """partner_id,name,joined_at
P1,Acme,2026-01-04
P2,Beta,2025-11-15
P3,Gamma,2025-12-01
P4,Delta,
"""
CERTS = """record_id,partner_id,person_id,certification,issued_at,expires_at
C1,P1,U1,Sales Foundation,2026-02-01,
C2,P2,U2,Sales Foundation,2025-12-15,
"""
#: P1: sourced O1 created 01-20, won 02-20 (10,000). P2: influenced O2 won 2026-01-10 (5,000),
#: sourced O3 created 2025-12-05, open. P3: sourced O4 created 12-10, won 12-20 (3,000).
OPPS = """opportunity_id,partner_id,attribution,name,status,amount,created_at,closed_at
O1,P1,sourced,Globex,won,10000,2026-01-20T10:00:00,2026-02-20T10:00:00
O2,P2,influenced,Initech,won,5000,2025-11-20T10:00:00,2026-01-10T10:00:00
O3,P2,sourced,Umbrella,open,2000,2025-12-05T10:00:00,
O4,P3,sourced,Hooli,won,3000,2025-12-10T10:00:00,2025-12-20T10:00:00
"""


def _source(name: str, entity: str, text: str) -> str:
    columns = "".join(f'{c} = "{c}"\n' for c in text.splitlines()[0].split(","))
    return (
        f'[sources.{name}]\nentity = "{entity}"\npath = "data/{name}.csv"\n'
        f"[sources.{name}.columns]\n{columns}"
    )


CONFIG = (
    _source("partners", "partners", PARTNERS)
    + _source("certs", "certifications", CERTS)
    + _source("opps", "opportunities", OPPS)
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = make_workspace(
        tmp_path_factory.mktemp("onboarding") / "w",
        CONFIG,
        {"data/partners.csv": PARTNERS, "data/certs.csv": CERTS, "data/opps.csv": OPPS},
    )
    assert ws.ingest().quarantined == 0
    return ws.root


@pytest.fixture
def ws(base: Path, tmp_path: Path) -> Workspace:
    """A copy of the ingested workspace, for a test that changes it."""
    shutil.copytree(base, tmp_path / "w")
    return Workspace.open(tmp_path / "w")


# ------------------------------------------------------------------------------ template


def test_due_dates_at_the_edges() -> None:
    sunday = date(2026, 1, 4)
    assert ob.due_on(sunday, 1) == date(2026, 1, 10)  # the Saturday: day 7
    assert ob.due_on(sunday, 12) == date(2026, 3, 28)  # day 84
    # a leap day is a day like any other: week 1 of a plan started on 2028-02-23 ends on it
    assert ob.due_on(date(2028, 2, 23), 1) == date(2028, 2, 29)
    assert ob.due_on(date(2027, 2, 23), 1) == date(2027, 3, 1)
    assert ob.week_of(sunday, date(2026, 1, 10)) == 1
    assert ob.week_of(sunday, date(2026, 1, 11)) == 2
    assert ob.week_of(sunday, date(2026, 3, 28)) == 12
    assert ob.week_of(sunday, date(2026, 1, 3)) == 0


def test_the_default_template_is_the_frameworks_four_phases_over_twelve_weeks() -> None:
    settings = OnboardingSettings()
    assert settings.phases == (
        "Qualification and assessment",
        "Foundation setup",
        "Enablement and training",
        "Launch and support",
    )
    assert {t.phase for t in settings.tasks.values()} == set(settings.phases)
    assert max(t.due_week for t in settings.tasks.values()) == 12
    assert settings.tasks["basic_certifications"].outcome == "certification:any"
    assert settings.stall_days == 21


def _config_error(root: Path, text: str) -> list[str]:
    (root / "partnerscope.toml").write_text(text, encoding="utf-8")
    from partnerscope.config import load_config

    with pytest.raises(ConfigError) as err:
        load_config(root / "partnerscope.toml", check_files=False)
    return err.value.problems


def test_a_cycle_of_prerequisites_is_one_clear_error(tmp_path: Path) -> None:
    problems = _config_error(
        tmp_path,
        """
[onboarding.tasks.kickoff]
title = "Kickoff"
phase = "Foundation setup"
due_week = 1
requires = ["portal"]
[onboarding.tasks.portal]
title = "Portal"
phase = "Foundation setup"
due_week = 2
requires = ["kickoff"]
""",
    )
    assert problems == [
        "onboarding.tasks: a cycle of prerequisites: kickoff → portal → kickoff "
        "(remove one of them)"
    ]
    assert find_cycle({"a": ("b",), "b": ("c",), "c": ("b",)}) == ["b", "c", "b"]
    assert find_cycle({"a": ("b",), "b": ()}) is None


def test_unknown_phase_prerequisite_and_outcome_are_located(tmp_path: Path) -> None:
    problems = _config_error(
        tmp_path,
        """
[onboarding]
weeks = 12
[onboarding.tasks.kickoff]
title = "Kickoff"
phase = "Fundation setup"
due_week = 13
requires = ["portl"]
""",
    )
    assert problems == [
        "onboarding.tasks: kickoff.phase: unknown phase 'Fundation setup'; the phases are "
        "'Qualification and assessment', 'Foundation setup', 'Enablement and training', "
        "'Launch and support'; kickoff.due_week: week 13 is after the plan's 12 weeks; "
        "kickoff.requires: no task 'portl'"
    ]
    problems = _config_error(
        tmp_path,
        """
[onboarding.tasks.kickoff]
title = "Kickoff"
phase = "Foundation setup"
due_week = 1
outcome = "won"
""",
    )
    assert problems[0].startswith(
        "onboarding.tasks.kickoff.outcome: unknown outcome 'won': use 'certification:any', "
    )


# --------------------------------------------------------------------------------- plans


def test_start_copies_the_template_with_due_dates_and_audits(ws: Workspace) -> None:
    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    plan = ob.plan(ws, "P1")
    assert plan.template == ws.config.onboarding.template_hash()
    assert len(plan.tasks) == 13
    assert [t.key for t in plan.tasks[:3]] == ["kickoff", "agreement", "assessment"]
    assert plan.task("kickoff").due_on == date(2026, 1, 10)
    assert plan.task("review").due_on == date(2026, 3, 28)
    assert plan.task("first_won_deal").outcome == "won_deal"
    entry = audit.entries(connect(ws), object_type="onboarding_plan")[0]
    assert (entry.actor, entry.action, entry.object_id) == ("pat", "start", "P1")
    with pytest.raises(ob.OnboardingError, match="P1 already has an onboarding plan"):
        ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    with pytest.raises(ob.OnboardingError, match="no partner 'P9'"):
        ob.start_plan(ws, "P9", started_on=date(2026, 1, 4), by="pat")


def test_a_template_change_does_not_rewrite_a_started_plan(ws: Workspace) -> None:
    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    text = (ws.root / "partnerscope.toml").read_text(encoding="utf-8")
    (ws.root / "partnerscope.toml").write_text(
        text + '\n[onboarding]\nphases = ["Setup"]\n[onboarding.tasks.only]\n'
        'title = "The only task"\nphase = "Setup"\ndue_week = 2\n',
        encoding="utf-8",
    )
    ws = Workspace.open(ws.root)
    assert len(ob.plan(ws, "P1").tasks) == 13
    ob.start_plan(ws, "P2", started_on=date(2026, 1, 4), by="pat")
    new = ob.plan(ws, "P2")
    assert [t.key for t in new.tasks] == ["only"]
    assert new.template != ob.plan(ws, "P1").template
    # the old plan keeps its phases in its own order
    found = ob.status(ws, "P1", date(2026, 1, 5))
    assert found.phases[0].name == "Qualification and assessment"


def test_completing_needs_evidence_and_closed_prerequisites(ws: Workspace) -> None:
    ob.start_plan(ws, "P4", started_on=date(2026, 1, 5), by="pat")
    with pytest.raises(ob.OnboardingError, match=r"requires 'kickoff' \(Kickoff call"):
        ob.complete(ws, "P4", "agreement", evidence="signed.pdf", by="pat")
    with pytest.raises(ob.OnboardingError, match=r"^evidence: say what shows"):
        ob.complete(ws, "P4", "kickoff", evidence="   ", by="pat")
    with pytest.raises(ob.PlanNotFoundError, match=r"no task 'kickof'.*did you mean 'kickoff'"):
        ob.complete(ws, "P4", "kickof", evidence="x", by="pat")
    # a skipped prerequisite lets what requires it be completed
    ob.skip(ws, "P4", "kickoff", reason="met at the partner summit instead", by="pat")
    done = ob.complete(ws, "P4", "agreement", evidence="signed.pdf", by="ann")
    assert (done.status, done.evidence, done.completed_by) == (
        ob.TaskStatus.DONE,
        "signed.pdf",
        "ann",
    )
    with pytest.raises(ob.OnboardingError, match="'agreement' of P4 is already done"):
        ob.complete(ws, "P4", "agreement", evidence="again", by="ann")
    # a partner user completes only the partner's tasks
    with pytest.raises(ob.OnboardingError, match="for the partner manager to complete"):
        ob.complete(ws, "P4", "assessment", evidence="x", by="p", owner="partner")
    actions = [e.action for e in audit.entries(connect(ws), object_type="onboarding_plan")]
    assert actions == ["complete", "skip", "start"]
    with pytest.raises(ob.PlanNotFoundError, match="P2 has no onboarding plan"):
        ob.skip(ws, "P2", "kickoff", reason="x", by="pat")


def test_the_data_closes_tasks_with_the_record_as_evidence(ws: Workspace) -> None:
    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    # on 2026-01-31: O1 (sourced, created 01-20) is the first registered deal; no
    # certification yet (C1 is issued 02-01), no win
    assert ob.refresh(ws, date(2026, 1, 31)) == 1
    task = ob.plan(ws, "P1").task("first_registered_deal")
    assert task.closed_by_data
    assert task.completed_at == datetime(2026, 1, 20)
    assert task.evidence == "opportunity O1 (Globex), sourced by the partner, created 2026-01-20"
    # on 2026-03-01: C1 closes "Basic certifications" and O1's win the first won deal
    assert ob.refresh(ws, date(2026, 3, 1)) == 2
    plan = ob.plan(ws, "P1")
    certs = plan.task("basic_certifications")
    assert certs.evidence == (
        "certification record C1: Sales Foundation, held by U1 since 2026-02-01"
    )
    assert plan.task("first_won_deal").completed_at == datetime(2026, 2, 20)
    assert plan.task("business_plan").is_open  # no business plan in the data
    assert ob.refresh(ws, date(2026, 3, 1)) == 0  # nothing twice
    entry = audit.entries(connect(ws), object_type="onboarding_plan")[0]
    assert (entry.actor, entry.action) == (ob.DATA_ACTOR, "closed_by_data")


def test_overdue_and_stalled_at_the_boundary_day(ws: Workspace) -> None:
    ob.start_plan(ws, "P4", started_on=date(2026, 1, 5), by="pat")
    # kickoff is due 01-11: overdue from 01-12
    assert not ob.status(ws, "P4", date(2026, 1, 11)).overdue
    assert [t.key for t in ob.status(ws, "P4", date(2026, 1, 12)).overdue] == [
        "kickoff",
        "agreement",
    ]
    # nothing closed since the start (01-05): stalled after 21 days, on 01-26
    assert not ob.status(ws, "P4", date(2026, 1, 25)).stalled
    assert ob.status(ws, "P4", date(2026, 1, 26)).stalled
    ob.complete(ws, "P4", "kickoff", evidence="call notes", by="pat", now=datetime(2026, 1, 10, 9))
    assert not ob.status(ws, "P4", date(2026, 1, 30)).stalled
    found = ob.status(ws, "P4", date(2026, 1, 31))
    assert found.stalled and found.idle_days == 21
    assert (found.done, found.total, found.current_phase) == (
        1,
        13,
        "Qualification and assessment",
    )


def test_phases_on_schedule(ws: Workspace) -> None:
    ob.start_plan(ws, "P4", started_on=date(2026, 1, 5), by="pat")
    for key in ("kickoff", "agreement", "assessment"):  # the phase is due 01-18
        ob.complete(ws, "P4", key, evidence="done", by="pat", now=datetime(2026, 1, 18, 23))
    phases = ob.status(ws, "P4", date(2026, 2, 2)).phases
    assert [(p.name, p.state) for p in phases[:2]] == [
        ("Qualification and assessment", ob.PhaseState.DONE),
        ("Foundation setup", ob.PhaseState.BEHIND),  # due 02-01
    ]
    assert phases[2].state is ob.PhaseState.ON_SCHEDULE and not phases[2].judged


# ------------------------------------------------------------------------------ measures


def test_months_since_joining() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert month_since(date(2025, 11, 15), date(2025, 12, 14)) == 1
    assert month_since(date(2025, 11, 15), date(2025, 12, 15)) == 2
    assert month_since(date(2025, 11, 15), date(2025, 11, 14)) == 0


def test_time_to_first_funnel_and_ramp(ws: Workspace) -> None:
    found = measures(ws, date(2026, 3, 1))
    # days from joining: P1 cert 28, registered 16 (O1), won 47; P2 cert 30, registered 20
    # (O3), won 56 (O2); P3 no cert, registered 9 (O4), won 19; P4 has no joining date
    assert [p.partner_id for p in found.partners] == ["P1", "P2", "P3"]
    assert found.median("certification:any") == 29.0
    assert found.median("registered_deal") == 16.0
    assert found.median("won_deal") == 47.0
    assert [(r.partners, r.reached) for r in found.time_to] == [(3, 2), (3, 3), (3, 3)]
    assert [(f.month, f.joined, f.certified, f.registered, f.won) for f in found.funnel] == [
        ("2025-11", 1, 1, 1, 1),
        ("2025-12", 1, 0, 1, 1),
        ("2026-01", 1, 1, 1, 1),
    ]
    # 2025 Q4 (P2 from 11-15, P3 from 12-01): month 1 P3's 3,000 → 1,500 a partner; month 2
    # P2's 5,000 (01-10) → 2,500; month 3 nothing; month 4 lived by neither. 2026 Q1 (P1 from
    # 01-04): month 1 nothing; O1 (02-20) is in month 2, not lived whole by 03-01.
    assert [(r.cohort, r.month, r.partners, r.revenue_per_partner) for r in found.ramp] == [
        ("2025 Q4", 1, 2, 1500.0),
        ("2025 Q4", 2, 2, 2500.0),
        ("2025 Q4", 3, 2, 0.0),
        ("2026 Q1", 1, 1, 0.0),
    ]


def test_cohort_share_on_schedule(ws: Workspace) -> None:
    # P1 (joined 2026-01) does nothing by hand: its first phase (due 01-17) is behind; P4
    # (no joining date: its cohort is its start, 2026-01) closes it on time
    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    ob.start_plan(ws, "P4", started_on=date(2026, 1, 5), by="pat")
    for key in ("kickoff", "agreement", "assessment"):
        ob.complete(ws, "P4", key, evidence="done", by="pat", now=datetime(2026, 1, 12))
    cohorts = measures(ws, date(2026, 1, 25)).cohorts
    assert [(c.cohort, c.phase, c.judged, c.on_schedule, c.share) for c in cohorts] == [
        ("2026-01", "Qualification and assessment", 2, 1, 0.5),
        # P1's portal (due 01-24) is overdue on 01-25: its foundation phase is behind already;
        # P4's (due 01-25) is not yet: its phase is not judged
        ("2026-01", "Foundation setup", 1, 0, 0.0),
    ]


# ----------------------------------------------------------------------------------- CLI


def cli(ws: Workspace, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), "onboarding", *args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_the_cli(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 250)
    out = cli(ws, "start", "P1", "--by", "pat")  # on its joining day
    assert "Started P1's onboarding on 2026-01-04: 13 tasks, the last due on 2026-03-28." in out
    out = cli(ws, "complete", "P1", "agreement", "--evidence", "signed", code=1)
    assert "requires 'kickoff'" in out
    out = cli(ws, "complete", "P1", "kickoff", "-e", "call notes", "--by", "pat")
    assert "Done: Kickoff call with the partner's leadership (P1)." in out
    cli(ws, "skip", "P1", "agreement", "-r", "signed before joining")
    out = cli(ws, "show", "P1", "--as-of", "2026-03-01")
    assert "done 2026-01-20 by the data" in out
    assert "5 of 13 tasks closed (38%); 6 overdue." in out
    out = cli(ws, "list", "--as-of", "2026-03-01", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "Partner,Name,Started,Progress,Phase,Overdue,Stalled"
    assert lines[1] == "P1,Acme,2026-01-04,5/13 (38%),Qualification and assessment,6,"
    out = cli(ws, "metrics", "--as-of", "2026-03-01", "--format", "csv")
    assert "Days to first won deal (median),all,,3,3,47 days" in out
    assert "Funnel: first certification,2025-12,,1,0,0%" in out
    out = cli(ws, "show", "P2", code=1)
    assert "P2 has no onboarding plan" in out


# -------------------------------------------------------------------------------- import


def test_importing_completions_is_all_or_nothing_and_idempotent(ws: Workspace) -> None:
    from partnerscope.lifecycle.onboarding_import import ImportRefusedError, import_completions

    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    bad = ws.root / "bad.csv"
    bad.write_text(
        "Partner,Task,Date,Evidence,Status\n"
        "P1,kickoff,2026-01-06,Call notes,\n"
        "P2,kickoff,2026-01-06,Call notes,\n"  # no plan
        "P1,kickof,2026-01-06,x,\n"  # no such task
        "P1,portal,2026-01-20,Accounts made,\n"  # requires agreement, open
        "P1,assessment,2026-01-02,x,\n"  # before the plan started
        "P1,sales_training,2026-02-01,,\n"  # no evidence
        "P1,demo_environment,2026-02-01,x,maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefusedError) as err:
        import_completions(ws, bad, by="ann", today=date(2026, 3, 1))
    assert [str(p) for p in err.value.problems] == [
        "bad.csv, row 3, column Partner ('P2'): P2 has no onboarding plan; start it first "
        "(`partnerscope onboarding start P2`)",
        "bad.csv, row 4, column Task ('kickof'): no task 'kickof' in P1's plan; did you mean "
        "'kickoff'?",
        "bad.csv, row 6, column Date ('2026-01-02'): 2026-01-02 is before the plan started "
        "(2026-01-04)",
        "bad.csv, row 7, column Evidence (''): evidence is required",
        "bad.csv, row 8, column Status ('maybe'): status is 'done' or 'skipped' (empty: done)",
        "bad.csv, row 5, column Task ('portal'): requires 'agreement', still open and not in "
        "the file: close it first or add its row",
    ]
    assert all(t.is_open for t in ob.plan(ws, "P1").tasks)  # nothing stored
    good = ws.root / "good.csv"
    good.write_text(
        "partner_id,task,date,evidence,status,by\n"
        "P1,agreement,2026-01-08,Signed,,lee\n"
        "P1,kickoff,2026-01-06,Call notes,,\n"
        "P1,assessment,2026-01-09,Not needed: known reseller,skipped,\n",
        encoding="utf-8",
    )
    done = import_completions(ws, good, by="ann", today=date(2026, 3, 1))
    assert (done.rows, done.closed, done.unchanged) == (3, 3, 0)
    plan = ob.plan(ws, "P1")
    assert plan.task("agreement").completed_by == "lee"
    assert plan.task("kickoff").completed_at == datetime(2026, 1, 6, 12)
    assert plan.task("assessment").status is ob.TaskStatus.SKIPPED
    again = import_completions(ws, good, by="ann", today=date(2026, 3, 1))
    assert (again.closed, again.unchanged) == (0, 3)
    assert ob.plan(ws, "P1") == plan


def test_the_import_command(ws: Workspace) -> None:
    ob.start_plan(ws, "P1", started_on=date(2026, 1, 4), by="pat")
    (ws.root / "done.csv").write_text(
        "partner_id,task,date,evidence\nP1,kickoff,2026-01-06,Call notes\n", encoding="utf-8"
    )
    out = cli(ws, "import", str(ws.root / "done.csv"), "--by", "ann")
    assert "Imported done.csv: 1 row: 1 task closed, 0 closed already" in out
    (ws.root / "bad.csv").write_text("partner,when\nP1,2026-01-06\n", encoding="utf-8")
    out = cli(ws, "import", str(ws.root / "bad.csv"), code=1)
    assert "no task, date, evidence column (the file has partner, when)" in out


def test_a_named_certification_closes_only_its_own_task(ws: Workspace) -> None:
    text = (ws.root / "partnerscope.toml").read_text(encoding="utf-8")
    (ws.root / "partnerscope.toml").write_text(
        text + '\n[onboarding]\nphases = ["Enablement"]\n'
        '[onboarding.tasks.foundation]\ntitle = "Sales Foundation"\nphase = "Enablement"\n'
        'due_week = 4\noutcome = "certification:SALES FOUNDATION"\n'
        '[onboarding.tasks.advanced]\ntitle = "Sales Advanced"\nphase = "Enablement"\n'
        'due_week = 8\noutcome = "certification:Sales Advanced"\n',
        encoding="utf-8",
    )
    ws = Workspace.open(ws.root)
    ob.start_plan(ws, "P2", started_on=date(2025, 11, 15), by="pat")
    # C2 (Sales Foundation, 2025-12-15), named in another case, closes the first only
    assert ob.refresh(ws, date(2026, 3, 1)) == 1
    plan = ob.plan(ws, "P2")
    assert plan.task("foundation").completed_at == datetime(2025, 12, 15)
    assert plan.task("advanced").is_open
