"""The vectorized scenario model against a plain-Python loop over the same model.

100,000 trials × 36 months × 3 options (two tiers plus recruits; the options differ in
recruitment velocity, MDF spend and program cost). The vectorized model (draws, every month of
every outcome) is timed best of ``--repeat``, and so are the P10/P50/P90 bands of each month.
The loop (tests/scenario_reference.py: nested loops over trials, months and cohorts) takes
the same drawn values; its time is linear in the trials, so it runs on the first ``--subset``
trials and is scaled up, and both must agree on that subset. Target: the model under 5 s and at
least 50× the loop.

    .venv/bin/python bench/scenarios.py --trials 100000 --subset 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the plain-Python oracle the tests check the model against (tests/scenario_reference.py)
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from tests import scenario_reference as reference

from machine import machine_info
from partnerscope.scenarios.inputs import Distribution as D
from partnerscope.scenarios.model import OUTCOMES, Model, bands, draw, uniforms
from timing import best

TARGET_SECONDS = 5.0
TARGET_RATIO = 50.0
TIERS = ["Gold", "Silver"]
MDF_BASE = 40_000.0

#: The base: 40 Gold partners at 6 closed deals a month, 160 Silver at 2, one recruit a month.
BASE = {
    "active_partners.Gold": D.fixed(40),
    "active_partners.Silver": D.fixed(160),
    "productivity.Gold": D(dist="normal", mean=6, sd=0.6),
    "productivity.Silver": D(dist="normal", mean=2, sd=0.2),
    "recruit_productivity": D(dist="normal", mean=2, sd=0.2),
    "recruitment_velocity": D(dist="triangular", low=0.5, mode=1, high=1.5),
    "ramp_months": D(dist="triangular", low=3, mode=6, high=9),
    "churn": D(dist="triangular", low=0.005, mode=0.01, high=0.015),
    "win_rate": D(dist="normal", mean=0.3, sd=0.03),
    "deal_size": D(dist="lognormal", median=25_000, sigma=0.1),
    "mdf_spend": D(dist="normal", mean=MDF_BASE, sd=4_000),
    "mdf_elasticity": D(dist="triangular", low=0.05, mode=0.1, high=0.15),
    "gross_margin": D(dist="normal", mean=0.7, sd=0.07),
    "incentive_rate": D(dist="normal", mean=0.03, sd=0.003),
    "cost_per_partner": D(dist="normal", mean=500, sd=50),
    "coverage_start": D.fixed(0.6),
    "compliance_existing": D(dist="normal", mean=92, sd=4),
    "compliance_recruits": D(dist="normal", mean=80, sd=8),
    "program_cost": D.fixed(0),
    "one_off_cost": D.fixed(0),
}
#: Keep; recruit three a month for a program cost; spend half as much again on MDF.
OPTIONS = {
    "A keep": BASE,
    "B recruit": BASE
    | {
        "recruitment_velocity": D(dist="triangular", low=2, mode=3, high=4),
        "program_cost": D.fixed(30_000),
    },
    "C MDF +50 %": BASE | {"mdf_spend": D(dist="normal", mean=1.5 * MDF_BASE, sd=6_000)},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--subset", type=int, default=2_000, help="trials the loop runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the vectorized model")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    console = Console()
    console.print("[bold]partnerscope scenario model benchmark[/bold]")
    for line in machine_info(extra_versions=f"numpy {np.__version__}"):
        console.print(f"  {line}")
    trials, months, subset = args.trials, args.months, min(args.subset, args.trials)
    options = list(OPTIONS.values())

    def vectorized() -> list[Any]:
        u = uniforms(BASE, trials, args.seed)
        return Model(u, TIERS, months, MDF_BASE).evaluate(options, monthly=True)

    model_s, projections = best(args.repeat, vectorized)
    bands_s, _ = best(
        args.repeat,
        lambda: [{o: bands(p.monthly[o]) for o in OUTCOMES} for p in projections],
    )

    # the loop on the same draws: the first `subset` trials of each option
    u = uniforms(BASE, trials, args.seed)
    started = time.perf_counter()
    looped = [
        reference.project(
            {n: draw(d, n, u[n][:subset]).tolist() for n, d in dists.items()},
            TIERS,
            months,
            MDF_BASE,
        )
        for dists in options
    ]
    loop_s = time.perf_counter() - started
    loop_full_s = loop_s * trials / subset
    worst = 0.0
    for projection, (monthly, totals) in zip(projections, looped, strict=True):
        for outcome in OUTCOMES:
            for ours, theirs in (
                (projection.monthly[outcome][:subset], np.array(monthly[outcome])),
                (projection.totals[outcome][:subset], np.array(totals[outcome])),
            ):
                scale = np.maximum(np.abs(theirs), 1e-12)
                worst = max(worst, float(np.max(np.abs(ours - theirs) / scale)))
    agree = worst <= 1e-9

    table = Table(
        "contender",
        "trials",
        "seconds",
        "loop ÷ this",
        title=f"Scenario model, {months} months × 3 options: vectorized (numpy) vs a "
        "plain-Python loop, same run",
        title_justify="left",
    )
    rows = [
        ("vectorized model", trials, model_s),
        ("vectorized model + P10/P50/P90 of every month", trials, model_s + bands_s),
        ("plain-Python loop, scaled to all trials", trials, loop_full_s),
    ]
    for name, n, seconds in rows:
        table.add_row(name, f"{n:,}", f"{seconds:.3f}", f"{loop_full_s / seconds:.0f}×")
    table.add_row("plain-Python loop, measured", f"{subset:,}", f"{loop_s:.3f}", "")
    console.print(table)
    console.print(
        f"the loop is linear in the trials: measured on the first {subset:,} and scaled by "
        f"{trials / subset:g}; on those trials the two agree to {worst:.1e} relative "
        f"({'OK' if agree else 'DISAGREE'}, tolerance 1e-9)"
    )
    ratio = loop_full_s / model_s
    met = model_s < TARGET_SECONDS and ratio >= TARGET_RATIO
    console.print(
        f"vectorized {model_s:.2f} s, {ratio:.0f}× the loop (with the bands "
        f"{model_s + bands_s:.2f} s, {loop_full_s / (model_s + bands_s):.0f}×); targets under "
        f"{TARGET_SECONDS:g} s and at least {TARGET_RATIO:g}×: {'met' if met else 'NOT met'}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
