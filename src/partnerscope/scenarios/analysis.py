"""Simulate a scenario spec: every option's outcomes and bands, the scores, the recommendation,
the tornado and the break-even thresholds. docs/scenarios.md explains each for the user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from partnerscope.scenarios.calibration import calibrate, calibrate_run
from partnerscope.scenarios.inputs import TIERED, Distribution, Inputs, name_problem, tier_of
from partnerscope.scenarios.model import OUTCOMES, Model, bands, uniforms, value_at
from partnerscope.scenarios.sensitivity import (
    BreakEven,
    BreakEvenSearch,
    Scorer,
    TornadoBar,
    best,
    resolve,
    statistic,
    tornado,
)
from partnerscope.scenarios.spec import ScenarioSpec, ScenarioSpecError

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

__all__ = ["ScenarioResult", "calibrate", "calibrate_run", "simulate"]

#: The break-even search runs on at most this many trials (the first ones of the simulation).
SEARCH_TRIALS = 20_000
STATISTICS = ("p10", "p50", "p90", "mean")
#: Best, base and worst case: these quantiles of each outcome.
CASES = {"best": "p90", "base": "p50", "worst": "p10"}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class OptionResult:
    key: str
    label: str
    description: str
    #: the option's overrides as distributions (a scale resolved against the base)
    overrides: dict[str, Distribution]
    #: per trial: revenue and margin over the horizon, coverage, control and partners at its end
    totals: dict[str, Array]
    #: per outcome, (3, months): the P10, P50 and P90 of each month
    bands: dict[str, Array]
    #: each criterion's part of the score before its weight
    criteria: dict[str, float]
    score: float

    def stats(self, outcome: str) -> dict[str, float]:
        return {s: statistic(self.totals[outcome], s) for s in STATISTICS}


@dataclass(frozen=True)
class ScenarioResult:
    spec: ScenarioSpec
    #: the calibrated inputs with the spec's inputs laid over them
    base: Inputs
    options: list[OptionResult]
    recommended: str
    tornado: list[TornadoBar]
    break_even: list[BreakEven]
    #: trials of the break-even search
    search_trials: int
    #: what each outcome criterion is divided by (its baseline value at the calibrated base)
    scale: dict[str, float]
    notes: list[str]

    def option(self, key: str) -> OptionResult:
        return next(o for o in self.options if o.key == key)

    def summary(self) -> dict[str, Any]:
        """Everything but the per-trial values, as JSON-able data."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "search_trials": self.search_trials,
            "base_inputs": {
                name: {
                    "distribution": item.distribution.model_dump(mode="json"),
                    "center": item.distribution.center(),
                    "p10": value_at(item.distribution, name, 0.1),
                    "p90": value_at(item.distribution, name, 0.9),
                    "unit": item.unit,
                    "source": item.source,
                    "note": item.note,
                }
                for name, item in self.base.items()
            },
            "options": [_option_summary(o) for o in self.options],
            "scale": self.scale,
            "recommended": self.recommended,
            "tornado": [
                {
                    "input": b.name,
                    "low_value": b.low_value,
                    "high_value": b.high_value,
                    "score_low": b.score_low,
                    "score_high": b.score_high,
                    "swing": b.swing,
                    "margin_p50_low": b.margin_low,
                    "margin_p50_high": b.margin_high,
                    "best_low": b.best_low,
                    "best_high": b.best_high,
                }
                for b in self.tornado
            ],
            "break_even": [
                {
                    "input": b.name,
                    "center": b.center,
                    "range": [b.low, b.high],
                    "below": None
                    if b.below is None
                    else {"value": b.below.value, "option": b.below.option},
                    "above": None
                    if b.above is None
                    else {"value": b.above.value, "option": b.above.option},
                }
                for b in self.break_even
            ],
            "notes": self.notes,
        }


def _option_summary(o: OptionResult) -> dict[str, Any]:
    stats = {outcome: o.stats(outcome) for outcome in OUTCOMES}
    return {
        "key": o.key,
        "label": o.label,
        "description": o.description,
        "overrides": {n: d.model_dump(mode="json") for n, d in o.overrides.items()},
        "score": o.score,
        "criteria": o.criteria,
        "outcomes": stats,
        "cases": {case: {k: v[q] for k, v in stats.items()} for case, q in CASES.items()},
        "bands": {
            outcome: dict(zip(("p10", "p50", "p90"), band.tolist(), strict=True))
            for outcome, band in o.bands.items()
        },
    }


def with_spec_inputs(spec: ScenarioSpec, base: Inputs) -> Inputs:
    """The calibrated inputs with the spec's inputs laid over them, every name checked against
    the run's program tiers (a new tier needs both of its inputs in the spec)."""
    new_tiers = {
        tier
        for name in spec.inputs
        if (tier := tier_of(name)) is not None
        and all(f"{head}.{tier}" in spec.inputs for head in TIERED)
    }
    tiers = sorted(set(base.tiers) | new_tiers)
    problems = [
        f"inputs.{name}: {problem} (a new tier needs both "
        f"{' and '.join(f'{head}.{tier_of(name)}' for head in TIERED)})"
        if tier_of(name) is not None
        else f"inputs.{name}: {problem}"
        for name in spec.inputs
        if (problem := name_problem(name, tiers)) is not None
    ]
    for i, option in enumerate(spec.options):
        problems += [
            f"options[{i}].overrides.{name}: {problem}"
            for name in option.overrides
            if (problem := name_problem(name, tiers)) is not None
        ]
    problems += [
        f"key_assumptions[{i}]: {problem}"
        for i, name in enumerate(spec.key_assumptions or [])
        if (problem := name_problem(name, tiers)) is not None
    ]
    if problems:
        raise ScenarioSpecError("scenario spec", problems)
    if not spec.inputs:
        return base
    return base.replaced(spec.inputs, "set in the scenario spec")


def simulate(spec: ScenarioSpec, base: Inputs, progress: Progress | None = None) -> ScenarioResult:
    """Run the spec's options on ``base`` (usually :func:`calibrate_run`'s inputs)."""
    inputs = with_spec_inputs(spec, base)
    dists = inputs.distributions()
    keys = [o.key for o in spec.options]
    mdf_base = dists["mdf_spend"].center()
    u = uniforms(dists, spec.trials, spec.seed)
    model = Model(u, inputs.tiers, spec.horizon_months, mdf_base)
    option_dists = [resolve(dists, o) for o in spec.options]
    projections = model.evaluate(option_dists, monthly=True)
    scorer = Scorer.calibrated(spec.criteria, keys, projections[keys.index(spec.baseline_key)])
    scores = scorer.scores(projections)
    recommended = best(scores)
    options = []
    for option, projection, score in zip(spec.options, projections, scores, strict=True):
        monthly = projection.monthly or {}
        options.append(
            OptionResult(
                option.key,
                option.label,
                option.description,
                {n: d for n, d in resolve(dists, option).items() if n in option.overrides},
                projection.totals,
                {outcome: bands(monthly[outcome]) for outcome in OUTCOMES},
                scorer.parts(option.key, projection),
                score,
            )
        )
    del projections  # the monthly values: the bands are all that is kept of them

    names = (
        spec.key_assumptions
        if spec.key_assumptions is not None
        else [n for n, d in dists.items() if d.dist != "fixed"]
    )
    comparing = len(spec.options) > 1
    total = 2 * len(names) + (len(names) if comparing else 0)
    done = 0

    def step(text: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(text, done, total)

    bars = tornado(model, scorer, dists, spec.options, names, recommended, step)
    search_trials = min(spec.trials, SEARCH_TRIALS)
    notes = [
        f"{spec.trials:,} trials, seed {spec.seed}; P10/P50/P90 interpolate between trials",
        f"MDF spend scales revenue relative to the base MDF spend ({mdf_base:,.0f} a month in "
        "the workspace currency)",
    ]
    thresholds = []
    if comparing:
        small = Model(
            {n: column[:search_trials] for n, column in u.items()},
            inputs.tiers,
            spec.horizon_months,
            mdf_base,
        )
        search = BreakEvenSearch(small, scorer, dists, spec.options, recommended)
        thresholds = [search.run(name, step) for name in names]
        if search_trials < spec.trials:
            notes.append(
                f"break-even searched on the first {search_trials:,} of the {spec.trials:,} "
                "trials (the same seed)"
            )
    else:
        notes.append("one option: no break-even thresholds (nothing to prefer instead)")
    return ScenarioResult(
        spec=spec,
        base=inputs,
        options=options,
        recommended=keys[recommended],
        tornado=bars,
        break_even=thresholds,
        search_trials=search_trials if comparing else 0,
        scale=scorer.scale,
        notes=notes,
    )
