"""Routed leads in the web app: the assignments and their explanations, first touches,
declines and outcomes, and routing a batch.

Who may do what (docs/web.md has the table):

- a partner user sees the leads routed to its own partner, and records their first touch, a
  decline (the lead is re-routed) or the outcome; a partner manager does the same for their
  partners; admins for any partner;
- analysts and admins route a batch of leads (a file on the page, rows in the API) and run the
  SLA check (breaches re-routed);
- who else was eligible, and the partners named in an explanation, are shown to analysts and
  admins in full; anyone else sees only the partners they may see ("another partner").

Every step goes through :mod:`partnerscope.operations.routing.service`, which checks it,
refuses with the reason and writes the audit entry with the change.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import UTC
from decimal import Decimal
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.clock import now_utc
from partnerscope.operations.routing import service
from partnerscope.operations.routing.store import OPEN, Assignment, LeadNotFoundError, Status
from partnerscope.reports import charts
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.params import Moment, Offset, Seed
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import namer, naming
from partnerscope.web.security import ANALYSTS, Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from collections.abc import Callable

pages = APIRouter()
api = APIRouter(tags=["leads"])

#: who reads leads, and who works them (touch, decline, close)
READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)
WORKERS = (Role.ADMIN, Role.PARTNER_MANAGER, Role.PARTNER_USER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
Worker = Annotated[Ctx, Depends(allow(*WORKERS))]
Router = Annotated[Ctx, Depends(allow(*ANALYSTS))]
LeadId = Annotated[str, Path(min_length=1, max_length=128)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
#: a routing file uploaded on the page
MAX_UPLOAD = 50 * 1024 * 1024
UPLOADS = (".csv", ".txt", ".xlsx", ".parquet")


class EligibleOut(BaseModel):
    #: the partners considered (up to ``[routing] keep_eligible``; those the caller may see)
    ids: list[str]
    count: int
    #: partners left out, per reason
    excluded: dict[str, int]


class PartnerAssignmentOut(BaseModel):
    """An assignment as the partner it is with sees it (docs/web.md, "What a partner user
    sees"): the lead and what qualified the partner, nothing of other partners or of how it
    was picked among them."""

    lead_id: str
    partner_id: str | None
    status: str
    #: why this partner, in words
    reason: str
    assigned_at: UtcDateTime
    sla_due_at: UtcDateTime | None
    first_touch_at: UtcDateTime | None
    closed_at: UtcDateTime | None
    closed_reason: str | None
    estimated_value: Decimal | None
    currency: str | None
    country: str | None
    product: str | None


class AssignmentOut(PartnerAssignmentOut):
    """An assignment as staff see it: how it was routed, and who else was eligible."""

    attempt: int
    queue: str | None
    band: str
    rule: str
    eligible: EligibleOut | None
    distance_km: float | None
    #: the partner whose decline or SLA breach sent the lead here (null: a first attempt, or
    #: a partner the caller may not see), and which of the two
    rerouted_from: str | None
    rerouted_after: str | None


class PartnerLeadOut(BaseModel):
    lead_id: str
    attempts: list[PartnerAssignmentOut]


class LeadOut(BaseModel):
    lead_id: str
    attempts: list[AssignmentOut]


class LeadIn(BaseModel):
    """A lead to route: the columns of a routing file (docs/routing.md)."""

    model_config = ConfigDict(extra="forbid")

    lead_id: Annotated[str, Field(min_length=1, max_length=128)]
    estimated_value: Annotated[Decimal | None, Field(ge=0, max_digits=16, decimal_places=2)] = None
    currency: Annotated[str | None, Field(max_length=3)] = None
    country: Annotated[str | None, Field(max_length=64)] = None
    region: Annotated[str | None, Field(max_length=64)] = None
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None
    product: Annotated[str | None, Field(max_length=200)] = None
    source: Annotated[str | None, Field(max_length=200)] = None


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: Annotated[list[LeadIn], Field(min_length=1, max_length=10_000)]
    #: overrides ``[routing] seed``
    seed: Seed | None = None


class BatchOut(BaseModel):
    routed: list[AssignmentOut]
    #: leads of the batch routed before (not routed again)
    already_routed: list[str]
    #: rows that could not be routed: where and how to fix them
    problems: list[str]


class Rerouted(BaseModel):
    breached: AssignmentOut
    new: AssignmentOut


class WorkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the partner working the lead (a partner user's own; default: the lead's current one)
    partner_id: Annotated[str | None, Field(max_length=64)] = None


class TouchIn(WorkIn):
    #: when the partner first contacted the lead (default: now)
    at: Moment | None = None


class DeclineIn(WorkIn):
    reason: Text


class CloseIn(WorkIn):
    converted: bool
    reason: Annotated[str | None, Field(max_length=2000)] = None


# ------------------------------------------------------------------------- visibility


def assignment_out(ctx: Ctx, found: Assignment) -> PartnerAssignmentOut:
    """The assignment as the caller may see it: a partner user's own, told only what concerns
    it (:func:`partner_assignment`); staff, :func:`staff_assignment`."""
    return partner_assignment(found) if partner_view(ctx) else staff_assignment(ctx, found)


def _shared(found: Assignment) -> dict[str, Any]:
    return {
        "lead_id": found.lead_id,
        "partner_id": found.partner_id,
        "status": found.status.value,
        "assigned_at": found.assigned_at,
        "sla_due_at": found.sla_due_at,
        "first_touch_at": found.first_touch_at,
        "closed_at": found.closed_at,
        "closed_reason": found.closed_reason,
        "estimated_value": found.estimated_value,
        "currency": found.currency,
        "country": found.country,
        "product": found.product,
    }


def partner_assignment(found: Assignment) -> PartnerAssignmentOut:
    told = found.partner_reason or "routed to you as a partner that covers it"
    return PartnerAssignmentOut(reason=told, **_shared(found))


def staff_assignment(ctx: Ctx, found: Assignment) -> AssignmentOut:
    """The assignment in full, naming only partners the caller may see (the others as
    "another partner"), decided from the stored data whoever else the lead went to."""
    came_from = found.rerouted_from
    return AssignmentOut(
        reason=found.explained(ctx.can_see),
        attempt=found.attempt,
        queue=found.queue,
        band=found.band,
        rule=found.rule,
        eligible=EligibleOut(
            ids=[pid for pid in found.eligible.get("ids", []) if ctx.can_see(pid)],
            count=int(found.eligible.get("count", 0)),
            excluded=dict(found.eligible.get("excluded", {})),
        ),
        distance_km=found.distance_km,
        rerouted_from=came_from if came_from and ctx.can_see(came_from) else None,
        rerouted_after=None if found.rerouted_after is None else found.rerouted_after.value,
        **_shared(found),
    )


def _outs(ctx: Ctx, found: list[Assignment]) -> list[PartnerAssignmentOut]:
    return [assignment_out(ctx, a) for a in found]


def visible_attempts(
    ctx: Ctx, lead_id: str, history: list[Assignment] | None = None
) -> list[Assignment]:
    """The lead's attempts (``history``, else read) to partners the caller may see (404 when
    there is none)."""
    if history is None:
        history = _history(ctx, lead_id)
    attempts = [a for a in history if _sees(ctx, a)]
    if not attempts:
        raise _missing(lead_id)
    return attempts


def _history(ctx: Ctx, lead_id: str) -> list[Assignment]:
    try:
        return service.lead_history(ctx.workspace, lead_id)
    except LeadNotFoundError:
        raise _missing(lead_id) from None


def _missing(lead_id: str) -> HTTPException:
    """The one answer for a lead never routed and one the caller may not see."""
    return HTTPException(404, f"no lead {lead_id!r}")


def _sees(ctx: Ctx, found: Assignment) -> bool:
    if found.partner_id is None:  # the self-service queue: the vendor's
        return ctx.visible is None
    return ctx.can_see(found.partner_id)


class LeadFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Annotated[str | None, Field(max_length=64)] = None
    status: Status | None = None
    lead: Annotated[str | None, Field(max_length=128)] = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 200
    offset: Offset = 0


def lead_list(ctx: Ctx, query: LeadFilter) -> list[Assignment]:
    if query.partner is not None and not ctx.can_see(query.partner):
        raise HTTPException(404, f"no partner {query.partner!r}")
    return service.assignments(
        ctx.workspace,
        lead_id=query.lead,
        partner_id=query.partner,
        status=query.status,
        limit=query.limit,
        offset=query.offset,
        partners=None if ctx.visible is None else ctx.visible,
    )


def _worker(ctx: Ctx, lead_id: str, partner_id: str | None) -> str:
    """The partner a touch, decline or close is for: a partner user's own; else the one given,
    or the partner the lead is with now (one the caller may see, else 404)."""
    history = _history(ctx, lead_id)
    attempts = visible_attempts(ctx, lead_id, history)
    if not _sees(ctx, history[-1]):
        # said here, before the service is asked: the caller may not see where it went
        raise HTTPException(
            400, f"lead {lead_id} has moved on to another partner ({attempts[-1].status.value})"
        )
    if partner_id is None and ctx.user.role is not Role.PARTNER_USER:
        current = [a for a in attempts if a.status.value in OPEN]
        partner_id = current[-1].partner_id if current else None
    return ctx.acting_for(partner_id, f"lead {lead_id} is with no partner you can see; name one")


def touch(ctx: Ctx, lead_id: str, given: TouchIn) -> Assignment:
    at = given.at
    if at is not None and at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    pid = _worker(ctx, lead_id, given.partner_id)
    return service.record_touch(
        ctx.workspace, lead_id, pid, now=now_utc(whole_seconds=True), by=ctx.user.name, at=at
    )


def decline(ctx: Ctx, lead_id: str, given: DeclineIn) -> Assignment:
    pid = _worker(ctx, lead_id, given.partner_id)
    declined, _ = service.record_decline(
        ctx.workspace,
        lead_id,
        pid,
        reason=given.reason,
        now=now_utc(whole_seconds=True),
        by=ctx.user.name,
    )
    return declined


def close(ctx: Ctx, lead_id: str, given: CloseIn) -> Assignment:
    pid = _worker(ctx, lead_id, given.partner_id)
    return service.record_outcome(
        ctx.workspace,
        lead_id,
        pid,
        converted=given.converted,
        now=now_utc(whole_seconds=True),
        by=ctx.user.name,
        reason=given.reason,
    )


def batch_out(ctx: Ctx, batch: service.Batch) -> BatchOut:
    return BatchOut(
        routed=[staff_assignment(ctx, a) for a in batch.assignments],
        already_routed=batch.already_routed,
        problems=[str(p) for p in batch.problems],
    )


def route(ctx: Ctx, given: RouteIn) -> service.Batch:
    from dataclasses import replace

    from partnerscope.clock import local_date
    from partnerscope.operations.routing.leadfile import read_rows

    now = now_utc(whole_seconds=True)
    rows = [
        {k: None if v is None else str(v) for k, v in lead.model_dump().items()}
        for lead in given.leads
    ]
    leads, problems = read_rows(
        ctx.workspace, rows, local_date(now, ctx.workspace.config.workspace.timezone)
    )
    batch = service.route_leads(ctx.workspace, leads, now=now, by=ctx.user.name, seed=given.seed)
    return replace(batch, problems=problems)


# ----------------------------------------------------------------------------- API


@api.get("/leads", response_model=list[AssignmentOut] | list[PartnerAssignmentOut])
def leads_api(ctx: Reader, query: Annotated[LeadFilter, Query()]) -> Response:
    """Assignments of the partners the caller can see, newest first, each explained (a partner
    user: its own, in the partner view)."""
    return json_answer(_outs(ctx, lead_list(ctx, query)))


@api.get("/leads/{lead_id}", response_model=LeadOut | PartnerLeadOut)
def lead_api(ctx: Reader, lead_id: LeadId) -> Response:
    """A lead's attempts (routed, re-routed after a breach or decline), each explained; a
    partner user sees its own attempts only."""
    attempts = visible_attempts(ctx, lead_id)
    if partner_view(ctx):
        found = [partner_assignment(a) for a in attempts]
        return json_answer(PartnerLeadOut(lead_id=lead_id, attempts=found))
    return json_answer(
        LeadOut(lead_id=lead_id, attempts=[staff_assignment(ctx, a) for a in attempts])
    )


@api.post("/leads/route", response_model=BatchOut)
def route_api(ctx: Router, given: RouteIn) -> BatchOut:
    """Route a batch of leads; a lead routed before is not routed again (audited)."""
    return batch_out(ctx, route(ctx, given))


@api.post("/leads/sla", response_model=list[Rerouted])
def sla_api(ctx: Router) -> list[Rerouted]:
    """Flag every lead not first-touched within its SLA as breached and re-route it."""
    pairs = service.check_sla(ctx.workspace, now=now_utc(whole_seconds=True), by=ctx.user.name)
    return [
        Rerouted(breached=staff_assignment(ctx, b), new=staff_assignment(ctx, n)) for b, n in pairs
    ]


@api.post("/leads/{lead_id}/touch", response_model=AssignmentOut | PartnerAssignmentOut)
def touch_api(ctx: Worker, lead_id: LeadId, given: TouchIn) -> Response:
    """Record the partner's first contact with the lead (audited)."""
    return json_answer(assignment_out(ctx, touch(ctx, lead_id, given)))


@api.post("/leads/{lead_id}/decline", response_model=AssignmentOut | PartnerAssignmentOut)
def decline_api(ctx: Worker, lead_id: LeadId, given: DeclineIn) -> Response:
    """Decline the lead with a reason: it goes to the next eligible partner (audited); the
    answer is the declined assignment."""
    return json_answer(assignment_out(ctx, decline(ctx, lead_id, given)))


@api.post("/leads/{lead_id}/close", response_model=AssignmentOut | PartnerAssignmentOut)
def close_api(ctx: Worker, lead_id: LeadId, given: CloseIn) -> Response:
    """Close the partner's assignment: converted to an opportunity or not (audited)."""
    return json_answer(assignment_out(ctx, close(ctx, lead_id, given)))


# ---------------------------------------------------------------------------- pages


def _leads_page(
    request: Request,
    ctx: Ctx,
    query: LeadFilter,
    *,
    errors: list[str],
    status: int,
    batch: BatchOut | None = None,
) -> HTMLResponse:
    found = _outs(ctx, lead_list(ctx, query))
    counts = Counter(a.status for a in found)
    chart = charts.spec(
        "bars",
        [
            {"label": s.replace("_", " "), "value": n, "group": "up"}
            for s, n in sorted(counts.items())
        ],
        title="Assignments by status",
    )
    return page(
        request,
        ctx,
        "leads.html.j2",
        status=status,
        title="Leads",
        leads=found,
        name=namer(ctx),
        chart=chart if found else None,
        query=query,
        statuses=[s.value for s in Status],
        can_route=ctx.user.role in ANALYSTS,
        batch=batch,
        errors=errors,
    )


def _lead_page(
    request: Request, ctx: Ctx, lead_id: str, *, errors: list[str], status: int
) -> HTMLResponse:
    attempts = _outs(ctx, visible_attempts(ctx, lead_id))
    current = attempts[-1]
    return page(
        request,
        ctx,
        "lead.html.j2",
        status=status,
        title=f"Lead {lead_id}",
        lead_id=lead_id,
        attempts=attempts,
        name=namer(ctx),
        said=naming(ctx),
        can_work=ctx.user.role in WORKERS
        and current.partner_id is not None
        and current.status in OPEN,
        current=current,
        errors=errors,
    )


@pages.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request, ctx: Reader, query: Annotated[LeadFilter, Query()]
) -> HTMLResponse:
    """The routed leads the caller can see, with a status filter; analysts route a file and run
    the SLA check here."""
    return _leads_page(request, ctx, query, errors=[], status=200)


@pages.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(request: Request, ctx: Reader, lead_id: LeadId) -> HTMLResponse:
    """A lead's attempts explained, and the forms to touch, decline or close it."""
    return _lead_page(request, ctx, lead_id, errors=[], status=200)


@pages.post("/leads/route", response_class=HTMLResponse, response_model=None)
async def route_submit(
    request: Request,
    ctx: Router,
    file: Annotated[UploadFile, File(description="CSV, XLSX or Parquet of leads")],
    seed: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Route the leads of an uploaded file; the page lists what was routed and the rows that
    could not be, with what to fix."""
    from fastapi.concurrency import run_in_threadpool

    suffix = FilePath(file.filename or "").suffix.lower()
    again = _again(request, ctx)
    if suffix not in UPLOADS:
        return again([f"file: upload a {', '.join(UPLOADS)} file, not {suffix or 'this'}"], 422)
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return again([f"file: keep it under {MAX_UPLOAD // 2**20} MB, or use the CLI"], 422)
    if seed.strip() and not seed.strip().lstrip("-").isdigit():
        return again([f"seed: {seed!r} is not a whole number"], 422)
    chosen = int(seed) if seed.strip() else None

    def routed() -> service.Batch:
        with tempfile.TemporaryDirectory() as folder:
            # the uploaded name is not used as a path: only its suffix is kept
            path = FilePath(folder) / f"leads{suffix}"
            path.write_bytes(content)
            return service.route_file(
                ctx.workspace, path, now=now_utc(whole_seconds=True), by=ctx.user.name, seed=chosen
            )

    outcome: list[service.Batch] = []

    def act() -> None:
        outcome.append(routed())

    answer = await run_in_threadpool(form_action, act, "/leads", again)
    if not outcome:
        return answer
    return _leads_page(
        request, ctx, LeadFilter(), errors=[], status=200, batch=batch_out(ctx, outcome[0])
    )


def _again(request: Request, ctx: Ctx) -> Callable[[list[str], int], HTMLResponse]:
    return lambda errors, status: _leads_page(
        request, ctx, LeadFilter(), errors=errors, status=status
    )


@pages.post("/leads/sla", response_class=HTMLResponse, response_model=None)
def sla_submit(request: Request, ctx: Router) -> Response:
    return form_action(
        lambda: service.check_sla(ctx.workspace, now=now_utc(whole_seconds=True), by=ctx.user.name),
        f"/leads?status={Status.BREACHED.value}",
        _again(request, ctx),
    )


def _lead_form(request: Request, ctx: Ctx, lead_id: str, act: Callable[[], Any]) -> Response:
    return form_action(
        act,
        f"/leads/{lead_id}",
        lambda errors, status: _lead_page(request, ctx, lead_id, errors=errors, status=status),
    )


@pages.post("/leads/{lead_id}/touch", response_class=HTMLResponse, response_model=None)
def touch_submit(request: Request, ctx: Worker, lead_id: LeadId) -> Response:
    return _lead_form(request, ctx, lead_id, lambda: touch(ctx, lead_id, TouchIn()))


@pages.post("/leads/{lead_id}/decline", response_class=HTMLResponse, response_model=None)
def decline_submit(
    request: Request,
    ctx: Worker,
    lead_id: LeadId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _lead_form(
        request, ctx, lead_id, lambda: decline(ctx, lead_id, DeclineIn(reason=reason.strip()))
    )


@pages.post("/leads/{lead_id}/close", response_class=HTMLResponse, response_model=None)
def close_submit(
    request: Request,
    ctx: Worker,
    lead_id: LeadId,
    converted: Annotated[str, Form(max_length=8)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    given = CloseIn(converted=converted == "yes", reason=reason.strip() or None)
    return _lead_form(request, ctx, lead_id, lambda: close(ctx, lead_id, given))
