"""Review flags for the latest period: exit review, improvement plan and high potential.

Each criterion of the framework is data in :class:`FlagSettings`. A flag is judged on the
panel's latest period with the history before it, and carries the values behind it and a
one-line reason a partner manager can read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from partnerscope.evaluation.panel import (
    PERIODS_PER_YEAR,
    BoolArray,
    FloatArray,
    IntArray,
    ObjectArray,
    Panel,
    Rows,
    group_ids,
    grouped_count,
    trailing_sum,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from partnerscope.present import Words
    from partnerscope.settings.evaluation import (
        ExitCriteria,
        FlagSettings,
        HighPotential,
        ImprovementCriteria,
    )

#: Most values listed in one line of evidence; a longer run shows its latest ones.
MAX_LISTED = 12


class Flag(StrEnum):
    EXIT = "exit"
    IMPROVEMENT = "improvement"
    HIGH_POTENTIAL = "high_potential"


@dataclass(frozen=True)
class _Found:
    row: int
    flag: Flag
    criterion: str
    evidence: str
    values: dict[str, Any]


def evaluate_flags(
    panel: Panel,
    fields: Mapping[str, FloatArray],
    monthly: Panel,
    cohort: ObjectArray,
    settings: FlagSettings,
    words: Words,
) -> pa.Table:
    """Flags of the partners in the panel's latest period, one row per criterion met, each
    with its evidence in words (``words``: the workspace's labels, units and currency).

    ``fields`` holds one value per panel row for every metric plus ``score`` and
    ``cohort_percentile``; ``monthly`` is the same partners at grain month (for month-counted
    criteria); ``cohort`` is each row's peer-cohort key.
    """
    rows = Rows(panel)
    latest = panel.rows_of(panel.latest)
    found = [
        *_below_quota(rows, fields, monthly, latest, settings.exit, words),
        *_repeated_csat(rows, fields, latest, settings.exit, words),
        *_compliance(panel, fields, latest, settings.exit, words),
        *_bottom_of_cohort(fields, cohort, latest, settings.improvement, words),
        *_declining_score(rows, fields, latest, settings.improvement, words),
        *_declining_revenue(rows, fields, latest, settings.improvement, words),
        *_rising_score(rows, fields, latest, settings.high_potential, words),
        *_rising_revenue(rows, fields, latest, settings.high_potential, words),
    ]
    # criteria come in flag order; a stable sort on the row keeps it within each partner
    found.sort(key=lambda f: f.row)
    return _table(panel, found)


# ------------------------------------------------------------------------------------------ exit


def _below_quota(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    monthly: Panel,
    latest: IntArray,
    criteria: ExitCriteria,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    # the run counts back from the last month of the period judged: a run as of a day inside
    # a quarter has finished months of the next quarter, which that quarter judges when it ends
    last = _last_month(panel, monthly)
    if last < 0:
        return []
    months = monthly.rows_of(last)
    row_of = dict(zip(panel.partner[latest].tolist(), latest.tolist(), strict=True))
    target = np.array([row_of.get(p, -1) for p in monthly.partner[months]], dtype=np.int64)
    code = np.where(target >= 0, rows.code[np.maximum(target, 0)], -1)[:, None]
    # Quotas are often set per quarter, which leaves months without an attainment of their
    # own: such a month counts with the attainment of the scorecard period it falls in.
    period_of = _covering(panel, monthly)

    def attainment(back: IntArray) -> tuple[FloatArray, BoolArray]:
        own = _take(monthly.values["quota_attainment"], back)
        period = np.where((back >= 0) & (code >= 0), period_of[monthly.period[back]], -1)
        borrowed = np.isnan(own) & (period >= 0)
        value = np.where(borrowed, _take(fields["quota_attainment"], rows.find(code, period)), own)
        return value, borrowed

    walk = Rows(monthly)
    window, _ = attainment(walk.lookback(months, criteria.below_quota_months - 1))
    # NaN compares False: a month without attainment breaks the run
    hit = (window < criteria.below_quota).all(axis=1) & (target >= 0)
    months, target, code = months[hit], target[hit], code[hit]
    # the whole run, for the evidence: how long it has lasted is what a manager asks first
    history, borrowed = attainment(walk.lookback(months, last))
    below = history < criteria.below_quota
    run = np.where(below.all(axis=1), below.shape[1], np.argmin(below, axis=1))
    found = []
    for i in range(len(months)):
        # a borrowed value is listed once, under its period's label
        listed: dict[str, float] = {}
        for k in range(int(run[i]) - 1, -1, -1):
            j = last - k
            label = panel.labels[period_of[j]] if borrowed[i, k] else monthly.labels[j]
            listed[label] = float(history[i, k])
        items = list(listed.items())
        more = "…, " if len(items) > MAX_LISTED else ""
        found.append(
            _Found(
                int(target[i]),
                Flag.EXIT,
                "below_quota",
                f"{words.metric('quota_attainment')} below "
                f"{words.share(criteria.below_quota, digits=0)} for {run[i]} months in a row: "
                f"{more}{_pairs(words, 'quota_attainment', items[-MAX_LISTED:])}",
                {
                    "below": criteria.below_quota,
                    "months_needed": criteria.below_quota_months,
                    "months_below": int(run[i]),
                    "quota_attainment": dict(items),
                },
            )
        )
    return found


def _last_month(panel: Panel, monthly: Panel) -> int:
    """Index in ``monthly`` of the last month of the panel's latest period, or -1."""
    if not panel.periods or not monthly.periods:
        return -1
    start = np.datetime64(panel.periods[panel.latest], "M")
    last = start + np.timedelta64(12 // PERIODS_PER_YEAR[panel.grain] - 1, "M")
    months = np.array(monthly.periods, dtype="datetime64[M]")
    at = np.flatnonzero(months == last)
    return int(at[0]) if len(at) else -1


def _covering(panel: Panel, monthly: Panel) -> IntArray:
    """Index of the scorecard period each month of ``monthly`` falls in, or -1."""
    if not panel.periods:
        return np.full(len(monthly.periods), -1, dtype=np.int64)
    starts = np.array(panel.periods, dtype="datetime64[M]")
    months = np.array(monthly.periods, dtype="datetime64[M]")
    index = np.searchsorted(starts, months, side="right") - 1
    last_end = starts[-1] + np.timedelta64(12 // PERIODS_PER_YEAR[panel.grain], "M")
    ends = np.append(starts[1:], last_end)
    inside = (index >= 0) & (months < ends[np.maximum(index, 0)])
    covering: IntArray = np.where(inside, index, -1)
    return covering


def _repeated_csat(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: ExitCriteria,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    window = _take(fields["csat"], rows.lookback(latest, criteria.csat_window - 1))
    below = (window < criteria.csat_below).sum(axis=1)
    found = []
    for i in np.flatnonzero(below >= criteria.csat_periods).tolist():
        items = _oldest_first(panel, window[i])
        found.append(
            _Found(
                int(latest[i]),
                Flag.EXIT,
                "csat",
                f"{words.metric('csat')} below {words.of_metric('csat', criteria.csat_below)} in "
                f"{below[i]} of the last {criteria.csat_window} {_plural(panel)}: "
                f"{_pairs(words, 'csat', items)}",
                {
                    "below": criteria.csat_below,
                    "periods_below": int(below[i]),
                    "periods_needed": criteria.csat_periods,
                    "csat": dict(items),
                },
            )
        )
    return found


def _compliance(
    panel: Panel,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: ExitCriteria,
    words: Words,
) -> list[_Found]:
    score = fields["compliance_score"][latest]
    found = []
    for i in np.flatnonzero(score < criteria.compliance_below).tolist():
        found.append(
            _Found(
                int(latest[i]),
                Flag.EXIT,
                "compliance",
                f"{words.metric('compliance_score')} is "
                f"{words.of_metric('compliance_score', score[i])}, below "
                f"{words.of_metric('compliance_score', criteria.compliance_below)} in "
                f"{panel.labels[panel.latest]}",
                {"below": criteria.compliance_below, "compliance_score": float(score[i])},
            )
        )
    return found


# ----------------------------------------------------------------------------------- improvement


def _bottom_of_cohort(
    fields: Mapping[str, FloatArray],
    cohort: ObjectArray,
    latest: IntArray,
    criteria: ImprovementCriteria,
    words: Words,
) -> list[_Found]:
    score = fields["score"][latest]
    percentile = fields["cohort_percentile"][latest]
    group, n_groups = group_ids(cohort[latest])
    scored = grouped_count(group, score, n_groups)[group]
    hit = (percentile <= criteria.bottom_share) & (scored >= criteria.min_cohort)
    found = []
    for i in np.flatnonzero(hit).tolist():
        label = words.cohort(cohort[latest[i]])
        found.append(
            _Found(
                int(latest[i]),
                Flag.IMPROVEMENT,
                "bottom_of_cohort",
                f"Score {words.number(score[i], digits=1)} is in the bottom "
                f"{words.share(criteria.bottom_share, digits=0)} of its peer group ({label}): "
                f"at the {words.percentile(percentile[i])} of its {scored[i]} scored partners",
                {
                    "score": float(score[i]),
                    "cohort_percentile": float(percentile[i]),
                    "bottom_share": criteria.bottom_share,
                    "cohort": label,
                    "cohort_scored": int(scored[i]),
                },
            )
        )
    return found


def _declining_score(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: ImprovementCriteria,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    periods = criteria.declining_periods
    window = _take(fields["score"], rows.lookback(latest, periods))
    drop = window[:, -1] - window[:, 0]
    hit = _falling(window) & (drop >= criteria.declining_points)
    found = []
    for i in np.flatnonzero(hit).tolist():
        items = _oldest_first(panel, window[i])
        found.append(
            _Found(
                int(latest[i]),
                Flag.IMPROVEMENT,
                "declining",
                f"Score fell in each of the last {periods} {_plural(panel)}, by "
                f"{words.number(drop[i], digits=1)} points in total: "
                f"{_pairs(words, 'score', items)}",
                {
                    "points": _clean(drop[i]),
                    "points_needed": criteria.declining_points,
                    "score": dict(items),
                },
            )
        )
    return found


def _declining_revenue(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: ImprovementCriteria,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    periods = criteria.declining_periods
    window = _trailing_year(rows, fields["won_revenue"], latest, periods)
    start = window[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (start - window[:, 0]) / start
    hit = _falling(window) & (start > 0) & (share >= criteria.declining_share)
    found = []
    for i in np.flatnonzero(hit).tolist():
        items = _oldest_first(panel, window[i])
        found.append(
            _Found(
                int(latest[i]),
                Flag.IMPROVEMENT,
                "declining_revenue",
                f"{_trailing_revenue(words, panel)} fell in each of the last {periods} "
                f"{_plural(panel)}, by {words.share(share[i], digits=0)} in total: "
                f"{_pairs(words, 'won_revenue', items)}",
                {
                    "share": _clean(share[i]),
                    "share_needed": criteria.declining_share,
                    "trailing_periods": PERIODS_PER_YEAR[panel.grain],
                    "won_revenue_trailing": dict(items),
                },
            )
        )
    return found


# -------------------------------------------------------------------------------- high potential


def _rising_score(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: HighPotential,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    back = rows.lookback(latest, criteria.periods + criteria.base_periods - 1)
    score = _take(fields["score"], back[:, : criteria.periods + 1])
    before = _take(fields["cohort_percentile"], back)
    percentile = before[:, : criteria.periods + 1]
    # the start is the row ``periods`` back, or the earliest scored one of a newer partner
    usable = ~np.isnan(score[:, 1:]) & ~np.isnan(percentile[:, 1:])
    steps = criteria.periods - np.argmax(usable[:, ::-1], axis=1)
    each = np.arange(len(latest))
    start, base = score[each, steps], percentile[each, steps]
    # the base held low from ``base_periods`` before the start to it (periods without a
    # score say nothing): one empty quarter of a top partner is no low base
    held = np.take_along_axis(
        before, steps[:, None] + np.arange(criteria.base_periods)[None, :], axis=1
    )
    highest = np.where(np.isnan(held), -np.inf, held).max(axis=1)
    rise = score[:, 0] - start
    hit = (
        usable.any(axis=1)
        & (rise >= criteria.points)
        & (base <= criteria.base_at_most)
        & (highest <= criteria.base_at_most)
    )
    found = []
    for i in np.flatnonzero(hit).tolist():
        since = panel.labels[panel.latest - int(steps[i])]
        found.append(
            _Found(
                int(latest[i]),
                Flag.HIGH_POTENTIAL,
                "rising",
                f"Score rose {words.number(rise[i], digits=1)} points in {steps[i]} "
                f"{_plural(panel, int(steps[i]))}, from {words.number(start[i], digits=1)} in "
                f"{since} (at the {words.percentile(base[i])} of its peer group then) to "
                f"{words.number(score[i, 0], digits=1)}",
                {
                    "points": _clean(rise[i]),
                    "points_needed": criteria.points,
                    "start_period": since,
                    "start_score": float(start[i]),
                    "start_cohort_percentile": float(base[i]),
                    "base_at_most": criteria.base_at_most,
                    "score": float(score[i, 0]),
                },
            )
        )
    return found


def _rising_revenue(
    rows: Rows,
    fields: Mapping[str, FloatArray],
    latest: IntArray,
    criteria: HighPotential,
    words: Words,
) -> list[_Found]:
    panel = rows.panel
    window = _trailing_year(rows, fields["won_revenue"], latest, criteria.periods)
    # like the score's, the start is ``periods`` back or, for a newer partner, its first period
    present = ~np.isnan(window)
    steps = np.where(present.all(axis=1), criteria.periods, np.argmin(present, axis=1) - 1)
    each = np.arange(len(latest))
    start = window[each, np.maximum(steps, 0)]
    later = np.arange(criteria.periods)[None, :] >= steps[:, None]
    rose = np.all((window[:, :-1] > window[:, 1:]) | later, axis=1) & (steps >= 1)
    # rising from nothing (a new partner's first deals) is growth without a ratio
    hit = rose & (window[:, 0] >= (1 + criteria.revenue_growth) * start)
    found = []
    for i in np.flatnonzero(hit).tolist():
        items = _oldest_first(panel, window[i, : steps[i] + 1])
        growth = window[i, 0] / start[i] - 1 if start[i] > 0 else np.nan
        by = f"by {words.share(growth, digits=0)}" if start[i] > 0 else "from nothing"
        found.append(
            _Found(
                int(latest[i]),
                Flag.HIGH_POTENTIAL,
                "rising_revenue",
                f"{_trailing_revenue(words, panel)} rose in each of the last {steps[i]} "
                f"{_plural(panel, int(steps[i]))}, {by}: {_pairs(words, 'won_revenue', items)}",
                {
                    "growth": _clean(growth),
                    "growth_needed": criteria.revenue_growth,
                    "trailing_periods": PERIODS_PER_YEAR[panel.grain],
                    "won_revenue_trailing": dict(items),
                },
            )
        )
    return found


# --------------------------------------------------------------------------------------- helpers


def _falling(window: FloatArray) -> BoolArray:
    """Whether each value of a lookback window (latest first) is below the one before it; a
    missing value or period breaks the fall."""
    fell: BoolArray = np.all(window[:, :-1] < window[:, 1:], axis=1)
    return fell


def _trailing_year(rows: Rows, values: FloatArray, latest: IntArray, periods: int) -> FloatArray:
    """Sums of ``values`` over the trailing year ending 0, 1, …, ``periods`` periods back from
    each latest row (columns); NaN where the partner had no row in the ending period."""
    return _take(trailing_sum(rows.panel, values), rows.lookback(latest, periods))


def _trailing_revenue(words: Words, panel: Panel) -> str:
    span = PERIODS_PER_YEAR[panel.grain]
    label = words.metric("won_revenue")
    return label if span == 1 else f"{label} over the trailing {span} {panel.grain}s"


def _take(values: FloatArray, rows: IntArray) -> FloatArray:
    taken: FloatArray = np.where(rows >= 0, values[np.maximum(rows, 0)], np.nan)
    return taken


def _oldest_first(panel: Panel, window: FloatArray) -> list[tuple[str, float]]:
    """(label, value) of one lookback window (latest first) in reading order."""
    return [
        (panel.labels[panel.latest - k], float(window[k])) for k in reversed(range(len(window)))
    ]


def _pairs(words: Words, metric: str, items: list[tuple[str, float]]) -> str:
    """``FY2026-Q1 $248,486, FY2026-Q2 $178,316``: each period's value in the metric's unit
    (the score, which the catalog does not hold, to one decimal)."""

    def written(value: float) -> str:
        if metric == "score":
            return words.number(value, digits=1)
        return words.of_metric(metric, value)

    return ", ".join(f"{label} {written(value)}" for label, value in items)


def _plural(panel: Panel, count: int = 2) -> str:
    return panel.grain if count == 1 else f"{panel.grain}s"


def _clean(value: float) -> float:
    """A computed number without float noise (14.200000000000003 → 14.2)."""
    return float(f"{value:.12g}")


def to_json(values: dict[str, Any]) -> str:
    """JSON of the supporting numbers (plain Python values); a missing value (NaN) is null."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, float) and math.isnan(value):
            return None
        return value

    return json.dumps(plain(values), ensure_ascii=False, allow_nan=False)


def _table(panel: Panel, found: list[_Found]) -> pa.Table:
    import pyarrow as pa

    start = panel.periods[panel.latest] if panel.periods else None
    label = panel.labels[panel.latest] if panel.labels else None
    columns = {
        "partner_id": ([str(panel.partner[f.row]) for f in found], pa.string()),
        "period_start": ([start] * len(found), pa.date32()),
        "period": ([label] * len(found), pa.string()),
        "flag": ([f.flag.value for f in found], pa.string()),
        "criterion": ([f.criterion for f in found], pa.string()),
        "evidence": ([f.evidence for f in found], pa.string()),
        "values": ([to_json(f.values) for f in found], pa.string()),
    }
    return pa.table(
        [pa.array(data, kind) for data, kind in columns.values()],
        schema=pa.schema([(name, kind) for name, (_, kind) in columns.items()]),
    )
