"""A metric's values to 0–100 scores within peer groups, and the shrinkage of small samples.

Every function takes one value per row and a group number per row (a period × peer cohort), so
all periods and cohorts are scored at once. Missing values (NaN) stay missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from partnerscope.evaluation.panel import (
    FloatArray,
    IntArray,
    grouped_count,
    grouped_extreme,
    grouped_median,
    grouped_percentile,
    grouped_sum,
)
from partnerscope.settings.evaluation import Method

#: MAD × this estimates the standard deviation of normally distributed values.
MAD_SCALE = 1.4826
#: Mean absolute deviation × this does the same, when more than half the values are equal.
MEAN_AD_SCALE = 1.2533
#: Fewest partners in a cohort for its spread to be estimated (shrinkage).
MIN_PEERS = 3


def normalize(
    method: Method,
    values: FloatArray,
    group: IntArray,
    n_groups: int,
    *,
    higher_is_better: bool,
    target: float | None = None,
    z_clip: float = 3.0,
) -> FloatArray:
    """Scores 0–100, higher is better whatever the metric's direction."""
    # clipped: a value at the top of its group can come out a rounding error above 100
    return np.clip(
        _normalize(method, values, group, n_groups, higher_is_better, target, z_clip), 0, 100
    )


def _normalize(
    method: Method,
    values: FloatArray,
    group: IntArray,
    n_groups: int,
    higher_is_better: bool,
    target: float | None,
    z_clip: float,
) -> FloatArray:
    match method:
        case Method.PERCENTILE:
            score = 100 * grouped_percentile(group, values)
            return score if higher_is_better else 100 - score
        case Method.ROBUST_Z:
            z = robust_z(values, group, n_groups)
            z = np.clip(z if higher_is_better else -z, -z_clip, z_clip)
            return 50 + 50 * z / z_clip
        case Method.MIN_MAX:
            low = grouped_extreme(group, values, n_groups, high=False)[group]
            high = grouped_extreme(group, values, n_groups, high=True)[group]
            span = high - low
            with np.errstate(invalid="ignore", divide="ignore"):
                score = np.where(span > 0, 100 * (values - low) / span, 50.0)
            score[np.isnan(values)] = np.nan
            return score if higher_is_better else 100 - score
        case Method.TARGET:
            assert target is not None and target > 0
            with np.errstate(invalid="ignore", divide="ignore"):
                if higher_is_better:
                    ratio = np.clip(values / target, 0.0, 1.0)
                else:
                    ratio = np.where(values > 0, np.clip(target / values, 0.0, 1.0), 1.0)
            ratio[np.isnan(values)] = np.nan
            return 100 * ratio


def robust_z(values: FloatArray, group: IntArray, n_groups: int) -> FloatArray:
    """(value − group median) / scaled MAD. When more than half a group's values are equal (MAD
    0) the scaled mean absolute deviation is used; a group whose values are all equal gives 0."""
    median = grouped_median(group, values, n_groups)[group]
    deviation = np.abs(values - median)
    mad = MAD_SCALE * grouped_median(group, deviation, n_groups)[group]
    total = grouped_sum(group, deviation, n_groups)[group]
    count = grouped_count(group, deviation, n_groups)[group]
    # a spread of a few denormals overflows to ±inf: clipped like any large z
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean_ad = MEAN_AD_SCALE * total / count
        spread = np.where(mad > 0, mad, mean_ad)
        z = np.where(spread > 0, (values - median) / spread, 0.0)
    z[np.isnan(values)] = np.nan
    return z


@dataclass(frozen=True)
class Shrunk:
    """A share pulled toward its cohort's rate: (successes + k × prior) / (trials + k)."""

    value: FloatArray
    #: the cohort's pooled rate (Σ successes / Σ trials) per row
    prior: FloatArray
    #: k, the prior's weight in trials, per row (0: no shrinkage)
    strength: FloatArray
    #: trials / (trials + k): how much of the value is the partner's own data
    own_weight: FloatArray


def shrink(
    values: FloatArray,
    successes: FloatArray,
    trials: FloatArray,
    group: IntArray,
    n_groups: int,
) -> Shrunk:
    """Empirical-Bayes shrinkage of shares (beta-binomial, method of moments).

    Per group, the prior mean μ is the pooled rate and the spread between partners τ² is the
    trial-weighted variance of the rates less what binomial noise alone would give, μ(1 − μ)
    G / N for G partners and N trials. The prior's strength is k = μ(1 − μ) / τ² − 1 trials,
    at most the group's total trials (a group whose spread is all noise pools fully). Rows
    without a value stay missing: shrinkage weighs evidence, it does not invent it.
    """
    ok = ~np.isnan(values) & ~np.isnan(successes) & (trials > 0)
    s = np.where(ok, successes, np.nan)
    n = np.where(ok, trials, np.nan)
    total_s = grouped_sum(group, s, n_groups)
    total_n = grouped_sum(group, n, n_groups)
    peers = grouped_count(group, n, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = total_s / total_n
        rate = s / n
        spread = grouped_sum(group, n * (rate - mu[group]) ** 2, n_groups) / total_n
        noise = mu * (1 - mu) * peers / total_n
        tau2 = spread - noise
        k = np.where(tau2 > 0, mu * (1 - mu) / tau2 - 1, total_n)
    k = np.clip(np.nan_to_num(k, nan=0.0), 0.0, total_n)
    k[(peers < MIN_PEERS) | ~(total_n > 0)] = 0.0
    prior, strength = mu[group], k[group]
    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = np.where(strength > 0, (s + strength * prior) / (n + strength), values)
        own = np.where(ok, n / (n + strength), np.nan)
    value = np.where(ok, shrunk, values)
    return Shrunk(
        value=value,
        prior=np.where(ok, prior, np.nan),
        strength=np.where(ok, strength, np.nan),
        own_weight=own,
    )
