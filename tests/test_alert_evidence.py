"""Issue 26 item 9: anomaly rules for partners that buy a few times a year. A change is
judged only where both of its sides rest on enough deals; a trailing window compares averages
of several periods; a z beyond what the data can measure is capped and said in words."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from partnerscope.evaluation.alerts import evaluate_alerts
from partnerscope.metrics.definition import load_catalog
from partnerscope.present import Words
from partnerscope.settings.evaluation import (
    AlertSettings,
    AnomalySettings,
    ScorecardSettings,
    TierSettings,
    check,
)
from tests.panels import series_panel

CATALOG = load_catalog()
WORDS = Words("en_US", "USD", CATALOG)
STARTS = [date(2023 + (m // 12), m % 12 + 1, 1) for m in range(0, 33, 3)]
LABELS = [f"{s.year}-Q{(s.month - 1) // 3 + 1}" for s in STARTS]


def alerts(data: dict[str, dict[str, list[float]]], **rules: Any) -> list[dict[str, Any]]:
    panel = series_panel("quarter", STARTS, LABELS, data)
    settings = AlertSettings(
        thresholds=[], anomalies=AnomalySettings(metrics=("won_revenue",), **rules)
    )
    table = evaluate_alerts(
        panel,
        panel.values,
        panel.cohorts["revenue_band"],
        {"won_revenue": "higher"},
        settings,
        WORDS,
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


#: a dealer ordering once a quarter, about the same amount, then a quarter without an order
ONCE_A_QUARTER = {
    "D": {
        "won_revenue": [1000, 1000, 1010, 1000, 1000, 1000, 0],
        "closed_deals": [1, 1, 1, 1, 1, 1, 0],
    }
}


def test_an_empty_quarter_of_a_rare_buyer_is_no_anomaly() -> None:
    # judged on every change regardless of the deals behind it (the old rule): earlier
    # changes 0, 10, −10, 0, 0 → median 0, MAD 0, mean |deviation| 4 → spread 4 × 1.2533;
    # the empty quarter's −1000 is a z of −199.5
    (old,) = alerts(ONCE_A_QUARTER, min_evidence=0, z_cap=1000)
    assert old["z"] == pytest.approx(-1000 / (4 * 1.2533))
    # by default each side of a change needs 3 closed deals: nothing here is judged
    assert alerts(ONCE_A_QUARTER) == []
    # with 1 deal needed the earlier changes count, but the empty quarter has no deal
    assert alerts(ONCE_A_QUARTER, min_evidence=1) == []


def test_a_z_beyond_the_cap_is_said_in_words() -> None:
    # the same history on 10 deals a quarter, then revenue drops to 100 on 10 deals:
    # z = −900 / 5.0132 = −179.5, far past the cap of 10
    data = {
        "D": {
            "won_revenue": [1000, 1000, 1010, 1000, 1000, 1000, 100],
            "closed_deals": [10] * 7,
        }
    }
    (alert,) = alerts(data)
    assert alert["z"] == -10
    assert alert["severity"] == "high"
    assert alert["reference"] == 1000
    assert alert["message"] == (
        "Won revenue fell $900 (−90%) from $1,000, far below its usual level: more than 10 "
        "times the usual size of its own changes over its last 5 quarters"
    )


def test_a_trailing_window_judges_a_rare_buyer_on_half_years() -> None:
    # one order a quarter: too few (2 needed) quarter by quarter, enough over two quarters
    data = {
        "D": {
            "won_revenue": [100, 120, 100, 120, 100, 120, 100, 120, 20, 20],
            "closed_deals": [1] * 10,
        }
    }
    assert alerts(data, min_evidence=2) == []
    # averages of two quarters against the two before: 110 against 110 five times, then
    # (20 + 120) / 2 = 70 against 110 (−40), then 20 against 110 (−90). Earlier changes
    # 0 × 5 and −40: median 0, MAD 0, mean |deviation| 40 / 6 → spread 8.355;
    # z = −90 / 8.355 = −10.77
    (alert,) = alerts(data, min_evidence=2, window=2, z_cap=20)
    assert alert["z"] == pytest.approx(-90 / (40 / 6 * 1.2533))
    assert (alert["value"], alert["reference"]) == (20, 110)
    assert alert["message"] == (
        "Won revenue, averaged over the last 2 quarters, fell $90 (−82%) from $110 in the 2 "
        "before, far beyond its own changes over its last 6 quarters"
    )


def test_anomaly_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="make z_cap at least z"):
        AnomalySettings(z=5, z_cap=4)
    with pytest.raises(ValidationError):
        AnomalySettings(window=0)
    problems = check(
        CATALOG,
        ScorecardSettings(),
        TierSettings(),
        AlertSettings(anomalies=AnomalySettings(evidence="closed_deal")),
    )
    assert problems == [
        "alerts.anomalies.evidence: no metric 'closed_deal'; did you mean 'closed_deals'?"
    ]
