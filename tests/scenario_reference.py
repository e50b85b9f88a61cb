"""The scenario model as a plain-Python loop: the oracle tests/test_scenarios.py checks the
vectorized model against and bench/scenarios.py times it next to (not part of the package).

It takes the same drawn parameter values as :func:`partnerscope.scenarios.model.project` (as
lists) and computes every trial, month and recruit cohort with nested loops and :mod:`math`,
straight from the equations in docs/scenarios.md, so that the vectorized model can be checked
against it and timed next to it. Nothing in the product calls it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

OUTCOMES = ("revenue", "margin", "coverage", "control", "partners")


def ramp(k: int, ramp_months: float) -> float:
    """The share of full productivity of a recruit in its k-th month (k = 1, 2, …)."""
    return 1.0 if ramp_months <= 0 else min(1.0, k / ramp_months)


def project(
    params: Mapping[str, Sequence[float]],
    tiers: Sequence[str],
    horizon: int,
    mdf_base: float,
) -> tuple[dict[str, list[list[float]]], dict[str, list[float]]]:
    """(monthly, totals): per outcome, a list per trial of its months, and per trial its total
    (revenue and margin summed over the months; coverage, control and partners at the end)."""
    trials = len(params["churn"])
    monthly: dict[str, list[list[float]]] = {name: [] for name in OUTCOMES}
    totals: dict[str, list[float]] = {name: [] for name in OUTCOMES}
    for j in range(trials):
        p = {name: values[j] for name, values in params.items()}
        keep = 1.0 - p["churn"]
        velocity = p["recruitment_velocity"]
        mult = (p["mdf_spend"] / mdf_base) ** p["mdf_elasticity"] if mdf_base > 0 else 1.0
        per_deal = p["win_rate"] * p["deal_size"] * mult
        start = sum(p[f"active_partners.{tier}"] for tier in tiers)
        months: dict[str, list[float]] = {name: [] for name in OUTCOMES}
        for t in range(1, horizon + 1):
            rev_existing = 0.0
            existing = 0.0
            for tier in tiers:
                e = p[f"active_partners.{tier}"] * keep**t
                existing += e
                rev_existing += e * p[f"productivity.{tier}"] * per_deal
            recruits = 0.0
            ramped = 0.0
            for s in range(1, t + 1):  # the cohort recruited in month s
                cohort = velocity * keep ** (t - s)
                recruits += cohort
                ramped += cohort * ramp(t - s + 1, p["ramp_months"])
            rev_recruits = ramped * p["recruit_productivity"] * per_deal
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
            if start > 0:
                coverage = 1.0 - (1.0 - p["coverage_start"]) ** (partners / start)
            else:
                coverage = p["coverage_start"]
            if revenue > 0:
                control = (
                    rev_existing * p["compliance_existing"]
                    + rev_recruits * p["compliance_recruits"]
                ) / revenue
            else:
                control = p["compliance_existing"]
            for name, value in zip(
                OUTCOMES, (revenue, margin, coverage, control, partners), strict=True
            ):
                months[name].append(value)
        for name in OUTCOMES:
            monthly[name].append(months[name])
            cumulative = name in ("revenue", "margin")
            totals[name].append(math.fsum(months[name]) if cumulative else months[name][-1])
    return monthly, totals
