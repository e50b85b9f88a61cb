"""Joint business plans in the web app: the staff list (plans with missed and at-risk
milestones first), each partner's plan with its milestones' statuses against the served run, a
chart of actual against target per quarter and the plan's history, staff forms to create and
change plans, and the JSON API.

Who may do what:

- admins and partner managers create and change the plans of the partners they may see, and
  mark them agreed; analysts read every plan;
- a partner user reads its own partner's plan (it is a joint plan: content, milestones,
  statuses, history) in the partner model, which leaves out the vendor's internal note and who
  at the vendor made each change; another partner's plan is a 404 like one that does not exist.

Every change goes through :mod:`partnerscope.lifecycle.business_plans` (a new version with what
changed, audited).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.lifecycle import business_plans as bp
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import namer, partner_choices, picked_partner
from partnerscope.web.security import Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from collections.abc import Callable

    from partnerscope.present import Words

pages = APIRouter()
api = APIRouter(tags=["business-plans"])

READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)
EDITORS = (Role.ADMIN, Role.PARTNER_MANAGER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
Editor = Annotated[Ctx, Depends(allow(*EDITORS))]
PartnerId = Annotated[str, Path(min_length=1, max_length=64)]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]
Short = Annotated[str | None, Field(max_length=2000)]


class MilestoneOut(BaseModel):
    """A milestone with its status against the served run (the same for the partner: it is a
    joint plan)."""

    quarter: int
    #: the fiscal quarter, e.g. FY2026-Q2
    period: str
    metric: str
    #: the measure in words
    measure: str
    target: float
    target_text: str
    actual: float | None
    actual_text: str | None
    #: met, missed, on_track, at_risk, upcoming, no_data
    status: str
    status_text: str
    #: the measured value against the target in words
    measured: str
    owner: str | None
    note: str | None


class PartnerVersionOut(BaseModel):
    version: int
    changed_at: UtcDateTime
    change: str


class VersionOut(PartnerVersionOut):
    changed_by: str


class PartnerPlanOut(BaseModel):
    """A plan as its partner sees it: everything but the vendor's internal note, the vendor's
    owner and who at the vendor changed it."""

    partner_id: str
    partner_name: str
    fiscal_year: int
    version: int
    status: str
    target_markets: list[str]
    target_products: list[str]
    vendor_commitments: list[str]
    partner_commitments: list[str]
    mdf_amount: float | None
    mdf_text: str | None
    presales_days: float | None
    partner_owner: str | None
    updated_at: UtcDateTime
    #: the run the statuses are measured against (None before the first run)
    run_id: int | None
    as_of: date | None
    summary: str
    milestones: list[MilestoneOut]
    history: list[PartnerVersionOut]


class PlanOut(PartnerPlanOut):
    internal_note: str | None
    vendor_owner: str | None
    updated_by: str
    history: list[VersionOut]  # type: ignore[assignment]


class PlanSummaryOut(BaseModel):
    partner_id: str
    partner_name: str
    fiscal_year: int
    status: str
    version: int
    milestones: int
    met: int
    missed: int
    at_risk: int
    on_track: int
    upcoming: int
    no_data: int
    summary: str


class PlanEditIn(BaseModel):
    """The fields to change (those left out are kept)."""

    model_config = ConfigDict(extra="forbid")

    target_markets: list[Annotated[str, Field(max_length=300)]] | None = None
    target_products: list[Annotated[str, Field(max_length=300)]] | None = None
    vendor_commitments: list[Annotated[str, Field(max_length=2000)]] | None = None
    partner_commitments: list[Annotated[str, Field(max_length=2000)]] | None = None
    #: in the base currency (at most a trillion)
    mdf_amount: Annotated[float | None, Field(ge=0, le=1e12)] = None
    #: presales days committed over the year (at most every day of ten years)
    presales_days: Annotated[float | None, Field(ge=0, le=3660)] = None
    internal_note: Short = None
    vendor_owner: Annotated[str | None, Field(max_length=300)] = None
    partner_owner: Annotated[str | None, Field(max_length=300)] = None


class PlanIn(PlanEditIn):
    """A new plan (the fields not given are empty)."""

    partner_id: Annotated[str, Field(min_length=1, max_length=64)]
    fiscal_year: Annotated[int, Field(ge=2000, le=2100)]


class MilestoneIn(BaseModel):
    """A milestone to add or change: the quarter (1–4 or Q2), a catalog metric (key or
    label), the target (a number, ``120k``, ``30%``), owner and note."""

    model_config = ConfigDict(extra="forbid")

    quarter: Annotated[str, Field(min_length=1, max_length=12)]
    metric: Annotated[str, Field(min_length=1, max_length=64)]
    target: Annotated[str | None, Field(max_length=32)] = None
    owner: Annotated[str | None, Field(max_length=300)] = None
    note: Short = None


class MilestoneKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quarter: Annotated[str, Field(min_length=1, max_length=12)]
    metric: Annotated[str, Field(min_length=1, max_length=64)]


# ------------------------------------------------------------------------------ reading


def _missing(partner_id: str, year: int | None = None) -> HTTPException:
    """The one answer for a plan that does not exist and one the caller may not see."""
    return HTTPException(
        404, f"no business plan for '{partner_id}'" + (f" in FY{year}" if year else "")
    )


def _visible(ctx: Ctx, partner_id: str) -> None:
    if ctx.user.role is Role.PARTNER_USER and partner_id != ctx.user.partner_id:
        raise _missing(partner_id)
    if not ctx.can_see(partner_id):
        raise _missing(partner_id)


def _run_id(ctx: Ctx) -> int | None:
    return ctx.served.data.run.run_id if ctx.served is not None else None


def plan_status(ctx: Ctx, partner_id: str, year: int | None) -> bp.PlanStatus:
    """The partner's plan tracked against the served run, if the caller may see it."""
    _visible(ctx, partner_id)
    try:
        plan = bp.get_plan(ctx.workspace, partner_id, year)
    except bp.BusinessPlanNotFoundError:
        raise _missing(partner_id, year) from None
    return bp.statuses(ctx.workspace, [plan], _run_id(ctx), namer(ctx))[0]


def milestone_out(words: Words, tracked: bp.Tracked) -> MilestoneOut:
    m = tracked.milestone
    return MilestoneOut(
        quarter=m.quarter,
        period=tracked.period,
        metric=m.metric,
        measure=words.metric(m.metric),
        target=m.target,
        target_text=words.of_metric(m.metric, m.target),
        actual=tracked.actual,
        actual_text=words.of_metric(m.metric, tracked.actual)
        if tracked.actual is not None
        else None,
        status=tracked.status,
        status_text=tracked.status_words,
        measured=tracked.measured(words),
        owner=m.owner,
        note=m.note,
    )


def plan_out(ctx: Ctx, found: bp.PlanStatus) -> PartnerPlanOut:
    """The plan as the caller may see it (a partner user: the partner model)."""
    words = ctx.workspace.words
    plan = found.plan
    content = plan.content
    mdf = content.get("mdf_amount")
    fields: dict[str, Any] = {
        "partner_id": plan.partner_id,
        "partner_name": found.partner_name,
        "fiscal_year": plan.fiscal_year,
        "version": plan.version,
        "status": plan.status,
        **{key: list(content.get(key) or []) for key in bp.LISTS},
        "mdf_amount": mdf,
        "mdf_text": words.money(mdf) if mdf is not None else None,
        "presales_days": content.get("presales_days"),
        "partner_owner": plan.partner_owner,
        "updated_at": plan.updated_at,
        "run_id": found.run_id,
        "as_of": found.as_of,
        "summary": found.summary(),
        "milestones": [milestone_out(words, t) for t in found.milestones],
    }
    versions = bp.history(ctx.workspace, plan.partner_id, plan.fiscal_year)
    if partner_view(ctx):
        history = [
            PartnerVersionOut(version=v.version, changed_at=v.changed_at, change=said)
            for v in versions
            if (said := v.partner_change())
        ]
        return PartnerPlanOut(**fields, history=history)
    return PlanOut(
        **fields,
        internal_note=content.get(bp.INTERNAL_NOTE),
        vendor_owner=plan.vendor_owner,
        updated_by=plan.updated_by,
        history=[
            VersionOut(
                version=v.version, changed_at=v.changed_at, change=v.change, changed_by=v.changed_by
            )
            for v in versions
        ],
    )


def summary_out(found: bp.PlanStatus) -> PlanSummaryOut:
    plan = found.plan
    return PlanSummaryOut(
        partner_id=plan.partner_id,
        partner_name=found.partner_name,
        fiscal_year=plan.fiscal_year,
        status=plan.status,
        version=plan.version,
        milestones=len(found.milestones),
        met=found.count(bp.MET),
        missed=found.count(bp.MISSED),
        at_risk=found.count(bp.AT_RISK),
        on_track=found.count(bp.ON_TRACK),
        upcoming=found.count(bp.UPCOMING),
        no_data=found.count(bp.NO_DATA),
        summary=found.summary(),
    )


def visible_statuses(ctx: Ctx, year: int | None = None) -> list[bp.PlanStatus]:
    """The plans of the partners the caller may see, missed and at risk first."""
    chosen = [
        p
        for p in bp.plans(ctx.workspace)
        if ctx.can_see(p.partner_id)
        and (ctx.user.role is not Role.PARTNER_USER or p.partner_id == ctx.user.partner_id)
        and (year is None or p.fiscal_year == year)
    ]
    return bp.statuses(ctx.workspace, chosen, _run_id(ctx), namer(ctx))


def chart(found: bp.PlanStatus, words: Words) -> dict[str, Any] | None:
    """Actual against target per quarter: each milestone's value as a share of its target
    (100% = the target), the measured value in its unit in the tooltip."""
    import altair as alt

    from partnerscope.reports.charts import template

    rows = [
        {
            "milestone": f"Q{t.milestone.quarter} {words.metric(t.milestone.metric)}",
            "achieved": (t.actual / t.milestone.target) if t.milestone.target else None,
            "status": t.status_words,
            "measured": t.measured(words),
        }
        for t in found.milestones
        if t.actual is not None
    ]
    if not rows:
        return None
    x = alt.X("milestone:N", sort=None, title=None)
    bars = (
        alt.Chart(alt.NamedData("values"))
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("achieved:Q", title="Actual (% of target)", axis=alt.Axis(format="%")),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["Met", "On track", "At risk", "Missed"],
                    range=["#2e7d32", "#558b2f", "#ef6c00", "#c62828"],
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["milestone:N", "status:N", "measured:N"],
        )
    )
    target = alt.Chart(alt.NamedData("values")).mark_rule(strokeDash=[4, 3]).encode(y=alt.datum(1))
    spec: dict[str, Any] = (
        alt.layer(bars, target).properties(width="container", height=180).to_dict()
    )
    spec["datasets"] = {"values": rows}
    spec["config"] = template("bars")["config"]
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


# ------------------------------------------------------------------------------ changing


def _content(given: PlanEditIn) -> dict[str, Any]:
    values = given.model_dump(exclude_unset=True)
    return {k: v for k, v in values.items() if k in bp.CONTENT}


def create(ctx: Ctx, given: PlanIn) -> bp.Plan:
    partner_id = ctx.acting_for(given.partner_id, "say whose plan it is")
    return bp.create(
        ctx.workspace,
        partner_id,
        given.fiscal_year,
        by=ctx.user.name,
        vendor_owner=given.vendor_owner,
        partner_owner=given.partner_owner,
        content=_content(given),
    )


def edit(ctx: Ctx, partner_id: str, year: int | None, given: PlanEditIn) -> bp.Plan:
    found = plan_status(ctx, partner_id, year)
    values = given.model_dump(exclude_unset=True)
    owners = {k: values[k] for k in bp.OWNERS if k in values}
    return bp.edit(
        ctx.workspace,
        partner_id,
        found.plan.fiscal_year,
        by=ctx.user.name,
        content=_content(given),
        owners=owners,
    )


def set_milestone(
    ctx: Ctx, partner_id: str, year: int | None, given: MilestoneIn, adding: bool | None
) -> bp.Plan:
    found = plan_status(ctx, partner_id, year)
    return bp.set_milestone(
        ctx.workspace,
        partner_id,
        found.plan.fiscal_year,
        quarter=given.quarter,
        metric=given.metric,
        target=given.target,
        owner=given.owner,
        note=given.note,
        by=ctx.user.name,
        adding=adding,
    )


def remove_milestone(ctx: Ctx, partner_id: str, year: int | None, given: MilestoneKeyIn) -> bp.Plan:
    found = plan_status(ctx, partner_id, year)
    return bp.remove_milestone(
        ctx.workspace,
        partner_id,
        found.plan.fiscal_year,
        quarter=given.quarter,
        metric=given.metric,
        by=ctx.user.name,
    )


def agree(ctx: Ctx, partner_id: str, year: int | None) -> bp.Plan:
    found = plan_status(ctx, partner_id, year)
    return bp.agree(ctx.workspace, partner_id, found.plan.fiscal_year, by=ctx.user.name)


# ------------------------------------------------------------------------------ API


@api.get("/business-plans", response_model=list[PlanSummaryOut])
def plans_api(ctx: Reader, year: YearQuery = None) -> list[PlanSummaryOut]:
    """The plans of the partners the caller may see (a partner user: its own), missed and at
    risk first."""
    return [summary_out(s) for s in visible_statuses(ctx, year)]


@api.get("/business-plans/{partner_id}", response_model=PlanOut | PartnerPlanOut)
def plan_api(ctx: Reader, partner_id: PartnerId, year: YearQuery = None) -> Response:
    """A partner's plan (the current fiscal year's by default) with each milestone's status
    and measured value, and its history."""
    return json_answer(plan_out(ctx, plan_status(ctx, partner_id, year)))


def _answer(ctx: Ctx, plan: bp.Plan, status: int = 200) -> Response:
    return json_answer(plan_out(ctx, plan_status(ctx, plan.partner_id, plan.fiscal_year)), status)


@api.post("/business-plans", response_model=PlanOut, status_code=201)
def create_api(ctx: Editor, given: PlanIn) -> Response:
    """Create a partner's plan for a fiscal year (a draft; audited)."""
    return _answer(ctx, create(ctx, given), 201)


@api.post("/business-plans/{partner_id}/edit", response_model=PlanOut)
def edit_api(
    ctx: Editor, partner_id: PartnerId, given: PlanEditIn, year: YearQuery = None
) -> Response:
    """Change the plan's fields given (a new version; an agreed plan becomes a draft)."""
    return _answer(ctx, edit(ctx, partner_id, year, given))


@api.post("/business-plans/{partner_id}/milestones", response_model=PlanOut)
def milestone_api(
    ctx: Editor, partner_id: PartnerId, given: MilestoneIn, year: YearQuery = None
) -> Response:
    """Add a milestone, or change the target, owner or note of the quarter's milestone on
    that metric."""
    return _answer(ctx, set_milestone(ctx, partner_id, year, given, None))


@api.post("/business-plans/{partner_id}/milestones/remove", response_model=PlanOut)
def remove_api(
    ctx: Editor, partner_id: PartnerId, given: MilestoneKeyIn, year: YearQuery = None
) -> Response:
    """Remove a milestone."""
    return _answer(ctx, remove_milestone(ctx, partner_id, year, given))


@api.post("/business-plans/{partner_id}/agree", response_model=PlanOut)
def agree_api(ctx: Editor, partner_id: PartnerId, year: YearQuery = None) -> Response:
    """Mark the plan agreed by both sides."""
    return _answer(ctx, agree(ctx, partner_id, year))


# ---------------------------------------------------------------------------- pages


def _list_page(request: Request, ctx: Ctx, *, errors: list[str], status: int) -> HTMLResponse:
    found = visible_statuses(ctx)
    return page(
        request,
        ctx,
        "business_plans.html.j2",
        status=status,
        title="Joint business plans",
        plans=[summary_out(s) for s in found],
        can_edit=ctx.user.role in EDITORS,
        partners=partner_choices(ctx),
        year=bp.current_year(ctx.workspace),
        name=namer(ctx),
        errors=errors,
    )


def _plan_page(
    request: Request,
    ctx: Ctx,
    partner_id: str,
    year: int | None,
    *,
    errors: list[str],
    status: int,
) -> HTMLResponse:
    found = plan_status(ctx, partner_id, year)
    shown = plan_out(ctx, found)
    words = ctx.workspace.words
    metrics = sorted(
        ((key, m.label) for key, m in bp.partner_metrics(ctx.workspace).items()),
        key=lambda pair: pair[1].lower(),
    )
    years = [p.fiscal_year for p in bp.plans(ctx.workspace, partner_id)]
    return page(
        request,
        ctx,
        "business_plan.html.j2",
        status=status,
        title=f"Joint business plan FY{shown.fiscal_year}: {shown.partner_name}",
        p=shown,
        chart=chart(found, words),
        years=years,
        metrics=metrics,
        can_edit=ctx.user.role in EDITORS,
        errors=errors,
    )


@pages.get("/business-plans", response_class=HTMLResponse, response_model=None)
def plans_page(request: Request, ctx: Reader) -> Response:
    """The plans, missed and at-risk milestones first (a partner user: its own plan)."""
    if ctx.user.role is Role.PARTNER_USER:
        return RedirectResponse(f"/business-plans/{ctx.user.partner_id}", status_code=303)
    return _list_page(request, ctx, errors=[], status=200)


@pages.get("/business-plans/{partner_id}", response_class=HTMLResponse)
def plan_page(
    request: Request, ctx: Reader, partner_id: PartnerId, year: YearQuery = None
) -> HTMLResponse:
    """One partner's plan: its content, milestones with their statuses, a chart of actual
    against target, history, and (staff) the forms to change it."""
    return _plan_page(request, ctx, partner_id, year, errors=[], status=200)


@pages.post("/business-plans", response_class=HTMLResponse, response_model=None)
def create_submit(
    request: Request,
    ctx: Editor,
    partner_id: Annotated[str, Form(max_length=300)] = "",
    fiscal_year: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    def act() -> bp.Plan:
        given = PlanIn(
            partner_id=picked_partner(ctx, partner_id) or "",
            fiscal_year=bp.check_year(fiscal_year),
        )
        return create(ctx, given)

    return form_action(
        act,
        lambda made: f"/business-plans/{made.partner_id}?year={made.fiscal_year}",
        lambda errors, status: _list_page(request, ctx, errors=errors, status=status),
        sees=ctx.can_see,
    )


def _plan_form(
    request: Request, ctx: Ctx, partner_id: str, year: int | None, act: Callable[[], bp.Plan]
) -> Response:
    return form_action(
        act,
        lambda made: f"/business-plans/{made.partner_id}?year={made.fiscal_year}",
        lambda errors, status: _plan_page(
            request, ctx, partner_id, year, errors=errors, status=status
        ),
        sees=ctx.can_see,
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(";", "\n").splitlines() if line.strip()]


@pages.post("/business-plans/{partner_id}/edit", response_class=HTMLResponse, response_model=None)
def edit_submit(
    request: Request,
    ctx: Editor,
    partner_id: PartnerId,
    year: YearQuery = None,
    target_markets: Annotated[str, Form(max_length=4000)] = "",
    target_products: Annotated[str, Form(max_length=4000)] = "",
    vendor_commitments: Annotated[str, Form(max_length=8000)] = "",
    partner_commitments: Annotated[str, Form(max_length=8000)] = "",
    mdf_amount: Annotated[str, Form(max_length=32)] = "",
    presales_days: Annotated[str, Form(max_length=32)] = "",
    internal_note: Annotated[str, Form(max_length=2000)] = "",
    vendor_owner: Annotated[str, Form(max_length=300)] = "",
    partner_owner: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    def act() -> bp.Plan:
        given = PlanEditIn(
            target_markets=_lines(target_markets),
            target_products=_lines(target_products),
            vendor_commitments=_lines(vendor_commitments),
            partner_commitments=_lines(partner_commitments),
            mdf_amount=mdf_amount.strip() or None,  # type: ignore[arg-type]
            presales_days=presales_days.strip() or None,  # type: ignore[arg-type]
            internal_note=internal_note.strip() or None,
            vendor_owner=vendor_owner.strip() or None,
            partner_owner=partner_owner.strip() or None,
        )
        return edit(ctx, partner_id, year, given)

    return _plan_form(request, ctx, partner_id, year, act)


@pages.post(
    "/business-plans/{partner_id}/milestones", response_class=HTMLResponse, response_model=None
)
def milestone_submit(
    request: Request,
    ctx: Editor,
    partner_id: PartnerId,
    year: YearQuery = None,
    quarter: Annotated[str, Form(max_length=12)] = "",
    metric: Annotated[str, Form(max_length=64)] = "",
    target: Annotated[str, Form(max_length=32)] = "",
    owner: Annotated[str | None, Form(max_length=300)] = None,
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    def act() -> bp.Plan:
        given = MilestoneIn(
            quarter=quarter.strip(),
            metric=metric.strip(),
            target=target.strip() or None,
            # a field left empty keeps the milestone's owner or note
            owner=(owner or "").strip() or None,
            note=(note or "").strip() or None,
        )
        return set_milestone(ctx, partner_id, year, given, None)

    return _plan_form(request, ctx, partner_id, year, act)


@pages.post(
    "/business-plans/{partner_id}/milestones/remove",
    response_class=HTMLResponse,
    response_model=None,
)
def remove_submit(
    request: Request,
    ctx: Editor,
    partner_id: PartnerId,
    year: YearQuery = None,
    milestone: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    def act() -> bp.Plan:
        quarter, _, metric = milestone.partition(":")
        given = MilestoneKeyIn(quarter=quarter.strip(), metric=metric.strip())
        return remove_milestone(ctx, partner_id, year, given)

    return _plan_form(request, ctx, partner_id, year, act)


@pages.post("/business-plans/{partner_id}/agree", response_class=HTMLResponse, response_model=None)
def agree_submit(
    request: Request, ctx: Editor, partner_id: PartnerId, year: YearQuery = None
) -> Response:
    return _plan_form(request, ctx, partner_id, year, lambda: agree(ctx, partner_id, year))


def hub_milestones(
    ctx: Ctx, partner_id: str, period: str | None = None
) -> tuple[PartnerPlanOut | None, str | None]:
    """The partner's plan for the hub and the portal home, and where to read it (None, None
    when it has none or the caller may not see it): the plan of the fiscal year of ``period``
    (the period the page shows, e.g. FY2026-Q4) if it has one, else its current plan."""
    from partnerscope.errors import PartnerscopeError
    from partnerscope.metrics.calendar import FiscalCalendar

    year = None
    if period:
        try:
            start = ctx.workspace.config.workspace.fiscal_year_start_month
            year = FiscalCalendar(start).parse(period).fiscal_year
        except PartnerscopeError:
            year = None
    try:
        try:
            found = plan_status(ctx, partner_id, year)
        except HTTPException:
            if year is None:
                raise
            found = plan_status(ctx, partner_id, None)
    except HTTPException:
        return None, None
    shown = plan_out(ctx, found)
    return shown, f"/business-plans/{partner_id}?year={shown.fiscal_year}"


def missed_milestones(ctx: Ctx, partner_id: str) -> list[str]:
    """The partner's missed milestones to list with its open improvement plan, in words
    (``[business_plans] improvement_plan``; staff only)."""
    if partner_view(ctx) or not ctx.can_see(partner_id):
        return []
    words = ctx.workspace.words
    return [
        f"FY{t.fiscal_year} {t.sentence(words)}"
        for t in bp.missed_for_improvement(ctx.workspace, partner_id, names=namer(ctx))
    ]
