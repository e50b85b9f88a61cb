"""The vectorized scenario model against the same equations in plain numpy, and a plain-Python loop.

100,000 trials × 36 months × 3 options (two tiers plus recruits; the options differ in
recruitment velocity, MDF spend and program cost). The vectorized model (draws, every month of
every outcome) is timed best of ``--repeat``, and so are the P10/P50/P90 bands of each month.
The baseline, best of ``--repeat`` too, is what a skilled numpy user would write from
docs/scenarios.md: the same draws, vectorized over the trials, a loop over the months summing
each month's recruit cohorts (:func:`month_loop`). The reference loop (tests/scenario_reference.py:
nested Python loops over trials, months and cohorts) takes the same drawn values; its time is
linear in the trials, so it runs on the first ``--subset`` trials and is scaled up. Every month
and total must agree (bench/parity.py, 1e-9 relative; exit 1 if not, ``--corrupt`` shows it).
Target: the model under 5 s and at least 50× the reference loop.

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

import parity
from machine import machine_info
from partnerscope.scenarios.inputs import Distribution as D
from partnerscope.scenarios.model import CUMULATIVE, OUTCOMES, Model, bands, draw, uniforms
from timing import best

TARGET_SECONDS = 5.0
TARGET_RATIO = 50.0
#: Every month and total of the model agrees with the baseline's and the loop's within this.
TOLERANCE = 1e-9
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


def month_loop(
    params: dict[str, Any], tiers: list[str], horizon: int, mdf_base: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baseline: the equations of docs/scenarios.md as a skilled numpy user would write
    them, vectorized over the trials and looping over the months; each month sums its recruit
    cohorts (one column per cohort: its size and its ramp). (monthly, totals) as the model's."""
    p = params
    keep = 1.0 - p["churn"]
    velocity = p["recruitment_velocity"]
    per_deal = p["win_rate"] * p["deal_size"]
    if mdf_base > 0:
        per_deal = per_deal * (p["mdf_spend"] / mdf_base) ** p["mdf_elasticity"]
    start = sum(p[f"active_partners.{tier}"] for tier in tiers)
    deals = sum(p[f"active_partners.{tier}"] * p[f"productivity.{tier}"] for tier in tiers)
    ramp_months = p["ramp_months"][:, None]
    monthly = {name: np.empty((len(keep), horizon)) for name in OUTCOMES}
    for t in range(1, horizon + 1):
        survive = keep**t
        existing = start * survive
        rev_existing = deals * survive * per_deal
        age = np.arange(t, dtype=np.float64)  # months since each cohort was recruited
        cohorts = velocity[:, None] * keep[:, None] ** age
        with np.errstate(divide="ignore"):
            ramp = np.where(ramp_months <= 0, 1.0, np.minimum(1.0, (age + 1) / ramp_months))
        recruits = cohorts.sum(axis=1)
        rev_recruits = (cohorts * ramp).sum(axis=1) * p["recruit_productivity"] * per_deal
        revenue = rev_existing + rev_recruits
        partners = existing + recruits
        margin = (
            revenue * p["gross_margin"]
            - p["mdf_spend"]
            - p["incentive_rate"] * revenue
            - p["cost_per_partner"] * partners
            - p["program_cost"]
            - (p["one_off_cost"] if t == 1 else 0.0)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            coverage = np.where(
                start > 0,
                1.0 - (1.0 - p["coverage_start"]) ** (partners / start),
                p["coverage_start"],
            )
            control = np.where(
                revenue > 0,
                (rev_existing * p["compliance_existing"] + rev_recruits * p["compliance_recruits"])
                / revenue,
                p["compliance_existing"],
            )
        for name, value in zip(
            OUTCOMES, (revenue, margin, coverage, control, partners), strict=True
        ):
            monthly[name][:, t - 1] = value
    totals = {
        name: values.sum(axis=1) if name in CUMULATIVE else values[:, -1].copy()
        for name, values in monthly.items()
    }
    return monthly, totals


def outcome_tables(
    results: list[tuple[dict[str, Any], dict[str, Any]]], trials: int
) -> tuple[Any, Any]:
    """(monthly, totals) of every option's first ``trials`` trials as two Arrow tables: one row
    per (option, trial, month) and per (option, trial), a column per outcome."""
    import pyarrow as pa

    monthly, totals = [], []
    for option, (months_of, totals_of) in zip(OPTIONS, results, strict=True):
        shape = np.asarray(months_of[OUTCOMES[0]])[:trials].shape
        monthly.append(
            pa.table(
                {
                    "option": pa.array([option] * (shape[0] * shape[1])),
                    "trial": np.repeat(np.arange(shape[0]), shape[1]),
                    "month": np.tile(np.arange(1, shape[1] + 1), shape[0]),
                    **{o: np.asarray(months_of[o])[:trials].ravel() for o in OUTCOMES},
                }
            )
        )
        totals.append(
            pa.table(
                {
                    "option": pa.array([option] * shape[0]),
                    "trial": np.arange(shape[0]),
                    **{o: np.asarray(totals_of[o])[:trials] for o in OUTCOMES},
                }
            )
        )
    return pa.concat_tables(monthly), pa.concat_tables(totals)


def agreement(
    model: list[Any],
    others: dict[str, tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]],
    corrupt: bool,
) -> list[parity.Comparison]:
    """The model against each other contender on the trials that contender ran: every month
    of every outcome, and the totals, within TOLERANCE relative."""
    found: list[parity.Comparison] = []
    for name, (results, trials) in others.items():
        ours = outcome_tables([(p.monthly, p.totals) for p in model], trials)
        theirs = outcome_tables(results, trials)
        for part, keys, a, b in (
            ("every month", ("option", "trial", "month"), ours[0], theirs[0]),
            ("totals", ("option", "trial"), ours[1], theirs[1]),
        ):
            if corrupt and not found:
                b = parity.corrupt(b, keys)
            title = f"{part} of {trials:,} trials × 3 options: model vs {name}"
            found.append(
                parity.compare(a, b, keys, names=("model", name), rel_tol=TOLERANCE, title=title)
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--subset", type=int, default=2_000, help="trials the loop runs")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the vectorized model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--corrupt",
        action="store_true",
        help="change one month of the baseline and drop one before the comparison (exit 1)",
    )
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

    def baseline() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        u = uniforms(BASE, trials, args.seed)
        return [
            month_loop({n: draw(d, n, u[n]) for n, d in dists.items()}, TIERS, months, MDF_BASE)
            for dists in options
        ]

    model_s, projections = best(args.repeat, vectorized)
    bands_s, _ = best(
        args.repeat,
        lambda: [{o: bands(p.monthly[o]) for o in OUTCOMES} for p in projections],
    )
    baseline_s, baseline_results = best(args.repeat, baseline)

    # the reference loop on the same draws: the first `subset` trials of each option
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

    table = Table(
        "contender",
        "trials",
        "seconds",
        "baseline ÷ this",
        "loop ÷ this",
        title=f"Scenario model, {months} months × 3 options, same run",
        title_justify="left",
    )
    rows = [
        ("vectorized model", trials, model_s),
        ("vectorized model + P10/P50/P90 of every month", trials, model_s + bands_s),
        ("baseline: numpy over trials, a loop over months and cohorts", trials, baseline_s),
        ("plain-Python reference loop, scaled to all trials", trials, loop_full_s),
    ]
    for name, n, seconds in rows:
        table.add_row(
            name,
            f"{n:,}",
            f"{seconds:.3f}",
            f"{baseline_s / seconds:.2f}×",
            f"{loop_full_s / seconds:.0f}×",
        )
    table.add_row("plain-Python reference loop, measured", f"{subset:,}", f"{loop_s:.3f}", "", "")
    console.print(table)
    console.print(
        f"the reference loop (tests/scenario_reference.py) is linear in the trials: measured on "
        f"the first {subset:,} and scaled by {trials / subset:g}"
    )
    ratio = loop_full_s / model_s
    met = model_s < TARGET_SECONDS and ratio >= TARGET_RATIO
    console.print(
        f"vectorized {model_s:.2f} s; the numpy baseline takes {baseline_s / model_s:.2f}× "
        f"that, the reference loop {ratio:.0f}× (with the bands {model_s + bands_s:.2f} s); "
        f"targets under {TARGET_SECONDS:g} s and at least {TARGET_RATIO:g}× the loop: "
        f"{'met' if met else 'NOT met'}"
    )
    comparisons = agreement(
        projections,
        {
            "numpy baseline": (baseline_results, trials),
            "reference loop": ([(m, t) for m, t in looped], subset),
        },
        args.corrupt,
    )
    for c in comparisons:
        parity.print_lines(c.lines(), console)
    return parity.exit_code(comparisons)


if __name__ == "__main__":
    raise SystemExit(main())
