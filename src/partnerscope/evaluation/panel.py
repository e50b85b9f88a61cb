"""Partner × period at the scorecard grain, as numpy columns, and grouped statistics over it.

The evaluation reads a run's stored values (tens of thousands of partner-periods, never the raw
rows), so it is vectorized numpy over those; every function here is exact and order-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
ObjectArray = np.ndarray[Any, np.dtype[np.object_]]

COHORT_KEYS = ("partner_type", "region", "revenue_band", "program_tier")
#: Periods in a year per grain. Revenue trends are read on the trailing year's revenue: a
#: period's own revenue swings with single large deals and with the season.
PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


class Standing(StrEnum):
    """A partner's standing in a period: active, marked inactive in the partners file, or not
    yet started (it joined after the period ended). Only active partners are scored, ranked
    and compared by default (``[scorecard] score_inactive``)."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Panel:
    """One row per partner and period in which the partner was a member, sorted by partner
    then period. Metric values are float64 with NaN for a missing value (no evidence)."""

    grain: str
    partner: ObjectArray
    #: index into ``periods`` of each row
    period: IntArray
    periods: list[date]
    labels: list[str]
    names: dict[str, str]
    cohorts: dict[str, ObjectArray]
    values: Mapping[str, FloatArray]
    #: row of the same partner's previous period, or -1 (first period, or a gap)
    previous: IntArray = field(repr=False)
    #: each row's :class:`Standing` value (None: every row active)
    standing: ObjectArray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.partner)

    @property
    def latest(self) -> int:
        """Index of the last period."""
        return len(self.periods) - 1

    def standings(self) -> ObjectArray:
        """Each row's :class:`Standing` value."""
        if self.standing is None:
            return np.full(len(self), Standing.ACTIVE.value, dtype=object)
        return self.standing

    def rows_of(self, period: int) -> IntArray:
        rows: IntArray = np.flatnonzero(self.period == period)
        return rows

    def cohort(self, name: str) -> ObjectArray:
        """Cohort keys per row; the portfolio is one cohort."""
        if name == "portfolio":
            return np.full(len(self), "portfolio", dtype=object)
        return self.cohorts[name]

    def back(self, steps: int) -> IntArray:
        """Row of the same partner ``steps`` periods earlier (consecutive), or -1."""
        rows = np.arange(len(self))
        for _ in range(steps):
            rows = np.where(rows >= 0, self.previous[np.maximum(rows, 0)], -1)
        return rows


class Columns(Mapping[str, FloatArray]):
    """Metric values by name, each read (``read(name)``) when first asked for and kept: the
    month panel's flags read one metric of a hundred, and all of them at once are most of a
    gigabyte at scale. Once every one is read, the reader (and the results it holds) is let go."""

    def __init__(self, names: Sequence[str], read: Callable[[str], FloatArray]) -> None:
        self._names = list(dict.fromkeys(names))
        self._read: Callable[[str], FloatArray] | None = read
        self._kept: dict[str, FloatArray] = {}

    def __getitem__(self, name: str) -> FloatArray:
        if name not in self._kept:
            if self._read is None or name not in self._names:
                raise KeyError(name)
            self._kept[name] = self._read(name)
            if len(self._kept) == len(self._names):
                self._read = None
        return self._kept[name]

    def __contains__(self, name: object) -> bool:
        # without reading the column (Mapping's own would)
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class Rows:
    """Finds a partner's row in a period of a panel, by binary search on (partner, period)."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        new = np.ones(len(panel), dtype=bool)
        new[1:] = panel.partner[1:] != panel.partner[:-1]
        #: a dense number per partner, increasing down the panel (it is sorted by partner)
        self.code: IntArray = np.cumsum(new) - 1
        # sorted by partner then period, so this key increases down the panel
        self._key: IntArray = self.code * max(len(panel.periods), 1) + panel.period

    def find(self, code: IntArray, period: IntArray) -> IntArray:
        """Row of partner ``code`` in ``period`` (same shapes), or -1."""
        if len(self._key) == 0:
            return np.full(np.broadcast_shapes(np.shape(code), np.shape(period)), -1)
        target = code * max(len(self.panel.periods), 1) + period
        at = np.minimum(np.searchsorted(self._key, target), len(self._key) - 1)
        found: IntArray = np.where((period >= 0) & (self._key[at] == target), at, -1)
        return found

    def lookback(self, rows: IntArray, depth: int) -> IntArray:
        """For each of ``rows``, the row of the same partner 0, 1, …, ``depth`` periods earlier
        (columns), or -1 where the partner has no row in that period."""
        steps = np.arange(depth + 1)[None, :]
        return self.find(self.code[rows][:, None], self.panel.period[rows][:, None] - steps)


def trailing_sum(panel: Panel, values: FloatArray) -> FloatArray:
    """Sum over the year ending with each row's period (the periods the panel has of it; a
    period the partner was not a member brought nothing)."""
    back = Rows(panel).lookback(np.arange(len(panel)), PERIODS_PER_YEAR[panel.grain] - 1)
    taken = np.where(back >= 0, values[np.maximum(back, 0)], 0.0)
    total: FloatArray = np.nan_to_num(taken).sum(axis=1)
    return total


def previous_rows(partner: ObjectArray, period: IntArray) -> IntArray:
    """Row of the same partner's previous period for rows sorted by partner then period, or -1
    (its first period, or after a gap)."""
    same = np.zeros(len(partner), dtype=bool)
    same[1:] = (partner[1:] == partner[:-1]) & (period[1:] == period[:-1] + 1)
    previous: IntArray = np.where(same, np.arange(len(partner)) - 1, -1).astype(np.int64)
    return previous


def build_panel(results: pa.Table, memberships: pa.Table, grain: str) -> Panel:
    """The panel of one grain from a run's results (partner level) and memberships."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from partnerscope.metrics.evaluate import ROW_KEYS

    members = memberships.filter(pc.equal(memberships["grain"], grain))
    # only finished periods are judged: a quarter so far is not a quarter's performance
    mask = pc.and_(
        pc.and_(pc.equal(results["level"], "partner"), pc.equal(results["grain"], grain)),
        results["complete"],
    )
    metric_columns = [c for c in results.column_names if c not in ROW_KEYS]
    # the keys first, each metric's column later one at a time: the partners by month are most
    # of a run's results, and a copy of all their columns at once is a gigabyte at scale
    values = results.select([c for c in results.column_names if c in ROW_KEYS]).filter(mask)
    starts = sorted(set(pc.unique(values["period_start"]).to_pylist()))
    labels = values.group_by(["period_start", "label"]).aggregate([])
    label_of = dict(
        zip(labels["period_start"].to_pylist(), labels["label"].to_pylist(), strict=True)
    )
    members = members.filter(pc.is_in(members["period_start"], pa.array(starts, pa.date32())))
    # both are stored sorted by partner and period with a row per member: when their keys
    # line up, the columns are taken side by side; otherwise they are joined
    aligned = (
        members.num_rows == values.num_rows
        and members["partner_id"].equals(values["group_key"])
        and members["period_start"].equals(values["period_start"])
    )
    # each metric's values: the results' rows under the mask, or the joined table's column
    source, rows = results, mask
    if not aligned:
        values = results.filter(mask)
        values = values.select(["group_key", "period_start", *metric_columns]).rename_columns(
            ["partner_id", "period_start", *metric_columns]
        )
        joined = members.join(values, ["partner_id", "period_start"], join_type="inner")
        joined = joined.sort_by([("partner_id", "ascending"), ("period_start", "ascending")])
        members, source, rows = joined, joined, None
    period = np.asarray(
        pc.index_in(members["period_start"], value_set=pa.array(starts, pa.date32())),
        dtype=np.int64,
    )
    partner = np.asarray(members["partner_id"].to_numpy(zero_copy_only=False), dtype=object)
    # the row where each partner's periods begin (none without rows: a workspace without data)
    first = np.flatnonzero(np.concatenate(([True], partner[1:] != partner[:-1])))[: len(partner)]
    first_rows = members.take(pa.array(first, pa.int64()))
    names = dict(
        zip(first_rows["partner_id"].to_pylist(), first_rows["name"].to_pylist(), strict=True)
    )
    cohorts = {
        k: np.asarray(members[k].to_numpy(zero_copy_only=False), dtype=object) for k in COHORT_KEYS
    }

    def floats(name: str) -> FloatArray:
        column = source[name] if rows is None else pc.filter(source[name], rows)
        return np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )

    return Panel(
        grain=grain,
        partner=partner,
        period=period,
        periods=starts,
        labels=[label_of.get(s) or s.isoformat() for s in starts],
        names=names,
        cohorts=cohorts,
        values=Columns(metric_columns, floats),
        previous=previous_rows(partner, period),
        standing=standings(members, period, starts, grain),
    )


def standings(members: pa.Table, period: IntArray, starts: list[date], grain: str) -> ObjectArray:
    """Each membership row's :class:`Standing`, from the partner's ``status`` and ``joined_at``
    where the memberships carry them (a run stored without them: every row active)."""
    from partnerscope.metrics.calendar import add_months

    standing = np.full(members.num_rows, Standing.ACTIVE.value, dtype=object)
    if "joined_at" in members.column_names and starts:
        ends = np.array(
            [add_months(s, 12 // PERIODS_PER_YEAR[grain]) for s in starts], dtype="datetime64[D]"
        )
        joined = np.asarray(
            members["joined_at"].cast("date32").to_numpy(zero_copy_only=False),
            dtype="datetime64[D]",
        )
        # joined on or after the first day after the period: not yet a partner in it
        later = ~np.isnat(joined) & (joined >= ends[period])
        standing[later] = Standing.NOT_STARTED.value
    if "status" in members.column_names:
        status = np.asarray(members["status"].to_numpy(zero_copy_only=False), dtype=object)
        standing[status == Standing.INACTIVE.value] = Standing.INACTIVE.value
    return standing


# ------------------------------------------------------------------------------ grouped statistics


def group_ids(*keys: np.ndarray[Any, Any]) -> tuple[IntArray, int]:
    """A dense group number per row for the combination of keys (None is a key of its own)."""
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        if key.dtype == object:
            key = np.array(["\0" if k is None else str(k) for k in key], dtype=object)
        _, inverse = np.unique(key, return_inverse=True)
        combined = combined * (int(inverse.max(initial=0)) + 1) + inverse
    _, dense = np.unique(combined, return_inverse=True)
    return dense.astype(np.int64), int(dense.max(initial=-1)) + 1


def grouped_percentile(group: IntArray, values: FloatArray) -> FloatArray:
    """Mid-rank percentile of each value within its group, 0–1: (below + (equal − 1) / 2) /
    (n − 1) over the group's non-missing values; 0.5 alone in its group; NaN for NaN."""
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    g, v = group[ok], values[ok]
    order = np.lexsort((v, g))
    gs, vs = g[order], v[order]
    n_groups = int(g.max()) + 1
    size = np.bincount(g, minlength=n_groups)
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    # first and last position of each (group, value) run of ties
    new_run = np.ones(len(vs), dtype=bool)
    new_run[1:] = (gs[1:] != gs[:-1]) | (vs[1:] != vs[:-1])
    run_id = np.cumsum(new_run) - 1
    run_first = np.flatnonzero(new_run)
    run_len = np.bincount(run_id)
    below = run_first[run_id] - start[gs]
    equal = run_len[run_id]
    n = size[gs]
    ranked = np.where(n > 1, (below + (equal - 1) / 2) / np.maximum(n - 1, 1), 0.5)
    result = np.empty(len(vs))
    result[order] = ranked
    out[ok] = result
    return out


def grouped_median(group: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Median of each group's non-missing values (NaN for a group without any)."""
    out = np.full(n_groups, np.nan)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    g, v = group[ok], values[ok]
    order = np.lexsort((v, g))
    vs = v[order]
    size = np.bincount(g, minlength=n_groups)
    start = np.concatenate(([0], np.cumsum(size)[:-1]))
    has = size > 0
    lo = start + (size - 1) // 2
    hi = start + size // 2
    out[has] = (vs[lo[has]] + vs[hi[has]]) / 2
    return out


def grouped_sum(group: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Sum of each group's non-missing values (0 for none)."""
    ok = ~np.isnan(values)
    return np.bincount(group[ok], weights=values[ok], minlength=n_groups).astype(np.float64)


def grouped_count(group: IntArray, values: FloatArray, n_groups: int) -> IntArray:
    """Non-missing values per group."""
    ok = ~np.isnan(values)
    return np.bincount(group[ok], minlength=n_groups).astype(np.int64)


def grouped_extreme(
    group: IntArray, values: FloatArray, n_groups: int, *, high: bool
) -> FloatArray:
    """Maximum (``high``) or minimum of each group's non-missing values (NaN for none)."""
    out = np.full(n_groups, -np.inf if high else np.inf)
    ok = ~np.isnan(values)
    (np.maximum if high else np.minimum).at(out, group[ok], values[ok])
    out[np.isinf(out)] = np.nan
    return out
