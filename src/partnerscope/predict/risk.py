"""Partner risk: the probability that a partner falls short in the next quarters, with the
factors behind each score, in words.

**Cases.** A partner at a complete quarter *t* (the cutoff) is a case when it is active at *t*
and sold (won a deal or won revenue) in the four quarters up to *t*: a partner with no sale in
a year has already stopped selling and is not "at risk".

**Label.** A case is positive (the partner *falls short*) when, over the next
``predict.risk_quarters`` (2) complete quarters after *t*:

- its won revenue is below ``predict.risk_share`` (50 %) of its quota for those quarters (the
  sum of its quotas, where it has a quota in every one of them), or
- without quotas, its won revenue is below 50 % of its own trailing level (``risk_quarters`` ×
  the mean quarterly won revenue of the four quarters up to *t*), or
- it wins no deal at all in those quarters (it *stops selling*).

A case whose next quarters are not all complete has no label: it is scored, never trained on.

**Features** (:data:`FEATURES`) are read from the run's partner results by quarter, at *t* and
before only (NaN where a metric is missing: the model handles it): revenue trends and swings,
deals won, win rate, quota attainment (last quarter and over the last four), pipeline cover,
new pipeline's trend, lead SLA, lead conversion, enablement, compliance, CSAT, NPS, MDF spend
against revenue and the quarters since joining. A partner's history starts at its first sale.

**Not the flags.** A run keeps the flags of its latest quarter only (flags.parquet), so a
partner's flags at an earlier quarter are unknown: as a feature they were missing in every
training case and present only in the scored quarter, and told the model nothing. They are
left out until the runs keep their flags' history.

**Model.** A small LightGBM binary classifier (150 trees of at most 7 leaves and depth 3, at
least 40 cases a leaf, learning rate 0.03: shallow and slow, as a portfolio of a hundred
partners gives a few hundred cases whose outcomes are mostly noise; deterministic: column-wise
histograms, one thread, no bagging, seeded by ``predict.seed``), calibrated by Platt scaling
*out of time*: a model trained on the cases of the earliest 75 % of the training cutoffs
predicts the cases of the later ones, and a logistic fit of their outcomes on those log-odds
is the calibration, applied to the model trained on every training case. Platt rather than
isotonic: two parameters stay stable with the few hundred calibration cases a portfolio
yields. Fewer than :data:`MIN_TRAIN` training cases (or :data:`MIN_TRAIN_EACH` of an
outcome): no model, the base rate.

**Backtest.** For each of the last ``predict.backtest_origins`` cutoffs *o* whose labels are
known, the model is trained only on the cases whose label was known at *o* (*t* +
``risk_quarters`` ≤ *o*) and predicts the cases at *o*; the origins are pooled into ROC AUC,
the Brier score and the Brier score of predicting each origin's training base rate. The section
has a reason instead of measures when it has fewer than :data:`MIN_CASES` cases or fewer than
:data:`MIN_EACH` of either outcome.

**Skill.** Unless the backtest's Brier score is below the base rate's, every probability *is*
the base rate (the share of training cases that fell short), the score has no skill and its one
factor says so; no alert is raised from a score without skill.

**Factors** are LightGBM's SHAP contributions (``pred_contrib``) on the calibrated log-odds
scale: the ``predict.factors`` largest by size, each a sentence in the workspace's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from partnerscope.predict import skill, store

if TYPE_CHECKING:
    import pandas as pd

    from partnerscope.present import Words
    from partnerscope.settings.predict import PredictSettings

#: The fewest pooled backtest cases, and of each outcome, that support a risk backtest.
MIN_CASES = 50
MIN_EACH = 10
#: The fewest training cases (and of each outcome) a model is trained on; fewer: base rate.
MIN_TRAIN = 30
MIN_TRAIN_EACH = 5
#: The quarters of trailing history the trailing level and trends are computed over.
TRAILING = 4

MODEL_VERSION = "risk-lightgbm-platt-1"


@dataclass(frozen=True)
class Feature:
    """One feature: its key, how its value is written (``kind``) and its sentences."""

    key: str
    #: "ratio" (a share of something, no decimals), "share" (one decimal), "number",
    #: "decimal" (one decimal), "times", "count"
    kind: str
    #: the sentence with ``{value}``
    text: str
    #: the sentence when the value is missing
    missing: str


FEATURES: tuple[Feature, ...] = (
    Feature(
        "revenue_vs_trailing",
        "ratio",
        "Won revenue last quarter was {value} of its trailing average",
        "No won revenue trend",
    ),
    Feature(
        "revenue_vs_previous",
        "ratio",
        "Won revenue last quarter was {value} of the quarter before",
        "No won revenue in the quarter before to compare with",
    ),
    Feature(
        "revenue_growth_yoy",
        "share",
        "Won revenue growth on a year earlier: {value}",
        "No revenue growth on a year earlier",
    ),
    Feature("won_deals", "count", "Deals won last quarter: {value}", "No deals won data"),
    Feature(
        "deals_vs_trailing",
        "ratio",
        "Deals won last quarter were {value} of the trailing average",
        "No deals won trend",
    ),
    Feature("win_rate", "share", "Win rate: {value}", "No win rate data"),
    Feature("quota_attainment", "share", "Quota attainment: {value}", "No quota attainment data"),
    Feature(
        "pipeline_cover",
        "times",
        "Open pipeline covers {value} a quarter's average won revenue",
        "No pipeline cover: no won revenue to compare the open pipeline with",
    ),
    Feature(
        "new_pipeline_trend",
        "ratio",
        "New pipeline last quarter was {value} of its trailing average",
        "No new pipeline trend",
    ),
    Feature("lead_sla_rate", "share", "Lead SLA kept: {value}", "No lead SLA data"),
    Feature("lead_conversion_rate", "share", "Leads converted: {value}", "No lead conversion data"),
    Feature(
        "enablement_completion",
        "share",
        "Enablement completed: {value}",
        "No enablement data",
    ),
    Feature("compliance_score", "decimal", "Compliance score: {value}", "No compliance data"),
    Feature("csat", "decimal", "Customer satisfaction (CSAT): {value}", "No CSAT data"),
    Feature("nps", "number", "Net promoter score: {value}", "No NPS data"),
    Feature(
        "mdf_to_revenue",
        "ratio",
        "MDF spend last quarter was {value} of a quarter's average won revenue",
        "No MDF spend to compare with revenue",
    ),
    Feature(
        "deals_last_year",
        "count",
        "Deals won in the last four quarters: {value}",
        "No deals won data",
    ),
    Feature(
        "revenue_swing",
        "ratio",
        "Quarterly won revenue swung by {value} around its average over the last four quarters",
        "Too few quarters of won revenue to measure its swings",
    ),
    Feature(
        "attainment_last_year",
        "share",
        "Quota attainment over the last four quarters: {value}",
        "No quota in the last four quarters",
    ),
    Feature(
        "quarters_since_joining",
        "count",
        "Quarters since joining: {value}",
        "Joining date not known",
    ),
)
KEYS = tuple(f.key for f in FEATURES)

#: The results' metrics read, and whether a missing row means zero (counts and amounts).
_ZERO = ("won_revenue", "won_deals", "open_pipeline", "new_pipeline", "mdf_spend")
_AS_IS = (
    "quota",
    "quota_attainment",
    "revenue_growth_yoy",
    "win_rate",
    "lead_sla_rate",
    "lead_conversion_rate",
    "enablement_completion",
    "compliance_score",
    "csat",
    "nps",
)

_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "num_leaves": 7,
    "max_depth": 3,
    "min_data_in_leaf": 40,
    "learning_rate": 0.03,
    "deterministic": True,
    "force_col_wise": True,
    "num_threads": 1,
    "bagging_fraction": 1.0,
    "feature_fraction": 1.0,
    "verbose": -1,
}
_ROUNDS = 150


@dataclass(frozen=True)
class Risks:
    table: pa.Table  # store.RISK_SCHEMA, one row per partner scored
    backtest: dict[str, Any]  # the risk section


# --------------------------------------------------------------------------------- panel


@dataclass(frozen=True)
class Panel:
    """Every partner × complete quarter: features, whether a case, label (NaN: unknown)."""

    partners: np.ndarray[Any, Any]  # (P,) partner ids
    quarters: list[Any]  # (Q,) period starts (dates), ascending
    labels: list[str]  # (Q,) the quarters' labels
    features: np.ndarray[Any, Any]  # (P, Q, F)
    case: np.ndarray[Any, Any]  # (P, Q) bool
    label: np.ndarray[Any, Any]  # (P, Q) float: 1, 0, NaN (unknown)


def _grid(frame: pd.DataFrame, column: str, index: Any, quarters: Any) -> np.ndarray[Any, Any]:
    if column not in frame:
        return np.full((len(index), len(quarters)), np.nan)
    table = frame.pivot(index="group_key", columns="period_start", values=column)
    table = table.reindex(index=index, columns=quarters)
    values: np.ndarray[Any, Any] = table.to_numpy(dtype=np.float64, na_value=np.nan)
    if column in _ZERO:
        values = np.nan_to_num(values, nan=0.0)
    return values


def _trailing_mean(values: np.ndarray[Any, Any], window: int = TRAILING) -> np.ndarray[Any, Any]:
    """Mean of the known (finite) values of the ``window`` quarters up to each quarter; NaN
    where none is known."""
    known = np.isfinite(values)
    total = np.cumsum(np.where(known, values, 0.0), axis=1)
    count = np.cumsum(known, axis=1).astype(np.float64)
    total[:, window:] = total[:, window:] - total[:, :-window]
    count[:, window:] = count[:, window:] - count[:, :-window]
    with np.errstate(divide="ignore", invalid="ignore"):
        out: np.ndarray[Any, Any] = np.where(count > 0, total / np.maximum(count, 1.0), np.nan)
    return out


def _known(values: np.ndarray[Any, Any], window: int = TRAILING) -> np.ndarray[Any, Any]:
    """How many of the ``window`` quarters up to each quarter are known (finite)."""
    count = np.cumsum(np.isfinite(values), axis=1).astype(np.float64)
    count[:, window:] = count[:, window:] - count[:, :-window]
    return count


def _trailing_std(values: np.ndarray[Any, Any], window: int = TRAILING) -> np.ndarray[Any, Any]:
    """Standard deviation of the known values of the ``window`` quarters up to each quarter;
    NaN with fewer than two known."""
    mean = _trailing_mean(values, window)
    square = _trailing_mean(values**2, window)
    with np.errstate(invalid="ignore"):
        out: np.ndarray[Any, Any] = np.sqrt(np.maximum(square - mean**2, 0.0))
    return np.where(_known(values, window) >= 2, out, np.nan)


def _ratio(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def panel(
    results: pa.Table,
    memberships: pa.Table | None,
    settings: PredictSettings,
) -> Panel:
    """The partners' quarters with their features, cases and labels (see the module)."""
    import pandas as pd

    from partnerscope.predict.panel import complete

    frame = complete(results, level="partner", grain="quarter", metrics=(*_ZERO, *_AS_IS))
    starts = sorted(frame["period_start"].unique()) if not frame.empty else []
    quarters = [pd.Timestamp(q).date() for q in starts]
    label_of = dict(zip(frame["period_start"], frame["label"], strict=False))
    labels = [str(label_of[q]) for q in starts]
    partners = np.array(sorted(frame["group_key"].unique()), dtype=object)
    n_p, n_q = len(partners), len(quarters)
    g = {c: _grid(frame, c, partners, starts) for c in (*_ZERO, *_AS_IS)}

    revenue, deals = g["won_revenue"], g["won_deals"]
    # a partner's history starts at its first sale: the quarters before it are not its level
    started = np.cumsum((revenue > 0) | (deals > 0), axis=1) > 0
    history = {c: np.where(started, g[c], np.nan) for c in ("won_revenue", "won_deals")}
    trailing = _trailing_mean(history["won_revenue"])
    previous = np.full_like(revenue, np.nan)
    previous[:, 1:] = history["won_revenue"][:, :-1]
    new_trailing = _trailing_mean(g["new_pipeline"])
    values = {
        "revenue_vs_trailing": _ratio(revenue, trailing),
        "revenue_vs_previous": _ratio(revenue, previous),
        "revenue_growth_yoy": g["revenue_growth_yoy"],
        "won_deals": deals,
        "deals_vs_trailing": _ratio(deals, _trailing_mean(history["won_deals"])),
        "win_rate": g["win_rate"],
        "quota_attainment": g["quota_attainment"],
        "pipeline_cover": _ratio(g["open_pipeline"], trailing),
        "new_pipeline_trend": _ratio(g["new_pipeline"], new_trailing),
        "lead_sla_rate": g["lead_sla_rate"],
        "lead_conversion_rate": g["lead_conversion_rate"],
        "enablement_completion": g["enablement_completion"],
        "compliance_score": g["compliance_score"],
        "csat": g["csat"],
        "nps": g["nps"],
        "mdf_to_revenue": _ratio(g["mdf_spend"], trailing),
        "deals_last_year": _trailing_mean(history["won_deals"]) * _known(history["won_deals"]),
        "revenue_swing": _ratio(_trailing_std(history["won_revenue"]), trailing),
        "attainment_last_year": _ratio(
            _trailing_mean(np.where(g["quota"] > 0, revenue, np.nan)),
            _trailing_mean(np.where(g["quota"] > 0, g["quota"], np.nan)),
        ),
        "quarters_since_joining": np.full((n_p, n_q), np.nan),
    }
    active = np.ones((n_p, n_q), dtype=bool)
    if memberships is not None and memberships.num_rows:
        m = memberships.to_pandas()
        m = m[m["grain"] == "quarter"] if "grain" in m else m
        m = m.assign(period_start=pd.to_datetime(m["period_start"]))
        m = m.drop_duplicates(["partner_id", "period_start"], keep="last")
        m = m.rename(columns={"partner_id": "group_key"})
        if "status" in m:
            status = m.pivot(index="group_key", columns="period_start", values="status")
            status = status.reindex(index=partners, columns=starts)
            active = ~(status.notna() & (status != "active")).to_numpy(dtype=bool)
        if "joined_at" in m:
            joined = pd.to_datetime(m.groupby("group_key")["joined_at"].first())
            joined = joined.reindex(partners)
            days = np.subtract.outer(
                pd.DatetimeIndex(starts).to_numpy(dtype="datetime64[D]").astype(np.int64),
                joined.to_numpy(dtype="datetime64[D]").astype(np.int64),
            ).T.astype(np.float64)
            known = joined.notna().to_numpy()[:, None] & np.ones((1, n_q), dtype=bool)
            values["quarters_since_joining"] = np.where(
                known, np.maximum(np.floor(days / 91.3125), 0.0), np.nan
            )
    features = np.stack([values[k] for k in KEYS], axis=2)

    sold = _trailing_mean(((revenue > 0) | (deals > 0)).astype(np.float64)) > 0
    case = sold & active & np.isfinite(trailing)
    label = _labels(revenue, deals, g["quota"], trailing, settings)
    return Panel(partners, quarters, labels, features, case, label)


def _labels(
    revenue: np.ndarray[Any, Any],
    deals: np.ndarray[Any, Any],
    quota: np.ndarray[Any, Any],
    trailing: np.ndarray[Any, Any],
    settings: PredictSettings,
) -> np.ndarray[Any, Any]:
    h = settings.risk_quarters
    n_p, n_q = revenue.shape
    label = np.full((n_p, n_q), np.nan)
    for t in range(n_q - h):
        ahead = slice(t + 1, t + 1 + h)
        future = revenue[:, ahead].sum(axis=1)
        q = quota[:, ahead]
        has_quota = np.all(np.isfinite(q) & (q > 0), axis=1)
        bar = np.where(has_quota, np.nansum(q, axis=1), h * trailing[:, t])
        short = (future < settings.risk_share * bar) | (deals[:, ahead].sum(axis=1) <= 0)
        label[:, t] = short.astype(np.float64)
    return label


# --------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Model:
    """A trained model and its calibration (None: the base rate, too few cases)."""

    booster: Any
    slope: float
    intercept: float
    base_rate: float

    def log_odds(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if self.booster is None:
            return np.full(len(x), _logit(self.base_rate))
        raw = self.booster.predict(x, raw_score=True)
        return np.asarray(self.slope * raw + self.intercept, dtype=np.float64)

    def probability(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return _sigmoid(self.log_odds(x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _sigmoid(z: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = 1.0 / (1.0 + np.exp(-z))
    return out


def _enough(y: np.ndarray[Any, Any]) -> bool:
    positives = int(y.sum())
    return len(y) >= MIN_TRAIN and min(positives, len(y) - positives) >= MIN_TRAIN_EACH


def _booster(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], seed: int) -> Any:
    import lightgbm as lgb

    data = lgb.Dataset(x, label=y, feature_name=list(KEYS), params={"verbose": -1})
    return lgb.train({**_PARAMS, "seed": seed}, data, num_boost_round=_ROUNDS)


def train(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], t: np.ndarray[Any, Any], seed: int
) -> Model:
    """A calibrated model of the cases ``x`` with outcomes ``y`` at cutoff indices ``t``."""
    base_rate = float(y.mean()) if len(y) else 0.0
    if not _enough(y):
        return Model(None, 1.0, 0.0, base_rate)
    booster = _booster(x, y, seed)
    slope, intercept = 1.0, 0.0
    cutoffs = np.unique(t)
    if len(cutoffs) >= 2:
        split = cutoffs[min(max(1, int(np.ceil(len(cutoffs) * 0.75))), len(cutoffs) - 1)]
        early, late = t < split, t >= split
        if _enough(y[early]) and len(np.unique(y[late])) == 2:
            from sklearn.linear_model import LogisticRegression

            raw = _booster(x[early], y[early], seed).predict(x[late], raw_score=True)
            fit = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y[late])
            slope, intercept = float(fit.coef_[0, 0]), float(fit.intercept_[0])
            if slope <= 0:  # the early model ranks the later cases backwards: no calibration
                slope, intercept = 1.0, 0.0
    return Model(booster, slope, intercept, base_rate)


def _cases(p: Panel, cutoffs: np.ndarray[Any, Any]) -> tuple[Any, Any, Any, Any]:
    """The cases at ``cutoffs`` (a bool mask over quarters): rows, x, y, cutoff index."""
    mask = p.case & cutoffs[None, :]
    rows, cols = np.nonzero(mask)
    return rows, p.features[rows, cols], p.label[rows, cols], cols


# ------------------------------------------------------------------------------ backtest


def backtest_predictions(
    p: Panel, settings: PredictSettings, progress: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Each backtest origin's cases: origin, partner, probability, outcome, training base rate."""
    import pandas as pd

    h = settings.risk_quarters
    n_q = len(p.quarters)
    origins = [o for o in range(n_q) if o + h <= n_q - 1][-settings.backtest_origins :]
    frames = []
    for number, o in enumerate(origins, start=1):
        if progress:
            progress(f"risk backtest: cutoff {p.labels[o]} ({number} of {len(origins)})")
        x, y, t = _training_at(p, o, h)
        model = train(x, y, t, settings.seed)
        at = np.zeros(n_q, dtype=bool)
        at[o] = True
        rows, xo, yo, _ = _cases(p, at)
        frames.append(
            pd.DataFrame(
                {
                    "origin": p.quarters[o],
                    "partner_id": p.partners[rows],
                    "probability": model.probability(xo),
                    "outcome": yo,
                    "base_rate": model.base_rate,
                    "model": model.booster is not None,
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=["origin", "partner_id", "probability", "outcome", "base_rate", "model"]
        )
    return pd.concat(frames, ignore_index=True)


def _training_at(p: Panel, last: int, h: int) -> tuple[Any, Any, Any]:
    """The labelled cases whose label was known at quarter index ``last`` (t + h ≤ last)."""
    before = np.arange(len(p.quarters)) + h <= last
    _, x, y, t = _cases(p, before)
    labelled = np.isfinite(y)
    return x[labelled], y[labelled].astype(np.float64), t[labelled]


def backtest_section(frame: pd.DataFrame, quarters: int = 2) -> dict[str, Any]:
    """The pooled backtest as the risk section (measures, or a reason)."""
    y = frame["outcome"].to_numpy(dtype=np.float64) if len(frame) else np.zeros(0)
    positives = int(y.sum())
    detail = {
        "origins": [str(o) for o in sorted(frame["origin"].unique())] if len(frame) else [],
        "positives": positives,
        "min_cases": MIN_CASES,
        "min_each": MIN_EACH,
        "model": MODEL_VERSION,
    }
    reason = None
    if len(y) < MIN_CASES:
        reason = (
            f"only {len(y)} partner-quarters can be checked against the {quarters} quarters "
            f"after them (at least {MIN_CASES} needed)"
        )
    elif min(positives, len(y) - positives) < MIN_EACH:
        fewer = "fell short" if positives < len(y) - positives else "kept their level"
        reason = (
            f"only {min(positives, len(y) - positives)} of the {len(y)} partner-quarters "
            f"checked {fewer} (at least {MIN_EACH} of each outcome needed)"
        )
    elif not frame["model"].any():
        reason = "too few partners with history before each cutoff to train a model"
    if reason is not None:
        return {
            "n": len(y),
            "auc": None,
            "brier": None,
            "brier_base_rate": None,
            "reason": reason,
            "reliability": [],
            "detail": detail,
        }
    p = frame["probability"].to_numpy(dtype=np.float64)
    section = skill.classifier_section(y, p)
    rates = frame["base_rate"].to_numpy(dtype=np.float64)
    section["brier_base_rate"] = float(np.mean((rates - y) ** 2))
    section["reason"] = None
    section["detail"] = detail
    return section


# ------------------------------------------------------------------------------- factors


def _written(feature: Feature, value: float, words: Words) -> str:
    if not np.isfinite(value):
        return feature.missing
    match feature.kind:
        case "ratio":
            text = words.share(value, digits=0)
        case "share":
            text = words.share(value)
        case "decimal":
            text = words.number(value, digits=1)
        case "times":
            text = words.times(value)
        case _:
            text = words.number(value)
    return feature.text.format(value=text)


def _factors(
    model: Model, x: np.ndarray[Any, Any], count: int, words: Words
) -> list[list[dict[str, Any]]]:
    contrib = np.asarray(model.booster.predict(x, pred_contrib=True), dtype=np.float64)
    effects = contrib[:, : len(KEYS)] * model.slope
    out = []
    for row, effect in zip(x, effects, strict=True):
        top = np.argsort(-np.abs(effect), kind="stable")[:count]
        out.append(
            [
                {
                    "feature": KEYS[i],
                    "text": _written(FEATURES[i], float(row[i]), words),
                    "effect": float(effect[i]),
                }
                for i in top
            ]
        )
    return out


def _no_skill(
    base_rate: float, words: Words, supported: bool, quarters: int
) -> list[dict[str, Any]]:
    why = (
        "The model showed no measured skill on this workspace's history"
        if supported
        else "There is too little history to measure the model's skill"
    )
    return [
        {
            "feature": "base_rate",
            "text": f"{why}, so this is the share of partners that fell short in the "
            f"{quarters} quarters after a quarter of its history: {words.share(base_rate)}",
            "effect": 0.0,
        }
    ]


# ---------------------------------------------------------------------------------- risk


def risk(
    results: pa.Table,
    memberships: pa.Table,
    settings: PredictSettings,
    words: Words,
    *,
    previous: pa.Table | None = None,
    progress: Callable[[str], None] | None = None,
) -> Risks:
    """The probability of falling short in the next quarters (see the module) of each partner
    that is a case at the latest complete quarter (active, and sold in the four quarters up to
    it: a partner without a sale in a year has stopped, it is not at risk), with the backtest.
    No partner is scored while no partner's next quarters are known yet (no base rate)."""
    p = panel(results, memberships, settings)
    backtest = backtest_section(backtest_predictions(p, settings, progress), settings.risk_quarters)
    n_q = len(p.quarters)
    if n_q == 0:
        return Risks(store.RISK_SCHEMA.empty_table(), backtest)
    if progress:
        progress("risk: training on every labelled partner-quarter")
    x, y, t = _training_at(p, n_q - 1, settings.risk_quarters)
    if len(y) == 0:  # no partner's next quarters are known yet: no base rate to fall back on
        return Risks(store.RISK_SCHEMA.empty_table(), backtest)
    model = train(x, y, t, settings.seed)
    has_skill = (
        backtest["reason"] is None
        and model.booster is not None
        and backtest["brier"] < backtest["brier_base_rate"]
    )
    last = np.zeros(n_q, dtype=bool)
    last[-1] = True
    rows, xs, _, _ = _cases(p, last)
    if has_skill:
        probability = model.probability(xs)
        factors = _factors(model, xs, settings.factors, words)
    else:
        probability = np.full(len(rows), model.base_rate)
        factors = [
            _no_skill(model.base_rate, words, backtest["reason"] is None, settings.risk_quarters)
        ] * len(rows)
    before: dict[str, float] = {}
    if previous is not None and previous.num_rows:
        before = dict(
            zip(
                previous["partner_id"].to_pylist(),
                previous["probability"].to_pylist(),
                strict=True,
            )
        )
    out = []
    for i, row in enumerate(rows):
        partner = str(p.partners[row])
        prob = float(probability[i])
        prior = before.get(partner)
        alert = None
        if has_skill:
            if prob >= settings.high_risk:
                alert = "high"
            elif prior is not None and prob - prior >= settings.rising_risk:
                alert = "rising"
        out.append(
            {
                "partner_id": partner,
                "period_start": p.quarters[-1],
                "label": p.labels[-1],
                "probability": prob,
                "base_rate": model.base_rate,
                "skill": has_skill,
                "previous": prior,
                "alert": alert,
                "factors": factors[i],
            }
        )
    backtest["detail"]["base_rate"] = model.base_rate
    backtest["detail"]["skill"] = has_skill
    return Risks(pa.Table.from_pylist(out, schema=store.RISK_SCHEMA), backtest)
