"""The evaluation's commands speak the users' language: partners by name with the id beside
it, metrics by label, values in their unit with the currency, no catalog key or raw fraction.

The workspace is the one of tests/test_workbooks.py (FY2024-Q2: P1 Acme won $300,000 of a
$400,000 quota, 75.0%; P2 Beta $100,000, 100.0%; P3 Core $150,000, 150.0%).
"""

from __future__ import annotations

import re

import pytest

from tests.test_cli import run, wide_console  # noqa: F401
from tests.test_workbooks import Q2, ws  # noqa: F401

KEYS = ("won_revenue", "win_rate", "quota_attainment", "var", "si", "portfolio", "None", "nan")


def no_keys(out: str) -> None:
    for key in KEYS:
        assert not re.search(rf"\b{key}\b", out), key


@pytest.mark.usefixtures("wide_console")
def test_the_ranking_lists_names_beside_ids(ws):  # noqa: F811
    out = run("-w", str(ws.root), "scorecard", "--period", Q2).output
    for name, pid in (("Acme", "P1"), ("Beta", "P2"), ("Core", "P3")):
        assert f"{name} {pid}" in out
    assert "all partners" in out  # three partners: the portfolio is their peer group
    assert "percentile" in out and " %" not in out
    no_keys(out)


@pytest.mark.usefixtures("wide_console")
def test_a_scorecard_in_words(ws):  # noqa: F811
    out = run("-w", str(ws.root), "scorecard", "P1", "--period", Q2).output
    assert "Acme (P1) — FY2024-Q2" in out
    assert "│ Won revenue " in out and "$300,000" in out
    assert "│ Quota attainment " in out and "75.0%" in out
    assert "data as of Jul 1, 2024" in out
    no_keys(out)


@pytest.mark.usefixtures("wide_console")
def test_alerts_and_plans_name_partners(ws):  # noqa: F811
    out = run("-w", str(ws.root), "alerts").output
    assert "Alerts — run" in out and "Flags (3)" in out
    # P1's won revenue over the trailing 4 quarters rose from $100,000 to $400,000
    assert "│ High potential │ Acme P1 │ Revenue rising │" in out
    assert "FY2024-Q1 $100,000, FY2024-Q2 $400,000" in out
    for kind in ("anomaly_own", "anomaly_cohort", "│ threshold "):
        assert kind not in out
    no_keys(out)
    plans = run("-w", str(ws.root), "plans").output
    assert "Improvement plans (" in plans
    no_keys(plans)
