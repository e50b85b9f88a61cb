"""Incentive rules: one partner's standing in a quarter in, explained ledger lines out.

Pure functions of :class:`Standing` (gathered from a run by :mod:`partnerscope.money.payouts`)
and :class:`~partnerscope.settings.money.IncentiveSettings`. Every line says which rule made it,
its base, rate or quantity, the inputs read and, in words, why. Each line's amount is rounded
to the cent, half away from zero (:func:`~partnerscope.amounts.cents`); caps and the
minimum payout are lines of their own, so a partner's total is always the sum of its lines.

Quota attainment is recomputed here in decimals from the period's won revenue and quota (both
rounded to the cent), so a band edge is exact: 120,000.00 won on a quota of 100,000.00 is
exactly 120 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from partnerscope.amounts import ZERO, cents
from partnerscope.settings.money import (
    Band,
    BracketMode,
    Clubs,
    IncentiveSettings,
)

#: rule names, as they appear in the ledger
BANDS = "bonus_bands"
NEW_CUSTOMERS = "new_customers"
LARGE_DEAL = "large_deal"
SATISFACTION = "satisfaction"
CERTIFICATIONS = "certifications"
CLUB = "club"
TIER_UPLIFT = "tier_uplift"
PARTNER_CAP = "partner_cap"
MIN_PAYOUT = "min_payout"
MILESTONES = "milestones"


@dataclass(frozen=True)
class Line:
    """One ledger line. ``kind``: earned (a rule paid), cap (a cap took some back), minimum
    (under the minimum payout) or adjustment (a correction of an earlier, locked period)."""

    partner_id: str
    rule: str
    kind: str
    earned_in: str
    amount: Decimal
    explanation: str
    base: Decimal | None = None
    rate: Decimal | None = None
    quantity: int | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Deal:
    opportunity_id: str
    amount: Decimal


@dataclass(frozen=True)
class ClubPlace:
    """A partner's place in the annual ranking and the club it reached."""

    club: str
    award: Decimal
    top: Decimal
    rank: int
    ranked: int
    value: Decimal
    year: str
    rank_by: str


@dataclass(frozen=True)
class Standing:
    """What the rules read of one partner in one quarter."""

    partner_id: str
    won_revenue: Decimal
    quota: Decimal | None = None
    new_customers: int = 0
    #: mean CSAT on 1–5 (None: no responses)
    csat: Decimal | None = None
    #: certifications obtained in the period by the partner's people
    certifications: int = 0
    #: the won deals of the period over the large-deal threshold
    large_deals: tuple[Deal, ...] = ()
    #: the effective tier in the uplift's ruleset
    tier: str | None = None
    #: set in a fiscal year's last quarter for a partner in a club
    club: ClubPlace | None = None

    @property
    def attainment(self) -> Decimal | None:
        if self.quota is None or self.quota <= 0:
            return None
        return self.won_revenue / self.quota


def money(amount: Decimal) -> str:
    """1234.5 → "1,234.50"."""
    return f"{cents(amount):,.2f}"


def percent(share: Decimal) -> str:
    """0.05 → "5 %", 1.234 → "123.4 %"."""
    value = (share * 100).normalize()
    text = f"{value:f}" if value == value.to_integral() else f"{share * 100:.1f}"
    return f"{text} %"


def _band_text(band: Band) -> str:
    top = f"{percent(band.max)}" if band.max is not None else "and above"
    return f"{percent(band.min)}–{top}" if band.max is not None else f"{percent(band.min)} {top}"


# ------------------------------------------------------------------------------- the rules


def bonus_bands(s: Standing, period: str, settings: IncentiveSettings) -> list[Line]:
    """Quarterly bonus on quota attainment, whole-base or per bracket (see BracketMode)."""
    rules = settings.bands
    attainment = s.attainment
    if not rules.enabled or attainment is None or s.won_revenue < rules.min_revenue:
        return []
    assert s.quota is not None
    inputs = {
        "won_revenue": str(s.won_revenue),
        "quota": str(s.quota),
        "attainment": str(attainment),
    }
    reached = (
        f"quota attainment {percent(attainment)} ({money(s.won_revenue)} won of {money(s.quota)})"
    )
    lines = []
    if rules.mode is BracketMode.WHOLE:
        for band in rules.bands:
            if attainment >= band.min and (band.max is None or attainment < band.max):
                lines.append(
                    Line(
                        s.partner_id,
                        BANDS,
                        "earned",
                        period,
                        cents(s.won_revenue * band.rate),
                        f"{reached} is in the {_band_text(band)} band: {percent(band.rate)} "
                        f"of the whole won revenue {money(s.won_revenue)}",
                        base=s.won_revenue,
                        rate=band.rate,
                        inputs=inputs,
                    )
                )
    else:
        for band in rules.bands:
            if attainment <= band.min:
                continue
            upper = attainment if band.max is None else min(attainment, band.max)
            base = cents(s.quota * (upper - band.min))
            lines.append(
                Line(
                    s.partner_id,
                    BANDS,
                    "earned",
                    period,
                    cents(base * band.rate),
                    f"{reached}: bracket {_band_text(band)} pays {percent(band.rate)} of the "
                    f"revenue between {percent(band.min)} and {percent(upper)} of quota, "
                    f"{money(base)}",
                    base=base,
                    rate=band.rate,
                    inputs=inputs,
                )
            )
    return lines + _cap(lines, rules.cap, s.partner_id, BANDS, period, "bonus bands")


def milestones(s: Standing, period: str, settings: IncentiveSettings) -> list[Line]:
    rules = settings.milestones
    if not rules.enabled:
        return []
    lines = []
    if s.new_customers and rules.per_new_customer:
        lines.append(
            Line(
                s.partner_id,
                NEW_CUSTOMERS,
                "earned",
                period,
                cents(s.new_customers * rules.per_new_customer),
                f"{s.new_customers} new customer(s) × {money(rules.per_new_customer)}",
                rate=rules.per_new_customer,
                quantity=s.new_customers,
                inputs={"new_customers": s.new_customers},
            )
        )
    for deal in s.large_deals:
        if deal.amount > rules.large_deal_over and rules.large_deal_rate:
            lines.append(
                Line(
                    s.partner_id,
                    LARGE_DEAL,
                    "earned",
                    period,
                    cents(deal.amount * rules.large_deal_rate),
                    f"deal {deal.opportunity_id} won for {money(deal.amount)}, over "
                    f"{money(rules.large_deal_over)}: {percent(rules.large_deal_rate)} of it",
                    base=deal.amount,
                    rate=rules.large_deal_rate,
                    inputs={"opportunity_id": deal.opportunity_id, "amount": str(deal.amount)},
                )
            )
    if s.csat is not None and s.csat >= rules.satisfaction_min and rules.satisfaction_bonus:
        lines.append(
            Line(
                s.partner_id,
                SATISFACTION,
                "earned",
                period,
                cents(rules.satisfaction_bonus),
                f"CSAT {s.csat:.2f} of 5 is at least {rules.satisfaction_min} "
                f"({percent(rules.satisfaction_min / 5)} of the scale)",
                inputs={"csat": str(s.csat)},
            )
        )
    if s.certifications and rules.per_certification:
        lines.append(
            Line(
                s.partner_id,
                CERTIFICATIONS,
                "earned",
                period,
                cents(s.certifications * rules.per_certification),
                f"{s.certifications} certification(s) obtained in {period} × "
                f"{money(rules.per_certification)}",
                rate=rules.per_certification,
                quantity=s.certifications,
                inputs={"certifications": s.certifications},
            )
        )
    return lines + _cap(lines, rules.cap, s.partner_id, MILESTONES, period, "milestones")


def club(s: Standing, period: str, settings: IncentiveSettings) -> list[Line]:
    place = s.club
    if not settings.clubs.enabled or place is None:
        return []
    return [
        Line(
            s.partner_id,
            CLUB,
            "earned",
            period,
            cents(place.award),
            f"{place.club}: rank {place.rank} of {place.ranked} partners by {place.rank_by} "
            f"in {place.year} (top {percent(place.top)})"
            + ("" if place.award else "; recognition, no award configured"),
            inputs={
                "club": place.club,
                "rank": place.rank,
                "ranked": place.ranked,
                place.rank_by: str(place.value),
            },
        )
    ]


def tier_uplift(s: Standing, period: str, settings: IncentiveSettings) -> list[Line]:
    rules = settings.tier_uplift
    rate = rules.rates.get(s.tier or "") if rules.enabled else None
    if not rate or s.won_revenue <= 0:
        return []
    return [
        Line(
            s.partner_id,
            TIER_UPLIFT,
            "earned",
            period,
            cents(s.won_revenue * rate),
            f"{s.tier} tier ({rules.ruleset}): margin uplift of {percent(rate)} on won revenue "
            f"{money(s.won_revenue)}",
            base=s.won_revenue,
            rate=rate,
            inputs={"tier": s.tier, "won_revenue": str(s.won_revenue)},
        )
    ]


RULES = (bonus_bands, milestones, club, tier_uplift)


def earn(s: Standing, period: str, settings: IncentiveSettings) -> list[Line]:
    """Every line one partner earns in ``period``, then the partner cap and the minimum."""
    lines = [line for rule in RULES for line in rule(s, period, settings)]
    lines += _cap(lines, settings.partner_cap, s.partner_id, PARTNER_CAP, period, "all rules")
    total = sum((line.amount for line in lines), ZERO)
    if ZERO < total < settings.min_payout:
        lines.append(
            Line(
                s.partner_id,
                MIN_PAYOUT,
                "minimum",
                period,
                -total,
                f"the period's total {money(total)} is under the minimum payout "
                f"{money(settings.min_payout)}: nothing is paid",
                inputs={"total": str(total), "min_payout": str(settings.min_payout)},
            )
        )
    return lines


def _cap(
    lines: list[Line], cap: Decimal | None, partner: str, rule: str, period: str, what: str
) -> list[Line]:
    """A line taking the total of ``lines`` down to ``cap`` (none if under it)."""
    total = sum((line.amount for line in lines), ZERO)
    if cap is None or total <= cap:
        return []
    return [
        Line(
            partner,
            rule,
            "cap",
            period,
            cents(cap) - total,
            f"{what} earned {money(total)}, capped at {money(cap)}",
            inputs={"earned": str(total), "cap": str(cap)},
        )
    ]


# ------------------------------------------------------------------------------ the ranking


def club_places(
    values: Mapping[str, float | Decimal | None], clubs: Clubs, year: str
) -> dict[str, ClubPlace]:
    """Each partner's club from the annual ranking: partners with a positive value are ranked,
    best first, ties sharing the better rank (1, 2, 2, 4); a partner at rank r of N is in the
    top share s when r ≤ s × N (so the top 1 % of 50 partners is nobody), and belongs to the
    most exclusive club it reaches."""
    ranked = sorted(
        ((pid, cents(v)) for pid, v in values.items() if v is not None and _positive(v)),
        key=lambda item: (-item[1], item[0]),
    )
    count = len(ranked)
    places: dict[str, ClubPlace] = {}
    rank = 0
    previous: Decimal | None = None
    for index, (pid, value) in enumerate(ranked, start=1):
        if value != previous:
            rank, previous = index, value
        for option in clubs.clubs:  # most exclusive first
            if rank <= option.top * count:
                places[pid] = ClubPlace(
                    option.name, option.award, option.top, rank, count, value, year, clubs.rank_by
                )
                break
    return places


def _positive(value: float | Decimal) -> bool:
    return not (isinstance(value, float) and math.isnan(value)) and value > 0


def totals(lines: Iterable[Line]) -> dict[str, Decimal]:
    """Each partner's total (the sum of its lines)."""
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.partner_id] = out.get(line.partner_id, ZERO) + line.amount
    return out
