"""Scorecards: each weighted metric normalized within the partner's peer cohort, combined into
a 0–100 composite over the metrics with evidence, with the coverage and the explanation.

Score of a metric: its value (a share measured on few events first pulled toward the cohort's
rate) scored 0–100 among the same period's peers by the configured method. Composite: the
weighted mean of the metric scores that exist; evidence coverage: the share of the weight they
carry. A metric's contribution is weight × score / coverage, so the contributions add up to
the composite.

Measures without data anywhere in the workspace (no quotas, leads or surveys loaded) are no
one's lack of evidence: the weights are spread over the measures the data supports, and every
scorecard says on how many of the configured measures it was scored. Partners not active in a
period (marked inactive, or not yet joined) are left out of the scores, ranks and peer cohorts
unless ``[scorecard] score_inactive`` is on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from partnerscope.evaluation.normalize import Shrunk, normalize, shrink
from partnerscope.evaluation.panel import (
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    Panel,
    Standing,
    group_ids,
    grouped_count,
    grouped_percentile,
    trailing_sum,
)
from partnerscope.metrics.definition import Direction
from partnerscope.settings.evaluation import Method, ScorecardSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.metrics.definition import Catalog


@dataclass(frozen=True)
class MetricScore:
    """One weighted metric of every scorecard row."""

    metric: str
    weight: float
    leading: bool
    method: Method
    higher_is_better: bool
    value: FloatArray
    #: the value after shrinkage (None: not a share of counted events, or shrinkage off)
    shrunk: Shrunk | None
    normalized: FloatArray

    @property
    def scored_value(self) -> FloatArray:
        return self.value if self.shrunk is None else self.shrunk.value


@dataclass(frozen=True)
class Scorecards:
    panel: Panel
    settings: ScorecardSettings
    cohort: ObjectArray
    group: IntArray
    metrics: list[MetricScore]
    score: FloatArray
    coverage: FloatArray
    low_evidence: BoolArray
    #: the score's percentile rank (0–1) in the period, among all partners and in the cohort
    score_percentile: FloatArray
    cohort_percentile: FloatArray
    cohort_size: IntArray
    #: composites over the leading and over the lagging metrics alone
    leading: FloatArray
    lagging: FloatArray
    annual_revenue: FloatArray
    #: whether each row was scored (False: the partner was not active in the period)
    scored: BoolArray
    #: weighted measures without a value in any row: no data in the workspace
    unsupported: list[str]
    #: one sentence per row when its scorecard needs one (not scored; scored on fewer measures
    #: than configured), else None
    note: ObjectArray

    def weight_of(self, item: MetricScore) -> float:
        """The share of the score the metric carries: its weight spread over the measures
        with data in the workspace (0 for a measure without any)."""
        if item.metric in self.unsupported:
            return 0.0
        total = sum(i.weight for i in self.metrics if i.metric not in self.unsupported)
        return item.weight / total if total > 0 else item.weight

    def contribution(self, item: MetricScore) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.coverage > 0, self.weight_of(item) * item.normalized / self.coverage, np.nan
            )

    def fields(self) -> dict[str, FloatArray]:
        """Every value tier rules, flags and alerts may name: the metrics and the derived ones."""
        return {
            **self.panel.values,
            "score": self.score,
            "score_percentile": self.score_percentile,
            "cohort_percentile": self.cohort_percentile,
            "evidence_coverage": self.coverage,
            "annual_revenue": self.annual_revenue,
            "scored": self.scored.astype(np.float64),
        }


def score(
    panel: Panel,
    catalog: Catalog,
    settings: ScorecardSettings,
    weights: Mapping[str, float] | None = None,
) -> Scorecards:
    """Score every partner and period of the panel (``weights`` overrides the settings')."""
    weights = dict(settings.weights if weights is None else weights)
    standing = panel.standings()
    scored = (
        np.ones(len(panel), dtype=bool)
        if settings.score_inactive
        else standing == Standing.ACTIVE.value
    )

    def taken(values: FloatArray) -> FloatArray:
        # a row left out is no one's peer: its values take no part in ranks, medians or rates
        return np.where(scored, values, np.nan)

    cohort = panel.cohort(settings.cohort.value).copy()
    peers = Peers(panel, cohort, settings.min_cohort_size, scored)
    unsupported = [name for name in weights if np.isnan(panel.values[name]).all()]
    items: list[MetricScore] = []
    for name, weight in weights.items():
        value = panel.values[name]
        shrunk = None
        pair = catalog.share_of_counts(name) if name in settings.shrink else None
        if pair is not None:
            successes, trials = (taken(panel.values[p]) for p in pair)
            shrunk = peers.shrink(taken(value), successes, trials)
        method = settings.method_of(name)
        higher = catalog[name].spec.direction is Direction.HIGHER
        scored_in = partial(
            _normalize_in,
            method=method,
            values=taken(value) if shrunk is None else shrunk.value,
            higher_is_better=higher,
            target=settings.targets.get(name),
            z_clip=settings.z_clip,
        )
        normalized = peers.apply(scored_in)
        items.append(
            MetricScore(
                metric=name,
                weight=weight,
                leading=name in settings.leading,
                method=method,
                higher_is_better=higher,
                value=value,
                shrunk=shrunk,
                normalized=normalized,
            )
        )
    supported = [i for i in items if i.metric not in unsupported] or items
    composite, coverage = _composite(supported, len(panel))
    leading, _ = _composite([i for i in supported if i.leading], len(panel))
    lagging, _ = _composite([i for i in supported if not i.leading], len(panel))
    return Scorecards(
        panel=panel,
        settings=settings,
        cohort=peers.cohort,
        group=peers.group,
        metrics=items,
        score=composite,
        coverage=coverage,
        low_evidence=scored & (coverage < settings.min_coverage),
        score_percentile=grouped_percentile(peers.period_group, composite),
        cohort_percentile=peers.apply(lambda group, _: grouped_percentile(group, composite)),
        cohort_size=peers.apply(lambda group, n: grouped_count(group, composite, n)[group]),
        leading=leading,
        lagging=lagging,
        annual_revenue=trailing_sum(panel, panel.values["won_revenue"]),
        scored=scored,
        unsupported=[i.metric for i in items if i.metric in unsupported and supported != items],
        note=_notes(catalog, standing, scored, weights, unsupported),
    )


#: Why a row was not scored, by its :class:`Standing`.
NOT_SCORED = {
    Standing.INACTIVE.value: "Inactive — not scored",
    Standing.NOT_STARTED.value: "Not yet in the program in this period — not scored",
}


def scoring_note(catalog: Catalog, weights: Mapping[str, float], unsupported: list[str]) -> str:
    """``Scored on 3 of 8 measures; quota attainment, CSAT … have no data in this workspace,
    so their weight is spread over the others`` (empty when every measure has data)."""
    if not unsupported or len(unsupported) == len(weights):
        return ""
    labels = [catalog[m].label if m in catalog.metrics else m for m in unsupported]
    names = ", ".join(labels[:-1]) + f" and {labels[-1]}" if len(labels) > 1 else labels[0]
    verb = "have" if len(labels) > 1 else "has"
    return (
        f"Scored on {len(weights) - len(unsupported)} of {len(weights)} measures: {names} "
        f"{verb} no data in this workspace, so {'their' if len(labels) > 1 else 'its'} weight "
        "is spread over the others"
    )


def _notes(
    catalog: Catalog,
    standing: ObjectArray,
    scored: BoolArray,
    weights: Mapping[str, float],
    unsupported: list[str],
) -> ObjectArray:
    note = np.full(len(standing), scoring_note(catalog, weights, unsupported) or None, dtype=object)
    for value, text in NOT_SCORED.items():
        note[~scored & (standing == value)] = text
    return note


def _normalize_in(group: IntArray, n_groups: int, **options: Any) -> FloatArray:
    method, values = options.pop("method"), options.pop("values")
    return normalize(method, values, group, n_groups, **options)


class Peers:
    """Who each row is compared with: the partners of its cohort in the same period, or all
    partners of the period when the cohort has fewer than ``min_size`` (shown as cohort
    "portfolio")."""

    def __init__(
        self, panel: Panel, cohort: ObjectArray, min_size: int, scored: BoolArray | None = None
    ) -> None:
        self.group, self.n_groups = group_ids(panel.period, cohort)
        self.period_group, self.n_periods = group_ids(panel.period)
        # only the partners scored count toward a cohort's size
        counted = None if scored is None else scored.astype(np.float64)
        self.small = np.bincount(self.group, weights=counted)[self.group] < min_size
        self.cohort = np.where(self.small, "portfolio", cohort)

    def apply(self, compute: Callable[[IntArray, int], Any]) -> Any:
        """``compute(group, n_groups)`` per row with the row's peers."""
        by_cohort = compute(self.group, self.n_groups)
        if not self.small.any():
            return by_cohort
        return np.where(self.small, compute(self.period_group, self.n_periods), by_cohort)

    def shrink(self, values: FloatArray, successes: FloatArray, trials: FloatArray) -> Shrunk:
        def part(field: str) -> Callable[[IntArray, int], FloatArray]:
            return lambda group, n: getattr(shrink(values, successes, trials, group, n), field)

        return Shrunk(
            **{f: self.apply(part(f)) for f in ("value", "prior", "strength", "own_weight")}
        )


def _composite(items: list[MetricScore], n: int) -> tuple[FloatArray, FloatArray]:
    """Weighted mean of the metric scores that exist, and the share of weight they carry."""
    if not items:
        return np.full(n, np.nan), np.full(n, np.nan)
    total = sum(i.weight for i in items)
    weighted = np.zeros(len(items[0].normalized))
    carried = np.zeros(len(items[0].normalized))
    for item in items:
        has = ~np.isnan(item.normalized)
        weighted += np.where(has, item.weight * item.normalized, 0.0)
        carried += np.where(has, item.weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        composite = np.where(carried > 0, weighted / carried, np.nan)
    return composite, carried / total if total > 0 else carried


def to_tables(cards: Scorecards) -> tuple[pa.Table, pa.Table]:
    """The scorecards (one row per partner and period) and their metric lines."""
    import pyarrow as pa

    panel = cards.panel
    starts = pa.array([panel.periods[i] for i in panel.period], pa.date32())
    labels = pa.array([panel.labels[i] for i in panel.period], pa.string())
    partner = pa.array(panel.partner, pa.string())

    def floats(values: FloatArray) -> pa.Array:
        return pa.array(values, pa.float64(), from_pandas=True)

    scorecards = pa.table(
        {
            "partner_id": partner,
            "period_start": starts,
            "period": labels,
            "cohort": pa.array(cards.cohort, pa.string()),
            "cohort_size": pa.array(cards.cohort_size, pa.int64()),
            "score": floats(cards.score),
            "evidence_coverage": floats(cards.coverage),
            "low_evidence": pa.array(cards.low_evidence, pa.bool_()),
            "score_percentile": floats(cards.score_percentile),
            "cohort_percentile": floats(cards.cohort_percentile),
            "leading_score": floats(cards.leading),
            "lagging_score": floats(cards.lagging),
            "annual_revenue": floats(cards.annual_revenue),
            "status": pa.array(panel.standings(), pa.string()),
            "scored": pa.array(cards.scored, pa.bool_()),
            "note": pa.array(cards.note, pa.string()),
        }
    )
    n = len(panel)
    lines = []
    for item in cards.metrics:
        nan = np.full(n, np.nan)
        shrunk = item.shrunk
        lines.append(
            pa.table(
                {
                    "partner_id": partner,
                    "period_start": starts,
                    "metric": pa.array(np.full(n, item.metric, dtype=object), pa.string()),
                    "indicator": pa.array(
                        np.full(n, "leading" if item.leading else "lagging", dtype=object),
                        pa.string(),
                    ),
                    "method": pa.array(np.full(n, item.method.value, dtype=object), pa.string()),
                    "value": floats(item.value),
                    "scored_value": floats(item.scored_value),
                    "cohort_rate": floats(nan if shrunk is None else shrunk.prior),
                    "prior_strength": floats(nan if shrunk is None else shrunk.strength),
                    "own_weight": floats(nan if shrunk is None else shrunk.own_weight),
                    "normalized": floats(item.normalized),
                    "weight": floats(np.full(n, cards.weight_of(item))),
                    "contribution": floats(cards.contribution(item)),
                }
            )
        )
    return scorecards, pa.concat_tables(lines)
