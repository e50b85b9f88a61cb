"""The demo plants signal a quarter ahead (issue 27's targets): its run's own backtests show it.

The demo's partner revenue has a trend and a season, ordinary partners go through slumps that
show first in their leads, pipeline, MDF and customers' scores, and each deal's chance of being
won depends on its size, product, attribution, MDF backing and account. So on the demo the
predictions must show measured skill: the chosen forecast beats both baselines in MASE, its 80 %
intervals cover 70–90 % of the actuals, the risk score ranks with an AUC of 0.8 or more, and the
risk and deal scores' Brier scores are below their base rates'.

The demo is the web tests' session workspace (scale 0.1, seed 42), built anyway; its first run
is the one ``partnerscope demo`` made.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backtest(web_world: Any) -> dict[str, Any]:
    from partnerscope.predict.run import backtest_summary

    run = sorted((web_world.root / "state" / "runs").iterdir())[0]
    document = json.loads((run / "predictions.json").read_text(encoding="utf-8"))
    summary: dict[str, Any] = backtest_summary(document)
    return summary


def test_the_chosen_forecast_beats_both_baselines(backtest: dict[str, Any]) -> None:
    forecast = backtest["forecast"]
    assert forecast["n"] >= 300, forecast
    assert forecast["mase"] < forecast["mase_seasonal_naive"], forecast
    assert forecast["mase"] < forecast["mase_trailing_mean"], forecast


def test_the_80_percent_intervals_cover_70_to_90_percent(backtest: dict[str, Any]) -> None:
    forecast = backtest["forecast"]
    assert 0.70 <= forecast["coverage_80"] <= 0.90, forecast
    assert forecast["coverage_80"] < forecast["coverage_95"], forecast


def test_risk_ranks_partners_and_beats_the_base_rate(backtest: dict[str, Any]) -> None:
    risk = backtest["risk"]
    assert risk["n"] >= 200, risk
    assert risk["auc"] >= 0.80, risk
    assert risk["brier"] < risk["brier_base_rate"], risk


def test_deal_scores_beat_the_base_rate(backtest: dict[str, Any]) -> None:
    deals = backtest["deals"]
    assert deals["n"] >= 1_000, deals
    assert deals["auc"] > 0.6, deals
    assert deals["brier"] < deals["brier_base_rate"], deals
