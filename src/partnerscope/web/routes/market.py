"""The market opportunity map in the web app: ``/market`` (the heat map of territories by
verticals coloured by priority, the gaps and every cell with its reason), ``/market.csv`` (the
export) and ``/api/v1/market``.

Vendor staff who plan recruitment only: admins, analysts and partner managers. Finance and
partner users are refused (403): the map weighs the partners of a territory against each other.
A partner manager sees every territory, and by name only the partners they look after (the
others are counted).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from partnerscope.lifecycle import market as mk
from partnerscope.web.audience import json_answer
from partnerscope.web.render import page
from partnerscope.web.security import STAFF, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["market"])

Planner = Annotated[Ctx, Depends(allow(*STAFF))]
By = Annotated[
    Literal["country", "region"],
    Query(description="territories: countries, or regions (their countries summed)"),
]
Vertical = Annotated[
    str | None, Query(max_length=200, description="only this vertical (an account industry)")
]


class CellOut(BaseModel):
    priority: str
    territory: str
    region: str
    vertical: str
    #: in the base currency
    market_value: float
    #: the cell's share of the total market value, 0–1
    value_share: float
    #: high, medium or low
    value_band: str
    #: market sizes, target accounts or all accounts
    value_source: str
    partners_present: int
    #: the partners present the caller may see (a partner manager: their own)
    partners: list[str]
    won_revenue: float
    channel_share: float | None
    #: none, thin or covered
    coverage: str
    competitors: int | None
    competitor_share: float | None
    #: high, low or unknown
    competition: str
    gap: bool
    why: str


class MarketOut(BaseModel):
    by: str
    currency: str
    total_value: float
    counts: dict[str, int]
    basis: str
    window: str
    cells: list[CellOut]
    #: the gaps' territory and vertical, largest first
    gaps: list[CellOut]


def _map(ctx: Ctx, by: str, vertical: str | None) -> mk.MarketMap:
    found = mk.opportunity_map(ctx.workspace, by="region" if by == "region" else "country")
    return found.only(vertical) if vertical else found


def _visible(ctx: Ctx, cell: mk.Cell) -> list[str]:
    """The partners present the caller may see, by name."""
    return [n for p, n in zip(cell.partners, cell.partner_names, strict=True) if ctx.can_see(p)]


def _cell(ctx: Ctx, cell: mk.Cell) -> CellOut:
    return CellOut(
        priority=cell.priority,
        territory=cell.territory,
        region=cell.region,
        vertical=cell.vertical,
        market_value=round(cell.value, 2),
        value_share=cell.value_share,
        value_band=cell.value_band,
        value_source=cell.source,
        partners_present=len(cell.partners),
        partners=_visible(ctx, cell),
        won_revenue=round(cell.won_revenue, 2),
        channel_share=cell.channel_share,
        coverage=cell.coverage,
        competitors=cell.competitors,
        competitor_share=cell.competitor_share,
        competition=cell.competition,
        gap=cell.is_gap,
        why=cell.why,
    )


def present_words(ctx: Ctx, cell: mk.Cell) -> str:
    """The partners present in words: the visible ones by name, the others counted."""
    names = _visible(ctx, cell)
    others = len(cell.partners) - len(names)
    if not cell.partners:
        return "none"
    if others and names:
        return f"{', '.join(names)} and {others} other{'' if others == 1 else 's'}"
    if others:
        return f"{others} partner{'' if others == 1 else 's'}"
    return ", ".join(names)


@pages.get("/market", response_class=HTMLResponse)
def market_page(
    request: Request, ctx: Planner, by: By = "country", vertical: Vertical = None
) -> HTMLResponse:
    """Where to recruit: the heat map, the gaps, every territory and vertical with its reason."""
    from partnerscope.reports.market import coverage_words, heat_map

    words = ctx.workspace.words
    found = _map(ctx, by, vertical)
    return page(
        request,
        ctx,
        "market.html.j2",
        title="Market opportunity map",
        market=found,
        chart=heat_map(found, words),
        by=by,
        vertical=vertical or "",
        verticals=mk.opportunity_map(ctx.workspace).verticals if vertical else found.verticals,
        coverage=lambda c: coverage_words(c, words),
        present=lambda c: present_words(ctx, c),
    )


@pages.get("/market.csv")
def market_csv(ctx: Planner, by: By = "country", vertical: Vertical = None) -> Response:
    """The map as CSV (every cell, every column)."""
    found = _map(ctx, by, vertical)
    # a partner manager: the partners column names only their own
    rows = mk.csv_text(found, sees=None if ctx.visible is None else ctx.can_see)
    return Response(
        rows,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="market-by-{by}.csv"'},
    )


@api.get("/market", response_model=MarketOut)
def market_api(ctx: Planner, by: By = "country", vertical: Vertical = None) -> Response:
    """The market opportunity map: each territory and vertical with its priority and reason,
    and the gaps."""
    found = _map(ctx, by, vertical)
    return json_answer(
        MarketOut(
            by=found.by,
            currency=ctx.workspace.words.currency,
            total_value=round(found.total_value, 2),
            counts=found.counts(),
            basis=found.basis,
            window=found.window,
            cells=[_cell(ctx, c) for c in found.cells],
            gaps=[_cell(ctx, c) for c in found.gaps],
        )
    )
