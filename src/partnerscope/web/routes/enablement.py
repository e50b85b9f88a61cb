"""The enablement pages and API of the web app: each partner's certification paths, its gaps
against its program tier and the next one, and the certifications expiring soon
(docs/lifecycle.md, "Enablement paths").

Who sees what: admins and analysts every partner, a partner manager their own partners, a
partner user its own partner only (``/enablement`` is its own page; another partner's id is a
404 worded as for one that does not exist). What a partner user is shown is about its own
people and its program's requirements; the partner model lists exactly that.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.errors import PartnerscopeError
from partnerscope.lifecycle import enablement as en
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.params import Day
from partnerscope.web.render import page
from partnerscope.web.security import Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["enablement"])

READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
PartnerId = Annotated[str, Path(min_length=1, max_length=64)]


class EnablementQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the day to judge (default: the latest run's as-of date)
    on: Day | None = None


class ExpiringQuery(EnablementQuery):
    #: within this many days (default: ``[enablement] expiry_warning_days``)
    days: Annotated[int | None, Field(ge=1, le=730)] = None


class LevelOut(BaseModel):
    name: str
    rank: int
    #: how many of the partner's people hold it
    people: int
    held: bool
    #: its prerequisites nobody at the partner holds ("needs X first")
    needs: list[str]


class PathOut(BaseModel):
    key: str
    label: str
    #: the highest level someone at the partner holds
    highest: str | None
    levels: list[LevelOut]


class GapOut(BaseModel):
    name: str
    needs: list[str]
    #: "Solutions Architect (needs Implementation Specialist first)"
    described: str


class ExpiryOut(BaseModel):
    person_id: str
    certification: str
    expires: date
    #: days from the day judged (negative: days since it lapsed)
    days: int


class PartnerEnablementOut(BaseModel):
    """A partner's own enablement, as its users see it: its people's certifications against
    its program's requirements."""

    partner_id: str
    partner: str
    on: date
    tier: str | None
    paths: list[PathOut]
    required: list[str]
    missing: list[GapOut]
    next_tier: str | None
    #: what the next tier requires beyond its own tier's, not yet held
    next_missing: list[GapOut]
    expiring: list[ExpiryOut]
    #: certifications that lapsed without renewal (within ``[enablement] lapsed_days``)
    lapsed: list[ExpiryOut]


class EnablementOut(PartnerEnablementOut):
    """A partner's enablement as staff see it."""

    #: how many certifications its tier requires are held
    held_required: int
    #: certifications held that are no level of the paths (the data's names)
    other_held: list[str]


class ExpiringOut(ExpiryOut):
    partner_id: str
    partner: str


def _gap(g: en.Gap) -> GapOut:
    return GapOut(name=g.name, needs=list(g.needs), described=g.describe())


def _expiry(e: en.Expiry) -> ExpiryOut:
    return ExpiryOut(person_id=e.person_id, certification=e.name, expires=e.expires, days=e.days)


def enablement_out(ctx: Ctx, g: en.PartnerGaps) -> PartnerEnablementOut:
    """The partner's enablement as the caller may see it (a partner user: the partner view)."""
    fields: dict[str, Any] = {
        "partner_id": g.partner_id,
        "partner": g.partner,
        "on": g.on,
        "tier": g.tier,
        "paths": [
            PathOut(
                key=p.key,
                label=p.label,
                highest=p.highest,
                levels=[
                    LevelOut(
                        name=lv.name,
                        rank=lv.rank,
                        people=lv.people,
                        held=lv.held,
                        needs=list(lv.needs),
                    )
                    for lv in p.levels
                ],
            )
            for p in g.paths
        ],
        "required": list(g.required),
        "missing": [_gap(x) for x in g.missing],
        "next_tier": g.next_tier,
        "next_missing": [_gap(x) for x in g.next_missing],
        "expiring": [_expiry(e) for e in g.expiring],
        "lapsed": [_expiry(e) for e in g.lapsed],
    }
    if partner_view(ctx):
        return PartnerEnablementOut(**fields)
    return EnablementOut(**fields, held_required=g.held_required, other_held=list(g.other_held))


def _missing(partner_id: str) -> HTTPException:
    """The one answer for a partner that does not exist and one the caller may not see (no
    name in it)."""
    return HTTPException(404, "no such partner")


def visible_gaps(ctx: Ctx, partner_id: str, on: date | None) -> en.PartnerGaps:
    """The partner's enablement if the caller may see it, else 404 (as for no such partner)."""
    if ctx.user.role is Role.PARTNER_USER and partner_id != ctx.user.partner_id:
        raise _missing(partner_id)
    if not ctx.can_see(partner_id):
        raise _missing(partner_id)
    try:
        return en.partner_gaps(ctx.workspace, partner_id, on)
    except PartnerscopeError:
        raise _missing(partner_id) from None


def _own(ctx: Ctx) -> str:
    own = ctx.user.partner_id
    if not own:
        raise HTTPException(404, "no such partner")
    return own


def all_visible(ctx: Ctx, on: date | None) -> list[en.PartnerGaps]:
    visible = ctx.visible
    return en.all_gaps(ctx.workspace, on, None if visible is None else sorted(visible))


def expiring_visible(ctx: Ctx, on: date | None, days: int | None) -> list[en.Expiry]:
    if partner_view(ctx):
        return en.expiring(ctx.workspace, on, days, [_own(ctx)])
    visible = ctx.visible
    return en.expiring(ctx.workspace, on, days, None if visible is None else sorted(visible))


# ------------------------------------------------------------------------------ API


@api.get("/enablement", response_model=list[EnablementOut] | list[PartnerEnablementOut])
def enablement_api(ctx: Reader, query: Annotated[EnablementQuery, Query()]) -> Response:
    """Every visible partner's enablement, those missing most for their tier first (a partner
    user: its own)."""
    if partner_view(ctx):
        return json_answer([enablement_out(ctx, visible_gaps(ctx, _own(ctx), query.on))])
    return json_answer([enablement_out(ctx, g) for g in all_visible(ctx, query.on)])


@api.get("/enablement/expiring", response_model=list[ExpiringOut])
def expiring_api(ctx: Reader, query: Annotated[ExpiringQuery, Query()]) -> Response:
    """The certifications expiring soon and not renewed yet, soonest first."""
    found = expiring_visible(ctx, query.on, query.days)
    return json_answer(
        [
            ExpiringOut(
                partner_id=e.partner_id,
                partner=e.partner,
                person_id=e.person_id,
                certification=e.name,
                expires=e.expires,
                days=e.days,
            )
            for e in found
        ]
    )


@api.get("/enablement/{partner_id}", response_model=EnablementOut | PartnerEnablementOut)
def partner_enablement_api(
    ctx: Reader, partner_id: PartnerId, query: Annotated[EnablementQuery, Query()]
) -> Response:
    """One partner's paths, gaps against its tier and the next one, and expiries."""
    return json_answer(enablement_out(ctx, visible_gaps(ctx, partner_id, query.on)))


# ------------------------------------------------------------------------------ pages


def _partner_page(request: Request, ctx: Ctx, g: en.PartnerGaps) -> HTMLResponse:
    return page(
        request,
        ctx,
        "enablement_partner.html.j2",
        title=f"Enablement: {g.partner}",
        e=enablement_out(ctx, g),
        warning_days=ctx.workspace.config.enablement.expiry_warning_days,
    )


@pages.get("/enablement", response_class=HTMLResponse)
def enablement_page(
    request: Request, ctx: Reader, query: Annotated[EnablementQuery, Query()]
) -> HTMLResponse:
    """Staff: the partners with gaps to their tier first, and the certifications expiring
    soon. A partner user: its own page."""
    if partner_view(ctx):
        return _partner_page(request, ctx, visible_gaps(ctx, _own(ctx), query.on))
    found = all_visible(ctx, query.on)
    on = found[0].on if found else (query.on or en.default_day(ctx.workspace))
    soon = expiring_visible(ctx, on, None)
    return page(
        request,
        ctx,
        "enablement.html.j2",
        title="Enablement",
        partners=[enablement_out(ctx, g) for g in found],
        short=sum(1 for g in found if g.missing),
        expiring=soon,
        on=on,
        warning_days=ctx.workspace.config.enablement.expiry_warning_days,
    )


@pages.get("/enablement/{partner_id}", response_class=HTMLResponse)
def partner_enablement_page(
    request: Request,
    ctx: Reader,
    partner_id: PartnerId,
    query: Annotated[EnablementQuery, Query()],
) -> HTMLResponse:
    """One partner's paths with the levels held and missing, its gaps and its expiries."""
    return _partner_page(request, ctx, visible_gaps(ctx, partner_id, query.on))
