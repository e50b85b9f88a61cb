"""The onboarding pages and API of the web app (docs/lifecycle.md, "Onboarding").

Who may do what:

- admins and partner managers see the plans of the partners they may see (stalled and overdue
  first), start plans, complete tasks with evidence and skip them with a reason; analysts read;
- a partner user sees its own partner's plan only (``/onboarding`` shows it; another
  partner's id is 404, worded as for one without a plan) and completes the tasks whose owner is
  "partner", with evidence. It is not shown who at the vendor closed a task, nor the evidence
  of the vendor's own tasks, nor the application the plan came from.

Plans are judged on the day of the data: the served run's as-of date (else today); the tasks
the data closes are closed when a page or answer is built.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.clock import now_utc
from partnerscope.lifecycle import onboarding as ob
from partnerscope.lifecycle.onboarding_measures import Measures, measures
from partnerscope.reports import charts
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.params import Day
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import namer, partner_choices, picked_partner
from partnerscope.web.security import Ctx, allow

if TYPE_CHECKING:
    from collections.abc import Callable

pages = APIRouter()
api = APIRouter(tags=["onboarding"])

STAFF = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER)
READERS = (*STAFF, Role.PARTNER_USER)
MANAGERS = (Role.ADMIN, Role.PARTNER_MANAGER)
COMPLETERS = (*MANAGERS, Role.PARTNER_USER)
Staff = Annotated[Ctx, Depends(allow(*STAFF))]
Reader = Annotated[Ctx, Depends(allow(*READERS))]
Manager = Annotated[Ctx, Depends(allow(*MANAGERS))]
Completer = Annotated[Ctx, Depends(allow(*COMPLETERS))]
PartnerId = Annotated[str, Path(min_length=1, max_length=64)]
TaskKey = Annotated[str, Path(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=ob.MAX_EVIDENCE)]
PARTNER_OWNER = "partner"


class PartnerTaskOut(BaseModel):
    """A task as the partner sees it: what, whose, when due and where it stands; the evidence
    of its own tasks and of what the data closed, not of the vendor's."""

    key: str
    title: str
    phase: str
    owner: str
    due_on: date
    #: open, done or skipped
    status: str
    overdue: bool
    closed_on: date | None
    closed_by_data: bool
    evidence: str | None
    #: whether the caller may complete it now
    can_complete: bool


class TaskOut(PartnerTaskOut):
    outcome: str | None
    requires: list[str]
    completed_by: str | None


class PhaseOut(BaseModel):
    name: str
    #: the last due date of its tasks
    due_on: date
    #: "done on schedule", "done late", "on schedule" or "behind"
    state: str
    on_schedule: bool
    tasks_closed: int
    tasks: list[PartnerTaskOut] | list[TaskOut]


class PartnerPlanOut(BaseModel):
    partner_id: str
    started_on: date
    #: the day it is judged on
    as_of: date
    tasks_closed: int
    tasks: int
    progress_percent: int
    current_phase: str | None
    overdue: int
    stalled: bool
    days_since_last_task: int
    phases: list[PhaseOut]


class PlanOut(PartnerPlanOut):
    application_id: int | None
    created_by: str
    template: str


class PlanSummaryOut(BaseModel):
    partner_id: str
    name: str
    started_on: date
    tasks_closed: int
    tasks: int
    progress_percent: int
    current_phase: str | None
    overdue: int
    stalled: bool
    days_since_last_task: int


class TimeToOut(BaseModel):
    milestone: str
    label: str
    partners: int
    reached: int
    median_days: float | None


class FunnelOut(BaseModel):
    month: str
    joined: int
    certified: int
    registered: int
    won: int


class CohortOut(BaseModel):
    cohort: str
    phase: str
    plans_judged: int
    on_schedule: int
    share_percent: int | None


class RampOut(BaseModel):
    cohort: str
    month: int
    partners: int
    revenue_per_partner: float


class MeasuresOut(BaseModel):
    as_of: date
    partners: int
    time_to: list[TimeToOut]
    funnel: list[FunnelOut]
    cohorts: list[CohortOut]
    ramp: list[RampOut]


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: Annotated[str, Field(min_length=1, max_length=64)]
    #: the plan's first day (default: the day of the data)
    started_on: Day | None = None


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence: Text


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


# ----------------------------------------------------------------------------- service


def as_of(ctx: Ctx) -> date:
    """The day plans are judged on: the served run's as-of date, else today."""
    if ctx.served is not None:
        return date.fromisoformat(str(ctx.served.data.run.as_of)[:10])
    return ob.judged_on(ctx.workspace)


def _missing(partner_id: str) -> HTTPException:
    """The one answer for a partner without a plan and one the caller may not see."""
    return HTTPException(404, f"no onboarding plan for {partner_id!r}")


def _visible(ctx: Ctx, partner_id: str) -> None:
    if ctx.user.role is Role.PARTNER_USER:
        if partner_id != ctx.user.partner_id:
            raise _missing(partner_id)
    elif not ctx.can_see(partner_id):
        raise _missing(partner_id)


def _may_complete(ctx: Ctx, task: ob.Task, found: ob.Plan) -> bool:
    if not task.is_open or ctx.user.role not in COMPLETERS:
        return False
    if ctx.user.role is Role.PARTNER_USER and not task.for_partner:
        return False
    return all(not found.task(r).is_open for r in task.requires if found.has(r))


def _task_out(ctx: Ctx, task: ob.Task, found: ob.PlanStatus) -> PartnerTaskOut:
    shown: dict[str, Any] = {
        "key": task.key,
        "title": task.title,
        "phase": task.phase,
        "owner": task.owner,
        "due_on": task.due_on,
        "status": task.status.value,
        "overdue": task.overdue(found.today),
        "closed_on": task.completed_at.date() if task.completed_at else None,
        "closed_by_data": task.closed_by_data,
        "evidence": task.evidence,
        "can_complete": _may_complete(ctx, task, found.plan),
    }
    if partner_view(ctx):
        if not (task.for_partner or task.closed_by_data):
            shown["evidence"] = None
        return PartnerTaskOut(**shown)
    return TaskOut(
        **shown,
        outcome=task.outcome,
        requires=list(task.requires),
        completed_by=task.completed_by,
    )


def plan_out(ctx: Ctx, found: ob.PlanStatus) -> PartnerPlanOut:
    phases = [
        PhaseOut(
            name=p.name,
            due_on=p.due_on,
            state=p.state.value,
            on_schedule=p.state.on_schedule,
            tasks_closed=p.closed,
            tasks=[_task_out(ctx, t, found) for t in p.tasks],
        )
        for p in found.phases
    ]
    shown: dict[str, Any] = {
        "partner_id": found.plan.partner_id,
        "started_on": found.plan.started_on,
        "as_of": found.today,
        "tasks_closed": found.done,
        "tasks": found.total,
        "progress_percent": round(100 * found.progress),
        "current_phase": found.current_phase,
        "overdue": len(found.overdue),
        "stalled": found.stalled,
        "days_since_last_task": max(0, found.idle_days),
        "phases": phases,
    }
    if partner_view(ctx):
        return PartnerPlanOut(**shown)
    return PlanOut(
        **shown,
        application_id=found.plan.application_id,
        created_by=found.plan.created_by,
        template=found.plan.template,
    )


def visible_status(ctx: Ctx, partner_id: str) -> ob.PlanStatus:
    _visible(ctx, partner_id)
    try:
        return ob.status(ctx.workspace, partner_id, as_of(ctx))
    except ob.PlanNotFoundError:
        raise _missing(partner_id) from None


def visible_statuses(ctx: Ctx) -> list[ob.PlanStatus]:
    found = ob.statuses(ctx.workspace, as_of(ctx))
    return [s for s in found if ctx.can_see(s.plan.partner_id)]


def summary_out(ctx: Ctx, found: ob.PlanStatus, name: Callable[[str], str]) -> PlanSummaryOut:
    pid = found.plan.partner_id
    return PlanSummaryOut(
        partner_id=pid,
        name=name(pid),
        started_on=found.plan.started_on,
        tasks_closed=found.done,
        tasks=found.total,
        progress_percent=round(100 * found.progress),
        current_phase=found.current_phase,
        overdue=len(found.overdue),
        stalled=found.stalled,
        days_since_last_task=max(0, found.idle_days),
    )


def visible_measures(ctx: Ctx) -> Measures:
    visible = ctx.visible
    return measures(
        ctx.workspace, as_of(ctx), partner_ids=None if visible is None else set(visible)
    )


def measures_out(found: Measures) -> MeasuresOut:
    return MeasuresOut(
        as_of=found.today,
        partners=len(found.partners),
        time_to=[
            TimeToOut(
                milestone=t.milestone,
                label=t.label,
                partners=t.partners,
                reached=t.reached,
                median_days=t.median_days,
            )
            for t in found.time_to
        ],
        funnel=[
            FunnelOut(
                month=f.month,
                joined=f.joined,
                certified=f.certified,
                registered=f.registered,
                won=f.won,
            )
            for f in found.funnel
        ],
        cohorts=[
            CohortOut(
                cohort=c.cohort,
                phase=c.phase,
                plans_judged=c.judged,
                on_schedule=c.on_schedule,
                share_percent=None if c.share is None else round(100 * c.share),
            )
            for c in found.cohorts
        ],
        ramp=[
            RampOut(
                cohort=r.cohort,
                month=r.month,
                partners=r.partners,
                revenue_per_partner=round(r.revenue_per_partner, 2),
            )
            for r in found.ramp
        ],
    )


def ramp_chart(ctx: Ctx, found: Measures) -> dict[str, Any] | None:
    """Won revenue per partner by month since joining, one line per quarter of joining."""
    if not found.ramp:
        return None
    rows = [
        {"cohort": f"Joined {r.cohort}", "month": r.month, "value": round(r.revenue_per_partner)}
        for r in found.ramp
    ]
    currency = ctx.workspace.words.currency
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Ramp: won revenue per partner by month since joining",
        "data": {"values": rows},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {
                "field": "month",
                "type": "ordinal",
                "title": "Month since joining",
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": f"Won revenue per partner ({currency})",
                "axis": {"format": "~s"},
            },
            "color": {
                "field": "cohort",
                "type": "nominal",
                "title": None,
                "scale": {"range": charts.PALETTE},
                "legend": {"orient": "bottom"},
            },
            "tooltip": [
                {"field": "cohort", "type": "nominal", "title": "Cohort"},
                {"field": "month", "type": "ordinal", "title": "Month"},
                {"field": "value", "type": "quantitative", "title": currency, "format": ",.0f"},
            ],
        },
        "width": "container",
        "height": 220,
    }
    spec["config"] = charts.template("line")["config"]
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    return spec


def start(ctx: Ctx, given: StartIn) -> str:
    partner_id = ctx.acting_for(given.partner_id, "say which partner starts onboarding")
    ob.start_plan(
        ctx.workspace, partner_id, started_on=given.started_on or as_of(ctx), by=ctx.user.name
    )
    return partner_id


def complete(ctx: Ctx, partner_id: str, task: str, given: EvidenceIn) -> ob.Task:
    _visible(ctx, partner_id)
    return ob.complete(
        ctx.workspace,
        partner_id,
        task,
        evidence=given.evidence,
        by=ctx.user.name,
        owner=PARTNER_OWNER if ctx.user.role is Role.PARTNER_USER else None,
        now=now_utc(whole_seconds=True),
    )


def skip(ctx: Ctx, partner_id: str, task: str, given: ReasonIn) -> ob.Task:
    _visible(ctx, partner_id)
    return ob.skip(
        ctx.workspace,
        partner_id,
        task,
        reason=given.reason,
        by=ctx.user.name,
        now=now_utc(whole_seconds=True),
    )


def _task_answer(ctx: Ctx, partner_id: str, key: str) -> PartnerTaskOut:
    found = visible_status(ctx, partner_id)
    return _task_out(ctx, found.plan.task(key), found)


# -------------------------------------------------------------------------------- API


@api.get("/onboarding", response_model=list[PlanSummaryOut])
def plans_api(ctx: Reader) -> Response:
    """The onboarding plans of the partners the caller may see, stalled and overdue first (a
    partner user: its own)."""
    name = namer(ctx)
    return json_answer([summary_out(ctx, s, name) for s in visible_statuses(ctx)])


@api.get("/onboarding/measures", response_model=MeasuresOut)
def measures_api(ctx: Staff) -> MeasuresOut:
    """Time to first certification, registered and won deal; the funnel and the share on
    schedule by month of joining; ramp curves by quarter of joining."""
    return measures_out(visible_measures(ctx))


@api.get("/onboarding/{partner_id}", response_model=PlanOut | PartnerPlanOut)
def plan_api(ctx: Reader, partner_id: PartnerId) -> Response:
    """One partner's plan by phase (a partner user: its own only, in the partner view)."""
    return json_answer(plan_out(ctx, visible_status(ctx, partner_id)))


@api.post("/onboarding", response_model=PlanOut, status_code=201)
def start_api(ctx: Manager, given: StartIn) -> Response:
    """Start a partner's plan from the [onboarding] template (audited)."""
    partner_id = start(ctx, given)
    return json_answer(plan_out(ctx, visible_status(ctx, partner_id)), status=201)


@api.post(
    "/onboarding/{partner_id}/tasks/{task}/complete",
    response_model=TaskOut | PartnerTaskOut,
)
def complete_api(
    ctx: Completer, partner_id: PartnerId, task: TaskKey, given: EvidenceIn
) -> Response:
    """Complete a task with its evidence; refused while a prerequisite is open (audited). A
    partner user completes its own plan's tasks whose owner is the partner."""
    complete(ctx, partner_id, task, given)
    return json_answer(_task_answer(ctx, partner_id, task))


@api.post("/onboarding/{partner_id}/tasks/{task}/skip", response_model=TaskOut)
def skip_api(ctx: Manager, partner_id: PartnerId, task: TaskKey, given: ReasonIn) -> Response:
    """Skip a task that does not apply to the partner, with the reason (audited)."""
    skip(ctx, partner_id, task, given)
    return json_answer(_task_answer(ctx, partner_id, task))


# ------------------------------------------------------------------------------ pages


def _list_page(request: Request, ctx: Ctx, *, errors: list[str], status: int) -> HTMLResponse:
    name = namer(ctx)
    found = visible_measures(ctx)
    return page(
        request,
        ctx,
        "onboarding.html.j2",
        status=status,
        title="Onboarding",
        plans=[summary_out(ctx, s, name) for s in visible_statuses(ctx)],
        m=measures_out(found),
        chart=ramp_chart(ctx, found),
        can_start=ctx.user.role in MANAGERS,
        partners=partner_choices(ctx),
        name=name,
        errors=errors,
    )


def _plan_page(
    request: Request, ctx: Ctx, partner_id: str, *, errors: list[str], status: int
) -> HTMLResponse:
    _visible(ctx, partner_id)
    name = namer(ctx)(partner_id)
    try:
        found: PartnerPlanOut | None = plan_out(ctx, visible_status(ctx, partner_id))
    except HTTPException:
        # a partner one may see without a plan yet: said so (404 for one that does not exist)
        from partnerscope.warehouse import partner_names

        if partner_id not in partner_names(ctx.workspace):
            raise _missing(partner_id) from None
        found = None
    return page(
        request,
        ctx,
        "onboarding_plan.html.j2",
        status=status,
        title=f"Onboarding: {name}",
        p=found,
        partner_id=partner_id,
        can_skip=ctx.user.role in MANAGERS,
        can_start=ctx.user.role in MANAGERS,
        errors=errors,
    )


@pages.get("/onboarding", response_class=HTMLResponse, response_model=None)
def onboarding_page(request: Request, ctx: Reader) -> Response:
    """Staff: the plans (stalled and overdue first) and the onboarding measures; a partner user:
    its own plan (the link of its portal)."""
    if ctx.user.role is Role.PARTNER_USER:
        own = ctx.user.partner_id or ""
        return _plan_page(request, ctx, own, errors=[], status=200)
    return _list_page(request, ctx, errors=[], status=200)


@pages.get("/onboarding/{partner_id}", response_class=HTMLResponse)
def plan_page(request: Request, ctx: Reader, partner_id: PartnerId) -> HTMLResponse:
    """One partner's plan by phase, with the forms to complete or skip its tasks."""
    return _plan_page(request, ctx, partner_id, errors=[], status=200)


@pages.post("/onboarding", response_class=HTMLResponse, response_model=None)
def start_submit(
    request: Request,
    ctx: Manager,
    partner_id: Annotated[str, Form(max_length=300)] = "",
    started_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def act() -> str:
        given = StartIn(
            partner_id=picked_partner(ctx, partner_id) or "",
            started_on=started_on.strip() or None,  # type: ignore[arg-type]
        )
        return start(ctx, given)

    return form_action(
        act,
        lambda pid: f"/onboarding/{pid}",
        lambda errors, status: _list_page(request, ctx, errors=errors, status=status),
        sees=ctx.can_see,
    )


def _task_form(request: Request, ctx: Ctx, partner_id: str, act: Callable[[], Any]) -> Response:
    _visible(ctx, partner_id)
    return form_action(
        act,
        f"/onboarding/{partner_id}",
        lambda errors, status: _plan_page(request, ctx, partner_id, errors=errors, status=status),
        sees=ctx.can_see,
    )


@pages.post(
    "/onboarding/{partner_id}/tasks/{task}/complete",
    response_class=HTMLResponse,
    response_model=None,
)
def complete_submit(
    request: Request,
    ctx: Completer,
    partner_id: PartnerId,
    task: TaskKey,
    evidence: Annotated[str, Form(max_length=ob.MAX_EVIDENCE)] = "",
) -> Response:
    return _task_form(
        request,
        ctx,
        partner_id,
        lambda: complete(ctx, partner_id, task, EvidenceIn(evidence=evidence.strip())),
    )


@pages.post(
    "/onboarding/{partner_id}/tasks/{task}/skip", response_class=HTMLResponse, response_model=None
)
def skip_submit(
    request: Request,
    ctx: Manager,
    partner_id: PartnerId,
    task: TaskKey,
    reason: Annotated[str, Form(max_length=ob.MAX_EVIDENCE)] = "",
) -> Response:
    return _task_form(
        request,
        ctx,
        partner_id,
        lambda: skip(ctx, partner_id, task, ReasonIn(reason=reason.strip())),
    )
