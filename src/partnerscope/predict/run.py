"""Every prediction of a run: forecasts, partner risk and deal scores with their backtests.

The pipeline calls :func:`make` after the evaluation and :func:`write` stores the tables and
``predictions.json`` in the run folder; ``partnerscope predict backtest`` calls :func:`make`
again on the same run (the same data and seed give the same numbers).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from partnerscope.predict import store

if TYPE_CHECKING:
    from pathlib import Path

    from partnerscope.config import Config
    from partnerscope.predict.deals import DealScores
    from partnerscope.predict.forecast import Forecasts
    from partnerscope.predict.risk import Risks
    from partnerscope.present import Words

#: told each step: what is being done, how many of the three models are done, 3
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Made:
    """A run's predictions and the document (``predictions.json``) that describes them."""

    forecasts: Forecasts
    risks: Risks
    deals: DealScores
    document: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The backtest with exactly the measures of each section, ``n`` and ``reason``."""
        return backtest_summary(self.document)


def make(
    results: pa.Table,
    memberships: pa.Table,
    opportunities: pa.Table | DealScores,
    config: Config,
    words: Words,
    *,
    as_of: datetime,
    last_day: date | None = None,
    previous_risk: pa.Table | None = None,
    progress: Progress | None = None,
) -> Made:
    """Forecast, score the partners' risk and the open deals, each with its backtest.

    ``last_day`` is where the data ends (:func:`partnerscope.pipeline.data_end`): a period
    that ends after it is not complete for the models even when it ended by the as-of time (a
    run made today on an old export would otherwise read the years since as zeros), and the
    deals are scored as of the end of that day when it is before ``as_of``.

    ``opportunities`` is :func:`partnerscope.predict.deals.snapshot`'s table, or the deals
    already scored from it by :func:`score_deals` with the same ``as_of`` and ``last_day`` (a
    run scores them before it reads the results: ten million deals and a million results need
    not be in memory together).
    """
    import pyarrow.compute as pc

    if last_day is not None:
        # period_end is the first day after the period
        ended = pc.less_equal(results["period_end"], pa.scalar(last_day + timedelta(days=1)))
        index = results.schema.get_field_index("complete")
        results = results.set_column(index, "complete", pc.and_(results["complete"], ended))
    from partnerscope.predict.forecast import forecast
    from partnerscope.predict.risk import risk

    settings = config.predict
    done = 0

    def said(text: str) -> None:
        if progress is not None:
            progress(text, done, len(store.SECTIONS))

    said("forecasting won revenue")
    forecasts = forecast(
        results,
        settings,
        fiscal_year_start_month=config.workspace.fiscal_year_start_month,
        progress=said,
    )
    done += 1
    said("scoring the partners' risk")
    risks = risk(results, memberships, settings, words, previous=previous_risk, progress=said)
    done += 1
    if isinstance(opportunities, pa.Table):
        deals = score_deals(
            opportunities, config, words, as_of=as_of, last_day=last_day, progress=progress
        )
    else:
        deals = opportunities
    done += 1
    said("predicted")
    scored_at = _scored_at(as_of, last_day)
    document = {
        "as_of": scored_at.isoformat(),
        "data_ends": last_day.isoformat() if last_day else None,
        "model": versions() | {"seed": settings.seed},
        "settings": settings.model_dump(mode="json"),
        "backtest": {
            "forecast": forecasts.backtest,
            "risk": risks.backtest,
            "deals": deals.backtest,
        },
    }
    return Made(forecasts, risks, deals, document)


def score_deals(
    opportunities: pa.Table | Path,
    config: Config,
    words: Words,
    *,
    as_of: datetime,
    last_day: date | None = None,
    progress: Progress | None = None,
) -> DealScores:
    """The open deals' scores of :func:`make` (as of the end of ``last_day`` when it is before
    ``as_of``). ``opportunities`` is :func:`partnerscope.predict.deals.snapshot`'s table, or a
    Parquet file of it (:func:`~partnerscope.predict.deals.write_snapshot`), read here and let
    go with the scores."""
    from partnerscope.predict.deals import score

    def said(text: str) -> None:
        if progress is not None:
            progress(text, len(store.SECTIONS) - 1, len(store.SECTIONS))

    said("scoring the open deals")
    if not isinstance(opportunities, pa.Table):
        import pyarrow.parquet as pq

        opportunities = pq.read_table(opportunities)
    return score(opportunities, _scored_at(as_of, last_day), config.predict, words, progress=said)


def _scored_at(as_of: datetime, last_day: date | None) -> datetime:
    """The moment the models look from: the as-of time, or the end of the data's last day
    when that is earlier."""
    if last_day is None:
        return as_of
    return min(as_of, datetime.combine(last_day + timedelta(days=1), datetime.min.time()))


def write(made: Made, folder: Path) -> None:
    """Store the predictions in a run folder (still hidden: the run is renamed into place
    once complete)."""
    import pyarrow.parquet as pq

    pq.write_table(made.forecasts.table, folder / store.FORECAST)
    pq.write_table(made.risks.table, folder / store.RISK)
    pq.write_table(made.deals.table, folder / store.DEALS)
    text = json.dumps(_finite(made.document), indent=2, sort_keys=True, default=_plain)
    (folder / store.PREDICTIONS).write_text(text + "\n", encoding="utf-8")


def backtest_summary(document: dict[str, Any]) -> dict[str, Any]:
    """``predictions.json``'s backtests reduced to the keys ``predict backtest --json`` writes."""
    backtest = document.get("backtest", {})
    return {name: store.summary(name, backtest.get(name)) for name in store.SECTIONS}


def versions() -> dict[str, str]:
    """The versions of partnerscope and of the libraries the models come from."""
    from importlib.metadata import version

    from partnerscope import __version__

    return {
        "partnerscope": __version__,
        "statsforecast": version("statsforecast"),
        "lightgbm": version("lightgbm"),
        "scikit-learn": version("scikit-learn"),
    }


def _finite(value: Any) -> Any:
    """The document with NaN and infinities as null (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _plain(value: Any) -> Any:
    """numpy numbers and dates in the document as JSON numbers and ISO text."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to predictions.json")
