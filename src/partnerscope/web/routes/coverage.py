"""Market coverage and channel conflict in the web app: ``/coverage`` (market coverage against
its goal with its trend, the gap list with the nearest partners, the channel conflicts with the
revenue at stake) and ``/api/v1/coverage``.

Vendor staff only: admins, analysts and partner managers; finance and partner users are refused
(403), since a conflict names the other party (a partner or direct sales). A partner manager
sees the conflicts of the partners they look after (another partner on the other side is
"another partner"), and only those partners among the nearest to a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from partnerscope.lifecycle import coverage as cv
from partnerscope.web.audience import json_answer
from partnerscope.web.params import Day
from partnerscope.web.render import page
from partnerscope.web.security import STAFF, Ctx, UtcDateTime, allow

pages = APIRouter()
api = APIRouter(tags=["coverage"])

Staff = Annotated[Ctx, Depends(allow(*STAFF))]
At = Annotated[
    Day | None,
    Query(description="coverage at the end of this day, conflicts of the year up to it; today"),
]
Limit = Annotated[
    int, Query(ge=0, le=10_000, description="conflicts listed, largest partner amount first")
]
#: the conflicts the page lists (the totals count them all)
PAGE_ROWS = 200
#: a party the caller may not see
ANOTHER_PARTNER = "another partner"


class NearbyOut(BaseModel):
    partner_id: str
    name: str
    #: km from the territory's country centre; null when a place is unknown
    distance_km: float | None
    certified: bool


class GapOut(BaseModel):
    territory_id: str
    name: str
    country: str
    region: str | None
    vertical: str | None
    nearest: list[NearbyOut]


class PointOut(BaseModel):
    at: date
    #: 0–1; null without target territories
    market_coverage: float | None


class PartyOut(BaseModel):
    #: empty when the caller may not see whose opportunity it is
    opportunity_id: str
    #: null: direct sales, or a partner the caller may not see
    partner_id: str | None
    #: the partner's name, "Direct sales" or "another partner"
    party: str
    account: str
    status: str
    amount: Decimal | None
    created_at: UtcDateTime
    closed_at: UtcDateTime | None


class ConflictOut(BaseModel):
    #: the customer: the account identity (the smallest account id of its records)
    customer: str
    #: partner vs direct, or partner vs partner
    kind: str
    opportunity: PartyOut
    other: PartyOut
    overlap_from: UtcDateTime
    #: null while both are open
    overlap_until: UtcDateTime | None


class CoverageOut(BaseModel):
    at: date
    currency: str
    goal: float
    target_territories: int
    covered_territories: int
    market_coverage: float | None
    trend: list[PointOut]
    gaps: list[GapOut]
    conflicts_since: date
    conflicted_opportunities: int
    revenue_at_stake: Decimal
    #: every pair of a partner opportunity and another party's; ``conflicts`` lists the largest
    conflict_pairs: int
    conflicts: list[ConflictOut]


@dataclass(frozen=True)
class Found:
    """What the page and the API show."""

    coverage: cv.Coverage
    trend: list[cv.Coverage]
    since: date
    conflicts: list[cv.Conflict]
    totals: cv.ConflictTotals


def _year_to(day: date) -> tuple[datetime, datetime]:
    """The year of conflicts shown: partner opportunities created in the 365 days to ``day``."""
    start = day - timedelta(days=364)
    return (
        datetime.combine(start, datetime.min.time()),
        datetime.combine(day + timedelta(days=1), datetime.min.time()),
    )


def _found(ctx: Ctx, at: date | None, limit: int) -> Found:
    from partnerscope.clock import today

    day = at or today(ctx.workspace)
    since, until = _year_to(day)
    visible = ctx.visible
    with ctx.workspace.warehouse(read_only=True) as wh:
        coverage = cv.coverage_at(wh.con, day, candidates=visible)
        trend = cv.coverage_trend(wh.con, cv.quarter_ends(day))
        conflicts = cv.channel_conflicts(
            wh.con, since=since, until=until, partners=visible, limit=limit
        )
        totals = cv.conflict_totals(wh.con, since=since, until=until, partners=visible)
    return Found(coverage, trend, since.date(), conflicts, totals)


def _party(ctx: Ctx, party: cv.Party) -> PartyOut:
    hidden = party.partner_id is not None and not ctx.can_see(party.partner_id)
    return PartyOut(
        opportunity_id="" if hidden else party.opportunity_id,
        partner_id=None if hidden else party.partner_id,
        party=ANOTHER_PARTNER if hidden else cv.party_words(party),
        account=party.account_name or party.account_id,
        status=party.status,
        amount=party.amount,
        created_at=party.created_at,
        closed_at=party.closed_at,
    )


def _conflict(ctx: Ctx, found: cv.Conflict) -> ConflictOut:
    start, end = found.overlap
    return ConflictOut(
        customer=found.customer,
        kind=found.kind,
        opportunity=_party(ctx, found.mine),
        other=_party(ctx, found.other),
        overlap_from=start,
        overlap_until=end,
    )


def _out(ctx: Ctx, found: Found) -> CoverageOut:
    c = found.coverage
    return CoverageOut(
        at=c.at,
        currency=ctx.workspace.words.currency,
        goal=cv.GOAL,
        target_territories=c.target,
        covered_territories=c.covered,
        market_coverage=c.share,
        trend=[PointOut(at=t.at, market_coverage=t.share) for t in found.trend],
        gaps=[
            GapOut(
                territory_id=g.territory_id,
                name=g.name,
                country=g.country,
                region=g.region,
                vertical=g.vertical,
                nearest=[
                    NearbyOut(
                        partner_id=n.partner_id,
                        name=n.name,
                        distance_km=None if n.distance_km is None else round(n.distance_km, 1),
                        certified=n.certified,
                    )
                    for n in g.nearest
                ],
            )
            for g in c.gaps
        ],
        conflicts_since=found.since,
        conflicted_opportunities=found.totals.opportunities,
        revenue_at_stake=found.totals.revenue_at_stake,
        conflict_pairs=found.totals.pairs,
        conflicts=[_conflict(ctx, x) for x in found.conflicts],
    )


@pages.get("/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, ctx: Staff, at: At = None) -> HTMLResponse:
    """Market coverage against its goal, the target territories without coverage and the
    channel conflicts."""
    from partnerscope.metrics.definition import Unit
    from partnerscope.reports import charts

    found = _found(ctx, at, PAGE_ROWS)
    out = _out(ctx, found)
    words = ctx.workspace.words
    chart = charts.spec(
        "line",
        [
            {"period": p.at.isoformat(), "value": p.market_coverage}
            for p in out.trend
            if p.market_coverage is not None
        ],
        title="Market coverage at each quarter end",
        unit=Unit.SHARE,
        goal=cv.GOAL,
        empty="No target territory",
    )
    return page(
        request,
        ctx,
        "coverage.html.j2",
        title="Market coverage and channel conflict",
        c=out,
        chart=chart,
        distance=lambda km: "distance unknown" if km is None else f"{words.number(km)} km",
        window=lambda p: (
            f"{words.date(p.created_at.date())} – "
            + ("open" if p.closed_at is None else words.date(p.closed_at.date()))
        ),
    )


@api.get("/coverage", response_model=CoverageOut)
def coverage_api(ctx: Staff, at: At = None, limit: Limit = 500) -> Response:
    """Market coverage at a date against its goal, its trend by quarter end, the gap list with
    the nearest partners, and the channel conflicts of the year up to the date."""
    return json_answer(_out(ctx, _found(ctx, at, limit)))


def conflicts_summary(ctx: Ctx) -> tuple[int, Decimal] | None:
    """The registrations page's panel: partner opportunities in channel conflict created in the
    last year (of the partners the caller may see) and the revenue at stake; None for a partner
    user, who is never told of another party's deals."""
    from partnerscope.accounts import Role
    from partnerscope.clock import today

    if ctx.user.role is Role.PARTNER_USER or ctx.user.role not in STAFF:
        return None
    since, until = _year_to(today(ctx.workspace))
    totals = cv.read_conflict_totals(ctx.workspace, since=since, until=until, partners=ctx.visible)
    return totals.opportunities, totals.revenue_at_stake
