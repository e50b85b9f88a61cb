"""Tiers: the distribution and moves of a period, pending downgrades, and the tier overrides
in force, which analysts and admins add and end with a reason (each change audited)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from partnerscope import clock
from partnerscope.web.params import Day, Period
from partnerscope.web.render import page
from partnerscope.web.run_index import (
    RunIndex,
    partner_choices,
    periods_with_data,
    picked_partner,
    run_index,
    visible_rows,
)
from partnerscope.web.security import ANALYSTS, STAFF, Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from partnerscope.evaluation.overrides import Override

pages = APIRouter()
api = APIRouter(tags=["portfolio"])

#: sqlite stores 64-bit integers: a larger id could not even be looked up
OverrideId = Annotated[int, Path(ge=1, le=2**62)]


def _visible_ids(ctx: Ctx) -> list[str]:
    """The ids of the run's partners the caller may see."""
    return [p for p in ctx.data.scorecards.spans if ctx.can_see(p)]


class TierCount(BaseModel):
    ruleset: str
    tier: str
    partners: int
    up: int
    down: int
    pending: int


class TierRow(BaseModel):
    partner_id: str
    name: str
    ruleset: str
    placed: str
    effective: str
    moved: str | None
    pending: str | None
    pending_periods: int
    reason: str


class OverrideOut(BaseModel):
    override_id: int
    partner_id: str
    name: str
    ruleset: str
    tier: str
    reason: str
    until: date | None
    created_at: UtcDateTime
    created_by: str
    removed_at: UtcDateTime | None
    removed_by: str | None


class NotScored(BaseModel):
    """A partner left out of scoring in the period, so in no tier, and why."""

    partner_id: str
    name: str
    note: str


class TiersOut(BaseModel):
    period: str
    #: each ruleset's tiers, top first
    rulesets: dict[str, list[str]]
    distribution: list[TierCount]
    moves: list[TierRow]
    pending: list[TierRow]
    overrides: list[OverrideOut]
    #: per ruleset, the tiers a measure without data keeps out of reach, in a sentence
    notes: dict[str, str] = {}
    #: the partners not scored in the period (inactive, not yet in the program)
    not_scored: list[NotScored] = []


def _override_out(index: RunIndex, o: Override) -> OverrideOut:
    return OverrideOut(**asdict(o), name=index.name(o.partner_id))


def active_overrides(ctx: Ctx) -> list[OverrideOut]:
    from partnerscope.evaluation import overrides

    index = run_index(ctx)
    found = overrides.active(ctx.state.accounts.engine, clock.today(ctx.workspace))
    return [_override_out(index, o) for o in found if ctx.can_see(o.partner_id)]


def tiers_view(ctx: Ctx, period: str | None) -> TiersOut:
    """The visible partners' tiers in the period: how many in each tier, who moved, whose
    downgrade is pending, and the overrides in force."""
    from partnerscope.evaluation.overrides import tier_names

    index = run_index(ctx)
    start, label = ctx.data.pick_period(period)
    rows = visible_rows(ctx, index.tiers(start))
    # a partner left out of scoring holds no tier: counted apart, with the reason
    left_out = sorted({r["partner_id"] for r in rows if r.get("scored") is False})
    rows = [r for r in rows if r.get("scored") is not False]
    reasons = ctx.data.not_scored(start)
    names = tier_names(ctx.workspace.config.tiers)
    distribution = []
    for ruleset, tiers in names.items():
        mine = [r for r in rows if r["ruleset"] == ruleset]
        for tier in tiers:
            here = [r for r in mine if r["effective"] == tier]
            distribution.append(
                TierCount(
                    ruleset=ruleset,
                    tier=tier,
                    partners=len(here),
                    up=sum(r["moved"] == "up" for r in here),
                    down=sum(r["moved"] == "down" for r in here),
                    pending=sum(r["pending"] is not None for r in here),
                )
            )
    fields = TierRow.model_fields

    def out(row: dict[str, Any]) -> TierRow:
        return TierRow(**{k: row[k] for k in fields})

    ordered = sorted(rows, key=lambda r: (r["ruleset"], r["partner_id"]))
    return TiersOut(
        period=label,
        rulesets=names,
        distribution=distribution,
        moves=[out(r) for r in ordered if r["moved"] in ("up", "down")],
        pending=[out(r) for r in ordered if r["pending"] is not None],
        overrides=active_overrides(ctx),
        notes=ctx.data.tier_notes,
        not_scored=[
            NotScored(partner_id=p, name=index.name(p), note=reasons.get(p, "Not scored"))
            for p in left_out
        ],
    )


@api.get("/tiers", response_model=TiersOut)
def tiers_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None) -> TiersOut:
    """Tier distribution and moves of a period, pending downgrades and active overrides."""
    return tiers_view(ctx, period)


@pages.get("/tiers", response_class=HTMLResponse)
def tiers_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None
) -> HTMLResponse:
    from partnerscope.reports.charts import TIER_PALETTE

    view = tiers_view(ctx, period)
    periods = periods_with_data(ctx)
    colours = {
        (ruleset, tier): TIER_PALETTE[i % len(TIER_PALETTE)]
        for ruleset, tiers in view.rulesets.items()
        for i, tier in enumerate(tiers)
    }
    return page(
        request,
        ctx,
        "tiers.html.j2",
        title="Tiers",
        subtitle=f"{view.period} · tiers of the run; overrides are kept beside them",
        view=view,
        periods=periods,
        #: the period shown has data (else the page says so: its tiers rest on no deals)
        has_data=any(label == view.period for _, label in periods),
        #: each tier's colour, by its place in its ruleset's order (as the charts colour it)
        colours=colours,
        can_override=ctx.user.role in ANALYSTS,
        partners=partner_choices(ctx),
        today=clock.today(ctx.workspace).isoformat(),
    )


class OverrideIn(BaseModel):
    partner_id: str = Field(min_length=1, max_length=64)
    ruleset: str = Field(min_length=1, max_length=64)
    tier: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    until: Day | None = None


class RemoveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def add_override(ctx: Ctx, change: OverrideIn) -> OverrideOut:
    from partnerscope.evaluation import overrides

    partners = _visible_ids(ctx)
    made = overrides.add(
        ctx.state.accounts.engine,
        tiers=ctx.workspace.config.tiers,
        partners=partners,
        partner_id=change.partner_id.strip(),
        ruleset=change.ruleset.strip(),
        tier=change.tier.strip(),
        reason=change.reason,
        until=change.until,
        actor=ctx.user.name,
        today=clock.today(ctx.workspace),
    )
    return _override_out(run_index(ctx), made)


def remove_override(ctx: Ctx, override_id: int, reason: str) -> OverrideOut:
    from partnerscope.evaluation import overrides

    done = overrides.remove(
        ctx.state.accounts.engine, override_id, reason=reason, actor=ctx.user.name
    )
    return _override_out(run_index(ctx), done)


@api.get("/tiers/overrides", response_model=list[OverrideOut])
def overrides_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))]) -> list[OverrideOut]:
    """The tier overrides in force today (of the partners you may see)."""
    return active_overrides(ctx)


@api.post("/tiers/overrides", response_model=OverrideOut, status_code=201)
def add_override_api(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], change: OverrideIn
) -> OverrideOut:
    """Hold a partner at a tier of a ruleset, with a reason (and optionally an end date)."""
    return add_override(ctx, change)


@api.post("/tiers/overrides/{override_id}/remove", response_model=OverrideOut)
def remove_override_api(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))], override_id: OverrideId, change: RemoveIn
) -> OverrideOut:
    """End a tier override now, with a reason."""
    return remove_override(ctx, override_id, change.reason)


def _back(period: str | None) -> str:
    return "/tiers" + (f"?{urlencode({'period': period})}" if period else "") + "#overrides"


@pages.post("/tiers/overrides")
def add_override_form(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))],
    partner_id: Annotated[str, Form(min_length=1, max_length=300)],
    ruleset: Annotated[str, Form(min_length=1, max_length=64)],
    tier: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    until: Annotated[date | None, Form()] = None,
    period: Annotated[str | None, Form(max_length=32)] = None,
) -> RedirectResponse:
    add_override(
        ctx,
        OverrideIn(
            partner_id=picked_partner(ctx, partner_id) or partner_id,
            ruleset=ruleset,
            tier=tier,
            reason=reason,
            until=until,
        ),
    )
    return RedirectResponse(_back(period), status_code=303)


@pages.post("/tiers/overrides/{override_id}/remove")
def remove_override_form(
    ctx: Annotated[Ctx, Depends(allow(*ANALYSTS))],
    override_id: OverrideId,
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    period: Annotated[str | None, Form(max_length=32)] = None,
) -> RedirectResponse:
    remove_override(ctx, override_id, reason)
    return RedirectResponse(_back(period), status_code=303)
