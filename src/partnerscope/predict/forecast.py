"""Won-revenue forecasts per partner, partner group, portfolio and company, chosen by backtest.

Method, in the order it runs (per grain: quarter, season 4; month, season 12):

- **Series.** :func:`partnerscope.predict.panel.series`: complete periods only, each series from
  its first period with revenue; a period missing inside a series counts as no revenue.
- **Candidates.** Statistical methods from statsforecast: ``Theta`` (the standard Theta method,
  with a seasonal decomposition when statsforecast's seasonality test finds one), ``AutoETS``
  restricted to ETS(A,N,A) (level and additive season; where the history is too short for it,
  statsforecast's fallback ETS(A,N,N)), ``SES`` (simple exponential smoothing, optimised) and
  ``CrostonSBA`` for intermittent series (at least a quarter of the periods without revenue);
  and, computed here for every series, the **pooled season** (:func:`_pooled_season`): the
  season of the series' level (all partners; each group level; the portfolio or the company on
  its own) estimated from all its series together up to the cutoff, where the luck of single
  deals averages out, times the series' own level (its trailing revenue over those periods'
  indices: with a full season of history, its trailing mean reshaped by the season). A partner
  closing a handful of deals a quarter has a season its own history cannot show; the sum of
  its peers' can. A level whose pooled season does not stand out from its series' noise (a
  chi-square test) has none, and the pooled-season forecast is then the trailing mean (so
  chance never lends it a "skill"). A pooled growth rate was tried too and made the demo's
  backtest worse (the partners' own drifts differ), so the level is not extrapolated.
  Beside them, always, two baselines computed here: **seasonal naive** (the value one season
  back; with less than a season of history, the last value) and **trailing mean** (the mean of
  the last season's periods, or of all periods when fewer). The full AutoETS and AutoTheta model
  searches cost about 15 ms and 3 ms a series and fit; at 20,000 partners × 9 backtest cutoffs
  that is far beyond the one-minute budget, so these cheaper settings are used; by month, and
  by quarter above :data:`FULL_PARTNERS` partners, partner series get only SES, CrostonSBA and
  the baselines (a seasonal ETS or Theta over 12 months costs several times the quarter's; at
  5,000 partners the months alone took two minutes). Groups, the portfolio and the company
  always get every method.
- **Selection** by a rolling-origin backtest: at each of the last ``backtest_origins`` periods
  before the forecast origin (step 1), every method forecasts ``horizon`` periods from the data
  up to that cutoff; the errors on the periods already known at the origin are scored (so the
  latest cutoffs score fewer steps ahead). A series' own errors are few, and chance alone would
  let a method "beat" the baselines on many noisy series (on a synthetic panel of seasonal
  partners with noise, choosing per series on its own errors did 3–10 % worse than the trailing
  mean). So the level decides first: a statistical method is considered for a level's series
  only if one beats the better baseline by ``skill_margin`` (2 %) on the mean scaled error over
  the level's series; otherwise every series of the level gets the level's better baseline.
  Where one does, each series chooses by its own mean scaled error shrunk toward the level's
  (:data:`SHRINK` pseudo-errors), a statistical method again only when 2 % below the better
  baseline. Without skill the better baseline is the forecast (``skill`` false, and the note
  says so). The stored ``mase`` and ``mase_baseline`` are the series' own backtest MASE of the
  chosen method and of that baseline.
- **MASE** of a case: mean absolute error over the in-sample mean absolute error of the seasonal
  naive forecast on the history up to the cutoff (naive one-step when the history is no longer
  than a season, or when the seasonal scale is zero). A case without a scale (a flat history) is
  left out of MASE, but counted in coverage and sMAPE.
- **Intervals** (80 % and 95 %) are conformal, from the backtest itself: the absolute errors of
  the same method and step ahead, each divided by its series' scale (the MASE scale, or the
  series' mean revenue without one), pooled over all series of the grain; the interval is the
  forecast ± the errors' 80 % / 95 % quantile (finite-sample: the ⌈(n+1)p⌉-th smallest) times
  the series' scale. Fewer than 20 errors at a step: the errors of all steps of the method.
  Forecasts and bounds are clipped at 0 (revenue is never negative).
- **Too little history** (fewer than ``min_history_quarters`` / ``min_history_months`` complete
  periods): a row per future step with no forecast, interval or method, ``skill`` false and a
  note; both baselines are still filled (they need no backtest), so a page can show what the
  history alone says.
- **The backtest section** (quarter grain): outer origins are the last ``backtest_origins``
  complete quarters before the latest; at each, selection and intervals use only errors whose
  actuals were known at that origin, and the chosen method's forecast made at the origin is
  scored on the quarters after it (up to ``horizon``, as far as they are known). A case is a
  series × origin; the headline numbers pool the partner-level cases (at most
  :data:`BACKTEST_PARTNERS` partners, a seeded sample above that), ``detail`` has every level.

Deterministic: statsforecast runs single-threaded and every method here is deterministic.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from partnerscope.metrics.calendar import Grain, Period, add_months
from partnerscope.predict import panel, skill, store
from partnerscope.settings.predict import PredictSettings

if TYPE_CHECKING:
    import pandas as pd

SEASON = {"quarter": 4, "month": 12}
COSTLY = ("Theta", "AutoETS")
#: The level's season applied to each series' own level (see :func:`_pooled_season`).
POOLED_SEASON = "pooled season"
CHEAP = ("SES", "CrostonSBA", POOLED_SEASON)
STATISTICAL = COSTLY + CHEAP
SEASONAL_NAIVE, TRAILING_MEAN = "seasonal naive", "trailing mean"
BASELINES = (SEASONAL_NAIVE, TRAILING_MEAN)
METHODS = STATISTICAL + BASELINES
#: A series is intermittent (CrostonSBA is a candidate) when at least this share of its periods
#: had no revenue.
INTERMITTENT = 0.25
#: The shortest history a backtest cutoff forecasts from.
MIN_TRAIN = 2
#: At most this many partners' series enter the headline backtest (a seeded sample above it).
BACKTEST_PARTNERS = 2000
#: How many of its level's errors a series' own backtest errors are pooled with when choosing its
#: method (see :func:`_select`).
SHRINK = 20
#: Above this many partners, partner series are forecast by quarter with the cheap methods only
#: (SES, CrostonSBA and the baselines; by month they always are): Theta and ETS cost about
#: 1–2 ms a series and cutoff, which at 20,000 partners × 9 cutoffs would break the one-minute
#: budget. Groups always get them all.
FULL_PARTNERS = 5000
#: Fewer pooled errors than this at one step ahead: the interval pools all steps.
MIN_ERRORS = 20


@dataclass(frozen=True)
class Forecasts:
    table: pa.Table  # store.FORECAST_SCHEMA
    backtest: dict[str, Any]  # the forecast section, quarter grain


def _grain_words(grain: str, count: int) -> str:
    word = {"quarter": "quarter", "month": "month"}[grain]
    return f"{count} complete {word}{'' if count == 1 else 's'}"


@dataclass
class _Panel:
    """One grain's series, dense from each series' first period with revenue to the grain's last
    complete period: period indices ``t`` (consecutive integers), long and sorted."""

    grain: str
    season: int
    frame: pd.DataFrame  # sid, t, y (sorted by sid, t)
    keys: pd.DataFrame  # sid → level, group_key (index sid)
    last: int  # the last complete period's t
    anchor: date  # the start of period ``last``
    full: np.ndarray  # the series every method is fit to (see FULL_PARTNERS)

    def start(self, t: int) -> date:
        return add_months(self.anchor, (t - self.last) * Grain(self.grain).months)


def _panel(results: pa.Table, grain: str, *, cutoff: date | None = None) -> _Panel | None:
    import pandas as pd

    data = panel.series(results, grain=grain)
    if cutoff is not None:
        data = data[data["ds"] <= pd.Timestamp(cutoff)]
    if data.empty:
        return None
    step = Grain(grain).months
    days = data["ds"].dt
    t = ((days.year * 12 + days.month - 1) // step).to_numpy(np.int64)
    last = int(t.max())
    anchor_ts = data["ds"].max()
    anchor = date(anchor_ts.year, anchor_ts.month, 1)
    codes, uniques = pd.factorize(data["unique_id"], sort=True)
    long = pd.DataFrame({"sid": codes.astype(np.int64), "t": t, "y": data["y"].to_numpy()})
    long = long.groupby(["sid", "t"], sort=True, as_index=False)["y"].sum()
    # dense: every period from the first to the last complete one (missing: no revenue)
    first = long.groupby("sid")["t"].min()
    lengths = (last - first + 1).to_numpy()
    sid = np.repeat(first.index.to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    dense = pd.DataFrame({"sid": sid, "t": np.repeat(first.to_numpy(), lengths) + offsets})
    dense = dense.merge(long, on=["sid", "t"], how="left").fillna({"y": 0.0})
    keys = (
        data.drop_duplicates("unique_id")
        .assign(sid=lambda f: pd.Index(uniques).get_indexer(f["unique_id"]))
        .set_index("sid")[["level", "group_key"]]
        .sort_index()
    )
    partners = keys["level"] == "partner"
    cheap = grain == "month" or partners.sum() > FULL_PARTNERS
    full = keys.index[~partners] if cheap else keys.index
    return _Panel(grain, SEASON[grain], dense, keys, last, anchor, full.to_numpy())


def _cutoff_forecasts(
    p: _Panel, cutoff: int, horizon: int, sids: np.ndarray | None = None
) -> pd.DataFrame:
    """Every method's forecast made at ``cutoff`` (data up to and including period ``cutoff``)
    for the next ``horizon`` periods, per series with at least :data:`MIN_TRAIN` periods, with
    the series' scale, interval scale and intermittency at the cutoff and the actual where known."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import (
        AutoETS,
        CrostonSBA,
        Theta,
    )
    from statsforecast.models import (
        SimpleExponentialSmoothingOptimized as SES,
    )

    m = p.season
    frame = p.frame[p.frame["t"] <= cutoff]
    # the season of each level from all its series (also those not forecast here)
    indices = _pooled_season(frame, p.keys["level"], m)
    if sids is not None:
        frame = frame[frame["sid"].isin(sids)]
    counts = frame.groupby("sid", sort=True).size()
    keep = counts[counts >= MIN_TRAIN].index
    frame = frame[frame["sid"].isin(keep)]
    if frame.empty:
        return pd.DataFrame()
    sid_index = frame["sid"].to_numpy()
    y = frame["y"].to_numpy(np.float64)
    series_ids, starts, lens = np.unique(sid_index, return_index=True, return_counts=True)
    ends = starts + lens
    n = len(series_ids)
    position = np.arange(len(y)) - np.repeat(starts, lens)
    owner = np.repeat(np.arange(n), lens)

    def lag_mae(lag: int) -> np.ndarray:
        valid = position >= lag
        diffs = np.zeros(len(y))
        diffs[lag:] = np.abs(y[lag:] - y[:-lag])
        total = np.bincount(owner[valid], diffs[valid], minlength=n)
        number = np.bincount(owner[valid], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(number > 0, total / np.maximum(number, 1), 0.0)

    seasonal_scale = np.where(lens > m, lag_mae(m), 0.0)
    scale = np.where(seasonal_scale > 0, seasonal_scale, lag_mae(1))
    scale = np.where(scale > 0, scale, np.nan)
    mean = np.bincount(owner, y, minlength=n) / lens
    interval_scale = np.where(np.isnan(scale), mean, scale)
    zeros = np.bincount(owner, (y == 0).astype(np.float64), minlength=n) / lens

    csum = np.concatenate([[0.0], np.cumsum(y)])
    window = np.minimum(lens, m)
    trailing = (csum[ends] - csum[ends - window]) / window

    steps = np.arange(1, horizon + 1)
    rows = pd.DataFrame(
        {
            "sid": np.repeat(series_ids, horizon),
            "cutoff": cutoff,
            "k": np.tile(steps, n),
        }
    )
    rows["t"] = cutoff + rows["k"]
    season_pos = np.repeat(ends - m, horizon) + (rows["k"].to_numpy() - 1) % m
    rows[SEASONAL_NAIVE] = np.where(
        np.repeat(lens >= m, horizon), y[np.maximum(season_pos, 0)], np.repeat(y[ends - 1], horizon)
    )
    rows[TRAILING_MEAN] = np.repeat(trailing, horizon)
    rows[POOLED_SEASON] = _pooled_forecast(
        y, series_ids, ends, window, indices, p.keys["level"], cutoff, horizon, m
    )

    long = pd.DataFrame({"unique_id": sid_index, "ds": frame["t"].to_numpy(), "y": y})
    costly = long[long["unique_id"].isin(p.full)]
    # the methods warn about numerics on short or flat histories (a fit that fails falls back
    # to SES); the forecasts are scored by the backtest either way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cheap: list[tuple[list[Any], pd.DataFrame]] = [
            ([SES(alias="SES")], long),
            # CrostonSBA is a candidate for intermittent series only
            ([CrostonSBA()], long[long["unique_id"].isin(series_ids[zeros >= INTERMITTENT])]),
        ]
        for cheap_models, subset in cheap:
            names = [repr(model) for model in cheap_models]
            if subset.empty:
                rows[names] = np.nan
                continue
            fitted = StatsForecast(models=cheap_models, freq=1, n_jobs=1).forecast(
                df=subset, h=horizon
            )
            rows = rows.merge(
                fitted.rename(columns={"unique_id": "sid", "ds": "t"})[["sid", "t", *names]],
                on=["sid", "t"],
                how="left",
            )
        if costly.empty:
            for method in COSTLY:
                rows[method] = np.nan
        else:
            models = [Theta(season_length=m), AutoETS(season_length=m, model="ANA")]
            sf = StatsForecast(models=models, freq=1, n_jobs=1, fallback_model=SES())
            fitted = sf.forecast(df=costly, h=horizon)
            rows = rows.merge(
                fitted.rename(columns={"unique_id": "sid", "ds": "t"})[["sid", "t", *COSTLY]],
                on=["sid", "t"],
                how="left",
            )
    for method in METHODS:
        rows[method] = rows[method].clip(lower=0.0)
    rows["scale"] = np.repeat(scale, horizon)
    rows["interval_scale"] = np.repeat(interval_scale, horizon)
    rows["intermittent"] = np.repeat(zeros >= INTERMITTENT, horizon)
    rows["history"] = np.repeat(lens, horizon)
    actual = p.frame.rename(columns={"y": "actual"})
    return rows.merge(actual, on=["sid", "t"], how="left")


def _pooled_season(frame: pd.DataFrame, levels: pd.Series, m: int) -> dict[str, np.ndarray]:
    """Each level's seasonal indices, one per position in the year (``t mod m``), from all its
    series together, where the luck of single deals averages out; a level without a season
    that stands out from that luck has none (its series' pooled-season forecast is then their
    trailing mean).

    Every period of a series with at least a season of history is compared with its year: the
    mean of the ``m`` periods around it (centred as far as the series' span allows). A level's
    index of a position is the sum of its series' revenue in periods at that position over the
    sum of their years' means (a revenue-weighted mean of the periods' own ratios, so a series
    joining or leaving does not read as a season), scaled so the ``m`` indices average 1.

    The season must stand out: each position's index has the standard error of a ratio
    estimate (from the spread of the periods' own ratios around it), and the sum of the squared
    deviations from the indices' mean over their standard errors must exceed the 95 % quantile
    of the chi-square distribution with ``m - 1`` degrees of freedom. Without that (or with
    fewer than two periods or no revenue at a position) the level has no indices: on series
    without a season, chance would otherwise give the pooled-season forecast a small "skill"
    over the trailing mean in a short backtest."""
    from scipy.stats import chi2

    if frame.empty:
        return {}
    sid = frame["sid"].to_numpy()
    y = frame["y"].to_numpy(np.float64)
    t = frame["t"].to_numpy()
    _, starts, lens = np.unique(sid, return_index=True, return_counts=True)
    owner = np.repeat(np.arange(len(starts)), lens)
    position = np.arange(len(y)) - np.repeat(starts, lens)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    # the year of each period: m periods starting m // 2 before it, inside the series' span
    begin = np.clip(position - m // 2, 0, np.maximum(lens[owner] - m, 0)) + starts[owner]
    year = (csum[np.minimum(begin + m, len(y))] - csum[begin]) / m
    level = levels.reindex(sid).to_numpy()
    usable = np.repeat(lens >= m, lens) & (year > 0)
    threshold = float(chi2.ppf(0.95, m - 1))
    out: dict[str, np.ndarray] = {}
    for name in np.unique(level[usable]):
        mask = usable & (level == name)
        where = np.mod(t[mask], m)
        count = np.bincount(where, minlength=m)
        revenue = np.bincount(where, y[mask], minlength=m)
        usual = np.bincount(where, year[mask], minlength=m)
        if (count < 2).any() or (revenue <= 0).any():
            continue
        ratio = revenue / usual
        residual = y[mask] - ratio[where] * year[mask]
        variance = np.bincount(where, residual**2, minlength=m) / usual**2 * count / (count - 1)
        deviation = ratio - ratio.mean()
        with np.errstate(divide="ignore", invalid="ignore"):
            statistic = np.where(variance > 0, deviation**2 / variance, np.inf).sum()
        if statistic > threshold:
            out[str(name)] = ratio / ratio.mean()
    return out


def _pooled_forecast(
    y: np.ndarray,
    series_ids: np.ndarray,
    ends: np.ndarray,
    window: np.ndarray,
    indices: dict[str, np.ndarray],
    levels: pd.Series,
    cutoff: int,
    horizon: int,
    m: int,
) -> np.ndarray:
    """The pooled-season forecast of each series (rows by series, then step): its trailing
    revenue over the trailing periods' indices (its level with the season taken out) times the
    index of each future period; with a full season of history, the trailing mean reshaped by
    the season. A level without indices: the trailing mean."""
    n = len(series_ids)
    level = levels.reindex(series_ids).to_numpy()
    table = np.ones((n, m))
    for name, values in indices.items():
        table[level == name] = values
    csum = np.concatenate([[0.0], np.cumsum(y)])
    revenue = csum[ends] - csum[ends - window]
    # the trailing periods are cutoff - window + 1 … cutoff: their positions in the year
    back = np.arange(m)
    positions = np.mod(cutoff - back, m)
    covered = back[None, :] < window[:, None]
    usual = np.where(covered, table[:, positions], 0.0).sum(axis=1)
    base = revenue / np.where(usual > 0, usual, np.nan)
    ahead = table[:, np.mod(cutoff + np.arange(1, horizon + 1), m)]
    out: np.ndarray = (base[:, None] * ahead).ravel()
    return out


@dataclass
class _Choice:
    """The selection at one origin: per series the chosen method, its and the better baseline's
    backtest MAE, and the pooled scaled-error quantiles of every method and step."""

    chosen: pd.DataFrame  # index sid: method, skill, mae, mae_baseline, baseline
    quantiles: dict[tuple[str, int], tuple[float, float]]


def _conformal(errors: np.ndarray, share: float) -> float:
    ordered = np.sort(errors)
    rank = min(int(np.ceil((len(ordered) + 1) * share)), len(ordered))
    return float(ordered[rank - 1])


def _select(
    backtest: pd.DataFrame,
    origin: int,
    settings: PredictSettings,
    horizon: int,
    levels: pd.Series,
) -> _Choice:
    """Choose per series by the errors known at ``origin``: forecasts made at the
    ``backtest_origins`` cutoffs before it, scored on periods up to ``origin``.

    A series' own backtest is a handful of errors, so chance alone lets a method "beat" the
    baselines on many noisy series. So the level decides first: a statistical method is
    considered only where one beats the better baseline on the mean scaled error over the
    level's series (else every series of the level gets the level's better baseline). Where
    one does, each series chooses by its own mean scaled error shrunk toward the level's mean
    (:data:`SHRINK` pseudo-errors)."""
    import pandas as pd

    known = backtest[
        (backtest["cutoff"] >= origin - settings.backtest_origins)
        & (backtest["cutoff"] < origin)
        & (backtest["t"] <= origin)
    ]
    errors = pd.DataFrame({"sid": known["sid"]})
    for method in METHODS:
        errors[method] = (known[method] - known["actual"]).abs()
    grouped = errors.groupby("sid", sort=True)
    mae = grouped.mean()
    count = grouped.size()
    unit = known["interval_scale"].to_numpy()
    own = (
        errors[list(METHODS)]
        .div(np.where(unit > 0, unit, np.nan), axis=0)
        .assign(sid=known["sid"].to_numpy())
        .groupby("sid", sort=True)
        .mean()
    )
    level = levels.reindex(own.index).to_numpy()
    pool = own.groupby(level).transform("mean").fillna(mae)
    weight = count.to_numpy()[:, None]
    shrunk = ((own * weight + pool * SHRINK) / (weight + SHRINK)).fillna(mae)
    intermittent = known.groupby("sid", sort=True)["intermittent"].last()
    croston = intermittent.reindex(own.index).fillna(False).astype(bool).to_numpy()

    def pick(score: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        statistical = score[list(STATISTICAL)].copy()
        statistical.loc[~croston, "CrostonSBA"] = np.inf
        best = statistical.fillna(np.inf).idxmin(axis=1).to_numpy()
        # ties go to the trailing mean (the plainer baseline)
        baseline = np.where(
            score[SEASONAL_NAIVE] < score[TRAILING_MEAN], SEASONAL_NAIVE, TRAILING_MEAN
        )
        wins = (
            statistical.min(axis=1)
            < (1 - settings.skill_margin) * score[list(BASELINES)].min(axis=1)
        ).to_numpy()
        return best, baseline, wins

    level_best, level_baseline, level_skill = pick(pool)
    own_best, own_baseline, own_skill = pick(shrunk)
    best_stat = np.where(level_skill, own_best, level_best)
    baseline = np.where(level_skill, own_baseline, level_baseline)
    has_skill = level_skill & own_skill
    picked = np.where(has_skill, best_stat, baseline)
    rows = np.arange(len(mae))
    columns = list(METHODS)
    values = mae[columns].to_numpy()
    chosen = pd.DataFrame(
        {
            "method": picked,
            "skill": has_skill,
            "mae": values[rows, [columns.index(x) for x in picked]],
            "mae_baseline": values[rows, [columns.index(x) for x in baseline]],
            "baseline": baseline,
            "best_statistical": best_stat,
        },
        index=mae.index,
    )
    quantiles: dict[tuple[str, int], tuple[float, float]] = {}
    scaled = errors[list(METHODS)].div(known["interval_scale"].to_numpy(), axis=0)
    valid = known["interval_scale"].to_numpy() > 0
    steps = known["k"].to_numpy()
    for method in METHODS:
        every = scaled[method].to_numpy()[valid]
        every = every[np.isfinite(every)]
        for k in range(1, horizon + 1):
            at_k = scaled[method].to_numpy()[valid & (steps == k)]
            at_k = at_k[np.isfinite(at_k)]
            pool = at_k if len(at_k) >= MIN_ERRORS else every
            if len(pool):
                quantiles[method, k] = (_conformal(pool, 0.8), _conformal(pool, 0.95))
    return _Choice(chosen, quantiles)


def _apply(
    made: pd.DataFrame, choice: _Choice
) -> pd.DataFrame:  # rows of one cutoff with the chosen method's forecast and intervals
    chosen = choice.chosen
    rows = made[made["sid"].isin(chosen.index)].copy()
    method = chosen["method"].reindex(rows["sid"]).to_numpy()
    values = rows[list(METHODS)].to_numpy()
    column = np.array([METHODS.index(x) for x in method], dtype=np.int64)
    rows["method"] = method
    rows["forecast"] = values[np.arange(len(rows)), column]
    q80 = np.array(
        [
            choice.quantiles.get((x, k), (np.nan, np.nan))[0]
            for x, k in zip(method, rows["k"], strict=True)
        ]
    )
    q95 = np.array(
        [
            choice.quantiles.get((x, k), (np.nan, np.nan))[1]
            for x, k in zip(method, rows["k"], strict=True)
        ]
    )
    width = rows["interval_scale"].to_numpy()
    rows["lo_80"] = np.maximum(rows["forecast"] - q80 * width, 0.0)
    rows["hi_80"] = rows["forecast"] + q80 * width
    rows["lo_95"] = np.maximum(rows["forecast"] - q95 * width, 0.0)
    rows["hi_95"] = rows["forecast"] + q95 * width
    return rows


def _made(
    p: _Panel,
    cutoffs: range,
    horizon: int,
    sids: np.ndarray | None = None,
) -> pd.DataFrame:
    import pandas as pd

    frames = [_cutoff_forecasts(p, c, horizon, sids) for c in cutoffs]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _rows(
    p: _Panel,
    made: pd.DataFrame,
    origin: int,
    settings: PredictSettings,
    horizon: int,
    fiscal_year_start_month: int,
) -> pa.Table:
    """The stored rows of one grain: every series' forecast from ``origin`` on."""
    import pandas as pd

    minimum = settings.min_history_quarters if p.grain == "quarter" else settings.min_history_months
    history = p.frame[p.frame["t"] <= origin].groupby("sid").size()
    eligible = history[history >= minimum].index
    grid = pd.DataFrame(
        {
            "sid": np.repeat(history.index.to_numpy(), horizon),
            "k": np.tile(np.arange(1, horizon + 1), len(history)),
            "count": np.repeat(history.to_numpy(), horizon),
        }
    )
    at_origin = made[made["cutoff"] == origin] if not made.empty else made
    if not at_origin.empty:
        grid = grid.merge(
            at_origin[["sid", "k", SEASONAL_NAIVE, TRAILING_MEAN]], on=["sid", "k"], how="left"
        )
    else:
        grid[SEASONAL_NAIVE] = np.nan
        grid[TRAILING_MEAN] = np.nan
    backtest = (
        made[made["sid"].isin(eligible) & (made["cutoff"] < origin)] if not made.empty else made
    )
    bounds = ["forecast", "lo_80", "hi_80", "lo_95", "hi_95", "scale"]
    chosen_columns = ["method", "skill", "mae", "mae_baseline", "baseline", "best_statistical"]
    if not backtest.empty and not at_origin.empty:
        choice = _select(backtest, origin, settings, horizon, p.keys["level"])
        applied = _apply(at_origin[at_origin["sid"].isin(eligible)], choice)
        grid = grid.merge(applied[["sid", "k", *bounds]], on=["sid", "k"], how="left")
        grid = grid.merge(
            choice.chosen[chosen_columns], left_on="sid", right_index=True, how="left"
        )
    else:
        for column in [*bounds, *chosen_columns]:
            grid[column] = np.nan
    short = grid["count"].to_numpy() < minimum
    has = ~short & grid["forecast"].notna().to_numpy()
    skilled = has & (grid["skill"].to_numpy() == True)  # noqa: E712 (object column)
    word = "quarter" if p.grain == "quarter" else "month"
    counts = grid["count"].astype(str)
    notes = np.where(
        short,
        "too little history: " + counts + f" complete {word}s, {minimum} needed",
        np.where(
            has,
            "no measured skill: "
            + grid["best_statistical"].astype(str)
            + " did not beat the "
            + grid["baseline"].astype(str)
            + f"'s backtest error by {settings.skill_margin:.0%}, so the "
            + grid["baseline"].astype(str)
            + " is the forecast",
            "no backtest was possible, so there is no forecast",
        ),
    )
    notes = np.where(
        short & (grid["count"].to_numpy() == 1),
        np.char.replace(notes.astype(str), f"1 complete {word}s", f"1 complete {word}"),
        notes,
    )
    scale = grid["scale"].to_numpy(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mase = grid["mae"].to_numpy(np.float64) / scale
        mase_baseline = grid["mae_baseline"].to_numpy(np.float64) / scale
    grain = Grain(p.grain)
    periods = [
        Period(grain, p.start(origin + k), fiscal_year_start_month) for k in range(1, horizon + 1)
    ]
    step = grid["k"].to_numpy() - 1
    keys = p.keys.reindex(grid["sid"])

    def floats(values: Any, where: np.ndarray) -> pa.Array:
        values = np.asarray(values, dtype=np.float64)
        return pa.array(values, mask=~where | np.isnan(values), type=pa.float64())

    columns = {
        "level": pa.array(keys["level"].to_numpy(), pa.string()),
        "group_key": pa.array(keys["group_key"].to_numpy(), pa.string()),
        "grain": pa.array([p.grain] * len(grid), pa.string()),
        "period_start": pa.array([periods[i].start for i in step], pa.date32()),
        "period_end": pa.array([periods[i].end for i in step], pa.date32()),
        "label": pa.array([periods[i].label for i in step], pa.string()),
        "step": pa.array(grid["k"].to_numpy(np.int32), pa.int32()),
        **{b: floats(grid[b], has) for b in ("forecast", "lo_80", "hi_80", "lo_95", "hi_95")},
        "method": pa.array(grid["method"].astype(object).where(has, None).tolist(), pa.string()),
        "seasonal_naive": floats(grid[SEASONAL_NAIVE], np.ones(len(grid), bool)),
        "trailing_mean": floats(grid[TRAILING_MEAN], np.ones(len(grid), bool)),
        "skill": pa.array(skilled, pa.bool_()),
        "mase": floats(mase, has),
        "mase_baseline": floats(mase_baseline, has),
        "note": pa.array(notes.astype(object), pa.string(), mask=skilled),
    }
    return pa.table(columns, schema=store.FORECAST_SCHEMA)


def _horizon(grain: str, settings: PredictSettings) -> int:
    return settings.horizon_quarters if grain == "quarter" else settings.horizon_months


def forecast_as_of(
    results: pa.Table,
    settings: PredictSettings,
    *,
    fiscal_year_start_month: int,
    grain: str,
    cutoff: date | None = None,
) -> pa.Table:
    """The forecast table of one grain made from the complete periods starting at or before
    ``cutoff`` only (default: all): what the forecast would have been at that time."""
    p = _panel(results, grain, cutoff=cutoff)
    if p is None:
        return store.FORECAST_SCHEMA.empty_table()
    horizon = _horizon(grain, settings)
    made = _made(p, range(p.last - settings.backtest_origins, p.last + 1), horizon)
    return _rows(p, made, p.last, settings, horizon, fiscal_year_start_month)


def _case_measures(cases: pd.DataFrame) -> dict[str, Any]:
    """The measures of a set of scored forecasts (one row per case × step)."""
    import pandas as pd

    by_case = cases.groupby(["sid", "cutoff"], sort=True)
    out: dict[str, Any] = {"n": int(by_case.ngroups)}
    for name, column in (
        ("", "forecast"),
        ("_seasonal_naive", SEASONAL_NAIVE),
        ("_trailing_mean", TRAILING_MEAN),
    ):
        error = (cases[column] - cases["actual"]).abs()
        mae = error.groupby([cases["sid"], cases["cutoff"]], sort=True).mean()
        scale = by_case["scale"].first()
        scaled = (mae / scale).dropna()
        out[f"mase{name}"] = float(scaled.mean()) if len(scaled) else None
        # skill.smape per case, vectorised: the mean of each case's terms
        total = cases["actual"].abs() + cases[column].abs()
        terms = np.divide(
            2 * error.to_numpy(),
            total.to_numpy(),
            out=np.zeros(len(cases)),
            where=total.to_numpy() > 0,
        )
        smapes = pd.Series(terms).groupby([cases["sid"].to_numpy(), cases["cutoff"].to_numpy()])
        out[f"smape{name}"] = float(smapes.mean().mean())
    for share, lo, hi in ((80, "lo_80", "hi_80"), (95, "lo_95", "hi_95")):
        known = cases[lo].notna()
        out[f"coverage_{share}"] = (
            skill.coverage(
                cases.loc[known, "actual"].to_numpy(),
                cases.loc[known, lo].to_numpy(),
                cases.loc[known, hi].to_numpy(),
            )
            if known.any()
            else None
        )
    out["methods"] = {
        str(k): int(v) for k, v in by_case["method"].first().value_counts().sort_index().items()
    }
    return out


def _backtest(
    p: _Panel | None, settings: PredictSettings, horizon: int, made: pd.DataFrame | None
) -> dict[str, Any]:
    """The forecast section: outer origins the last ``backtest_origins`` quarters before the
    latest; at each, select by the errors known then and score the chosen forecast made then."""
    import pandas as pd

    empty: dict[str, Any] = {
        "n": 0,
        "mase": None,
        "mase_seasonal_naive": None,
        "mase_trailing_mean": None,
        "coverage_80": None,
        "coverage_95": None,
        "reason": None,
        "detail": {},
    }
    minimum = settings.min_history_quarters
    origins_count = settings.backtest_origins
    need = (
        f"no partner has {minimum} complete quarters of history before one of the last "
        f"{origins_count} quarters, so there is nothing to backtest"
    )
    if p is None or made is None or made.empty:
        return {**empty, "reason": need}
    levels = p.keys["level"]
    scored: list[pd.DataFrame] = []
    origins = [p.last - j for j in range(1, origins_count + 1)]
    for origin in origins:
        at = made[made["cutoff"] == origin]
        eligible = at.loc[at["history"] >= minimum, "sid"].unique()
        inner = made[made["sid"].isin(eligible) & (made["cutoff"] < origin)]
        if inner.empty:
            continue
        choice = _select(inner, origin, settings, horizon, levels)
        rows = _apply(at[at["sid"].isin(eligible)], choice)
        rows = rows[rows["actual"].notna() & (rows["t"] <= p.last)]
        scored.append(rows)
    cases = pd.concat(scored, ignore_index=True) if scored else pd.DataFrame()
    if cases.empty:
        return {**empty, "reason": need}
    cases["level"] = levels.reindex(cases["sid"]).to_numpy()
    detail: dict[str, Any] = {
        "origins": [p.start(o).isoformat() for o in sorted(origins)],
        "levels": {},
    }
    for level, group in cases.groupby("level", sort=True):
        detail["levels"][str(level)] = _case_measures(group)
    partners = cases[cases["level"] == "partner"]
    if partners.empty:
        return {**empty, "reason": need, "detail": detail}
    headline = _case_measures(partners)
    detail.update(
        smape=headline["smape"],
        smape_seasonal_naive=headline["smape_seasonal_naive"],
        smape_trailing_mean=headline["smape_trailing_mean"],
        partners=int(partners["sid"].nunique()),
    )
    return {
        "n": headline["n"],
        "mase": headline["mase"],
        "mase_seasonal_naive": headline["mase_seasonal_naive"],
        "mase_trailing_mean": headline["mase_trailing_mean"],
        "coverage_80": headline["coverage_80"],
        "coverage_95": headline["coverage_95"],
        "reason": None,
        "detail": detail,
    }


def forecast(
    results: pa.Table,
    settings: PredictSettings,
    *,
    fiscal_year_start_month: int,
    grains: tuple[str, ...] = ("quarter", "month"),
    progress: Callable[[str], None] | None = None,
) -> Forecasts:
    """Every series' forecast for the next periods of each grain, and the quarter backtest."""
    tables = []
    backtest: dict[str, Any] | None = None
    for grain in dict.fromkeys(("quarter", *grains)):
        p = _panel(results, grain)
        wanted = grain in grains
        horizon = _horizon(grain, settings)
        if p is None:
            if grain == "quarter":
                backtest = _backtest(None, settings, horizon, None)
            continue
        if progress is not None and wanted:
            progress(f"forecasting {len(p.keys)} series by {grain}")
        o = settings.backtest_origins
        made = _made(p, range(p.last - o, p.last + 1), horizon)
        if wanted:
            tables.append(_rows(p, made, p.last, settings, horizon, fiscal_year_start_month))
        if grain == "quarter":
            if progress is not None:
                progress("backtesting the quarterly forecasts")
            partners = p.keys.index[p.keys["level"] == "partner"].to_numpy()
            others = p.keys.index[p.keys["level"] != "partner"].to_numpy()
            if len(partners) > BACKTEST_PARTNERS:
                rng = np.random.default_rng(settings.seed)
                partners = np.sort(rng.choice(partners, BACKTEST_PARTNERS, replace=False))
            sample = np.concatenate([partners, others])
            earlier = _made(p, range(p.last - 2 * o, p.last - o), horizon, sample)
            import pandas as pd

            # a series too short for any cutoff makes no forecasts: a frame without columns
            current = made[made["sid"].isin(sample)] if not made.empty else made
            frames = [f for f in (earlier, current) if not f.empty]
            both = (
                pd.concat(frames, ignore_index=True).sort_values(
                    ["sid", "cutoff", "k"], kind="stable"
                )
                if frames
                else pd.DataFrame()
            )
            backtest = _backtest(p, settings, horizon, both)
    table = pa.concat_tables(tables) if tables else store.FORECAST_SCHEMA.empty_table()
    assert backtest is not None
    return Forecasts(_company_holds_the_partners(table), backtest)


#: The forecast's columns in money: the company's are never below the partners'.
MONEY = ("forecast", "lo_80", "hi_80", "lo_95", "hi_95")


def _company_holds_the_partners(table: pa.Table) -> pa.Table:
    """The company (partners and direct deals) forecast raised to the portfolio's (partners
    only) wherever it is lower: the two series are forecast separately, and a company below its
    partners would put the forecast channel share above 100 %. A raised row's note says so."""
    import pyarrow.compute as pc

    is_company = pc.equal(table["level"], "company")
    rows = table.filter(is_company).to_pylist()
    portfolio = {
        (r["grain"], r["step"]): r
        for r in table.filter(pc.equal(table["level"], "portfolio")).to_pylist()
    }
    changed = False
    for r in rows:
        partners = portfolio.get((r["grain"], r["step"]))
        if partners is None or r["forecast"] is None:
            continue
        if partners["forecast"] is None or r["forecast"] >= partners["forecast"]:
            continue
        for column in MONEY:
            if r[column] is not None and partners[column] is not None:
                r[column] = max(r[column], partners[column])
        note = "raised to the partners' forecast (the company's cannot be lower)"
        r["note"] = f"{r['note']}; {note}" if r["note"] else note[0].upper() + note[1:]
        changed = True
    if not changed:
        return table
    company = pa.Table.from_pylist(rows, schema=store.FORECAST_SCHEMA)
    return pa.concat_tables([table.filter(pc.invert(is_company)), company])
