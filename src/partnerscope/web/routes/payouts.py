"""The quarterly payout ledgers in the web app.

Who may do what (docs/web.md has the table):

- everyone reads the ledgers of the partners they can see; a partner user sees its own lines
  of approved and paid ledgers only (a draft may still change, so it is not shown: 404);
- analysts, finance and admins compute a quarter's draft ledger;
- finance and admins approve, pay and export ledgers.

Every step goes through :mod:`partnerscope.money.payouts`, which checks it, refuses with the
reason, and writes the audit entry with the change.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from enum import StrEnum
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.metrics.definition import Unit
from partnerscope.money.payouts import LOCKED, Ledger, Payouts, quarters
from partnerscope.reports import charts
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.params import RunId
from partnerscope.web.render import form_action, page
from partnerscope.web.run_index import explaining, periods_with_data
from partnerscope.web.security import ANALYSTS, EVERYONE, FINANCE, Ctx, UtcDateTime, allow

if TYPE_CHECKING:
    from collections.abc import Callable

    from partnerscope.money.rules import Line

pages = APIRouter()
api = APIRouter(tags=["money"])

#: who computes draft ledgers
COMPUTERS = (*ANALYSTS, Role.FINANCE)
Reader = Annotated[Ctx, Depends(allow(*EVERYONE))]
Computer = Annotated[Ctx, Depends(allow(*COMPUTERS))]
Finance = Annotated[Ctx, Depends(allow(*FINANCE))]
Quarter = Annotated[str, Path(min_length=1, max_length=32, description="e.g. FY2026-Q1")]
#: a ledger page lists every line up to this many; beyond, those of the partner picked
MAX_LINES = 200


class LineOut(BaseModel):
    partner_id: str
    name: str
    rule: str
    #: earned, cap, minimum or adjustment
    kind: str
    #: the quarter the line was earned in (an adjustment: the locked quarter it corrects)
    earned_in: str
    amount: Decimal
    explanation: str
    base: Decimal | None
    rate: Decimal | None
    quantity: int | None
    inputs: dict[str, Any]


class Total(BaseModel):
    key: str
    label: str
    total: Decimal
    lines: int


class PartnerLedgerOut(BaseModel):
    """A locked ledger as a partner sees it: its own lines and totals, when it was approved
    and paid, not who at the vendor did it (docs/web.md, "What a partner user sees")."""

    period: str
    status: str
    approved_at: UtcDateTime | None
    paid_at: UtcDateTime | None
    payment_ref: str | None
    total: Decimal
    by_rule: list[Total]
    lines: list[LineOut] | None = None


class LedgerOut(PartnerLedgerOut):
    """A quarter's ledger, as far as the caller may see it: totals and lines of the partners
    they can see."""

    run_id: int
    computed_at: UtcDateTime
    computed_by: str
    approved_by: str | None
    paid_by: str | None
    partners: int
    by_partner: list[Total]


class ComputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the run to compute from (default: the latest)
    run_id: RunId | None = None


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: Annotated[str, Field(min_length=1, max_length=200)]


def _ledgers(ctx: Ctx) -> Payouts:
    return Payouts(ctx.workspace)


def visible_ledger(ctx: Ctx, period: str, partner: str | None = None) -> Ledger:
    """The ledger of ``period`` with only the lines the caller may see (of ``partner`` only,
    when given); a draft is not shown to a partner user (404, as if there were none)."""
    from dataclasses import replace

    from partnerscope.money.payouts import PayoutNotFoundError

    # a partner user is told alike of a draft and of no ledger at all (not which ledgers exist)
    hidden = HTTPException(404, f"no approved ledger for {period!r} yet")
    try:
        ledger = _ledgers(ctx).ledger(period)
    except PayoutNotFoundError:
        if partner_view(ctx):
            raise hidden from None
        raise
    if partner_view(ctx) and ledger.status not in LOCKED:
        raise hidden
    if partner is not None:
        return replace(ledger, lines=[ln for ln in ledger.lines if ln.partner_id == partner])
    if ctx.visible is None:
        return ledger
    return replace(ledger, lines=[ln for ln in ledger.lines if ln.partner_id in ctx.visible])


def ledger_out(ctx: Ctx, ledger: Ledger, *, lines: bool = True) -> PartnerLedgerOut:
    """The ledger as the caller may see it (a partner user: the partner view)."""
    name = ctx.partner_names()
    by_partner: dict[str, list[Line]] = {}
    by_rule: dict[str, list[Line]] = {}
    for line in ledger.lines:
        by_partner.setdefault(line.partner_id, []).append(line)
        by_rule.setdefault(line.rule, []).append(line)

    def totals(groups: dict[str, list[Line]], label: Callable[[str], str]) -> list[Total]:
        return [
            Total(
                key=k, label=label(k), total=sum((ln.amount for ln in v), Decimal(0)), lines=len(v)
            )
            for k, v in sorted(groups.items())
        ]

    shown: dict[str, Any] = {
        "period": ledger.period,
        "status": ledger.status,
        "approved_at": ledger.approved_at,
        "paid_at": ledger.paid_at,
        "payment_ref": ledger.payment_ref,
        "total": ledger.total,
        "by_rule": totals(by_rule, ctx.workspace.words.rule),
        "lines": [
            LineOut(
                partner_id=ln.partner_id,
                name=name(ln.partner_id),
                rule=ln.rule,
                kind=ln.kind,
                earned_in=ln.earned_in,
                amount=ln.amount,
                explanation=ln.explanation,
                base=ln.base,
                rate=ln.rate,
                quantity=ln.quantity,
                inputs=ln.inputs,
            )
            for ln in ledger.lines
        ]
        if lines
        else None,
    }
    if partner_view(ctx):
        return PartnerLedgerOut(**shown)
    return LedgerOut(
        **shown,
        run_id=ledger.run_id,
        computed_at=ledger.computed_at,
        computed_by=ledger.computed_by,
        approved_by=ledger.approved_by,
        paid_by=ledger.paid_by,
        partners=len(by_partner),
        by_partner=totals(by_partner, name),
    )


def staff_ledger(ctx: Ctx, ledger: Ledger) -> LedgerOut:
    """The ledger in full, for the staff-only steps (compute, approve, pay)."""
    out = ledger_out(ctx, ledger)
    assert isinstance(out, LedgerOut)  # those routes do not serve partner users
    return out


def ledger_list(ctx: Ctx) -> list[PartnerLedgerOut]:
    """Every ledger the caller may see, newest first, with its totals (no lines)."""
    drafts = ctx.user.role is not Role.PARTNER_USER
    return [
        ledger_out(ctx, visible_ledger(ctx, p.period), lines=False)
        for p in reversed(_ledgers(ctx).periods())
        if drafts or p.status in LOCKED
    ]


def compute(ctx: Ctx, period: str, given: ComputeIn) -> Ledger:
    return _ledgers(ctx).compute(period, by=ctx.user.name, run_id=given.run_id)


def approve(ctx: Ctx, period: str) -> Ledger:
    return _ledgers(ctx).approve(period, by=ctx.user.name)


def pay(ctx: Ctx, period: str, given: PayIn) -> Ledger:
    return _ledgers(ctx).pay(period, by=ctx.user.name, reference=given.reference)


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


_MEDIA = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(ctx: Ctx, period: str, form: ExportFormat) -> Response:
    from partnerscope.money.payouts import export as write

    ledger = _ledgers(ctx).ledger(period)
    names = {pid: ctx.data.partner_name(pid) for pid in ledger.partner_totals()}
    filename = f"payouts-{ledger.period}.{form.value}"
    with tempfile.TemporaryDirectory() as folder:
        content = write(ledger, FilePath(folder) / filename, names=names).read_bytes()
    return Response(
        content,
        media_type=_MEDIA[form],
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@api.get("/payouts", response_model=list[LedgerOut] | list[PartnerLedgerOut])
def payouts_api(ctx: Reader) -> Response:
    """Every payout ledger the caller may see, newest first, with totals of their partners (a
    partner user: the approved and paid ones, its own part)."""
    return json_answer(ledger_list(ctx))


@api.get("/payouts/{period}", response_model=LedgerOut | PartnerLedgerOut)
def payout_api(ctx: Reader, period: Quarter) -> Response:
    """A quarter's ledger: totals by partner and rule, and every line explained."""
    return json_answer(ledger_out(ctx, visible_ledger(ctx, period)))


@api.get("/payouts/{period}/export", response_class=Response)
def payout_export_api(
    ctx: Finance, period: Quarter, format: ExportFormat = ExportFormat.CSV
) -> Response:
    """The ledger for payment, as CSV or XLSX (formula-safe text)."""
    return export(ctx, period, format)


@api.post("/payouts/{period}/compute", response_model=LedgerOut)
def payout_compute_api(ctx: Computer, period: Quarter, given: ComputeIn) -> LedgerOut:
    """Compute (or recompute) the quarter's draft ledger from a run (audited)."""
    return staff_ledger(ctx, compute(ctx, period, given))


@api.post("/payouts/{period}/approve", response_model=LedgerOut)
def payout_approve_api(ctx: Finance, period: Quarter) -> LedgerOut:
    """Approve a draft ledger: its lines are locked from now on (audited)."""
    return staff_ledger(ctx, approve(ctx, period))


@api.post("/payouts/{period}/pay", response_model=LedgerOut)
def payout_pay_api(ctx: Finance, period: Quarter, given: PayIn) -> LedgerOut:
    """Record the payment of an approved ledger with its payment reference (audited)."""
    return staff_ledger(ctx, pay(ctx, period, given))


def _with_data(ctx: Ctx, complete: list[str]) -> list[str]:
    """The complete quarters a ledger may be computed for, those with data (the scorecard's
    periods with data, when it is scored by quarter)."""
    labels = {label for _, label in ctx.data.periods}
    if not labels & set(complete):
        return complete
    with_data = {label for _, label in periods_with_data(ctx)}
    return [q for q in complete if q in with_data or q not in labels]


def _payouts_page(request: Request, ctx: Ctx, *, errors: list[str], status: int) -> HTMLResponse:
    ledgers = ledger_list(ctx)
    chart = charts.spec(
        "bars",
        [
            {"label": f"{x.period} ({x.status})", "value": float(x.total), "group": "up"}
            for x in reversed(ledgers)
        ],
        title="Total of each ledger",
        unit=Unit.MONEY,
        currency=ctx.workspace.words.currency,
    )
    can_compute = ctx.user.role in COMPUTERS and ctx.served is not None
    return page(
        request,
        ctx,
        "payouts.html.j2",
        status=status,
        title="Payouts",
        ledgers=ledgers,
        chart=chart if ledgers else None,
        quarters=_with_data(ctx, [q for q, done in quarters(ctx.data).items() if done])[::-1]
        if can_compute
        else [],
        errors=errors,
    )


def _ledger_page(
    request: Request,
    ctx: Ctx,
    period: str,
    *,
    partner: str | None = None,
    errors: list[str],
    status: int,
) -> HTMLResponse:
    """The ledger, or one partner's part of it (a partner user's own, always)."""
    if ctx.user.role is Role.PARTNER_USER:
        partner = ctx.user.partner_id or ""
    elif partner is not None and not ctx.can_see(partner):
        raise HTTPException(404, f"no partner {partner!r}")
    out = ledger_out(ctx, visible_ledger(ctx, period, partner))
    rules = [
        {"label": t.label, "value": float(t.total), "group": "up" if t.total >= 0 else "down"}
        for t in out.by_rule
    ]
    lines = out.lines or []
    name = ctx.partner_names()(partner) if partner else None
    return page(
        request,
        ctx,
        "payout.html.j2",
        status=status,
        title=f"Payouts {out.period}" + (f" of {name}" if name else ""),
        ledger=out,
        partner=partner,
        partner_name=name,
        explain=explaining(ctx),
        lines=lines if partner is not None or len(lines) <= MAX_LINES else [],
        chart=charts.spec(
            "bars",
            rules,
            title="Amount by rule",
            unit=Unit.MONEY,
            currency=ctx.workspace.words.currency,
        )
        if rules
        else None,
        can_approve=ctx.user.role in FINANCE,
        can_compute=ctx.user.role in COMPUTERS,
        errors=errors,
    )


@pages.get("/payouts", response_class=HTMLResponse)
def payouts_page(request: Request, ctx: Reader) -> HTMLResponse:
    """Every ledger with its status and total, and (for analysts and finance) the form that
    computes a quarter's draft."""
    return _payouts_page(request, ctx, errors=[], status=200)


@pages.get("/payouts/{period}", response_class=HTMLResponse)
def payout_page(
    request: Request,
    ctx: Reader,
    period: Quarter,
    partner: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """A ledger: totals by rule (chart) and partner, the lines of one partner explained, and
    the approve and pay forms for finance."""
    return _ledger_page(request, ctx, period, partner=partner, errors=[], status=200)


@pages.post("/payouts/compute", response_class=HTMLResponse, response_model=None)
def payout_compute_submit(
    request: Request, ctx: Computer, period: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    return form_action(
        lambda: compute(ctx, period, ComputeIn()),
        f"/payouts/{period}",
        lambda errors, status: _payouts_page(request, ctx, errors=errors, status=status),
    )


@pages.post("/payouts/{period}/approve", response_class=HTMLResponse, response_model=None)
def payout_approve_submit(request: Request, ctx: Finance, period: Quarter) -> Response:
    return form_action(
        lambda: approve(ctx, period),
        f"/payouts/{period}",
        lambda errors, status: _ledger_page(request, ctx, period, errors=errors, status=status),
    )


@pages.post("/payouts/{period}/pay", response_class=HTMLResponse, response_model=None)
def payout_pay_submit(
    request: Request,
    ctx: Finance,
    period: Quarter,
    reference: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return form_action(
        lambda: pay(ctx, period, PayIn(reference=reference.strip())),
        f"/payouts/{period}",
        lambda errors, status: _ledger_page(request, ctx, period, errors=errors, status=status),
    )
