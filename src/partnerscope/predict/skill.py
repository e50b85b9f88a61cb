"""The measures of a backtest, written out so that each can be checked by hand.

Forecasts: MASE (mean absolute error over the in-sample mean absolute error of the naive
one-step forecast, per series, then averaged over the cases that have a scale), sMAPE, and the
empirical coverage of prediction intervals. Probabilities: ROC AUC (the chance that a random
positive case scores above a random negative one, ties counting half), the Brier score beside
the Brier score of always predicting the base rate, and a reliability table by decile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def naive_scale(history: FloatArray, season: int = 1) -> float | None:
    """The in-sample mean absolute error of the naive forecast (``season`` periods back):
    MASE's denominator; None when the history is too short or flat (no scale)."""
    history = np.asarray(history, dtype=np.float64)
    if len(history) <= season:
        return None
    scale = float(np.mean(np.abs(history[season:] - history[:-season])))
    return scale if scale > 0 else None


def mase(actual: FloatArray, predicted: FloatArray, scale: float) -> float:
    """Mean absolute error over ``scale`` (see :func:`naive_scale`)."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))) / scale)


def smape(actual: FloatArray, predicted: FloatArray) -> float:
    """Symmetric mean absolute percentage error, 0–2 (a pair of zeros counts as no error)."""
    a, p = np.asarray(actual, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    denominator = np.abs(a) + np.abs(p)
    terms = np.divide(2 * np.abs(a - p), denominator, out=np.zeros_like(a), where=denominator > 0)
    return float(np.mean(terms))


def coverage(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    """Share of actuals inside their closed interval [lower, upper]."""
    a = np.asarray(actual, dtype=np.float64)
    return float(np.mean((a >= np.asarray(lower)) & (a <= np.asarray(upper))))


def auc(outcome: npt.ArrayLike, probability: npt.ArrayLike) -> float | None:
    """ROC AUC by ranks (Mann–Whitney, ties counting half); None without both outcomes."""
    y = np.asarray(outcome, dtype=bool)
    p = np.asarray(probability, dtype=np.float64)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return None
    from scipy.stats import rankdata

    ranks = rankdata(p)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def brier(outcome: npt.ArrayLike, probability: npt.ArrayLike) -> float:
    """Mean squared difference between the probability and the outcome (0 or 1)."""
    y = np.asarray(outcome, dtype=np.float64)
    return float(np.mean((np.asarray(probability, dtype=np.float64) - y) ** 2))


def brier_base_rate(outcome: npt.ArrayLike, base_rate: float | None = None) -> float:
    """The Brier score of always predicting ``base_rate`` (default: the outcomes' own rate)."""
    y = np.asarray(outcome, dtype=np.float64)
    rate = float(y.mean()) if base_rate is None else base_rate
    return float(np.mean((rate - y) ** 2))


@dataclass(frozen=True)
class Bin:
    """One row of a reliability table: the cases whose predicted probability fell in a decile
    of the predictions."""

    decile: int
    cases: int
    predicted: float
    observed: float


def reliability(outcome: npt.ArrayLike, probability: npt.ArrayLike, bins: int = 10) -> list[Bin]:
    """Predicted against observed rate by decile of the predicted probability (cases sorted by
    probability and cut into ``bins`` groups as equal as can be; empty groups left out)."""
    y = np.asarray(outcome, dtype=np.float64)
    p = np.asarray(probability, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    out = []
    for number, chunk in enumerate(np.array_split(order, bins), start=1):
        if len(chunk):
            out.append(Bin(number, len(chunk), float(p[chunk].mean()), float(y[chunk].mean())))
    return out


def classifier_section(
    outcome: npt.ArrayLike, probability: npt.ArrayLike, base_rate: float | None = None
) -> dict[str, Any]:
    """The backtest section of a probability model: n, AUC, Brier, the base rate's Brier (the
    base rate of the training data when given, else of the outcomes) and the reliability table."""
    y = np.asarray(outcome, dtype=bool)
    return {
        "n": len(y),
        "auc": auc(y, probability),
        "brier": brier(y, probability),
        "brier_base_rate": brier_base_rate(y, base_rate),
        "reliability": [vars(b) for b in reliability(y, probability)],
    }
