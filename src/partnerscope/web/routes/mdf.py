"""Market development funds in the web app: the budgets and the requests.

Who may do what (docs/web.md has the table):

- everyone reads the MDF requests and budgets of the partners they can see (a partner user:
  its own);
- partner users (for their own partner), partner managers (for their partners) and admins
  submit MDF requests and claims;
- finance and admins approve, reject and pay MDF requests.

Every step goes through :mod:`partnerscope.money.mdf`, which checks it, refuses with the
reason, and writes the audit entry with the change.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.money import mdf
from partnerscope.money.mdf.workflow import OBJECT_TYPE
from partnerscope.reports import charts
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import partner_choices, picked_partner
from partnerscope.web.security import EVERYONE, FINANCE, Ctx, UtcDateTime, allow
from partnerscope.workflow import MAX_TEXT

if TYPE_CHECKING:
    from collections.abc import Callable

pages = APIRouter()
api = APIRouter(tags=["money"])

#: who submits MDF requests and claims
SUBMITTERS = (Role.ADMIN, Role.PARTNER_MANAGER, Role.PARTNER_USER)
Reader = Annotated[Ctx, Depends(allow(*EVERYONE))]
Finance = Annotated[Ctx, Depends(allow(*FINANCE))]
Submitter = Annotated[Ctx, Depends(allow(*SUBMITTERS))]
RequestId = Annotated[int, Path(ge=1, le=2**62)]
Money = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Year = Annotated[str | None, Query(max_length=16, description="e.g. FY2026 (default: this year)")]


class PartnerRequestOut(BaseModel):
    """An MDF request as its partner sees it: the money and the dates, not who at the vendor
    decided or paid it (docs/web.md, "What a partner user sees")."""

    request_id: int
    ref: str
    partner_id: str
    name: str
    fiscal_year: str
    activity_type: str
    activity: str
    requested_amount: Decimal
    status: str
    submitted_at: UtcDateTime
    approved_amount: Decimal | None
    deadline: date | None
    decided_at: UtcDateTime | None
    #: why it was rejected, as the partner is told
    reason: str | None
    claimed_amount: Decimal | None
    proof_ref: str | None
    claimed_at: UtcDateTime | None
    paid_amount: Decimal | None
    paid_at: UtcDateTime | None


class RequestOut(PartnerRequestOut):
    submitted_by: str
    decided_by: str | None
    claimed_by: str | None
    paid_by: str | None


class RequestIn(BaseModel):
    """A new request; a partner user's is always for its own partner (``partner_id`` may be
    left out)."""

    model_config = ConfigDict(extra="forbid")

    partner_id: Annotated[str | None, Field(max_length=64)] = None
    activity_type: mdf.ActivityType
    name: Text
    amount: Money
    #: the fiscal year whose budget it draws on (default: this year)
    fiscal_year: Annotated[str | None, Field(max_length=16)] = None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: at most the amount requested (default: all of it)
    amount: Money | None = None


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Money
    proof: Text


class PartnerBudgetOut(BaseModel):
    """A partner's MDF budget as the partner sees it: the amounts, not how it was set."""

    partner_id: str
    name: str
    fiscal_year: str
    amount: Decimal
    committed: Decimal
    imported_spend: Decimal
    left: Decimal


class BudgetOut(PartnerBudgetOut):
    #: "tier" (the tier's default) or "override" (set for the partner)
    source: str
    tier: str | None


class RequestFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner: Annotated[str | None, Field(max_length=64)] = None
    status: mdf.RequestStatus | None = None
    year: Annotated[str | None, Field(max_length=16)] = None


def request_out(ctx: Ctx, found: mdf.MdfRequest) -> PartnerRequestOut:
    """The request as the caller may see it (a partner user: the partner view)."""
    from dataclasses import asdict

    fields = asdict(found)
    fields.update(ref=found.ref, name=ctx.partner_names()(found.partner_id), activity=found.name)
    if partner_view(ctx):
        return PartnerRequestOut(
            **{k: v for k, v in fields.items() if k in PartnerRequestOut.model_fields}
        )
    return RequestOut(**fields)


def staff_request(ctx: Ctx, found: mdf.MdfRequest) -> RequestOut:
    """The request in full, for the finance-only steps (approve, reject, pay)."""
    out = request_out(ctx, found)
    assert isinstance(out, RequestOut)  # those routes do not serve partner users
    return out


def visible_request(ctx: Ctx, request_id: int) -> mdf.MdfRequest:
    """The request, if the caller may see its partner (else 404, worded as for one that does
    not exist)."""
    missing = HTTPException(404, f"no MDF request #{request_id}")
    try:
        found = mdf.request(ctx.workspace, request_id)
    except mdf.MdfNotFoundError:
        raise missing from None
    if not ctx.can_see(found.partner_id):
        raise missing
    return found


def request_list(ctx: Ctx, query: RequestFilter) -> list[mdf.MdfRequest]:
    if query.partner is not None and not ctx.can_see(query.partner):
        raise HTTPException(404, f"no partner {query.partner!r}")
    found = mdf.requests(ctx.workspace, query.partner, query.year, query.status)
    return [r for r in found if ctx.can_see(r.partner_id)]


def submit(ctx: Ctx, given: RequestIn) -> mdf.MdfRequest:
    return mdf.submit(
        ctx.workspace,
        ctx.acting_for(given.partner_id, "say which partner the request is for"),
        activity_type=given.activity_type,
        name=given.name,
        amount=given.amount,
        by=ctx.user.name,
        year=given.fiscal_year,
    )


def claim(ctx: Ctx, request_id: int, given: ClaimIn) -> mdf.MdfRequest:
    visible_request(ctx, request_id)
    return mdf.claim(
        ctx.workspace, request_id, amount=given.amount, proof=given.proof, by=ctx.user.name
    )


def decide(ctx: Ctx, request_id: int, given: ApproveIn | RejectIn | None) -> mdf.MdfRequest:
    """Approve (ApproveIn), reject (RejectIn) or pay (None) a request."""
    visible_request(ctx, request_id)
    if isinstance(given, ApproveIn):
        return mdf.approve(ctx.workspace, request_id, by=ctx.user.name, amount=given.amount)
    if isinstance(given, RejectIn):
        return mdf.reject(ctx.workspace, request_id, reason=given.reason, by=ctx.user.name)
    return mdf.pay(ctx.workspace, request_id, by=ctx.user.name)


def budget_list(ctx: Ctx, year: str | None) -> list[PartnerBudgetOut]:
    """The budgets of the partners the caller may see (a partner user: the partner view)."""
    name = ctx.partner_names()
    out: list[PartnerBudgetOut] = []
    for b in mdf.budgets(ctx.workspace, year):
        if not ctx.can_see(b.partner_id):
            continue
        amounts = PartnerBudgetOut(
            partner_id=b.partner_id,
            name=name(b.partner_id),
            fiscal_year=b.fiscal_year,
            amount=b.amount,
            committed=b.committed,
            imported_spend=b.imported_spend,
            left=b.left,
        )
        shown = (
            amounts
            if partner_view(ctx)
            else BudgetOut(**amounts.model_dump(), source=b.source, tier=b.tier)
        )
        out.append(shown)
    return out


@api.get("/mdf/requests", response_model=list[RequestOut] | list[PartnerRequestOut])
def mdf_requests_api(ctx: Reader, query: Annotated[RequestFilter, Query()]) -> Response:
    """The MDF requests of the partners the caller can see, oldest first."""
    return json_answer([request_out(ctx, r) for r in request_list(ctx, query)])


@api.get("/mdf/requests/{request_id}", response_model=RequestOut | PartnerRequestOut)
def mdf_request_api(ctx: Reader, request_id: RequestId) -> Response:
    return json_answer(request_out(ctx, visible_request(ctx, request_id)))


@api.post("/mdf/requests", response_model=RequestOut | PartnerRequestOut, status_code=201)
def mdf_submit_api(ctx: Submitter, given: RequestIn) -> Response:
    """Submit a request for a partner's activity, against its budget of the year (audited)."""
    return json_answer(request_out(ctx, submit(ctx, given)), status=201)


@api.post("/mdf/requests/{request_id}/approve", response_model=RequestOut)
def mdf_approve_api(ctx: Finance, request_id: RequestId, given: ApproveIn) -> RequestOut:
    """Approve at most the amount requested and the partner's budget left; sets the claim
    deadline (audited)."""
    return staff_request(ctx, decide(ctx, request_id, given))


@api.post("/mdf/requests/{request_id}/reject", response_model=RequestOut)
def mdf_reject_api(ctx: Finance, request_id: RequestId, given: RejectIn) -> RequestOut:
    """Reject a request awaiting approval, with the reason the partner is told (audited)."""
    return staff_request(ctx, decide(ctx, request_id, given))


@api.post("/mdf/requests/{request_id}/claim", response_model=RequestOut | PartnerRequestOut)
def mdf_claim_api(ctx: Submitter, request_id: RequestId, given: ClaimIn) -> Response:
    """Claim an approved request: the amount spent (at most the approved amount) and the proof
    reference, by the deadline (audited)."""
    return json_answer(request_out(ctx, claim(ctx, request_id, given)))


@api.post("/mdf/requests/{request_id}/pay", response_model=RequestOut)
def mdf_pay_api(ctx: Finance, request_id: RequestId) -> RequestOut:
    """Record the payment of a claimed request: the claimed amount (audited)."""
    return staff_request(ctx, decide(ctx, request_id, None))


@api.get("/mdf/budgets", response_model=list[BudgetOut] | list[PartnerBudgetOut])
def mdf_budgets_api(ctx: Reader, year: Year = None) -> Response:
    """The budgets of the partners the caller can see: amount, committed, spent, left."""
    return json_answer(budget_list(ctx, year))


def _mdf_page(
    request: Request, ctx: Ctx, query: RequestFilter, *, errors: list[str], status: int
) -> HTMLResponse:
    found = request_list(ctx, query)
    budgets = budget_list(ctx, query.year)
    if query.partner is not None:
        budgets = [b for b in budgets if b.partner_id == query.partner]
    totals = {
        key: sum((getattr(b, key) for b in budgets), Decimal(0))
        for key in ("amount", "committed", "imported_spend", "left")
    }
    by_status: dict[str, Decimal] = {}
    for r in found:
        by_status[r.status] = by_status.get(r.status, Decimal(0)) + r.requested_amount
    chart = charts.spec(
        "bars",
        [
            {"label": s.replace("_", " "), "value": float(v), "group": "up"}
            for s, v in by_status.items()
        ],
        title="Amount requested by status",
    )
    return page(
        request,
        ctx,
        "mdf.html.j2",
        status=status,
        title="Market development funds",
        requests=[request_out(ctx, r) for r in reversed(found)],
        budgets=budgets if len(budgets) <= 50 else [],
        totals=totals,
        partners_count=len(budgets),
        chart=chart if found else None,
        query=query,
        statuses=[s.value for s in mdf.RequestStatus],
        types=[t.value for t in mdf.ActivityType],
        can_submit=ctx.user.role in SUBMITTERS,
        partners=partner_choices(ctx),
        errors=errors,
    )


def _request_page(
    request: Request, ctx: Ctx, request_id: int, *, errors: list[str], status: int
) -> HTMLResponse:
    from partnerscope import appdb, audit

    found = visible_request(ctx, request_id)
    # the history names who at the vendor did each step: staff only
    history = (
        []
        if partner_view(ctx)
        else audit.entries(
            appdb.connect(ctx.workspace), object_type=OBJECT_TYPE, object_id=str(request_id)
        )
    )
    return page(
        request,
        ctx,
        "mdf_request.html.j2",
        status=status,
        title=found.ref,
        r=request_out(ctx, found),
        history=list(reversed(history)),
        can_decide=ctx.user.role in FINANCE,
        can_claim=ctx.user.role in SUBMITTERS,
        errors=errors,
    )


@pages.get("/mdf", response_class=HTMLResponse)
def mdf_page(
    request: Request, ctx: Reader, query: Annotated[RequestFilter, Query()]
) -> HTMLResponse:
    """Budgets and requests of the caller's partners, and the form to submit a request."""
    return _mdf_page(request, ctx, query, errors=[], status=200)


@pages.get("/mdf/requests/{request_id}", response_class=HTMLResponse)
def mdf_request_page(request: Request, ctx: Reader, request_id: RequestId) -> HTMLResponse:
    """One request, its history, and the forms of its next step."""
    return _request_page(request, ctx, request_id, errors=[], status=200)


@pages.post("/mdf/requests", response_class=HTMLResponse, response_model=None)
def mdf_submit_submit(
    request: Request,
    ctx: Submitter,
    partner_id: Annotated[str, Form(max_length=300)] = "",
    activity_type: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=2000)] = "",
    amount: Annotated[str, Form(max_length=32)] = "",
    fiscal_year: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    def act() -> mdf.MdfRequest:
        given = RequestIn(
            partner_id=picked_partner(ctx, partner_id),
            activity_type=activity_type,  # type: ignore[arg-type]
            name=name.strip(),
            amount=amount.strip(),  # type: ignore[arg-type]
            fiscal_year=fiscal_year.strip() or None,
        )
        return submit(ctx, given)

    return form_action(
        act,
        lambda made: f"/mdf/requests/{made.request_id}",
        lambda errors, status: _mdf_page(
            request, ctx, RequestFilter(), errors=errors, status=status
        ),
    )


def _request_form(request: Request, ctx: Ctx, request_id: int, act: Callable[[], Any]) -> Response:
    return form_action(
        act,
        f"/mdf/requests/{request_id}",
        lambda errors, status: _request_page(
            request, ctx, request_id, errors=errors, status=status
        ),
    )


@pages.post("/mdf/requests/{request_id}/approve", response_class=HTMLResponse, response_model=None)
def mdf_approve_submit(
    request: Request,
    ctx: Finance,
    request_id: RequestId,
    amount: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    return _request_form(
        request,
        ctx,
        request_id,
        lambda: decide(
            ctx,
            request_id,
            ApproveIn(amount=amount.strip() or None),  # type: ignore[arg-type]
        ),
    )


@pages.post("/mdf/requests/{request_id}/reject", response_class=HTMLResponse, response_model=None)
def mdf_reject_submit(
    request: Request,
    ctx: Finance,
    request_id: RequestId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _request_form(
        request, ctx, request_id, lambda: decide(ctx, request_id, RejectIn(reason=reason.strip()))
    )


@pages.post("/mdf/requests/{request_id}/claim", response_class=HTMLResponse, response_model=None)
def mdf_claim_submit(
    request: Request,
    ctx: Submitter,
    request_id: RequestId,
    amount: Annotated[str, Form(max_length=32)] = "",
    proof: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _request_form(
        request,
        ctx,
        request_id,
        lambda: claim(
            ctx,
            request_id,
            ClaimIn(amount=amount.strip(), proof=proof.strip()),  # type: ignore[arg-type]
        ),
    )


@pages.post("/mdf/requests/{request_id}/pay", response_class=HTMLResponse, response_model=None)
def mdf_pay_submit(request: Request, ctx: Finance, request_id: RequestId) -> Response:
    return _request_form(request, ctx, request_id, lambda: decide(ctx, request_id, None))
