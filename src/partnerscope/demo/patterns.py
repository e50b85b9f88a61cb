"""The patterns planted in the demo data, for trend, alert and anomaly features to find.

Every partner gets a deal-creation rate and a win-rate factor per quarter. Ordinary partners are
noisy (season, a drift of their own, noise) and a fifth of them slump (:data:`SLUMP_SHARE`), with
warning signs a quarter ahead; the planted partners break that in one known way.
The sets are disjoint, and :attr:`Plan.planted` names them for the CLI and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from partnerscope.demo.world import (
    DAY,
    MID,
    N_QUARTERS,
    QUARTER_SEC,
    SMALL,
    STRATEGIC,
    WARMUP,
    BoolArray,
    FloatArray,
    IntArray,
    Partners,
    close_season,
    day_number,
    rng_for,
    season,
)

PATTERNS = ("decliners", "sla_breakers", "compliance_violators", "risers", "collapse")
#: Window quarter (0-based) from which decliners create fewer deals and win less, quarter after
#: quarter: their last six quarters decline.
DECLINE_FROM = 6
#: Window quarter from which SLA breakers stop answering leads in time (the last three).
SLA_BREACH_FROM = 9
#: Compliance violators fail their heavily weighted checks from this day (the last 12 months).
VIOLATION_FROM = day_number(date(2025, 10, 1))
#: Risers joined the program in this range: within the last 18 months of the window.
RISER_JOINED = (day_number(date(2025, 4, 1)), day_number(date(2025, 12, 31)))
#: Share of the ordinary partners that go through a slump in the window: a quarter of warning
#: (fewer new deals, leads worked and converted less well, less MDF, unhappier customers), then
#: few new deals and a lower win rate, so that won revenue falls below half its level the
#: quarter after the warning shows.
SLUMP_SHARE = 0.2
#: Share of the slumps that end before the window does (then new pipeline comes back a quarter
#: before revenue). None in the demo: measured on it, recoveries the metrics cannot foresee cost
#: the risk score more (backtest AUC 0.81 with a quarter of them, 0.85 without) than they show.
RECOVERY_SHARE = 0.0


@dataclass(frozen=True)
class Plan:
    """Who carries which pattern, and the per-quarter factors that realise it."""

    planted: dict[str, list[str]]
    masks: dict[str, BoolArray]
    #: partner × quarter (warm-up included): relative rate of deal creation, 0 before joining.
    create_factor: FloatArray
    #: partner × quarter of close (warm-up included): factor on the partner's win rate.
    win_factor: FloatArray
    #: partner × quarter of creation (warm-up included): factor on the partner's deal size.
    size_factor: FloatArray
    #: partner × quarter (warm-up included): how much trouble an ordinary partner is in, 0 to 1.
    #: It shows first in what the partner does before it shows in what it wins: fewer leads
    #: worked and converted, less MDF, unhappier customers (see :data:`SLUMP_SHARE`).
    trouble: FloatArray

    def mask(self, pattern: str) -> BoolArray:
        return self.masks[pattern]


def _pick(rng: np.random.Generator, candidates: IntArray, n: int) -> IntArray:
    if len(candidates) < n:
        raise ValueError("too few partners for the demo patterns")  # pragma: no cover
    chosen: IntArray = np.sort(rng.choice(candidates, n, replace=False))
    return chosen


def plant(partners: Partners, seed: int) -> tuple[Partners, Plan]:
    """Choose the planted partners and build every partner's quarterly factors.

    Returns the partners with the risers' join dates and revenue reset (they are newcomers).
    """
    rng = rng_for(seed, "patterns")
    n = len(partners)
    per_pattern = max(2, round(0.03 * n))
    revenue = partners.annual_revenue
    free = partners.active.copy()
    # only partners present through the whole window can show a trend over it
    free &= partners.joined_day < day_number(date(2023, 4, 1))

    def take(eligible: BoolArray, count: int) -> IntArray:
        chosen = _pick(rng, np.flatnonzero(eligible & free), count)
        free[chosen] = False
        return chosen

    big = (partners.band == STRATEGIC) | (partners.band == MID)
    collapse = take(big & (revenue >= np.median(revenue[big])), 1)
    # enough deals per quarter that a trend shows through the noise of deal sizes
    mid = partners.band == MID
    deal_rate = revenue / (partners.win_rate * partners.deal_size)
    decliners = take(mid & (deal_rate >= np.median(deal_rate[mid])), per_pattern)
    risers = take(partners.band == SMALL, per_pattern)
    # busy enough to show a rate, yet too small to drag down the whole portfolio's rate
    small = partners.band == SMALL
    sla_breakers = take(small & (revenue >= np.median(revenue[small])), per_pattern)
    violators = take(partners.active, per_pattern)

    joined = partners.joined_day.copy()
    joined[risers] = rng.integers(*RISER_JOINED, len(risers))
    annual = revenue.copy()
    # a small base that grows fast: at full speed a riser would be a small or mid-size partner
    annual[risers] = rng.uniform(1.5e6, 3.0e6, len(risers))
    # newcomers win many small deals, so their growth shows in deal counts, not only in luck
    deal_size = partners.deal_size.copy()
    deal_size[risers] = 0.7 * np.median(deal_size[partners.band == SMALL])
    # many deals a quarter, so that a trend or a sudden stop shows through the luck of the deals
    deal_size[decliners] *= 0.5
    deal_size[collapse] *= 0.25
    partners = replace(partners, joined_day=joined, annual_revenue=annual, deal_size=deal_size)

    create, win = _factors(partners, rng)
    trouble = np.zeros_like(create)
    slumps = np.flatnonzero(free & (rng.random(n) < SLUMP_SHARE))
    _slump(rng, slumps, create, win, trouble)
    k = np.arange(-WARMUP, N_QUARTERS)  # window quarter of each column
    steps = np.maximum(k - DECLINE_FROM + 1, 0)
    # decliners: a clean slide without drift or much noise, so it reads as a trend
    # (fewer deals, a lower win rate and smaller deals, each strong enough to outweigh the
    # occasional large deal created before the slide)
    create[decliners] = season(k) * 0.72**steps * rng.lognormal(0, 0.04, (len(decliners), len(k)))
    win[decliners] = 0.80**steps
    size = np.ones_like(create)
    size[decliners] = 0.88**steps
    # the collapse: a strong, flat history, then nothing new and every open deal lost
    create[collapse] = np.where(k == N_QUARTERS - 1, 0.0, 1.0)
    win[collapse] = 1.0 / close_season(k)
    # risers: fast growth from joining, on top of the join-date cut-off applied below
    join_q = np.searchsorted(QUARTER_SEC, joined[risers] * DAY, side="right")[:, None] - 1
    ramp = np.maximum(np.arange(len(k))[None, :] - join_q, 0)
    create[risers] = season(k) * np.minimum(0.15 * 1.8**ramp, 2.0)
    win[risers] = np.minimum(0.8 + 0.06 * ramp, 1.15)
    create *= _presence(joined)

    masks = {name: np.zeros(n, dtype=bool) for name in PATTERNS}
    for name, chosen in zip(
        PATTERNS, (decliners, sla_breakers, violators, risers, collapse), strict=True
    ):
        masks[name][chosen] = True
    planted = {name: [partners.ids[i] for i in np.flatnonzero(masks[name])] for name in PATTERNS}
    plan = Plan(
        planted=planted,
        masks=masks,
        create_factor=create,
        win_factor=win,
        size_factor=size,
        trouble=trouble,
    )
    return partners, plan


def _factors(partners: Partners, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Ordinary partners: season × small drift × noise; win rates wobble around their mean."""
    n = len(partners)
    k = np.arange(-WARMUP, N_QUARTERS)
    drift = (1.0 + partners.growth[:, None]) ** k[None, :]
    create = season(k)[None, :] * drift * rng.lognormal(0.0, 0.10, (n, len(k)))
    win = np.clip(1.0 + rng.normal(0.0, 0.05, (n, len(k))), 0.85, 1.15)
    return create, win


def _slump(
    rng: np.random.Generator,
    chosen: IntArray,
    create: FloatArray,
    win: FloatArray,
    trouble: FloatArray,
) -> None:
    """Plant a slump in each chosen partner's factors (in place): warning, slump, recovery."""
    for i in chosen:
        # window quarter the slump's warning shows in; the slump itself starts a quarter later
        warn = int(rng.integers(1, N_QUARTERS - 2)) + WARMUP
        length = int(rng.integers(3, 6)) if rng.random() < RECOVERY_SHARE else N_QUARTERS
        end = min(warn + 1 + length, WARMUP + N_QUARTERS)
        depth = rng.uniform(0.15, 0.35)
        create[i, warn] *= 0.6
        trouble[i, warn] = 0.7
        create[i, warn + 1 : end] *= depth
        win[i, warn + 1 : end] *= 0.75
        trouble[i, warn + 1 : end] = 1.0
        if end < WARMUP + N_QUARTERS:
            # the recovery: pipeline rebuilt fast, a little above the old level at first
            create[i, end] *= 1.25


def _presence(joined_day: IntArray) -> FloatArray:
    """Share of each quarter the partner was in the program (0 before it joined)."""
    starts, ends = QUARTER_SEC[:-1][None, :], QUARTER_SEC[1:][None, :]
    joined = (joined_day * DAY)[:, None]
    share: FloatArray = np.clip((ends - joined) / (ends - starts), 0.0, 1.0)
    return share
