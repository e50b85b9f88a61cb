"""The scenario model, vectorized over trials and months.

Each trial draws its parameters once (the uncertainty is over the parameters); given them, a
trial is deterministic. Draws use common random numbers: one column of uniforms per input name,
turned into values by each option's distribution, so that options differ only where their
inputs differ. Everything is float64; the largest temporaries are trials × months.

For month t = 1..H, with c = churn, R = recruitment_velocity, ramp(k) = min(1, k / ramp_months)
(1 when ramp_months ≤ 0) and v = win_rate · deal_size · (mdf_spend / mdf_base) ** mdf_elasticity:

- existing partners Σ_i E_i0 · (1 − c)^t, their revenue Σ_i E_i0 · productivity_i · (1 − c)^t · v;
- recruits N(t) = R · Σ_{k<t} (1 − c)^k; ramped recruits Q(t) = R · Σ_{k<t} (1 − c)^k · ramp(k + 1),
  their revenue Q(t) · recruit_productivity · v.

docs/scenarios.md has the margin, coverage and control equations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from partnerscope.scenarios.inputs import TIERED, Distribution, bounds

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

OUTCOMES = ("revenue", "margin", "coverage", "control", "partners")
#: Outcomes that are summed over the horizon; the others are read at its last month.
CUMULATIVE = frozenset({"revenue", "margin"})
#: Uniforms are kept inside (0, 1) so that a normal's inverse CDF stays finite.
_EDGE = 2.0**-53


def uniforms(names: Iterable[str], trials: int, seed: int) -> dict[str, Array]:
    """One column of ``trials`` uniforms per input name.

    Each name has its own stream, seeded by (seed, name): adding, removing or overriding an input
    never changes another input's draws, and the first n draws of a longer run are the n draws
    of a shorter one.
    """
    out = {}
    for name in sorted(set(names)):
        key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")
        column = np.random.default_rng([seed, key]).random(trials)
        out[name] = np.clip(column, _EDGE, 1.0 - _EDGE)
    return out


def draw(distribution: Distribution, name: str, u: Array) -> Array:
    """Values of ``name`` at the uniforms ``u``, clipped to the input's range."""
    low, high = bounds(name)
    return np.clip(distribution.quantile(u), low, high)


def value_at(distribution: Distribution, name: str, q: float) -> float:
    """The value of ``name`` a trial gets at the ``q`` quantile (clipped to the input's range)."""
    return float(draw(distribution, name, np.array([q]))[0])


@dataclass(frozen=True)
class Kernel:
    """The partner flows per trial and month, which depend on churn and ramp only."""

    #: (1 − c)^t: the share of today's partners still there in month t
    survival: Array
    #: N(t) / R: recruits present in month t per recruit a month
    recruits: Array
    #: Q(t) / R: full-productivity equivalents of those recruits
    ramped: Array
    #: each of the above summed over the months, and at the last month, per trial
    survival_sum: Array
    recruits_sum: Array
    ramped_sum: Array
    survival_end: Array
    recruits_end: Array
    ramped_end: Array

    @classmethod
    def of(cls, churn: Array, ramp_months: Array, horizon: int) -> Kernel:
        k = np.arange(horizon, dtype=np.float64)
        keep = (1.0 - churn)[:, None]
        # (1 − c)^k, k = 0..H−1, as a running product: a power per element costs several times more
        decay = np.empty((len(churn), horizon))
        decay[:, 0] = 1.0
        decay[:, 1:] = keep
        np.cumprod(decay, axis=1, out=decay)
        survival = decay * keep
        with np.errstate(divide="ignore", over="ignore"):
            # ramp_months = 0 (or tiny) divides to inf: full productivity from the first month
            ramp = np.minimum(1.0, (k + 1.0) / ramp_months[:, None])
        ramp *= decay
        recruits = np.cumsum(decay, axis=1)
        ramped = np.cumsum(ramp, axis=1)
        return cls(
            survival,
            recruits,
            ramped,
            survival.sum(axis=1),
            recruits.sum(axis=1),
            ramped.sum(axis=1),
            survival[:, -1].copy(),
            recruits[:, -1].copy(),
            ramped[:, -1].copy(),
        )


@dataclass(frozen=True)
class Projection:
    """One option's outcomes: per trial, and per trial and month when asked for."""

    #: revenue and margin summed over the horizon; coverage, control and partners at its end
    totals: dict[str, Array]
    #: (trials, months) per outcome, or None
    monthly: dict[str, Array] | None


def project(
    params: Mapping[str, Array],
    tiers: Sequence[str],
    horizon: int,
    mdf_base: float,
    kernel: Kernel | None = None,
    monthly: bool = False,
    outcomes: Collection[str] = OUTCOMES,
) -> Projection:
    """The model on drawn parameters (one array of trials per input name); the totals of
    ``outcomes`` only (all of them when ``monthly``).

    The totals come from the kernel's sums over the months, which equal the sums of the monthly
    values to rounding: scoring an option needs no trials × months array once the kernel (churn
    and ramp) is known, which is what makes the break-even search cheap.
    """
    p = params
    if kernel is None:
        kernel = Kernel.of(p["churn"], p["ramp_months"], horizon)
    active = [p[f"{TIERED[0]}.{tier}"] for tier in tiers]
    start = np.sum(active, axis=0) if tiers else np.zeros_like(p["churn"])
    deals = (
        np.sum(
            [a * p[f"{TIERED[1]}.{tier}"] for a, tier in zip(active, tiers, strict=True)], axis=0
        )
        if tiers
        else np.zeros_like(start)
    )
    if mdf_base > 0:
        per_deal = (
            p["win_rate"] * p["deal_size"] * (p["mdf_spend"] / mdf_base) ** p["mdf_elasticity"]
        )
    else:
        per_deal = p["win_rate"] * p["deal_size"]
    velocity = p["recruitment_velocity"]
    existing_rate = deals * per_deal  # revenue of today's partners in month t, over (1 − c)^t
    recruit_rate = p["recruit_productivity"] * velocity * per_deal  # … of recruits, over Q(t)/R
    net = p["gross_margin"] - p["incentive_rate"]
    fixed_costs = p["mdf_spend"] + p["program_cost"]
    per_partner = p["cost_per_partner"]

    want = set(OUTCOMES) if monthly else set(outcomes)
    totals = {}
    if want & CUMULATIVE:
        revenue = existing_rate * kernel.survival_sum + recruit_rate * kernel.ramped_sum
        if "revenue" in want:
            totals["revenue"] = revenue
        if "margin" in want:
            partner_months = start * kernel.survival_sum + velocity * kernel.recruits_sum
            totals["margin"] = (
                revenue * net
                - horizon * fixed_costs
                - per_partner * partner_months
                - p["one_off_cost"]
            )
    if want & {"coverage", "partners"}:
        partners_end = start * kernel.survival_end + velocity * kernel.recruits_end
        if "coverage" in want:
            totals["coverage"] = _coverage(p["coverage_start"], partners_end, start)
        if "partners" in want:
            totals["partners"] = partners_end
    if "control" in want:
        totals["control"] = _control(
            existing_rate * kernel.survival_end,
            recruit_rate * kernel.ramped_end,
            p["compliance_existing"],
            p["compliance_recruits"],
        )
    if not monthly:
        return Projection(totals, None)

    col = np.newaxis
    existing = existing_rate[:, col] * kernel.survival
    recruited = recruit_rate[:, col] * kernel.ramped
    month_revenue = existing + recruited
    partners = start[:, col] * kernel.survival
    partners += velocity[:, col] * kernel.recruits
    margin = month_revenue * net[:, col]
    margin -= fixed_costs[:, col]
    margin -= per_partner[:, col] * partners
    margin[:, 0] -= p["one_off_cost"]
    return Projection(
        totals,
        {
            "revenue": month_revenue,
            "margin": margin,
            "coverage": _coverage(p["coverage_start"], partners, start),
            "control": _control(
                existing, recruited, p["compliance_existing"], p["compliance_recruits"]
            ),
            "partners": partners,
        },
    )


def _coverage(start_coverage: Array, partners: Array, start: Array) -> Array:
    """1 − (1 − coverage_start)^(partners / partners today); coverage_start without partners
    today. ``partners`` may have a months axis; the others are per trial."""
    # each partner reaches an equal, independent share of the target accounts, so coverage
    # compounds with the partner count; exp of a log is three times faster than a power
    has_start = start > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.log1p(-start_coverage) / np.where(has_start, start, 1.0)
        covered = partners * (rate if partners.ndim == 1 else rate[:, np.newaxis])
        np.exp(covered, out=covered)
        np.subtract(1.0, covered, out=covered)
    if np.any(start_coverage >= 1):
        # full coverage and no partner left: 0 · −inf is nan where (1 − 1)^0 = 1
        covered[np.isnan(covered)] = 0.0
    if not has_start.all():
        fallback = start_coverage if partners.ndim == 1 else start_coverage[:, np.newaxis]
        mask = has_start if partners.ndim == 1 else has_start[:, np.newaxis]
        covered = np.where(mask, covered, fallback)
    return covered


def _control(
    existing: Array, recruited: Array, existing_score: Array, recruit_score: Array
) -> Array:
    """The revenue-weighted compliance of today's partners and recruits; today's partners'
    when there is no revenue. ``existing`` and ``recruited`` may have a months axis."""
    # (e·s_e + r·s_r) / (e + r) written as s_e + (s_r − s_e)·r / (e + r): fewer passes
    total = existing + recruited
    gap = recruit_score - existing_score
    base = existing_score
    if existing.ndim == 2:
        gap, base = gap[:, np.newaxis], base[:, np.newaxis]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.divide(recruited, total)
    share *= gap
    share += base
    if not (total > 0).all():
        share = np.where(total > 0, share, base)
    return share


class Model:
    """The model over a fixed set of uniforms, remembering draws and kernels between calls.

    :meth:`evaluate` runs every option at once. Draws and kernels used in one call are kept for
    the next and the rest dropped: a break-even scan changes one input at a time, so everything
    else is drawn once.
    """

    def __init__(
        self, u: Mapping[str, Array], tiers: Sequence[str], horizon: int, mdf_base: float
    ) -> None:
        self.u = u
        self.tiers = list(tiers)
        self.horizon = horizon
        self.mdf_base = mdf_base
        self.trials = len(next(iter(u.values())))
        self._values: dict[tuple[str, Distribution, float | None], Array] = {}
        self._kernels: dict[tuple[object, object], Kernel] = {}

    def evaluate(
        self,
        options: Sequence[Mapping[str, Distribution]],
        fixed: Mapping[str, float] | None = None,
        monthly: bool = False,
        outcomes: Collection[str] = OUTCOMES,
    ) -> list[Projection]:
        """Each option's projection. ``fixed``: inputs held at that quantile in every trial;
        ``outcomes``: the totals computed (all of them when ``monthly``)."""
        fixed = fixed or {}
        values: dict[tuple[str, Distribution, float | None], Array] = {}
        kernels: dict[tuple[object, object], Kernel] = {}
        out = []
        for dists in options:
            params = {}
            keys = {}
            for name, dist in dists.items():
                key = (name, dist, fixed.get(name))
                keys[name] = key
                if key not in values:
                    kept = self._values.get(key)
                    values[key] = kept if kept is not None else self._draw(name, dist, key[2])
                params[name] = values[key]
            kernel_key = (keys["churn"], keys["ramp_months"])
            if kernel_key not in kernels:
                kernels[kernel_key] = self._kernels.get(kernel_key) or Kernel.of(
                    params["churn"], params["ramp_months"], self.horizon
                )
            out.append(
                project(
                    params,
                    self.tiers,
                    self.horizon,
                    self.mdf_base,
                    kernels[kernel_key],
                    monthly,
                    outcomes,
                )
            )
        self._values, self._kernels = values, kernels
        return out

    def _draw(self, name: str, dist: Distribution, q: float | None) -> Array:
        if q is None:
            return draw(dist, name, self.u[name])
        return np.full(self.trials, value_at(dist, name, q))


def bands(monthly: Array, quantiles: Sequence[float] = (0.1, 0.5, 0.9)) -> Array:
    """The quantiles over trials of each month (linear interpolation, numpy's default):
    (len(quantiles), months)."""
    return np.quantile(monthly, quantiles, axis=0)
