"""How the decision depends on each key assumption: the tornado and the break-even thresholds.

Both reuse the uniforms of the simulation (common random numbers), so that a change in a score
comes from the assumption alone and not from new draws.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from partnerscope.scenarios.inputs import Distribution, Override, bounds
from partnerscope.scenarios.model import Model, Projection, value_at
from partnerscope.scenarios.spec import Criterion, Option

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

GRID_POINTS = 41
#: Bisection stops when the bracket is this narrow relative to the value.
TOLERANCE = 1e-6
_QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
Step = Callable[[str], None]


def statistic(values: Array, name: str) -> float:
    """p10, p50, p90 (linear interpolation between trials) or mean."""
    if name == "mean":
        return float(np.mean(values))
    # numpy's default (linear) quantile, without its overhead: the search calls this thousands
    # of times on arrays of 20,000
    position = _QUANTILES[name] * (len(values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    part = np.partition(values, (low, high))
    return float(part[low] + (part[high] - part[low]) * (position - low))


class Scorer:
    """score(option) = Σ weight · s, where s is an outcome's statistic divided by its absolute
    value for the baseline option at the calibrated base (``scale``, fixed once), or a judged
    score / 10."""

    def __init__(
        self, criteria: Sequence[Criterion], keys: Sequence[str], scale: Mapping[str, float]
    ) -> None:
        self.criteria = list(criteria)
        self.keys = list(keys)
        self.scale = dict(scale)
        #: the outcomes the criteria read
        self.outcomes = {c.outcome for c in self.criteria if c.outcome is not None}

    @classmethod
    def calibrated(
        cls, criteria: Sequence[Criterion], keys: Sequence[str], baseline: Projection
    ) -> Scorer:
        scale = {}
        for c in criteria:
            if c.outcome is not None:
                raw = abs(statistic(baseline.totals[c.outcome], c.statistic))
                scale[c.name] = raw if raw > 0 else 1.0
        return cls(criteria, keys, scale)

    def parts(self, key: str, projection: Projection) -> dict[str, float]:
        """Each criterion's s for one option."""
        out = {}
        for c in self.criteria:
            if c.outcome is None:
                out[c.name] = c.scores[key] / 10
            else:
                out[c.name] = (
                    statistic(projection.totals[c.outcome], c.statistic) / self.scale[c.name]
                )
        return out

    def scores(self, projections: Sequence[Projection]) -> list[float]:
        weights = {c.name: c.weight for c in self.criteria}
        return [
            math.fsum(weights[n] * s for n, s in self.parts(key, p).items())
            for key, p in zip(self.keys, projections, strict=True)
        ]


def resolve(base: Mapping[str, Distribution], option: Option) -> dict[str, Distribution]:
    """The option's distributions: the base with its overrides (a scale follows the base)."""
    out = dict(base)
    for name, override in option.overrides.items():
        out[name] = override.resolve(base[name]) if isinstance(override, Override) else override
    return out


def best(scores: Sequence[float]) -> int:
    """The index of the highest score; the first on a tie."""
    return int(np.argmax(scores))


@dataclass(frozen=True)
class TornadoBar:
    """The recommended option's score with one assumption held at its P10 and at its P90."""

    name: str
    low_value: float
    high_value: float
    score_low: float
    score_high: float
    margin_low: float
    margin_high: float
    #: the option with the highest score at each end
    best_low: str
    best_high: str

    @property
    def swing(self) -> float:
        return abs(self.score_high - self.score_low)


def tornado(
    model: Model,
    scorer: Scorer,
    base: Mapping[str, Distribution],
    options: Sequence[Option],
    names: Sequence[str],
    recommended: int,
    step: Step | None = None,
) -> list[TornadoBar]:
    """One bar per name, largest swing first. Each end holds the input at that quantile of the
    distribution each option gives it; every other input is drawn as usual."""
    dists = [resolve(base, o) for o in options]
    bars = []
    for name in names:
        ends = []
        for q in (0.1, 0.9):
            projections = model.evaluate(
                dists, fixed={name: q}, outcomes=scorer.outcomes | {"margin"}
            )
            scores = scorer.scores(projections)
            margin = statistic(projections[recommended].totals["margin"], "p50")
            ends.append((scores[recommended], margin, options[best(scores)].key))
            if step is not None:
                step(f"tornado: {name}")
        bars.append(
            TornadoBar(
                name,
                value_at(base[name], name, 0.1),
                value_at(base[name], name, 0.9),
                ends[0][0],
                ends[1][0],
                ends[0][1],
                ends[1][1],
                ends[0][2],
                ends[1][2],
            )
        )
    return sorted(bars, key=lambda b: (-b.swing, b.name))


@dataclass(frozen=True)
class Threshold:
    """Where the recommendation changes, and the option preferable beyond it."""

    value: float
    option: str


@dataclass(frozen=True)
class BreakEven:
    name: str
    #: the base distribution's center
    center: float
    #: the range searched
    low: float
    high: float
    #: the nearest threshold below and above the center; None: none in the range
    below: Threshold | None
    above: Threshold | None


def search_range(name: str, center: float) -> tuple[float, float]:
    """Shares and scores over their whole range; anything else from 0 to three times the
    center (0..1 when the center is 0)."""
    low, high = bounds(name)
    if math.isfinite(high):
        return low, high
    return 0.0, 3.0 * abs(center) if center != 0 else 1.0


class BreakEvenSearch:
    """The recommended option's score minus the best other's, as one assumption's base value
    moves (options that override it keep their override; a scale follows the base)."""

    def __init__(
        self,
        model: Model,
        scorer: Scorer,
        base: Mapping[str, Distribution],
        options: Sequence[Option],
        recommended: int,
    ) -> None:
        self.model = model
        self.scorer = scorer
        self.base = dict(base)
        self.options = list(options)
        self.recommended = recommended

    def scores_at(self, name: str, value: float) -> list[float]:
        """Every option's score with ``name``'s base distribution centered on ``value``."""
        shifted = {**self.base, name: self.base[name].shifted(value)}
        dists = [resolve(shifted, o) for o in self.options]
        return self.scorer.scores(self.model.evaluate(dists, outcomes=self.scorer.outcomes))

    def gap(self, name: str, value: float) -> tuple[float, int]:
        """(score of the recommended − the best other's, index of the best option)."""
        scores = self.scores_at(name, value)
        others = max(s for i, s in enumerate(scores) if i != self.recommended)
        return scores[self.recommended] - others, best(scores)

    def run(self, name: str, step: Step | None = None) -> BreakEven:
        center = self.base[name].center()
        low, high = search_range(name, center)
        grid = np.linspace(low, high, GRID_POINTS).tolist()
        values = [self.gap(name, v) for v in grid]
        signs = [np.sign(g) for g, _ in values]
        # pairs of neighbouring grid points (zeros skipped) where the sign changes
        nonzero = [i for i, s in enumerate(signs) if s != 0]
        brackets = [(i, j) for i, j in itertools.pairwise(nonzero) if signs[i] != signs[j]]
        done: dict[tuple[int, int], Threshold] = {}

        def crossing(i: int, j: int) -> Threshold:
            if (i, j) not in done:
                done[i, j] = self._bisect(name, grid[i], values[i], grid[j], values[j], center)
            return done[i, j]

        # a bracket around the center is in both lists: its crossing may lie on either side
        below = sorted((b for b in brackets if grid[b[0]] < center), key=lambda b: -grid[b[0]])
        above = sorted((b for b in brackets if grid[b[1]] > center), key=lambda b: grid[b[1]])
        nearest_below = next((c for b in below if (c := crossing(*b)).value <= center), None)
        nearest_above = next((c for b in above if (c := crossing(*b)).value > center), None)
        if step is not None:
            step(f"break-even: {name}")
        return BreakEven(name, center, low, high, nearest_below, nearest_above)

    def _bisect(
        self,
        name: str,
        a: float,
        at_a: tuple[float, int],
        b: float,
        at_b: tuple[float, int],
        center: float,
    ) -> Threshold:
        sign_a = np.sign(at_a[0])
        # 1e-6 relative; near 0, where relative means nothing, 1e-12 absolute
        while b - a > max(TOLERANCE * max(abs(a), abs(b)), 1e-12):
            mid = (a + b) / 2
            if mid in (a, b):
                break
            at_mid = self.gap(name, mid)
            if at_mid[0] == 0:
                a, b, at_a, at_b = mid, mid, at_mid, at_mid
                break
            if np.sign(at_mid[0]) == sign_a:
                a, at_a = mid, at_mid
            else:
                b, at_b = mid, at_mid
        value = (a + b) / 2
        # the option preferable beyond the threshold: the best one on the far side from the center
        beyond = at_a if value <= center else at_b
        return Threshold(value, self.options[beyond[1]].key)
