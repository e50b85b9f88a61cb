"""Compliance audits: compliance_score over checks and audits together, and the audit findings'
metrics, on a tiny fixture worked out by hand (docs/compliance.md). The same values on DuckDB,
PostgreSQL and Spark.

Main period FY2025-Q2 (2025-04-01 … 2025-06-30, UTC, calendar fiscal year), as of 2025-07-01.
compliance_score's window for FY2025-Q2 is 2024-07-01 … 2025-06-30.

    P1 Acme   checks K2 (w2 ✓, 2024-07-01), K3 (w1 ✗, 2025-03-15);
              audits AU1 (w3 ✗, 2025-04-10), AU2 (w4 ✓, 2024-06-15: outside), AU3 (w1 ✓, 2025-06-05)
    P2 Beta   check K5 (w1 ✓, 2025-05-01); audit AU4 (w2 ✗, 2025-05-20)

Findings (audit, due, closed):
    F1 AU1 due 2025-05-10 closed 2025-05-08  on time
    F2 AU1 due 2025-05-31 closed 2025-06-15  late; not overdue at May's end (due on its last day)
    F3 AU1 due 2025-06-20 open              overdue at June's end
    F4 AU3 due 2025-07-15 open              open, not overdue
    F5 AU2 due 2024-07-31 closed 2024-09-10  late, overdue at August 2024's end
    F6 AU4 no due date   closed 2025-06-01  on time (no deadline to miss)
    F7 AU4 due 2025-06-30 open              open, not overdue on its due date
    F8 AU4 due 2025-05-25 closed 2025-05-01  closed before its audit (data error): left out
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pytest

from partnerscope.metrics.engine import ALL_LEVELS, compute, compute_metrics
from partnerscope.workspace import Workspace
from tests.conftest import make_workspace
from tests.test_engine_parity import ENGINES, Opener, assert_same
from tests.test_engine_parity import engine as engine
from tests.test_metrics_fixture import AS_OF, GRAINS, check, csv_file, index, source, value

METRICS = [
    "compliance_weight_passed",
    "compliance_weight",
    "compliance_score",
    "audit_findings_open",
    "corrective_actions_overdue",
    "findings_closed",
    "findings_closed_on_time",
    "findings_closed_on_time_rate",
]

TABLES: dict[str, tuple[str, str, str]] = {
    "partners": (
        "partners",
        "partner_id,name,partner_type,region,program_tier",
        "P1,Acme,var,EMEA,Gold\nP2,Beta,si,EMEA,Silver\n",
    ),
    "compliance": (
        "compliance_checks",
        "check_id,partner_id,checked_at,check_type,weight,passed",
        """
        K2,P1,2024-07-01,audit,2,true
        K3,P1,2025-03-15,data,1,false
        K5,P2,2025-05-01,audit,1,true
        """,
    ),
    "audits": (
        "audits",
        "audit_id,partner_id,audited_at,category,weight,passed,auditor,notes",
        """
        AU1,P1,2025-04-10,data_security,3,false,Ines,Backups untested
        AU2,P1,2024-06-15,marketing_guidelines,4,true,Ines,
        AU3,P1,2025-06-05,margin_requirements,1,true,Ola,
        AU4,P2,2025-05-20,anti_corruption,2,false,Ola,Gifts register missing
        """,
    ),
    "findings": (
        "audit_findings",
        "finding_id,audit_id,partner_id,severity,finding,corrective_action,owner,due_at,closed_at",
        """
        F1,AU1,P1,high,No backup test,Test restores,Dana,2025-05-10,2025-05-08
        F2,AU1,P1,critical,Shared admin account,Personal accounts,Dana,2025-05-31,2025-06-15
        F3,AU1,P1,medium,No access review,Quarterly review,Lee,2025-06-20,
        F4,AU3,P1,low,Late price list,Publish list,Lee,2025-07-15,
        F5,AU2,P1,medium,Old logo,Replace logo,Dana,2024-07-31,2024-09-10
        F6,AU4,P2,high,No gifts register,Keep a register,Sam,,2025-06-01
        F7,AU4,P2,medium,No training,Train staff,Sam,2025-06-30,
        F8,AU4,P2,low,Typo,Fix,Sam,2025-05-25,2025-05-01
        """,
    ),
}


def fixture_workspace(root: Path, settings: str = "") -> Workspace:
    config = settings + "".join(source(n, e, h) for n, (e, h, _) in TABLES.items())
    files = {f"data/{n}.csv": csv_file(h, b) for n, (_, h, b) in TABLES.items()}
    ws = make_workspace(root, config, files)
    assert ws.ingest().quarantined == 0
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return fixture_workspace(tmp_path_factory.mktemp("compliance"))


@pytest.fixture(scope="module")
def rows(ws: Workspace) -> dict[Any, Any]:
    with ws.warehouse(read_only=True) as wh:
        table = compute_metrics(wh.con, ws.config, METRICS, GRAINS, ALL_LEVELS, as_of=AS_OF)
    return index(table)


def test_compliance_score_counts_audits_beside_checks(rows: dict[Any, Any]) -> None:
    # P1, 2024-07 … 2025-06: K2 2 ✓, K3 1 ✗, AU1 3 ✗, AU3 1 ✓ (AU2 of 2024-06-15 is outside)
    check(
        rows,
        "partner",
        "P1",
        "FY2025-Q2",
        {"compliance_weight_passed": 3.0, "compliance_weight": 7.0, "compliance_score": 300 / 7},
    )
    # P2: K5 1 ✓, AU4 2 ✗ → 100 × 1 / 3
    check(rows, "partner", "P2", "FY2025-Q2", {"compliance_score": 100 / 3})
    # company: (3 + 1) / (7 + 3)
    check(rows, "company", "all", "FY2025-Q2", {"compliance_score": 40.0})
    # P1, 2023-07 … 2024-06: AU2 alone, passed → 100
    assert value(rows, "compliance_score", "partner", "P1", "FY2024-Q2") == pytest.approx(100.0)


def test_findings_of_a_partner_quarter(rows: dict[Any, Any]) -> None:
    # open at 2025-06-30: F3, F4 (F1 and F2 closed, F5 closed in 2024); overdue: F3 only
    # closed in Q2: F1 (on time), F2 (late) → 1 / 2
    check(
        rows,
        "partner",
        "P1",
        "FY2025-Q2",
        {
            "audit_findings_open": 2.0,
            "corrective_actions_overdue": 1.0,
            "findings_closed": 2.0,
            "findings_closed_on_time": 1.0,
            "findings_closed_on_time_rate": 0.5,
        },
    )
    # P2: F7 open, due on the period's last day: not overdue; F6 closed without a due date:
    # on time; F8 (closed before its audit) is left out
    check(
        rows,
        "partner",
        "P2",
        "FY2025-Q2",
        {
            "audit_findings_open": 1.0,
            "corrective_actions_overdue": 0.0,
            "findings_closed": 1.0,
            "findings_closed_on_time": 1.0,
            "findings_closed_on_time_rate": 1.0,
        },
    )
    check(
        rows,
        "company",
        "all",
        "FY2025-Q2",
        {
            "audit_findings_open": 3.0,
            "corrective_actions_overdue": 1.0,
            "findings_closed": 3.0,
            "findings_closed_on_time": 2.0,
            "findings_closed_on_time_rate": 2 / 3,
        },
    )


def test_findings_are_read_at_each_period_end(rows: dict[Any, Any]) -> None:
    # April: F1 F2 F3 open (audit AU1 on 04-10), none past due
    check(rows, "partner", "P1", "2025-04", {"audit_findings_open": 3.0})
    check(rows, "partner", "P1", "2025-04", {"corrective_actions_overdue": 0.0})
    # May: F1 closed 05-08; F2 due 05-31 is not overdue on 05-31
    check(rows, "partner", "P1", "2025-05", {"audit_findings_open": 2.0})
    check(rows, "partner", "P1", "2025-05", {"corrective_actions_overdue": 0.0})
    # June: F2 overdue from 06-01 but closed 06-15; F3 overdue from 06-21; F4 opened by AU3
    check(rows, "partner", "P1", "2025-06", {"audit_findings_open": 2.0})
    check(rows, "partner", "P1", "2025-06", {"corrective_actions_overdue": 1.0})
    # 2024: F5 (audit 06-15, due 07-31, closed 09-10)
    check(rows, "partner", "P1", "2024-06", {"audit_findings_open": 1.0})
    check(rows, "partner", "P1", "2024-07", {"corrective_actions_overdue": 0.0})
    check(rows, "partner", "P1", "2024-08", {"corrective_actions_overdue": 1.0})
    check(rows, "partner", "P1", "2024-09", {"audit_findings_open": 0.0})
    check(
        rows,
        "partner",
        "P1",
        "FY2024-Q3",
        {
            "findings_closed": 1.0,
            "findings_closed_on_time": 0.0,
            "findings_closed_on_time_rate": 0.0,
        },
    )


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_compliance_metrics_are_the_same_on_every_engine(engine: Opener, tmp_path: Path) -> None:
    ws = fixture_workspace(tmp_path / "ws")
    run = {"as_of": AS_OF, "metrics": METRICS, "grains": GRAINS, "levels": ALL_LEVELS}
    with ws.warehouse(read_only=True) as wh:
        expected = compute(ibis.duckdb.from_connection(wh.con), ws.config, ws.catalog, **run)
        with engine(wh.con) as backend:
            got = compute(backend, ws.config, ws.catalog, **run)
    assert expected.results is not None and got.results is not None
    assert expected.results.num_rows > 50
    assert_same(expected.results, got.results)


# ---- the audit trail and `partnerscope audits` ------------------------------------------------


def test_the_trail_behind_a_partner_score(ws: Workspace) -> None:
    from partnerscope.lifecycle.compliance import trail

    t = trail(ws, "P1", "FY2025-Q2")
    # the same records as the metric: K2, K3, AU1, AU3 (AU2 is before 2024-07-01)
    assert [r.record_id for r in t.records] == ["K2", "K3", "AU1", "AU3"]
    assert (t.passed_weight, t.weight) == (3.0, 7.0)
    assert t.score == pytest.approx(300 / 7)
    au1 = t.records[2]
    assert au1.auditor == "Ines" and au1.notes == "Backups untested"
    day = t.last_day  # 2025-06-30
    assert [(f.finding_id, f.owner, f.status(day)) for f in au1.findings] == [
        ("F1", "Dana", "closed on time"),
        ("F2", "Dana", "closed late"),
        ("F3", "Lee", "overdue"),
    ]
    # what the partner itself sees: no auditor, no notes
    own = t.for_partner().records[2]
    assert own.auditor is None and own.notes is None and own.findings == au1.findings


def test_overview_by_category_and_open_actions(ws: Workspace) -> None:
    from partnerscope.lifecycle.compliance import overview

    o = overview(ws, None, "FY2025-Q2")
    rates = {c.label: (c.audits, c.passed, c.pass_rate) for c in o.categories}
    assert rates == {
        "Anti-corruption": (1, 0, 0.0),
        "Data security": (1, 0, 0.0),
        "Margin requirements": (1, 1, 1.0),
    }
    # open at 2025-06-30: F3 (overdue first), F7 (due that day), F4
    assert [f.finding_id for f in o.actions] == ["F3", "F7", "F4"]
    assert [f.finding_id for f in o.overdue] == ["F3"]
    # a manager of P2 only
    assert [f.finding_id for f in overview(ws, ["P2"], "FY2025-Q2").actions] == ["F7"]


def test_cli_audits(ws: Workspace) -> None:
    import json

    from typer.testing import CliRunner

    from partnerscope.cli import app

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["--workspace", str(ws.root), "audits", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    rows = json.loads(run("--partner", "P1", "--period", "FY2025-Q2", "--format", "json"))
    assert [(r["kind"], r["what"], r["result"], r["finding"], r["status"]) for r in rows] == [
        ("check", "audit", "passed", "—", "—"),
        ("check", "data", "failed", "—", "—"),
        ("audit", "Data security", "failed", "No backup test", "closed on time"),
        ("audit", "Data security", "failed", "Shared admin account", "closed late"),
        ("audit", "Data security", "failed", "No access review", "overdue"),
        ("audit", "Margin requirements", "passed", "Late price list", "open"),
    ]
    text = " ".join(run("--partner", "P1", "--period", "FY2025-Q2").split())
    assert "Compliance score FY2025-Q2 for Acme: 42.9 of 100 (3 of 7 weight passed)" in text
    open_rows = json.loads(run("--open", "--format", "json"))
    assert sorted(r["finding"] for r in open_rows) == [
        "Late price list",
        "No access review",
        "No training",
    ]
    bad = CliRunner().invoke(app, ["--workspace", str(ws.root), "audits", "--partner", "P9"])
    assert bad.exit_code == 1 and "P9" in bad.stderr and "Traceback" not in bad.output


# ---- presets for audit exports ---------------------------------------------------------------


def test_presets_generic_audits_and_findings(tmp_path: Path) -> None:
    from datetime import date

    from tests.conftest import PARTNERS_CSV, PARTNERS_SOURCE, quarantine, query

    ws = make_workspace(
        tmp_path / "ws",
        PARTNERS_SOURCE
        + """
        [sources.audits]
        entity = "audits"
        path = "data/audits.csv"
        preset = "generic_audits"
        [sources.findings]
        entity = "audit_findings"
        path = "data/findings.csv"
        preset = "generic_audit_findings"
        """,
        {
            "data/partners.csv": PARTNERS_CSV,
            "data/audits.csv": (
                "Audit ID,Partner ID,Audit Date,Category,Result,Weight,Auditor,Summary\n"
                "A1,P1,2025-04-10,Data Security,Fail,3,Ines,Backups untested\n"  # row 2
                "A2,P2,2025-05-20,Anti-Corruption,Compliant,,Ola,\n"  # row 3: weight 1
                "A3,P1,2025-06-05,margin_requirements,PASSED,1,,\n"  # row 4
                "A4,P1,2025-06-06,Tax Filing,Pass,1,,\n"  # row 5: unknown category
                "A5,P2,2025-06-07,Data security,maybe,1,,\n"  # row 6: no result
            ),
            "data/findings.csv": (
                "Finding ID,Audit ID,Partner ID,Severity,Finding,Corrective Action,"
                "Action Owner,Due Date,Closed Date\n"
                "F1,A1,P1,High,No backup test,Test restores,Dana,2025-05-10,2025-05-08\n"
                "F2,A2,P2,,No gifts register,Keep a register,Sam,2025-06-30,\n"  # medium
                "F3,A1,P1,Urgent,Shared account,Personal accounts,Dana,2025-05-31,\n"  # row 4
                "F4,A9,P1,low,Typo,Fix,Lee,2025-05-31,\n"  # row 5: no audit A9
            ),
        },
    )
    report = ws.ingest()
    assert report.quarantined == 4
    assert query(
        ws, "SELECT audit_id, partner_id, audited_at, category, weight, passed, auditor, notes "
        "FROM audits ORDER BY 1"
    ) == [
        ("A1", "P1", date(2025, 4, 10), "data_security", 3.0, False, "Ines", "Backups untested"),
        ("A2", "P2", date(2025, 5, 20), "anti_corruption", 1.0, True, "Ola", None),
        ("A3", "P1", date(2025, 6, 5), "margin_requirements", 1.0, True, None, None),
    ]  # fmt: skip
    assert query(
        ws, "SELECT finding_id, severity, owner, due_at, closed_at FROM audit_findings ORDER BY 1"
    ) == [
        ("F1", "high", "Dana", date(2025, 5, 10), date(2025, 5, 8)),
        ("F2", "medium", "Sam", date(2025, 6, 30), None),
    ]
    rules = {(row, column) for row, column, _, _ in quarantine(ws)}
    assert {(5, "category"), (6, "passed"), (4, "severity"), (5, "audit_id")} <= rules
