"""Tiers: each partner placed in each scorecard period by declared rules, with the reason, and
the tier in effect after hysteresis (upgrades at once, downgrades only after a run of periods).

Placement: levels are tried from the top (index 0 is the best); the first level whose every
``min`` (value ≥ bound) and every ``max`` (value ≤ bound) holds is the placement. A condition on
a missing value (NaN) is not met. The last level has no conditions and takes everyone left.
A condition on a value no row has (no quotas or surveys in the workspace) cannot be met by
anyone: the reasons say so, and so does :attr:`Placements.note`.

A row the scorecard left out (``fields["scored"]`` 0: the partner was inactive or not yet in
the program) takes the last level, with the reason why it was not scored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from partnerscope.evaluation.panel import BoolArray, FloatArray, IntArray, ObjectArray, Panel
from partnerscope.present import Words
from partnerscope.settings.evaluation import TierLevel, TierRules

if TYPE_CHECKING:
    import pyarrow as pa

#: States of one condition on one row, as stored in the state matrices.
_MET, _FAILED, _MISSING = 0, 1, 2

Bound = Literal["min", "max"]


@dataclass(frozen=True)
class _Condition:
    metric: str
    bound: Bound
    required: float

    def states(self, values: FloatArray) -> np.ndarray[Any, np.dtype[np.int8]]:
        missing = np.isnan(values)
        met = values >= self.required if self.bound == "min" else values <= self.required
        states = np.where(met, _MET, _FAILED).astype(np.int8)
        states[missing] = _MISSING
        return states


def _conditions(level: TierLevel) -> list[_Condition]:
    return [
        *(_Condition(m, "min", v) for m, v in level.min.items()),
        *(_Condition(m, "max", v) for m, v in level.max.items()),
    ]


def _column(fields: Mapping[str, FloatArray], name: str, level: str) -> FloatArray:
    if name not in fields:
        raise KeyError(
            f"tier {level!r} has a condition on {name!r} but no values were given for it; "
            f"add {name!r} to the fields (given: {', '.join(sorted(fields)) or 'none'})"
        )
    return np.asarray(fields[name], dtype=np.float64)


# ----------------------------------------------------------------------------------- placement


def place(
    rules: TierRules, fields: Mapping[str, FloatArray], words: Words | None = None
) -> tuple[IntArray, list[str]]:
    """The level index (0 = best) of every row and the reason for it, e.g. ``"Performance:
    Quota attainment 112.0% (at least 80.0%), CSAT 4.40 (at least 4.25); not Elite: Rank among
    all partners 71st percentile (needs at least 90th percentile)"``: the conditions of the
    placement (all met) and the unmet ones of the level just above, written by ``words``
    (labels and units of its catalog; plain names and numbers without one).

    ``fields`` maps every name the rules use to one float64 value per row (NaN = missing); the
    number of rows is the length of its arrays."""
    lengths = {len(values) for values in fields.values()}
    if len(lengths) > 1:
        raise ValueError(
            f"give fields with one value per row, all of the same length (got {sorted(lengths)})"
        )
    return _place(rules, fields, lengths.pop() if lengths else 0, words or Words())


def _place(
    rules: TierRules, fields: Mapping[str, FloatArray], n: int, words: Words
) -> tuple[IntArray, list[str]]:
    conditions = [_conditions(level) for level in rules.levels]
    values = [
        [_column(fields, c.metric, level.name) for c in conds]
        for level, conds in zip(rules.levels, conditions, strict=True)
    ]
    for conds, level_values in zip(conditions, values, strict=True):
        for c, column in zip(conds, level_values, strict=True):
            if len(column) != n:
                raise ValueError(
                    f"field {c.metric!r} has {len(column)} values for {n} rows; give one per row"
                )
    states = [
        np.stack([c.states(v) for c, v in zip(conds, vals, strict=True)], axis=1)
        if conds
        else np.zeros((n, 0), dtype=np.int8)
        for conds, vals in zip(conditions, values, strict=True)
    ]
    qualifies = np.stack([(s == _MET).all(axis=1) for s in states])
    # argmax finds the first True; the last level has no conditions, so there is always one
    placed: IntArray = np.argmax(qualifies, axis=0).astype(np.int64)
    return placed, _reasons(rules, conditions, values, states, placed, words)


def _reasons(
    rules: TierRules,
    conditions: list[list[_Condition]],
    values: list[list[FloatArray]],
    states: list[np.ndarray[Any, np.dtype[np.int8]]],
    placed: IntArray,
    words: Words,
) -> list[str]:
    # Rows with the same placement and the same unmet conditions above share one template, so
    # per row only the numbers are looked up and the pieces joined.
    n = len(placed)
    if n == 0:
        return []
    width = max(len(c) for c in conditions)
    pattern = np.zeros((n, width + 1), dtype=np.int64)
    pattern[:, 0] = placed
    for above, level_states in enumerate(states[:-1]):
        rows = placed == above + 1
        pattern[rows, 1 : 1 + level_states.shape[1]] = level_states[rows]
    # one integer per pattern (np.unique over the rows of a matrix is several times slower)
    key = placed.copy()
    for column in pattern[:, 1:].T:
        key = key * 3 + column
        if key.max(initial=0) > 2**60:
            key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
    inverse = np.unique(key, return_inverse=True)[1].reshape(-1)
    order = np.argsort(inverse, kind="stable")
    groups = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    numbers = _Numbers(words)
    reasons = np.empty(n, dtype=object)
    for rows in groups:
        pattern_of_group = pattern[rows[0]]
        level = int(pattern_of_group[0])
        met = list(zip(conditions[level], values[level], strict=True))
        unmet: list[tuple[_Condition, FloatArray, int]] = []
        if level > 0:
            upper = zip(
                conditions[level - 1], values[level - 1], pattern_of_group[1:], strict=False
            )
            unmet = [(c, v, int(state)) for c, v, state in upper if state != _MET]
        shown = [*met, *((c, v) for c, v, state in unmet if state == _FAILED)]
        texts = numbers(shown, rows)
        pieces: list[str | list[str]] = [rules.levels[level].name]
        for i, (c, _) in enumerate(met):
            bound = "at least" if c.bound == "min" else "at most"
            pieces += [", " if i else ": ", f"{words.metric(c.metric)} ", texts[c.metric]]
            pieces.append(f" ({bound} {numbers.bound(c)})")
        if level > 0:
            pieces.append(f"; not {rules.levels[level - 1].name}: ")
        for i, (c, v, state) in enumerate(unmet):
            pieces.append(", " if i else "")
            if state == _MISSING:
                known = "has no data in this workspace" if np.isnan(v).all() else "not known"
                pieces.append(f"{words.metric(c.metric)} {known}")
                continue
            bound = "needs at least" if c.bound == "min" else "needs at most"
            pieces += [f"{words.metric(c.metric)} ", texts[c.metric]]
            pieces.append(f" ({bound} {numbers.bound(c)})")
        reasons[rows] = _join(pieces, len(rows))
    out: list[str] = reasons.tolist()
    return out


def _join(pieces: Sequence[str | list[str]], n: int) -> list[str]:
    columns = [repeat(p, n) if isinstance(p, str) else p for p in pieces]
    return ["".join(parts) for parts in zip(*columns, strict=False)]


class _Numbers:
    """Values as the reasons show them, in their units (:class:`Words`); with more decimals
    where rounding would make a value read as the bound it is compared with, so that a reason
    never reads "80.0% (needs at least 80.0%)". A value reads the same throughout its
    reason."""

    def __init__(self, words: Words) -> None:
        self.words = words
        self._written: dict[str, ObjectArray] = {}
        self._bounds: dict[tuple[str, float], str] = {}

    def bound(self, condition: _Condition) -> str:
        key = (condition.metric, condition.required)
        if key not in self._bounds:
            required = condition.required
            self._bounds[key] = self.words.beside(condition.metric, required, required)[1]
        return self._bounds[key]

    def __call__(
        self, shown: Sequence[tuple[_Condition, FloatArray]], rows: IntArray
    ) -> dict[str, list[str]]:
        conditions: dict[str, list[_Condition]] = {}
        columns: dict[str, ObjectArray] = {}
        near: dict[str, BoolArray] = {}
        for condition, values in shown:
            metric = condition.metric
            if metric not in self._written:
                self._written[metric] = self.words.column(metric, values)
            column = columns.setdefault(metric, self._written[metric][rows])
            close = (column == self.bound(condition)) & (values[rows] != condition.required)
            near[metric] = near.get(metric, close) | close
            conditions.setdefault(metric, []).append(condition)
        texts: dict[str, list[str]] = {}
        for condition, values in shown:
            metric = condition.metric
            if metric in texts:
                continue
            column = columns[metric]
            for i in np.flatnonzero(near[metric]).tolist():
                value = float(values[rows[i]])
                column[i] = max(
                    (self.words.beside(metric, value, c.required)[0] for c in conditions[metric]),
                    key=len,
                )
            texts[metric] = column.tolist()
        return texts


# ---------------------------------------------------------------------------------- hysteresis


def hysteresis(
    panel: Panel, placed: IntArray, downgrade_after: int
) -> tuple[IntArray, IntArray, IntArray]:
    """The tier in effect, the pending (lower) placement and its run length, per panel row.

    - a row whose ``panel.previous[row] == -1`` (the partner's first period, or after a gap):
      effective = placed, pending = -1, pending_periods = 0;
    - otherwise let ``cur = effective[previous]``. If ``placed <= cur`` (same or better = an
      upgrade, takes effect at once): effective = placed, pending = -1, pending_periods = 0.
    - if ``placed > cur`` (worse): ``k = pending_periods[previous] + 1``; if
      ``k >= downgrade_after``: effective = placed (the latest placement), pending = -1,
      pending_periods = 0; else effective = cur, pending = placed, pending_periods = k.
    """
    n = len(panel)
    if len(placed) != n:
        raise ValueError(f"placed has {len(placed)} values for a panel of {n} rows")
    if downgrade_after < 1:
        raise ValueError(f"downgrade_after must be at least 1, got {downgrade_after}")
    placed = np.asarray(placed, dtype=np.int64)
    effective = placed.copy()
    pending = np.full(n, -1, dtype=np.int64)
    pending_periods = np.zeros(n, dtype=np.int64)
    # a row's previous row is in the period before it, so one pass in period order suffices
    order = np.argsort(panel.period, kind="stable")
    sizes = np.bincount(panel.period, minlength=len(panel.periods))
    for rows in np.split(order, np.cumsum(sizes)[:-1]):
        previous = panel.previous[rows]
        follows = previous >= 0
        rows, previous = rows[follows], previous[follows]
        current = effective[previous]
        run = pending_periods[previous] + 1
        hold = (placed[rows] > current) & (run < downgrade_after)
        held = rows[hold]
        effective[held] = current[hold]
        pending[held] = placed[held]
        pending_periods[held] = run[hold]
    return effective, pending, pending_periods


# -------------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class Placements:
    """One rule set's tiers for every panel row; levels are indices into ``level_names``."""

    ruleset: str
    level_names: list[str]
    placed: IntArray
    effective: IntArray
    #: the lower placement waiting for its run of periods, or -1
    pending: IntArray
    pending_periods: IntArray
    #: why the row is ``placed`` where it is (not the hysteresis)
    reasons: list[str]
    #: whether the row was placed by the rules (False: the scorecard left the partner out)
    scored: BoolArray | None = None
    #: the levels no partner can reach because a condition's value has no data, said in words
    note: str | None = None


def evaluate(
    panel: Panel,
    fields: Mapping[str, FloatArray],
    rules: TierRules,
    ruleset: str,
    words: Words | None = None,
) -> Placements:
    """Place every panel row by ``rules`` (reasons written by ``words``) and apply the
    hysteresis."""
    from partnerscope.evaluation.scorecard import NOT_SCORED

    words = words or Words()
    placed, reasons = _place(rules, fields, len(panel), words)
    scored = None
    if "scored" in fields:
        scored = np.asarray(fields["scored"]) != 0
        left_out = np.flatnonzero(~scored)
        placed[left_out] = len(rules.levels) - 1
        standing = panel.standings()
        for row in left_out.tolist():
            reasons[row] = NOT_SCORED.get(str(standing[row]), "Not scored")
    effective, pending, pending_periods = hysteresis(panel, placed, rules.downgrade_after)
    return Placements(
        ruleset=ruleset,
        level_names=[level.name for level in rules.levels],
        placed=placed,
        effective=effective,
        pending=pending,
        pending_periods=pending_periods,
        reasons=reasons,
        scored=scored,
        note=unreachable(rules, fields, words),
    )


def unreachable(rules: TierRules, fields: Mapping[str, FloatArray], words: Words) -> str | None:
    """``Elite and Performance need CSAT, which has no data in this workspace: no partner can
    reach them`` (None when every level can be reached)."""
    empty: dict[str, list[str]] = {}
    for level in rules.levels:
        for c in _conditions(level):
            values = fields.get(c.metric)
            if values is not None and np.isnan(np.asarray(values, dtype=np.float64)).all():
                names = empty.setdefault(c.metric, [])
                if level.name not in names:
                    names.append(level.name)
    if not empty or not len(next(iter(fields.values()), [])):
        return None
    blocked = [
        level.name for level in rules.levels if any(level.name in names for names in empty.values())
    ]
    metrics = [words.metric(m) for m in empty]
    return (
        f"{_and(blocked)} {'need' if len(blocked) > 1 else 'needs'} {_and(metrics)}, which "
        f"{'have' if len(metrics) > 1 else 'has'} no data in this workspace: no partner can "
        f"reach {'them' if len(blocked) > 1 else 'it'}"
    )


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def to_table(panel: Panel, placements: Placements) -> pa.Table:
    """One row per panel row. ``moved`` compares ``effective`` with the partner's previous row
    (across a gap too): "up", "down", or null when unchanged or on the partner's first row."""
    import pyarrow as pa

    n = len(panel)
    names: ObjectArray = np.array(placements.level_names, dtype=object)
    effective = placements.effective
    # the panel is sorted by partner then period, so the partner's previous row is the one before
    later = np.zeros(n, dtype=bool)
    later[1:] = panel.partner[1:] == panel.partner[:-1]
    before = np.roll(effective, 1)
    if placements.scored is not None:
        # a move from or to "not scored" is not a move between tiers
        was_scored = np.roll(placements.scored, 1)
        later &= placements.scored & was_scored
    moved = np.full(n, None, dtype=object)
    moved[later & (effective < before)] = "up"
    moved[later & (effective > before)] = "down"
    pending = np.full(n, None, dtype=object)
    waiting = placements.pending >= 0
    pending[waiting] = names[placements.pending[waiting]]
    starts = np.array(panel.periods, dtype="datetime64[D]")
    labels = np.array(panel.labels, dtype=object)
    return pa.table(
        {
            "partner_id": pa.array(panel.partner, pa.string()),
            "period_start": pa.array(starts[panel.period], pa.date32()),
            "period": pa.array(labels[panel.period], pa.string()),
            "ruleset": pa.array(np.full(n, placements.ruleset, dtype=object), pa.string()),
            "placed": pa.array(names[placements.placed], pa.string()),
            "effective": pa.array(names[effective], pa.string()),
            "pending": pa.array(pending, pa.string()),
            "pending_periods": pa.array(placements.pending_periods, pa.int64()),
            "moved": pa.array(moved, pa.string()),
            "reason": pa.array(placements.reasons, pa.string()),
            "scored": pa.array(
                np.ones(n, dtype=bool) if placements.scored is None else placements.scored,
                pa.bool_(),
            ),
        }
    )


# ------------------------------------------------------------------------------- next tier gaps


@dataclass(frozen=True)
class Gap:
    """An unmet condition of the next tier: ``metric`` must reach (min) or stay at or under
    (max) ``required``; ``current`` is the row's value, None when missing."""

    metric: str
    bound: Literal["min", "max"]
    required: float
    current: float | None


def next_tier_gaps(
    rules: TierRules, fields: Mapping[str, FloatArray], row: int, level: int
) -> tuple[str, list[Gap]] | None:
    """The level just above ``level`` and its conditions ``row`` does not meet (what would move
    the partner up a tier); None at the top level."""
    if not 0 <= level < len(rules.levels):
        raise IndexError(f"level {level} is not a tier of these rules (0–{len(rules.levels) - 1})")
    if level == 0:
        return None
    above = rules.levels[level - 1]
    gaps: list[Gap] = []
    for c in _conditions(above):
        value = float(_column(fields, c.metric, above.name)[row])
        if c.states(np.array([value]))[0] != _MET:
            gaps.append(Gap(c.metric, c.bound, c.required, None if np.isnan(value) else value))
    return above.name, gaps
