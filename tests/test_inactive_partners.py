"""Issue 26 item 7: partners marked inactive, and partners in the periods before they joined,
are left out of scores, ranks, peer cohorts, tiers and alerts unless
``[scorecard] score_inactive`` is on, and say so."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from partnerscope.evaluation.alerts import evaluate_alerts
from partnerscope.evaluation.panel import Panel, Standing, build_panel
from partnerscope.evaluation.scorecard import score, to_tables
from partnerscope.evaluation.tiers import evaluate, to_table
from partnerscope.metrics.definition import load_catalog
from partnerscope.present import Words
from partnerscope.settings.evaluation import (
    AlertSettings,
    AnomalySettings,
    Method,
    ScorecardSettings,
    Threshold,
    TierSettings,
)

CATALOG = load_catalog({})
WORDS = Words("en_US", "USD", CATALOG)

#: five active partners and one marked inactive that never ordered
REVENUE = [10.0, 20.0, 30.0, 40.0, 50.0, 0.0]
STANDING = ["active"] * 5 + ["inactive"]


def panel_of(revenue: list[float], standing: list[str]) -> Panel:
    n = len(revenue)
    values = {name: np.full(n, np.nan) for name in CATALOG.metrics}
    values["won_revenue"] = np.array(revenue)
    cohort = np.full(n, "all", dtype=object)
    return Panel(
        grain="quarter",
        partner=np.array([f"P{i}" for i in range(n)], dtype=object),
        period=np.zeros(n, dtype=np.int64),
        periods=[date(2025, 1, 1)],
        labels=["FY2025-Q1"],
        names={f"P{i}": f"Partner {i}" for i in range(n)},
        cohorts=dict.fromkeys(("partner_type", "region", "revenue_band", "program_tier"), cohort),
        values=values,
        previous=np.full(n, -1, dtype=np.int64),
        standing=np.array(standing, dtype=object),
    )


def settings(**overrides: Any) -> ScorecardSettings:
    overrides.setdefault("method", Method.ROBUST_Z)
    return ScorecardSettings(
        weights={"won_revenue": 1.0},
        cohort="portfolio",
        min_cohort_size=1,
        shrink=(),
        **overrides,
    )


def test_an_inactive_partner_does_not_pull_the_cohort_median() -> None:
    panel = panel_of(REVENUE, STANDING)
    excluded = score(panel, CATALOG, settings())
    # the five active partners alone: median 30, |deviations| 20 10 0 10 20 → MAD 10 →
    # σ̂ 14.826; 30 scores 50, 50 scores 50 + 50 × (20 / 14.826) / 3 = 72.48
    np.testing.assert_allclose(excluded.score[:5], [27.52, 38.76, 50, 61.24, 72.48], atol=0.01)
    assert np.isnan(excluded.score[5])
    assert excluded.cohort_size[:5].tolist() == [5] * 5
    # the lowest active partner is the bottom of its cohort, not above the inactive one
    assert excluded.cohort_percentile[0] == 0.0

    included = score(panel, CATALOG, settings(score_inactive=True))
    # with the inactive 0: median 25, |deviations| 25 15 5 5 15 25 → MAD 15 → σ̂ 22.239;
    # 30 scores 50 + 50 × (5 / 22.239) / 3 = 53.75
    assert included.score[2] == pytest.approx(53.747, abs=0.001)
    assert included.cohort_size[0] == 6
    assert included.cohort_percentile[0] == pytest.approx(0.2)


def test_left_out_partners_say_why_on_their_scorecard() -> None:
    panel = panel_of([10.0, 20.0, 30.0], ["active", "inactive", "not_started"])
    cards, lines = to_tables(score(panel, CATALOG, settings()))
    rows = cards.to_pylist()
    assert [r["status"] for r in rows] == ["active", "inactive", "not_started"]
    assert [r["scored"] for r in rows] == [True, False, False]
    assert [r["note"] for r in rows] == [
        None,
        "Inactive — not scored",
        "Not yet in the program in this period — not scored",
    ]
    assert [r["low_evidence"] for r in rows] == [False, False, False]
    # alone in its cohort, the one active partner is in the middle
    assert rows[0]["score"] == 50.0
    assert rows[1]["score"] is None
    # its value is still shown, but it took no part in the scoring
    assert lines.to_pylist()[1]["value"] == 20.0
    assert lines.to_pylist()[1]["normalized"] is None


def test_left_out_partners_take_no_tier_and_raise_no_alert() -> None:
    panel = panel_of(REVENUE, STANDING)
    cards = score(panel, CATALOG, settings())
    fields = cards.fields()
    rules = TierSettings().revenue
    table = to_table(panel, evaluate(panel, fields, rules, "revenue", WORDS)).to_pylist()
    assert table[5]["reason"] == "Inactive — not scored"
    assert table[5]["scored"] is False
    assert table[5]["effective"] == "Registered"
    assert table[0]["scored"] is True
    # a threshold every partner crosses alerts only the five scored
    alerts = AlertSettings(
        thresholds=[Threshold(metric="won_revenue", below=100)],
        anomalies=AnomalySettings(metrics=()),
    )
    raised = evaluate_alerts(panel, fields, cards.cohort, {}, alerts, WORDS)
    assert sorted(raised["partner_id"].to_pylist()) == ["P0", "P1", "P2", "P3", "P4"]


def test_standing_is_read_from_the_memberships() -> None:
    # quarters 2025-Q1 and Q2; P2 joined on 2025-04-01 (the first day of Q2), P3 on
    # 2025-03-31 (the last day of Q1); P1 is marked inactive
    starts = [date(2025, 1, 1), date(2025, 4, 1)]
    partners = ["P1", "P1", "P2", "P2", "P3", "P3"]
    period_start = starts * 3
    memberships = pa.table(
        {
            "partner_id": partners,
            "grain": ["quarter"] * 6,
            "period_start": pa.array(period_start, pa.date32()),
            "name": partners,
            **{k: ["x"] * 6 for k in ("partner_type", "region", "revenue_band", "program_tier")},
            "status": ["inactive"] * 2 + ["active"] * 4,
            "joined_at": pa.array(
                [None, None, date(2025, 4, 1), date(2025, 4, 1)] + [date(2025, 3, 31)] * 2,
                pa.date32(),
            ),
        }
    )
    results = pa.table(
        {
            "level": ["partner"] * 6,
            "group_key": partners,
            "grain": ["quarter"] * 6,
            "period_start": pa.array(period_start, pa.date32()),
            "period_end": pa.array([date(2025, 3, 31), date(2025, 6, 30)] * 3, pa.date32()),
            "label": ["2025-Q1", "2025-Q2"] * 3,
            "complete": [True] * 6,
            "won_revenue": [0.0, 0.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    panel = build_panel(results, memberships, "quarter")
    assert panel.standings().tolist() == [
        Standing.INACTIVE,
        Standing.INACTIVE,
        Standing.NOT_STARTED,
        Standing.ACTIVE,
        Standing.ACTIVE,
        Standing.ACTIVE,
    ]
    # memberships stored before partners' status was kept: everyone active
    older = build_panel(results, memberships.drop_columns(["status", "joined_at"]), "quarter")
    assert set(older.standings().tolist()) == {"active"}


@given(
    active=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12),
    left_out=st.lists(
        st.tuples(st.floats(0, 1e6, allow_nan=False), st.sampled_from(["inactive", "not_started"])),
        min_size=1,
        max_size=6,
    ),
    method=st.sampled_from(list(Method)),
)
@hyp_settings(max_examples=60, deadline=None)
def test_partners_left_out_change_no_active_partners_score(
    active: list[float], left_out: list[tuple[float, str]], method: Method
) -> None:
    targets = {"won_revenue": 1000.0} if method is Method.TARGET else {}
    rules = settings(method=method, targets=targets)
    alone = score(panel_of(active, ["active"] * len(active)), CATALOG, rules)
    revenue = active + [v for v, _ in left_out]
    standing = ["active"] * len(active) + [s for _, s in left_out]
    together = score(panel_of(revenue, standing), CATALOG, rules)
    n = len(active)
    np.testing.assert_allclose(together.score[:n], alone.score)
    np.testing.assert_allclose(together.cohort_percentile[:n], alone.cohort_percentile)
    assert together.cohort_size[:n].tolist() == alone.cohort_size.tolist()
    assert np.isnan(together.score[n:]).all()
