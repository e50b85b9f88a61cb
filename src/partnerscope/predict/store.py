"""What a run stores of its predictions, and how the rest of partnerscope reads it back.

A run folder holds, beside its results:

- ``forecast.parquet`` (:data:`FORECAST_SCHEMA`): won revenue per level × group × grain for
  the next periods, with 80 % and 95 % intervals, the method chosen by backtest and both
  baselines beside it; a series with too little history has a note and no forecast.
- ``risk.parquet`` (:data:`RISK_SCHEMA`): each partner's probability of falling short in the
  next quarters, with its top factors in words.
- ``deals.parquet`` (:data:`DEALS_SCHEMA`): each open opportunity's win probability and expected
  value, with its top factors.
- ``predictions.json``: the model versions, the settings and each model's backtest
  (:data:`SUMMARY_KEYS` per section, plus its reliability table and details).

A section the data cannot support has ``null`` measures and a ``reason``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

FORECAST, RISK, DEALS, PREDICTIONS = (
    "forecast.parquet",
    "risk.parquet",
    "deals.parquet",
    "predictions.json",
)
SECTIONS = ("forecast", "risk", "deals")
#: The measures of each backtest section (``partnerscope predict backtest --json`` writes exactly
#: these, with ``n`` and ``reason``).
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "forecast": ("mase", "mase_seasonal_naive", "mase_trailing_mean", "coverage_80", "coverage_95"),
    "risk": ("auc", "brier", "brier_base_rate"),
    "deals": ("auc", "brier", "brier_base_rate"),
}

#: One factor behind a score: the feature's key, a sentence in the workspace's words ("Won
#: revenue last quarter was 38 % of its trailing average") and its effect on the score (SHAP
#: contribution on the log-odds scale: positive raises the probability).
FACTOR = pa.struct(
    [
        pa.field("feature", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("effect", pa.float64(), nullable=False),
    ]
)

FORECAST_SCHEMA = pa.schema(
    [
        pa.field("level", pa.string(), nullable=False),
        pa.field("group_key", pa.string(), nullable=False),
        pa.field("grain", pa.string(), nullable=False),
        pa.field("period_start", pa.date32(), nullable=False),
        #: the first day after the period (as in the results)
        pa.field("period_end", pa.date32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        #: 1 for the first period after the last complete one
        pa.field("step", pa.int32(), nullable=False),
        pa.field("forecast", pa.float64()),
        pa.field("lo_80", pa.float64()),
        pa.field("hi_80", pa.float64()),
        pa.field("lo_95", pa.float64()),
        pa.field("hi_95", pa.float64()),
        #: the method chosen by backtest, in words: "AutoETS", "AutoTheta", "CrostonSBA",
        #: "pooled season", "seasonal naive", "trailing mean"; null without a forecast
        pa.field("method", pa.string()),
        pa.field("seasonal_naive", pa.float64()),
        pa.field("trailing_mean", pa.float64()),
        #: the chosen method is a statistical one that beat the better baseline's backtest MASE
        #: by predict.skill_margin (false: a baseline is the forecast)
        pa.field("skill", pa.bool_(), nullable=False),
        #: the series' backtest MASE of the chosen method and of the better baseline
        pa.field("mase", pa.float64()),
        pa.field("mase_baseline", pa.float64()),
        #: why there is no forecast or why to read it with care ("too little history: ...")
        pa.field("note", pa.string()),
    ]
)

RISK_SCHEMA = pa.schema(
    [
        pa.field("partner_id", pa.string(), nullable=False),
        #: the quarter the features are as of (the latest complete one)
        pa.field("period_start", pa.date32(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("probability", pa.float64(), nullable=False),
        #: the share of partners that fell short in the training data
        pa.field("base_rate", pa.float64(), nullable=False),
        #: the model beat the base rate's Brier score in the backtest (false: probability is the
        #: base rate)
        pa.field("skill", pa.bool_(), nullable=False),
        #: the previous run's probability for the partner
        pa.field("previous", pa.float64()),
        #: "high" (≥ predict.high_risk) or "rising" (up by predict.rising_risk or more), else null
        pa.field("alert", pa.string()),
        pa.field("factors", pa.list_(FACTOR), nullable=False),
    ]
)

DEALS_SCHEMA = pa.schema(
    [
        pa.field("opportunity_id", pa.string(), nullable=False),
        pa.field("partner_id", pa.string()),
        pa.field("account_id", pa.string()),
        #: the account's name in the warehouse's accounts table when the deal was scored
        pa.field("account_name", pa.string()),
        pa.field("product", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("amount", pa.float64()),
        pa.field("created_at", pa.timestamp("us")),
        pa.field("age_days", pa.int32(), nullable=False),
        pa.field("probability", pa.float64(), nullable=False),
        #: probability × amount (null without an amount)
        pa.field("expected_value", pa.float64()),
        pa.field("skill", pa.bool_(), nullable=False),
        pa.field("factors", pa.list_(FACTOR), nullable=False),
    ]
)


def summary(section: str, backtest: dict[str, Any] | None) -> dict[str, Any]:
    """A backtest section reduced to ``n``, its measures (:data:`SUMMARY_KEYS`) and ``reason``."""
    backtest = backtest or {}
    out: dict[str, Any] = {"n": int(backtest.get("n") or 0)}
    for key in SUMMARY_KEYS[section]:
        out[key] = backtest.get(key)
    out["reason"] = backtest.get("reason")
    return out


def read_table(folder: Path, name: str) -> pa.Table | None:
    """One prediction table of a run folder, None when the run has none (made before
    predictions, with ``[predict] enabled = false``, or the data supported none)."""
    import pyarrow.parquet as pq

    path = folder / name
    return pq.read_table(path) if path.is_file() else None


def read_predictions(folder: Path) -> dict[str, Any] | None:
    """The run's ``predictions.json`` (model versions, settings, backtests), None without one."""
    path = folder / PREDICTIONS
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
