"""A partner's improvement plan: read, update (owner, actions, notes, check-ins) and close it.

Analysts and admins change any partner's plan; a partner manager changes the plans of the
partners they can see (any other partner is answered 404, like one that does not exist);
partner users read their plan on their scorecard but do not change it (403). Every change goes
through :mod:`partnerscope.evaluation.plans`, which writes the audit entry with it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.errors import PartnerscopeError
from partnerscope.web.render import located, page
from partnerscope.web.security import STAFF, Ctx, allow

if TYPE_CHECKING:
    from partnerscope.evaluation.plans import Plan

pages = APIRouter()
api = APIRouter(tags=["plans"])

Staff = Annotated[Ctx, Depends(allow(*STAFF))]
PartnerId = Annotated[str, Path(min_length=1, max_length=64, description="e.g. P0001")]
Action = Annotated[str, Field(min_length=1, max_length=400)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class ProgressOut(BaseModel):
    run_id: int
    period: str
    score: float | None
    still_flagged: bool


class PlanOut(BaseModel):
    partner_id: str
    status: str
    opened_run: int
    opened_on: date
    reasons: list[str]
    owner: str | None
    actions: list[str]
    check_ins: list[date]
    next_check_in: date | None
    notes: str
    baseline_period: str
    baseline_score: float | None
    latest_score: float | None
    change: float | None
    progress: list[ProgressOut]
    closed_on: date | None
    closed_reason: str | None


class PlanIn(BaseModel):
    """What to change; a field left out (null) is kept. ``actions`` replaces the list."""

    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str | None, Field(max_length=120)] = None
    actions: Annotated[list[Action] | None, Field(max_length=30)] = None
    add_actions: Annotated[list[Action], Field(max_length=30)] = Field(default_factory=list)
    check_ins: Annotated[list[Day], Field(max_length=30)] = Field(default_factory=list)
    notes: Annotated[str | None, Field(max_length=4000)] = None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        **plan.model_dump(exclude={"progress"}),
        next_check_in=plan.next_check_in(date.today()),
        latest_score=plan.latest_score,
        change=plan.change,
        progress=[ProgressOut(**p.model_dump()) for p in plan.progress],
    )


def current_plan(ctx: Ctx, partner_id: str) -> Plan:
    """The partner's open plan, else its latest closed one (404 when it never had one)."""
    from fastapi import HTTPException

    from partnerscope.evaluation import plans

    pid = ctx.partner(partner_id)
    book = plans.load(ctx.workspace.state_dir)
    found = book.open_plan(pid) or next(
        (p for p in reversed(book.plans) if p.partner_id == pid), None
    )
    if found is None:
        raise HTTPException(
            404,
            f"partner {pid!r} has no improvement plan; `partnerscope run` opens one when a "
            "partner is flagged for improvement",
        )
    return found


def _forget_cached_plans(ctx: Ctx) -> None:
    """The served data includes the plans (and the pages built from them): have the server
    read them afresh on the next request, so that the partner page shows the change at once."""
    ctx.state.current.refresh()


def update(ctx: Ctx, partner_id: str, given: PlanIn) -> Plan:
    from partnerscope.evaluation import plans

    pid = ctx.partner(partner_id)
    plan = plans.update_plan(
        ctx.workspace,
        pid,
        by=ctx.user.name,
        owner=given.owner,
        actions=given.actions,
        add_actions=given.add_actions,
        check_ins=given.check_ins,
        notes=given.notes,
    )
    _forget_cached_plans(ctx)
    return plan


def close(ctx: Ctx, partner_id: str, given: CloseIn) -> Plan:
    from partnerscope.evaluation import plans

    pid = ctx.partner(partner_id)
    plan = plans.close_plan(ctx.workspace, pid, by=ctx.user.name, reason=given.reason)
    _forget_cached_plans(ctx)
    return plan


# ---------------------------------------------------------------- JSON API


@api.get("/partners/{partner_id}/plan", response_model=PlanOut)
def plan_api(ctx: Staff, partner_id: PartnerId) -> PlanOut:
    """The partner's open improvement plan (or its latest closed one)."""
    return plan_out(current_plan(ctx, partner_id))


@api.post("/partners/{partner_id}/plan", response_model=PlanOut)
def plan_update_api(ctx: Staff, partner_id: PartnerId, given: PlanIn) -> PlanOut:
    """Set the owner or notes, replace or add actions, add check-in dates (audited)."""
    return plan_out(update(ctx, partner_id, given))


@api.post("/partners/{partner_id}/plan/close", response_model=PlanOut)
def plan_close_api(ctx: Staff, partner_id: PartnerId, given: CloseIn) -> PlanOut:
    """Close the partner's open plan with the reason (audited)."""
    return plan_out(close(ctx, partner_id, given))


# ---------------------------------------------------------------- pages


def _plan_page(
    request: Request, ctx: Ctx, partner_id: str, *, errors: list[str], status: int
) -> HTMLResponse:
    plan = current_plan(ctx, partner_id)
    return page(
        request,
        ctx,
        "plan.html.j2",
        status=status,
        title=f"Improvement plan of {ctx.data.partner_name(plan.partner_id)}",
        subtitle=plan.partner_id,
        plan=plan,
        errors=errors,
        today=date.today(),
    )


@pages.get("/partners/{partner_id}/plan", response_class=HTMLResponse)
def plan_page(request: Request, ctx: Staff, partner_id: PartnerId) -> HTMLResponse:
    """The plan with its forms (the partner page links here)."""
    return _plan_page(request, ctx, partner_id, errors=[], status=200)


@pages.post("/partners/{partner_id}/plan", response_class=HTMLResponse, response_model=None)
def plan_submit(
    request: Request,
    ctx: Staff,
    partner_id: PartnerId,
    owner: Annotated[str, Form(max_length=120)] = "",
    actions: Annotated[str, Form(max_length=12_000)] = "",
    notes: Annotated[str, Form(max_length=4000)] = "",
    check_in: Annotated[date | None, Form()] = None,
) -> Response:
    """Replace the owner, the actions (one a line) and the notes; add a check-in date."""
    from pydantic import ValidationError

    try:
        given = PlanIn(
            owner=owner,
            actions=[line.strip() for line in actions.splitlines() if line.strip()],
            notes=notes,
            check_ins=[check_in] if check_in else [],
        )
        update(ctx, partner_id, given)
    except ValidationError as exc:
        errors = located(exc.errors())
        return _plan_page(request, ctx, partner_id, errors=errors, status=422)
    except PartnerscopeError as exc:
        return _plan_page(request, ctx, partner_id, errors=[str(exc)], status=400)
    return RedirectResponse(f"/partners/{partner_id}/plan", status_code=303)


@pages.post("/partners/{partner_id}/plan/close", response_class=HTMLResponse, response_model=None)
def plan_close_submit(
    request: Request,
    ctx: Staff,
    partner_id: PartnerId,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Close the plan; the reason is required."""
    if not reason.strip():
        return _plan_page(
            request,
            ctx,
            partner_id,
            errors=["reason: say why the plan is closed (improved, exited, replaced…)"],
            status=422,
        )
    try:
        close(ctx, partner_id, CloseIn(reason=reason.strip()))
    except PartnerscopeError as exc:
        return _plan_page(request, ctx, partner_id, errors=[str(exc)], status=400)
    return RedirectResponse(f"/partners/{partner_id}/plan", status_code=303)
