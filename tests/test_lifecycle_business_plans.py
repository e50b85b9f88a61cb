"""Joint business plans (issue 28, item 5): the service, the milestone statuses at their
boundaries, versions and history, the import's errors, the alert raised once, and the CLI.

The workspace (calendar quarters, UTC): two partners, P1 Acme and P2 Beta, with won deals

=======  ==========================  ============================
partner  FY2024-Q1 (Jan–Mar)         FY2024-Q2 (Apr–Jun, 91 days)
=======  ==========================  ============================
P1       100 (Feb 10) + 300 (Mar 20)  200 (Apr 20) + 100 (May 5)
P2       50 (Feb 1)                   none
=======  ==========================  ============================

so P1's won revenue is 400 in Q1 (2 won deals) and 300 in Q2; as of 2024-06-01, 61 of Q2's
91 days are gone. With the default margin (0.1) a Q2 won revenue target T is on track while
300 ≥ T × 61/91 × 0.9 = T × 0.603297: 497 → bar 299.84 (on track), 500 → bar 301.65 (at risk).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from partnerscope.lifecycle import business_plans as bp
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace, write_file

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
[sources.opps.columns]
opportunity_id = "id"
partner_id = "partner"
attribution = { constant = "sourced" }
account_id = "account"
status = "status"
amount = "amount"
created_at = "created"
closed_at = "closed"
"""
PARTNERS = "id,name\nP1,Acme\nP2,Beta\n"
OPPS = (
    "id,partner,account,status,amount,created,closed\n"
    "O1,P1,A1,won,100,2024-01-05,2024-02-10\n"
    "O2,P1,A2,won,300,2024-01-20,2024-03-20\n"
    "O3,P2,A3,won,50,2024-01-10,2024-02-01\n"
    "O4,P1,A4,won,200,2024-04-02,2024-04-20\n"
    "O5,P1,A5,won,100,2024-04-10,2024-05-05\n"
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = make_workspace(
        tmp_path / "ws", CONFIG, {"data/partners.csv": PARTNERS, "data/opps.csv": OPPS}
    )
    ws.ingest()
    return ws


def milestone(quarter: int, metric: str, target: float) -> bp.Milestone:
    return bp.Milestone(quarter, metric, target)


def status(ws: Workspace, m: bp.Milestone, actual: float | None, today: date) -> bp.Tracked:
    return bp.status_of(ws, m, 2024, actual, today)


# ------------------------------------------------------------------------ statuses at boundaries


def test_a_complete_quarter_is_met_at_exactly_the_target_and_missed_below(ws: Workspace) -> None:
    target = milestone(1, "won_revenue", 400)
    after = date(2024, 4, 1)  # the first day after Q1: Q1 is complete
    assert status(ws, target, 400, after).status == bp.MET
    assert status(ws, target, 399.99, after).status == bp.MISSED
    # a metric where lower is better is met at most at its target
    cycle = milestone(1, "sales_cycle_days", 30)
    assert status(ws, cycle, 30, after).status == bp.MET
    assert status(ws, cycle, 31, after).status == bp.MISSED


def test_the_last_day_of_the_quarter_is_still_in_progress(ws: Workspace) -> None:
    target = milestone(2, "won_revenue", 300)
    last_day = status(ws, target, 250, date(2024, 6, 30))
    # 90 of 91 days gone: bar 300 × 90/91 × 0.9 = 267.03 > 250
    assert (last_day.status, round(last_day.bar or 0, 2)) == (bp.AT_RISK, 267.03)
    assert status(ws, target, 250, date(2024, 7, 1)).status == bp.MISSED
    assert status(ws, target, 300, date(2024, 7, 1)).status == bp.MET


def test_in_progress_the_target_is_prorated_by_the_elapsed_share_less_the_margin(
    ws: Workspace,
) -> None:
    today = date(2024, 6, 1)  # 61 of 91 days
    on = status(ws, milestone(2, "won_revenue", 497), 300, today)
    risk = status(ws, milestone(2, "won_revenue", 500), 300, today)
    assert (on.status, round(on.bar or 0, 2)) == (bp.ON_TRACK, 299.84)
    assert (risk.status, round(risk.bar or 0, 2)) == (bp.AT_RISK, 301.65)
    assert ws.words.share(on.elapsed, digits=0) == "67%"
    # a rate is not pro-rated: 25% against 30% less 10% = 27% is at risk, 28% on track
    assert status(ws, milestone(2, "win_rate", 0.3), 0.25, today).status == bp.AT_RISK
    assert status(ws, milestone(2, "win_rate", 0.3), 0.28, today).status == bp.ON_TRACK


def test_a_quarter_not_begun_is_upcoming_and_a_missing_value_is_no_data(ws: Workspace) -> None:
    target = milestone(2, "won_revenue", 100)
    assert status(ws, target, None, date(2024, 4, 1)).status == bp.UPCOMING  # no day gone
    assert status(ws, target, None, date(2024, 4, 2)).status == bp.NO_DATA
    assert bp.status_of(ws, target, 2024, 50, None).status == bp.UPCOMING  # no run yet


def test_the_measured_value_is_said_in_words(ws: Workspace) -> None:
    words = ws.words
    missed = status(ws, milestone(1, "won_revenue", 100_000), 80_000, date(2024, 4, 1))
    assert missed.sentence(words) == "Q1 Won revenue: Missed — $80,000 of $100,000"
    going = status(ws, milestone(2, "won_revenue", 100_000), 80_000, date(2024, 6, 1))
    assert going.measured(words) == "$80,000 so far of $100,000 (67% of the quarter gone)"
    rate = status(ws, milestone(1, "win_rate", 0.3), 0.25, date(2024, 4, 1))
    assert rate.measured(words) == "25.0% of 30.0%"


# ------------------------------------------------------------------------ versions and history


def test_each_change_is_a_version_with_what_changed_in_words(ws: Workspace) -> None:
    bp.create(ws, "P1", "FY2024", by="ana", content={"target_markets": "DE; FR"})
    bp.set_milestone(
        ws, "P1", 2024, quarter="Q2", metric="Won revenue", target="100k", by="ana", adding=True
    )
    plan = bp.set_milestone(
        ws, "P1", 2024, quarter=2, metric="won_revenue", target="$120,000", by="max"
    )
    assert (plan.version, plan.milestones[0].target) == (3, 120_000)
    history = bp.history(ws, "P1", 2024)
    assert [(v.version, v.changed_by, v.change) for v in history] == [
        (3, "max", "Q2 Won revenue target $100,000 → $120,000"),
        (2, "ana", "Q2 Won revenue milestone added: target $100,000"),
        (1, "ana", "Plan for FY2024 created; Target markets: none → DE, FR"),
    ]
    assert history[1].snapshot["milestones"][0]["target"] == 100_000
    # the same values again change nothing: no version
    same = bp.set_milestone(ws, "P1", 2024, quarter=2, metric="won_revenue", target=120000, by="x")
    assert same.version == 3


def test_agreeing_and_changing_an_agreed_plan_makes_it_a_draft_again(ws: Workspace) -> None:
    bp.create(ws, "P1", 2024, by="ana")
    with pytest.raises(bp.BusinessPlanError, match="without milestones cannot be agreed"):
        bp.agree(ws, "P1", 2024, by="ana")
    bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_deals", target=3, by="ana")
    assert bp.agree(ws, "P1", 2024, by="pat").status == bp.AGREED
    changed = bp.edit(ws, "P1", 2024, content={"mdf_amount": "25000"}, by="ana")
    assert changed.status == bp.DRAFT
    assert bp.history(ws, "P1", 2024)[0].change == (
        "MDF co-investment none → $25,000; back to draft until agreed again"
    )


def test_bad_requests_are_refused_with_the_field_and_the_fix(ws: Workspace) -> None:
    with pytest.raises(bp.BusinessPlanError, match="no partner 'P9'"):
        bp.create(ws, "P9", 2024, by="ana")
    bp.create(ws, "P1", 2024, by="ana")
    with pytest.raises(bp.BusinessPlanError, match="already has a business plan for FY2024"):
        bp.create(ws, "P1", 2024, by="ana")
    with pytest.raises(
        bp.BusinessPlanError,
        match="no metric 'won_revnue' in the catalog; did you mean 'won_revenue'",
    ):
        bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_revnue", target=1, by="ana")
    with pytest.raises(bp.BusinessPlanError, match="not in the plan's fiscal year FY2024"):
        bp.set_milestone(ws, "P1", 2024, quarter="FY2025-Q1", metric="won_deals", target=1, by="a")
    with pytest.raises(bp.BusinessPlanError, match="target: 'lots' is not a number"):
        bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_deals", target="lots", by="a")
    assert bp.plans(ws)[0].version == 1  # nothing stored by the refusals


# ------------------------------------------------------------------------ import


def test_the_import_refuses_the_whole_file_locating_each_bad_row(ws: Workspace) -> None:
    path = write_file(
        ws.root / "plans.csv",
        "Partner,Fiscal year,Quarter,Measure,Target,Owner\n"
        "P1,2024,Q1,Won revenue,400,Ann\n"
        "P1,2024,Q2,won_revnue,500,Ann\n"
        "P7,2024,Q2,won_deals,2,Ann\n"
        "P2,2024,Q5,won_deals,2,Bob\n",
    )
    with pytest.raises(bp.ImportRefusedError) as refused:
        bp.import_file(ws, path, by="ana")
    assert [str(p) for p in refused.value.problems] == [
        "plans.csv, row 3, column Measure ('won_revnue'): no metric 'won_revnue' in the "
        "catalog; did you mean 'won_revenue'? (a milestone tracks a metric of the partner: see "
        "`partnerscope metrics list`)",
        "plans.csv, row 4, column Partner ('P7'): no partner 'P7' in the warehouse",
        "plans.csv, row 5, column Quarter ('Q5'): 'Q5' is not a fiscal quarter; write 1 to 4, "
        "Q1 to Q4 or FY2026-Q2",
    ]
    assert bp.plans(ws) == []  # all or nothing


def test_the_import_is_idempotent(ws: Workspace) -> None:
    path = write_file(
        ws.root / "plans.csv",
        "partner_id,fiscal_year,quarter,metric,target,owner,target_markets,mdf_amount\n"
        "P1,FY2024,1,won_revenue,400,Ann,DE;FR,25000\n"
        "P1,FY2024,2,won_revenue,500,Ann,,\n"
        "P2,2024,Q1,won_deals,2,Bob,,\n",
    )
    first = bp.import_file(ws, path, by="ana")
    assert (first.rows, first.plans_created, first.plans_changed) == (3, 2, 0)
    again = bp.import_file(ws, path, by="ana")
    assert (again.plans_created, again.plans_changed, again.unchanged) == (0, 0, 2)
    p1 = bp.get_plan(ws, "P1", 2024)
    assert p1.version == 1
    assert p1.content == {"target_markets": ["DE", "FR"], "mdf_amount": 25000.0}
    assert [(m.quarter, m.metric, m.target, m.owner) for m in p1.milestones] == [
        (1, "won_revenue", 400.0, "Ann"),
        (2, "won_revenue", 500.0, "Ann"),
    ]


# ------------------------------------------------------------------------ runs: actuals, alerts


def test_every_run_tracks_the_milestones_and_raises_a_missed_one_once(ws: Workspace) -> None:
    bp.create(ws, "P1", 2024, by="ana")
    for quarter, metric, target in (
        (1, "won_revenue", 400),  # 400: met exactly
        (1, "won_deals", 3),  # 2: missed
        (2, "won_revenue", 500),  # 300 so far on Jun 1: at risk
        (3, "won_revenue", 100),  # upcoming
    ):
        bp.set_milestone(ws, "P1", 2024, quarter=quarter, metric=metric, target=target, by="a")
    first = ws.run(as_of=datetime(2024, 6, 1))
    found = bp.plan_status(ws, "P1", 2024)
    assert [(t.period, t.milestone.metric, t.status, t.actual) for t in found.milestones] == [
        ("FY2024-Q1", "won_deals", bp.MISSED, 2.0),
        ("FY2024-Q1", "won_revenue", bp.MET, 400.0),
        ("FY2024-Q2", "won_revenue", bp.AT_RISK, 300.0),
        ("FY2024-Q3", "won_revenue", bp.UPCOMING, None),
    ]
    assert found.summary() == "1 met, 1 missed, 1 at risk, 1 upcoming"

    def milestone_alerts(run_id: int) -> list[tuple[str, str, str]]:
        from partnerscope.evaluation.view import RunData

        alerts = RunData(ws, run_id).alerts.table.to_pylist()
        return [
            (a["metric"], a["status"], a["message"]) for a in alerts if a["kind"] == "milestone"
        ]

    message = "Business plan milestone missed in FY2024-Q1: Won deals 2 of 3 target"
    assert milestone_alerts(first.run_id) == [("won_deals", "new", message)]
    second = ws.run(as_of=datetime(2024, 7, 1))
    # raised once: the same alert is ongoing; Q2 is complete now and missed (300 < 500)
    assert sorted(milestone_alerts(second.run_id)) == [
        ("won_deals", "ongoing", message),
        (
            "won_revenue",
            "new",
            "Business plan milestone missed in FY2024-Q2: Won revenue $300 of $500 target",
        ),
    ]


def test_a_missed_milestone_is_listed_for_the_improvement_plan(ws: Workspace) -> None:
    bp.create(ws, "P1", 2024, by="ana")
    bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_deals", target=3, by="a")
    ws.run(as_of=datetime(2024, 4, 1))
    assert [t.milestone.metric for t in bp.missed_for_improvement(ws, "P1")] == ["won_deals"]
    assert bp.missed_for_improvement(ws, "P2") == []


# ------------------------------------------------------------------------ CLI


def cli(ws: Workspace, *args: str) -> Any:
    from partnerscope.cli import app

    return CliRunner().invoke(app, ["-w", str(ws.root), "business-plans", *args])


def test_the_cli_creates_shows_and_lists_plans(ws: Workspace) -> None:
    done = cli(ws, "create", "P1", "--year", "2024", "--market", "DE", "--by", "ana")
    assert done.exit_code == 0, done.output
    assert "P1 FY2024 version 1 (draft): Plan for FY2024 created; Target markets: none → DE" in (
        done.output
    )
    done = cli(ws, "milestone", "add", "P1", "-q", "Q1", "-m", "won_revenue", "-t", "400",
               "--year", "2024", "--by", "ana")  # fmt: skip
    assert "Q1 Won revenue milestone added: target $400" in done.output
    wrong = cli(ws, "milestone", "add", "P1", "-q", "1", "-m", "won revnue", "-t", "1")
    assert wrong.exit_code == 1
    assert "did you mean 'won_revenue'?" in wrong.output and "Traceback" not in wrong.output
    ws.run(as_of=datetime(2024, 4, 1))
    shown = cli(ws, "show", "P1", "--year", "2024", "--format", "csv")
    assert shown.output.splitlines() == [
        "quarter,measure,target,actual,status,owner,note",
        "FY2024-Q1,Won revenue,$400,$400,Met,,",
    ]
    listed = cli(ws, "list", "--format", "csv")
    assert listed.output.splitlines()[1] == "P1,Acme,FY2024,draft,2,1,1,0,0,0,0"
    history = cli(ws, "history", "P1", "--format", "json")
    assert '"by": "ana"' in history.output


def test_the_qbr_pack_has_the_quarters_milestones(ws: Workspace) -> None:
    from partnerscope.evaluation.view import RunData
    from partnerscope.reports import render
    from partnerscope.reports.qbr import qbr

    bp.create(ws, "P1", 2024, by="ana")
    bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_revenue", target=400, by="a")
    bp.set_milestone(ws, "P1", 2024, quarter=1, metric="won_deals", target=3, owner="Ann", by="a")
    bp.set_milestone(ws, "P1", 2024, quarter=2, metric="won_revenue", target=500, by="a")
    ws.run(as_of=datetime(2024, 7, 1))
    report = qbr(RunData(ws), "P1", "FY2024-Q1")
    section = report.sections["business_plan"]
    assert (section["year"], section["quarter"], section["summary"]) == (
        2024,
        1,
        "1 met, 2 missed",
    )
    assert [(r["measure"], r["target"], r["actual"], r["status_text"], r["owner"])
            for r in section["rows"]] == [
        ("Won deals", "3", "2", "Missed", "Ann"),
        ("Won revenue", "$400", "$400", "Met", "—"),
    ]  # fmt: skip
    html = render.html(report)
    assert "Joint business plan" in html and "Milestones of Q1" in html
    # a partner without a plan has no such section
    assert qbr(RunData(ws), "P2", "FY2024-Q1").sections["business_plan"] is None


def test_a_bad_setting_is_reported_with_its_key(ws: Workspace) -> None:
    config = ws.root / "partnerscope.toml"
    config.write_text(
        config.read_text() + "\n[business_plans]\nat_risk_margin = 1.5\nalert = true\n"
    )
    done = cli(ws, "list")
    assert done.exit_code == 1
    assert "business_plans.at_risk_margin: Input should be less than 1 (got 1.5)" in done.output
    assert "business_plans.alert: unknown key; did you mean 'alerts'?" in done.output


def test_the_cli_import_says_each_bad_row_on_its_line(ws: Workspace) -> None:
    path = write_file(
        ws.root / "plans.csv",
        "partner_id,fiscal_year,quarter,metric,target\nP1,2024,Q1,won_revnue,400\n",
    )
    done = cli(ws, "import", str(path), "--by", "ana")
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert "plans.csv, row 2, column metric ('won_revnue'): no metric 'won_revnue'" in (
        done.output.replace("\n", " ")
    )
    path.write_text("partner_id,fiscal_year,quarter,metric,target\nP1,2024,Q1,won_revenue,400\n")
    done = cli(ws, "import", str(path), "--by", "ana")
    assert "1 milestone row: 1 plan created, 0 changed, 0 unchanged" in done.output


def test_the_import_reads_a_workbook(ws: Workspace) -> None:
    import xlsxwriter

    path = ws.root / "plans.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Plans")
    rows = [
        ["Partner", "Fiscal year", "Quarter", "Measure", "Target", "Owner", "Note"],
        ["P2", 2024, "FY2024-Q2", "Win rate", "40%", "Bob", "after the training"],
        ["P2", 2024, "Q2", "new_customers", 3, "Bob", None],
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    done = bp.import_file(ws, path, by="ana")
    assert (done.rows, done.plans_created) == (2, 1)
    plan = bp.get_plan(ws, "P2", 2024)
    assert [(m.quarter, m.metric, m.target, m.owner, m.note) for m in plan.milestones] == [
        (2, "new_customers", 3.0, "Bob", None),
        (2, "win_rate", 0.4, "Bob", "after the training"),
    ]
