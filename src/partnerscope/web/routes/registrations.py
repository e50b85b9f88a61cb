"""Deal registrations in the web app: partners register their deals and see the conflicts
found; partner managers approve (protecting the deal for the window), reject with a reason, or
mark it won.

Who may do what (docs/web.md has the table):

- a partner user submits registrations for its own partner and sees only its own, with each
  conflict described without whose it is;
- a partner manager submits, approves, rejects and marks won the registrations of their
  partners, and sees a conflict's other partner only when they may see it; admins do all of it
  for every partner; analysts read every registration and run the expiry sweep.

Every step goes through :mod:`partnerscope.operations.registrations`, which checks it (first
valid registration wins), refuses with the reason, and writes the audit entry with the change.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.clock import now_utc
from partnerscope.operations import registrations as regs
from partnerscope.reports import charts
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.params import Day
from partnerscope.web.render import form_action, page
from partnerscope.web.routes.coverage import conflicts_summary
from partnerscope.web.run_index import namer, partner_choices, picked_partner
from partnerscope.web.security import ANALYSTS, Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from collections.abc import Callable

pages = APIRouter()
api = APIRouter(tags=["registrations"])

READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)
SUBMITTERS = (Role.ADMIN, Role.PARTNER_MANAGER, Role.PARTNER_USER)
DECIDERS = (Role.ADMIN, Role.PARTNER_MANAGER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
Submitter = Annotated[Ctx, Depends(allow(*SUBMITTERS))]
Decider = Annotated[Ctx, Depends(allow(*DECIDERS))]
Sweeper = Annotated[Ctx, Depends(allow(*ANALYSTS))]
RegistrationId = Annotated[int, Path(ge=1, le=2**62)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class PartnerConflictOut(BaseModel):
    """A conflict as the registering partner sees it: that there is one and on what it
    matched, never whose it is (docs/web.md, "What a partner user sees")."""

    #: "registration" (another partner's) or "opportunity" (the vendor's own)
    kind: str
    #: "name" or "domain"
    matched_on: str
    score: float
    described: str


class ConflictOut(PartnerConflictOut):
    #: the other registration or opportunity (empty when the caller may not see whose it is)
    other_id: str
    other_partner_id: str | None
    other_name: str


class PartnerRegistrationOut(BaseModel):
    """A registration as its partner sees it: the deal and where it stands, not who at the
    vendor decided it."""

    registration_id: int
    partner_id: str
    account_name: str
    domain: str | None
    country: str | None
    amount: Decimal
    expected_close: date
    products: list[str]
    status: str
    submitted_at: UtcDateTime
    decided_at: UtcDateTime | None
    #: why it was rejected, as the partner is told
    reason: str | None
    protected_until: date | None
    closed_at: UtcDateTime | None
    #: where it stands, in words
    where: str


class RegistrationOut(PartnerRegistrationOut):
    submitted_by: str
    decided_by: str | None
    closed_by: str | None
    crm_opportunity_id: str | None


class PartnerDetailOut(BaseModel):
    registration: PartnerRegistrationOut
    #: what it conflicted with when it was submitted
    conflicts: list[PartnerConflictOut]


class DetailOut(BaseModel):
    registration: RegistrationOut
    #: what it conflicted with when it was submitted
    conflicts: list[ConflictOut]
    #: later registrations (of partners the caller may see) that conflict with it
    later: list[RegistrationOut]


class RegistrationIn(BaseModel):
    """A deal to register; a partner user's is always for its own partner."""

    model_config = ConfigDict(extra="forbid")

    partner_id: Annotated[str | None, Field(max_length=64)] = None
    account_name: Annotated[str, Field(min_length=1, max_length=300)]
    domain: Annotated[str | None, Field(max_length=255)] = None
    country: Annotated[str | None, Field(max_length=64)] = None
    amount: Annotated[Decimal, Field(gt=0, max_digits=16, decimal_places=2)]
    expected_close: Day
    products: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=50)
    ] = Field(default_factory=list)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class WonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the CRM's opportunity of the deal (then the CRM's row is the deal, not the registration's)
    crm_opportunity_id: Annotated[str | None, Field(max_length=128)] = None


class SweepOut(BaseModel):
    expired: list[RegistrationOut]
    #: protected registrations whose window ends within ``[registration] warning_days``
    expiring: list[RegistrationOut]


class RegistrationFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Annotated[str | None, Field(max_length=64)] = None
    status: regs.RegistrationStatus | None = None


def registration_out(ctx: Ctx, found: regs.Registration) -> PartnerRegistrationOut:
    """The registration as the caller may see it (a partner user: the partner view)."""
    return partner_registration(found) if partner_view(ctx) else staff_registration(found)


def _fields(found: regs.Registration) -> dict[str, Any]:
    from dataclasses import asdict

    fields = asdict(found)
    fields.pop("account_key")
    fields["products"] = list(found.products)
    return fields


def partner_registration(found: regs.Registration) -> PartnerRegistrationOut:
    fields = {k: v for k, v in _fields(found).items() if k in PartnerRegistrationOut.model_fields}
    return PartnerRegistrationOut(**fields, where=found.where(named=False))


def staff_registration(found: regs.Registration) -> RegistrationOut:
    return RegistrationOut(**_fields(found), where=found.where())


def partner_conflict(found: regs.Conflict) -> PartnerConflictOut:
    shown = found.redacted()
    return PartnerConflictOut(
        kind=shown.kind.value,
        matched_on=shown.matched_on.value,
        score=shown.score,
        described=shown.describe(),
    )


def staff_conflict(found: regs.Conflict) -> ConflictOut:
    return ConflictOut(
        kind=found.kind.value,
        other_id=found.other_id,
        other_partner_id=found.other_partner_id,
        other_name=found.other_name,
        matched_on=found.matched_on.value,
        score=found.score,
        described=found.describe(),
    )


def visible_detail(ctx: Ctx, registration_id: int) -> regs.RegistrationDetail:
    """The registration if the caller may see its partner (else 404, worded as for one that
    does not exist); a partner user's view comes from the service (conflicts without whose
    they are); anyone else who may not see every partner gets each conflict with another
    partner they may not see redacted."""
    try:
        if ctx.user.role is Role.PARTNER_USER:
            own = ctx.user.partner_id or ""
            return regs.detail(ctx.workspace, registration_id, partner=own)
        found = regs.detail(ctx.workspace, registration_id)
    except regs.RegistrationNotFoundError:
        raise _missing(registration_id) from None
    if not ctx.can_see(found.registration.partner_id):
        raise _missing(registration_id)
    if ctx.visible is None:
        return found
    conflicts = tuple(
        c if c.other_partner_id is None or ctx.can_see(c.other_partner_id) else c.redacted()
        for c in found.conflicts
    )
    later = tuple(r for r in found.later if ctx.can_see(r.partner_id))
    return replace(found, conflicts=conflicts, later=later)


def _missing(registration_id: int) -> HTTPException:
    """The one answer for a registration that does not exist and one the caller may not see."""
    return HTTPException(404, f"no registration #{registration_id}")


def detail_out(ctx: Ctx, found: regs.RegistrationDetail) -> PartnerDetailOut | DetailOut:
    if partner_view(ctx):
        return PartnerDetailOut(
            registration=partner_registration(found.registration),
            conflicts=[partner_conflict(c) for c in found.conflicts],
        )
    return DetailOut(
        registration=staff_registration(found.registration),
        conflicts=[staff_conflict(c) for c in found.conflicts],
        later=[staff_registration(r) for r in found.later],
    )


def registration_list(ctx: Ctx, query: RegistrationFilter) -> list[regs.Registration]:
    if query.partner is not None and not ctx.can_see(query.partner):
        raise HTTPException(404, f"no partner {query.partner!r}")
    found = regs.registrations(ctx.workspace, query.partner, query.status)
    return [r for r in found if ctx.can_see(r.partner_id)]


def submit(ctx: Ctx, given: RegistrationIn) -> regs.RegistrationDetail:
    registered = regs.submit(
        ctx.workspace,
        ctx.acting_for(given.partner_id, "say which partner registers the deal"),
        account_name=given.account_name,
        amount=given.amount,
        expected_close=given.expected_close,
        by=ctx.user.name,
        domain=given.domain or None,
        country=given.country or None,
        products=tuple(given.products),
        now=now_utc(whole_seconds=True),
    )
    return visible_detail(ctx, registered.registration.registration_id)


def decide(ctx: Ctx, registration_id: int, given: RejectIn | WonIn | None) -> regs.Registration:
    """Approve (None), reject (RejectIn) or mark won (WonIn) a registration of a partner the
    caller may see."""
    visible_detail(ctx, registration_id)
    if isinstance(given, RejectIn):
        return regs.reject(
            ctx.workspace,
            registration_id,
            reason=given.reason,
            by=ctx.user.name,
            now=now_utc(whole_seconds=True),
        )
    if isinstance(given, WonIn):
        return regs.mark_won(
            ctx.workspace,
            registration_id,
            by=ctx.user.name,
            crm_opportunity_id=given.crm_opportunity_id or None,
            now=now_utc(whole_seconds=True),
        )
    return regs.approve(
        ctx.workspace, registration_id, by=ctx.user.name, now=now_utc(whole_seconds=True)
    )


def expiring(ctx: Ctx, found: list[regs.Registration]) -> list[regs.Registration]:
    """The protected registrations whose window ends within the warning days."""
    days = ctx.workspace.config.registration.warning_days
    today = now_utc(whole_seconds=True).date()
    return [
        r
        for r in found
        if r.status is regs.RegistrationStatus.PROTECTED
        and r.protected_until is not None
        and (r.protected_until - today).days <= days
    ]


# ------------------------------------------------------------------------------ API


@api.get("/registrations", response_model=list[RegistrationOut] | list[PartnerRegistrationOut])
def registrations_api(ctx: Reader, query: Annotated[RegistrationFilter, Query()]) -> Response:
    """The registrations of the partners the caller can see, oldest first (a partner user:
    its own, in the partner view)."""
    return json_answer([registration_out(ctx, r) for r in registration_list(ctx, query)])


@api.get("/registrations/{registration_id}", response_model=DetailOut | PartnerDetailOut)
def registration_api(ctx: Reader, registration_id: RegistrationId) -> Response:
    """One registration with its conflicts (a partner user is not told whose they are)."""
    return json_answer(detail_out(ctx, visible_detail(ctx, registration_id)))


@api.post("/registrations", response_model=DetailOut | PartnerDetailOut, status_code=201)
def submit_api(ctx: Submitter, given: RegistrationIn) -> Response:
    """Register a deal; the conflicts found are recorded and returned (audited)."""
    return json_answer(detail_out(ctx, submit(ctx, given)), status=201)


@api.post("/registrations/{registration_id}/approve", response_model=RegistrationOut)
def approve_api(ctx: Decider, registration_id: RegistrationId) -> RegistrationOut:
    """Approve: the deal is protected for ``[registration] protection_days``; refused while an
    earlier conflicting registration is live (audited)."""
    return staff_registration(decide(ctx, registration_id, None))


@api.post("/registrations/{registration_id}/reject", response_model=RegistrationOut)
def reject_api(ctx: Decider, registration_id: RegistrationId, given: RejectIn) -> RegistrationOut:
    """Reject with the reason the partner is told (audited)."""
    return staff_registration(decide(ctx, registration_id, given))


@api.post("/registrations/{registration_id}/won", response_model=RegistrationOut)
def won_api(ctx: Decider, registration_id: RegistrationId, given: WonIn) -> RegistrationOut:
    """Mark a protected registration won, with the CRM's opportunity id when it has one."""
    return staff_registration(decide(ctx, registration_id, given))


@api.post("/registrations/sweep", response_model=SweepOut)
def sweep_api(ctx: Sweeper) -> SweepOut:
    """Expire the registrations whose window has passed; list those expiring soon."""
    done = regs.sweep(ctx.workspace, by=ctx.user.name, now=now_utc(whole_seconds=True))
    return SweepOut(
        expired=[staff_registration(r) for r in done.expired],
        expiring=[staff_registration(e.registration) for e in done.expiring],
    )


# ---------------------------------------------------------------------------- pages


def _list_page(
    request: Request, ctx: Ctx, query: RegistrationFilter, *, errors: list[str], status: int
) -> HTMLResponse:
    found = registration_list(ctx, query)
    amounts: dict[str, Decimal] = {}
    for r in found:
        amounts[r.status.value] = amounts.get(r.status.value, Decimal(0)) + r.amount
    chart = charts.spec(
        "bars",
        [
            {"label": s.replace("_", " "), "value": float(v), "group": "up"}
            for s, v in sorted(amounts.items())
        ],
        title="Amount registered by status",
    )
    return page(
        request,
        ctx,
        "registrations.html.j2",
        status=status,
        title="Deal registrations",
        registrations=[registration_out(ctx, r) for r in reversed(found)],
        expiring=[registration_out(ctx, r) for r in expiring(ctx, found)],
        chart=chart if found else None,
        query=query,
        statuses=[s.value for s in regs.RegistrationStatus],
        can_submit=ctx.user.role in SUBMITTERS,
        can_sweep=ctx.user.role in ANALYSTS,
        partners=partner_choices(ctx),
        name=namer(ctx),
        errors=errors,
        channel=conflicts_summary(ctx),
    )


def _detail_page(
    request: Request, ctx: Ctx, registration_id: int, *, errors: list[str], status: int
) -> HTMLResponse:
    found = detail_out(ctx, visible_detail(ctx, registration_id))
    return page(
        request,
        ctx,
        "registration.html.j2",
        status=status,
        title=f"Registration #{registration_id}: {found.registration.account_name}",
        d=found,
        name=namer(ctx),
        can_decide=ctx.user.role in DECIDERS,
        errors=errors,
    )


@pages.get("/registrations", response_class=HTMLResponse)
def registrations_page(
    request: Request, ctx: Reader, query: Annotated[RegistrationFilter, Query()]
) -> HTMLResponse:
    """The registrations the caller can see, expiry warnings and the form to register a deal."""
    return _list_page(request, ctx, query, errors=[], status=200)


@pages.get("/registrations/{registration_id}", response_class=HTMLResponse)
def registration_page(
    request: Request, ctx: Reader, registration_id: RegistrationId
) -> HTMLResponse:
    """One registration, its conflicts, and the forms of its next step."""
    return _detail_page(request, ctx, registration_id, errors=[], status=200)


@pages.post("/registrations", response_class=HTMLResponse, response_model=None)
def submit_submit(
    request: Request,
    ctx: Submitter,
    partner_id: Annotated[str, Form(max_length=300)] = "",
    account_name: Annotated[str, Form(max_length=300)] = "",
    domain: Annotated[str, Form(max_length=255)] = "",
    country: Annotated[str, Form(max_length=64)] = "",
    amount: Annotated[str, Form(max_length=32)] = "",
    expected_close: Annotated[str, Form(max_length=10)] = "",
    products: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    def act() -> regs.RegistrationDetail:
        given = RegistrationIn(
            partner_id=picked_partner(ctx, partner_id),
            account_name=account_name.strip(),
            domain=domain.strip() or None,
            country=country.strip() or None,
            amount=amount.strip(),  # type: ignore[arg-type]
            expected_close=expected_close.strip(),  # type: ignore[arg-type]
            products=[p.strip() for p in products.split(",") if p.strip()],
        )
        return submit(ctx, given)

    return form_action(
        act,
        lambda made: f"/registrations/{made.registration.registration_id}",
        lambda errors, status: _list_page(
            request, ctx, RegistrationFilter(), errors=errors, status=status
        ),
    )


def _decide_form(
    request: Request, ctx: Ctx, registration_id: int, act: Callable[[], Any]
) -> Response:
    return form_action(
        act,
        f"/registrations/{registration_id}",
        lambda errors, status: _detail_page(
            request, ctx, registration_id, errors=errors, status=status
        ),
        sees=ctx.can_see,
    )


@pages.post(
    "/registrations/{registration_id}/approve", response_class=HTMLResponse, response_model=None
)
def approve_submit(request: Request, ctx: Decider, registration_id: RegistrationId) -> Response:
    return _decide_form(request, ctx, registration_id, lambda: decide(ctx, registration_id, None))


@pages.post(
    "/registrations/{registration_id}/reject", response_class=HTMLResponse, response_model=None
)
def reject_submit(
    request: Request,
    ctx: Decider,
    registration_id: RegistrationId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _decide_form(
        request,
        ctx,
        registration_id,
        lambda: decide(ctx, registration_id, RejectIn(reason=reason.strip())),
    )


@pages.post(
    "/registrations/{registration_id}/won", response_class=HTMLResponse, response_model=None
)
def won_submit(
    request: Request,
    ctx: Decider,
    registration_id: RegistrationId,
    crm_opportunity_id: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    given = WonIn(crm_opportunity_id=crm_opportunity_id.strip() or None)
    return _decide_form(request, ctx, registration_id, lambda: decide(ctx, registration_id, given))


@pages.post("/registrations/sweep", response_class=HTMLResponse, response_model=None)
def sweep_submit(request: Request, ctx: Sweeper) -> Response:
    return form_action(
        lambda: regs.sweep(ctx.workspace, by=ctx.user.name, now=now_utc(whole_seconds=True)),
        "/registrations?status=expired",
        lambda errors, status: _list_page(
            request, ctx, RegistrationFilter(), errors=errors, status=status
        ),
    )
