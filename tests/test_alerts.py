"""Threshold and anomaly alerts on hand-built panels, and their dedupe across runs; every
expected value is worked out in a comment."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from partnerscope.errors import ConfigError
from partnerscope.evaluation.alerts import dedupe, evaluate_alerts
from partnerscope.evaluation.panel import Panel
from partnerscope.metrics.definition import load_catalog
from partnerscope.present import Words
from partnerscope.settings.evaluation import (
    AlertSettings,
    AnomalySettings,
    Severity,
    Threshold,
)
from tests.panels import series_panel

NAN = math.nan
DIRECTIONS = {
    "won_revenue": "higher",
    "median_response_hours": "lower",
    "lead_sla_rate": "higher",
    "open_deals": "none",
    "score": "higher",
}
#: quarters ending with 2025-Q3
STARTS = [date(2023 + (m // 12), m % 12 + 1, 1) for m in range(0, 33, 3)]
LABELS = [f"{s.year}-Q{(s.month - 1) // 3 + 1}" for s in STARTS]

#: how the messages are written: the workspace defaults (en_US, USD) and the built-in catalog
WORDS = Words("en_US", "USD", load_catalog())


def make_panel(
    data: dict[str, dict[str, list[float]]], cohort: dict[str, str] | None = None
) -> Panel:
    return series_panel("quarter", STARTS, LABELS, data, cohort)


def alerts_of(panel: Panel, settings: AlertSettings) -> list[dict[str, Any]]:
    table = evaluate_alerts(
        panel, panel.values, panel.cohorts["revenue_band"], DIRECTIONS, settings, WORDS
    )
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def anomalies(metrics: tuple[str, ...] = ("won_revenue",), **kwargs: Any) -> AlertSettings:
    """Anomaly rules without an evidence count (these panels have no deal counts) unless
    given."""
    kwargs.setdefault("min_evidence", 0)
    return AlertSettings(thresholds=[], anomalies=AnomalySettings(metrics=metrics, **kwargs))


# ------------------------------------------------------------------------------------ thresholds


def test_threshold_below_and_above() -> None:
    panel = make_panel(
        {
            "A": {"lead_sla_rate": [0.9, 0.62], "median_response_hours": [3, 30]},
            "B": {"lead_sla_rate": [0.5, 0.8], "median_response_hours": [3, 24]},  # at bounds
            "C": {"lead_sla_rate": [0.5, NAN]},  # no leads this quarter: no value, no alert
        }
    )
    settings = AlertSettings(
        thresholds=[
            Threshold(metric="lead_sla_rate", below=0.8, severity=Severity.HIGH),
            Threshold(metric="median_response_hours", above=24),
        ],
        anomalies=AnomalySettings(metrics=()),
    )
    rows = alerts_of(panel, settings)
    assert [(r["partner_id"], r["metric"]) for r in rows] == [
        ("A", "lead_sla_rate"),
        ("A", "median_response_hours"),
    ]
    sla, hours = rows
    assert sla["kind"] == "threshold"
    assert (sla["severity"], sla["value"], sla["reference"], sla["z"]) == ("high", 0.62, 0.8, None)
    assert sla["message"] == "Lead SLA rate is 62.0%, below the threshold of 80.0%"
    assert (sla["period"], sla["period_start"]) == ("2025-Q3", date(2025, 7, 1))
    assert hours["severity"] == "medium"
    assert hours["message"] == "Median response time is 30.0 h, above the threshold of 24.0 h"


def test_most_severe_threshold_of_a_metric_speaks() -> None:
    # two bounds on one metric: 0.75 crosses both and gets the high one; 0.85 only the low one
    panel = make_panel({"A": {"lead_sla_rate": [0.75]}, "B": {"lead_sla_rate": [0.85]}})
    settings = AlertSettings(
        thresholds=[
            Threshold(metric="lead_sla_rate", below=0.9, severity=Severity.LOW),
            Threshold(metric="lead_sla_rate", below=0.8, severity=Severity.HIGH),
        ],
        anomalies=AnomalySettings(metrics=()),
    )
    rows = alerts_of(panel, settings)
    assert [(r["partner_id"], r["severity"], r["reference"]) for r in rows] == [
        ("A", "high", 0.8),
        ("B", "low", 0.9),
    ]


def test_a_value_nobody_computed_is_a_config_error() -> None:
    panel = make_panel({"A": {"won_revenue": [1.0]}})
    settings = AlertSettings(thresholds=[Threshold(metric="won_revenu", below=1.0)])
    with pytest.raises(ConfigError, match=r"'won_revenu'.*did you mean 'won_revenue'"):
        alerts_of(panel, settings)


# ------------------------------------------------------------------------------------- anomalies


def test_own_history_anomaly() -> None:
    # changes 10, −10, 12, −8, 6, then −60. Earlier: median 6; |deviations| 4, 16, 6, 14, 0 →
    # MAD 6 → spread 6 × 1.4826 = 8.8956; z = (−60 − 6) / 8.8956 = −7.4194 (≤ −2 × 3.5:
    # high); expected value 110 + 6 = 116
    panel = make_panel({"A": {"won_revenue": [100, 110, 100, 112, 104, 110, 50]}})
    (alert,) = alerts_of(panel, anomalies())
    assert (alert["kind"], alert["metric"], alert["severity"]) == (
        "anomaly_own",
        "won_revenue",
        "high",
    )
    assert alert["value"] == 50
    assert alert["reference"] == 116
    assert alert["z"] == pytest.approx(-66 / (6 * 1.4826))
    assert alert["message"] == (
        "Won revenue fell $60 (−55%) from $110, far beyond its own changes over its last 5 quarters"
    )


def test_the_good_direction_does_not_alert() -> None:
    panel = make_panel(
        {
            # the same history with a rise of 60: good news for revenue
            "A": {"won_revenue": [100, 110, 100, 112, 104, 110, 170]},
            # response hours: lower is better, so the drop is good and the rise alerts;
            # changes −1, 1, −1, 1 then +20: median 0, MAD 1 → z = 20 / 1.4826 = 13.49
            "B": {"median_response_hours": [5, 4, 5, 4, 5, 25]},
            "C": {"median_response_hours": [25, 24, 25, 24, 25, 5]},
            # a metric with no better direction never alerts
            "D": {"open_deals": [5, 4, 5, 4, 5, 25]},
        }
    )
    settings = anomalies(("won_revenue", "median_response_hours", "open_deals"))
    rows = alerts_of(panel, settings)
    assert [(r["partner_id"], r["metric"]) for r in rows] == [("B", "median_response_hours")]
    # z = 13.49 is past the cap of 10: stored as 10 and said in words
    assert rows[0]["z"] == 10
    assert rows[0]["message"] == (
        "Median response time rose 20.0 h (+400%) from 5.0 h, far above its usual level: "
        "more than 10 times the usual size of its own changes over its last 4 quarters"
    )


def test_mad_zero_falls_back_to_mean_absolute_deviation() -> None:
    panel = make_panel(
        {
            # changes 0, 0, 0, 5, 0 then −10: median 0, MAD 0; mean |deviation| = 5 / 5 = 1
            # → spread 1.2533; z = −10 / 1.2533 = −7.979
            "A": {"won_revenue": [10, 10, 10, 10, 15, 15, 5]},
            # all earlier changes 0: no spread at all, so no judgement
            "B": {"won_revenue": [10, 10, 10, 10, 10, 10, 5]},
        }
    )
    rows = alerts_of(panel, anomalies())
    assert [(r["partner_id"], r["kind"]) for r in rows] == [("A", "anomaly_own")]
    assert rows[0]["z"] == pytest.approx(-10 / 1.2533)
    assert rows[0]["reference"] == 15


def test_too_little_history() -> None:
    # 3 earlier changes (10, −10, 10) where 4 are needed
    panel = make_panel({"A": {"won_revenue": [100, 110, 100, 110, 10]}})
    assert alerts_of(panel, anomalies()) == []
    # with min_history 3 the same change is judged: median 10, MAD 0, mean |dev| 20 / 3 →
    # spread 8.3553; z = (−100 − 10) / 8.3553 = −13.17
    (alert,) = alerts_of(panel, anomalies(min_history=3))
    assert alert["z"] == -10  # capped
    (alert,) = alerts_of(panel, anomalies(min_history=3, z_cap=20))
    assert alert["z"] == pytest.approx(-110 / (20 / 3 * 1.2533))


def test_cohort_anomaly() -> None:
    # one change each (two periods): no own history. Cohort X's changes 1, 2, 3, −1, 0, −20:
    # median (0 + 1) / 2 = 0.5; |deviations| 0.5, 1.5, 2.5, 1.5, 0.5, 20.5 → MAD 1.5 →
    # spread 2.2239; z of −20 = −20.5 / 2.2239 = −9.218 (high), of −1 = −0.67 (none).
    # Cohort Y has the same collapse, but 4 partners are too few to judge.
    x = {f"X{i}": {"won_revenue": [100, 100 + d]} for i, d in enumerate([1, 2, 3, -1, 0, -20])}
    y = {f"Y{i}": {"won_revenue": [100, 100 + d]} for i, d in enumerate([1, 2, 3, -20])}
    cohorts = dict.fromkeys(x, "X") | dict.fromkeys(y, "Y")
    rows = alerts_of(make_panel(x | y, cohorts), anomalies())
    assert [(r["partner_id"], r["kind"], r["severity"]) for r in rows] == [
        ("X5", "anomaly_cohort", "high")
    ]
    alert = rows[0]
    assert alert["z"] == pytest.approx(-20.5 / (1.5 * 1.4826))
    assert alert["reference"] == 100.5
    assert alert["message"] == (
        "Won revenue fell $20 (−20%) from $100, far beyond the changes of the 6 partners of its "
        "peer group (X) this quarter"
    )


def test_medium_below_twice_the_threshold() -> None:
    # changes −1, 1, −1, 1, −1 then −6: median −1; |deviations| 0, 2, 0, 2, 0 → MAD 0, mean
    # 4 / 5 = 0.8 → spread 0.8 × 1.2533 = 1.00264; z = (−6 + 1) / 1.00264 = −4.99: past 3.5
    # but under 2 × 3.5, so medium
    panel = make_panel({"A": {"won_revenue": [10, 9, 10, 9, 10, 9, 3]}})
    (alert,) = alerts_of(panel, anomalies())
    assert alert["severity"] == "medium"
    assert alert["z"] == pytest.approx(-5 / (0.8 * 1.2533))


# ---------------------------------------------------------------------------------------- dedupe


def test_alert_ids_are_stable_and_distinct() -> None:
    data = {"A": {"won_revenue": [100, 110, 100, 112, 104, 110, 50], "lead_sla_rate": [0.5]}}
    settings = AlertSettings(
        thresholds=[Threshold(metric="lead_sla_rate", below=0.8)],
        anomalies=AnomalySettings(metrics=("won_revenue",), min_evidence=0),
    )
    first = alerts_of(make_panel(data), settings)
    # a later run with corrected numbers raises the same alerts with the same ids
    data["A"]["won_revenue"][-1] = 40
    again = alerts_of(make_panel(data), settings)
    ids = [r["alert_id"] for r in first]
    assert ids == [r["alert_id"] for r in again]
    assert len(set(ids)) == len(ids) == 2
    assert all(len(i) == 12 for i in ids)


def test_dedupe_new_and_ongoing() -> None:
    current = pa.table({"alert_id": ["a", "b"], "metric": ["won_revenue", "csat"]})
    first = dedupe(current, None, run_id=3)
    assert first.column("status").to_pylist() == ["new", "new"]
    assert first.column("first_seen_run").to_pylist() == [3, 3]
    assert first.schema.field("first_seen_run").type == pa.int64()
    later = pa.table({"alert_id": ["b", "c"], "metric": ["csat", "win_rate"]})
    second = dedupe(later, first, run_id=5)
    assert second.column("status").to_pylist() == ["ongoing", "new"]
    assert second.column("first_seen_run").to_pylist() == [3, 5]
    # an ongoing alert keeps the run it was first seen in, however long it lasts
    third = dedupe(second, second, run_id=6)
    assert third.column("first_seen_run").to_pylist() == [3, 5]
    assert third.column_names == ["alert_id", "metric", "first_seen_run", "status"]


def test_table_columns() -> None:
    table = evaluate_alerts(
        make_panel({}), {}, np.array([], dtype=object), DIRECTIONS, anomalies(()), WORDS
    )
    assert table.column_names == [
        "alert_id",
        "partner_id",
        "period_start",
        "period",
        "kind",
        "metric",
        "severity",
        "value",
        "reference",
        "z",
        "message",
    ]
    assert table.num_rows == 0


# ------------------------------------------------------------------ evidence of the new measures


def test_a_threshold_is_judged_only_on_enough_events() -> None:
    # A: 1 of 2 leads in time (50 %) — 2 leads, under the 3 the threshold needs: no alert.
    # B: 2 of 4 in time (50 %) on 4 leads: alert. C: no leads at all (NaN count): no alert.
    panel = make_panel(
        {
            "A": {"lead_sla_rate": [0.5], "leads_assigned": [2]},
            "B": {"lead_sla_rate": [0.5], "leads_assigned": [4]},
            "C": {"lead_sla_rate": [0.0], "leads_assigned": [NAN]},
        }
    )
    settings = AlertSettings(
        thresholds=[
            Threshold(
                metric="lead_sla_rate",
                below=0.8,
                severity=Severity.HIGH,
                evidence="leads_assigned",
                min_evidence=3,
            )
        ],
        anomalies=AnomalySettings(metrics=()),
    )
    rows = alerts_of(panel, settings)
    assert [(r["partner_id"], r["value"]) for r in rows] == [("B", 0.5)]
    assert rows[0]["message"] == "Lead SLA rate is 50.0%, below the threshold of 80.0%"


def test_min_evidence_without_a_count_is_refused() -> None:
    with pytest.raises(ValueError, match="name the count of events"):
        Threshold(metric="lead_sla_rate", below=0.8, min_evidence=3)


def test_an_anomaly_rests_on_its_own_count_of_events() -> None:
    # the history of test_own_history_anomaly, on lead_sla_rate scaled to shares: changes
    # +.10, −.10, +.12, −.08, +.06, then −.60 → z = −66/8.8956 (high). Its evidence is
    # leads_assigned (5 every quarter): judged. The deal count (closed_deals, the default
    # evidence) is 0 everywhere, so with the default evidence nothing would be judged.
    values = [0.70, 0.80, 0.70, 0.82, 0.74, 0.80, 0.20]
    panel = make_panel(
        {
            "A": {
                "lead_sla_rate": values,
                "leads_assigned": [5] * 7,
                "closed_deals": [0] * 7,
            }
        }
    )
    by_deals = AnomalySettings(metrics=("lead_sla_rate",), min_evidence=3)
    assert alerts_of(panel, AlertSettings(thresholds=[], anomalies=by_deals)) == []
    own = AnomalySettings(
        metrics=("lead_sla_rate",), min_evidence=3, evidence_of={"lead_sla_rate": "leads_assigned"}
    )
    (alert,) = alerts_of(panel, AlertSettings(thresholds=[], anomalies=own))
    assert (alert["kind"], alert["severity"]) == ("anomaly_own", "high")
    assert alert["z"] == pytest.approx(-0.66 / (0.06 * 1.4826))
    assert alert["message"] == (
        "Lead SLA rate fell 60.0 pts from 80.0%, far beyond its own changes over its last 5 "
        "quarters"
    )
    # fewer than 3 leads in the latest quarter: not judged
    few = make_panel(
        {"A": {"lead_sla_rate": values, "leads_assigned": [5] * 6 + [2], "closed_deals": [0] * 7}}
    )
    assert alerts_of(few, AlertSettings(thresholds=[], anomalies=own)) == []


def test_the_default_alerts_of_the_new_measures() -> None:
    # the defaults (issue 30): A answered 3 of its 5 critical cases in time (60 % < 80 %: high);
    # B answered 3 of 4 (75 %, but on 4 cases, under the 5 needed: none), 3 of its 30
    # cases escalated (10 % > 5 %: medium), it renewed 4 of 5 contracts due (80 % < 90 %:
    # high) and rates the vendor 6.5 (< 7: medium); C has none of this data: no alert
    fields = {
        "lead_sla_rate": [NAN] * 3,
        "compliance_score": [NAN] * 3,
        "csat": [NAN] * 3,
        "critical_response_rate": [0.6, 0.75, NAN],
        "critical_cases_due": [5, 4, NAN],
        "escalation_rate": [0.0, 0.1, NAN],
        "support_cases": [10, 30, NAN],
        "renewal_rate": [NAN, 0.8, NAN],
        "contracts_due": [NAN, 5, NAN],
        "partner_satisfaction": [9.0, 6.5, NAN],
        "customer_churn_rate": [NAN, 0.2, NAN],
        "customers_due": [NAN, 5, NAN],
        "won_revenue": [1.0, 1.0, 1.0],
        "win_rate": [NAN] * 3,
        "new_pipeline": [NAN] * 3,
        "score": [NAN] * 3,
        "closed_deals": [NAN] * 3,
    }
    panel = make_panel(
        {p: {name: [v[i]] for name, v in fields.items()} for i, p in enumerate("ABC")}
    )
    rows = alerts_of(panel, AlertSettings())
    assert [(r["partner_id"], r["metric"], r["severity"]) for r in rows] == [
        ("A", "critical_response_rate", "high"),
        ("B", "renewal_rate", "high"),
        ("B", "escalation_rate", "medium"),
        ("B", "partner_satisfaction", "medium"),
    ]
    assert [r["message"] for r in rows] == [
        "Critical response within 4 h is 60.0%, below the threshold of 80.0%",
        "Renewal rate is 80.0%, below the threshold of 90.0%",
        "Escalation rate is 10.0%, above the threshold of 5.0%",
        "Partner satisfaction is 6.5, below the threshold of 7.0",
    ]
