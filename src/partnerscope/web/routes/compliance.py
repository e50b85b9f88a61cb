"""Compliance audits in the web app: ``/compliance`` (staff: the audits of the 12 months behind
compliance_score by category with their pass rates, and the corrective actions open at the
period's end with their owners; a partner user: its own audits, findings and corrective
actions), ``/compliance/{partner_id}`` (the audit trail behind one partner's score) and
``/api/v1/compliance`` (docs/compliance.md).

Who sees what: admins and analysts every partner, a partner manager their own partners, a
partner user its own audit trail only (another partner's is a 404 worded as for one that does
not exist), without the auditor and the notes, which are the vendor's internal judgement.
Finance is refused (403).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from partnerscope.accounts import Role
from partnerscope.lifecycle import compliance as cp
from partnerscope.web.audience import json_answer, partner_view
from partnerscope.web.render import page
from partnerscope.web.security import Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["compliance"])

READERS = (Role.ADMIN, Role.ANALYST, Role.PARTNER_MANAGER, Role.PARTNER_USER)
Reader = Annotated[Ctx, Depends(allow(*READERS))]
PartnerId = Annotated[str, Path(min_length=1, max_length=64)]


class ComplianceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the period whose 12-month window is shown (FY2025-Q2, 2025-06, FY2025); default: the
    #: last complete one at the scorecard's grain
    period: Annotated[str | None, Field(max_length=20)] = None


class FindingOut(BaseModel):
    finding_id: str
    audit_id: str
    audited: date
    #: the audit's category in words
    category: str
    severity: str
    finding: str
    corrective_action: str | None
    owner: str | None
    due: date | None
    closed: date | None
    #: overdue, open, closed on time, closed late or closed, at the period's end
    status: str


class ActionOut(FindingOut):
    partner_id: str
    partner: str


class RecordOut(BaseModel):
    record_id: str
    #: audit or check
    kind: str
    date: date
    #: an audit's category in words, a check's type
    what: str
    weight: float
    passed: bool
    findings: list[FindingOut]


class StaffRecordOut(RecordOut):
    auditor: str | None
    notes: str | None


class TrailOut(BaseModel):
    """The audits and checks that made a partner's compliance score, as the partner sees
    them."""

    partner_id: str
    partner: str
    period: str
    first_day: date
    last_day: date
    weight: float
    passed_weight: float
    #: 0–100; None without anything audited
    score: float | None
    records: list[RecordOut]


class StaffTrailOut(TrailOut):
    records: list[StaffRecordOut]  # type: ignore[assignment]


class CategoryOut(BaseModel):
    category: str
    audits: int
    passed: int
    partners: int
    #: 0–1
    pass_rate: float | None


class OverviewOut(BaseModel):
    period: str
    first_day: date
    last_day: date
    categories: list[CategoryOut]
    #: corrective actions open at the period's end, the overdue ones first
    actions: list[ActionOut]
    overdue: int


def _finding(f: cp.Finding, day: date) -> FindingOut:
    return FindingOut(
        finding_id=f.finding_id,
        audit_id=f.audit_id,
        audited=f.audited_at,
        category=cp.category_words(f.category),
        severity=f.severity,
        finding=f.finding,
        corrective_action=f.corrective_action,
        owner=f.owner,
        due=f.due_at,
        closed=f.closed_at,
        status=f.status(day),
    )


def trail_out(ctx: Ctx, t: cp.Trail) -> TrailOut:
    """The trail as the caller may see it (a partner user: without auditor and notes)."""
    common: dict[str, Any] = {
        "partner_id": t.partner_id,
        "partner": t.partner,
        "period": t.period,
        "first_day": t.first_day,
        "last_day": t.last_day,
        "weight": t.weight,
        "passed_weight": t.passed_weight,
        "score": t.score,
    }

    def fields(r: cp.Record) -> dict[str, Any]:
        return {
            "record_id": r.record_id,
            "kind": r.source,
            "date": r.day,
            "what": r.what,
            "weight": r.weight,
            "passed": r.passed,
            "findings": [_finding(f, t.last_day) for f in r.findings],
        }

    if partner_view(ctx):
        own = t.for_partner()
        return TrailOut(**common, records=[RecordOut(**fields(r)) for r in own.records])
    return StaffTrailOut(
        **common,
        records=[StaffRecordOut(**fields(r), auditor=r.auditor, notes=r.notes) for r in t.records],
    )


def _missing() -> HTTPException:
    return HTTPException(404, "no such partner")


def _bad_period(exc: cp.ComplianceError) -> HTTPException:
    return HTTPException(422, str(exc).removeprefix("--period: "))


def visible_trail(ctx: Ctx, partner_id: str, period: str | None) -> cp.Trail:
    """The partner's trail if the caller may see it, else 404 (as for no such partner)."""
    if ctx.user.role is Role.PARTNER_USER and partner_id != ctx.user.partner_id:
        raise _missing()
    if not ctx.can_see(partner_id):
        raise _missing()
    try:
        cp.period_of(ctx.workspace, period)
    except cp.ComplianceError as exc:
        raise _bad_period(exc) from None
    try:
        return cp.trail(ctx.workspace, partner_id, period)
    except cp.ComplianceError:
        raise _missing() from None


def _own(ctx: Ctx) -> str:
    own = ctx.user.partner_id
    if not own:
        raise _missing()
    return own


def overview_out(ctx: Ctx, period: str | None) -> OverviewOut:
    from partnerscope.warehouse import partner_names

    visible = ctx.visible
    try:
        o = cp.overview(ctx.workspace, None if visible is None else sorted(visible), period)
    except cp.ComplianceError as exc:
        raise _bad_period(exc) from None
    names = partner_names(ctx.workspace) if ctx.workspace.warehouse_path.is_file() else {}
    return OverviewOut(
        period=o.period,
        first_day=o.first_day,
        last_day=o.last_day,
        categories=[
            CategoryOut(
                category=c.label,
                audits=c.audits,
                passed=c.passed,
                partners=c.partners,
                pass_rate=c.pass_rate,
            )
            for c in o.categories
        ],
        actions=[
            ActionOut(
                **_finding(f, o.last_day).model_dump(),
                partner_id=f.partner_id,
                partner=names.get(f.partner_id, f.partner_id),
            )
            for f in o.actions
        ],
        overdue=len(o.overdue),
    )


# ------------------------------------------------------------------------------ API


@api.get("/compliance", response_model=OverviewOut | TrailOut)
def compliance_api(ctx: Reader, query: Annotated[ComplianceQuery, Query()]) -> Response:
    """Staff: the audits by category and the open corrective actions of the partners they may
    see. A partner user: its own audit trail."""
    if partner_view(ctx):
        return json_answer(trail_out(ctx, visible_trail(ctx, _own(ctx), query.period)))
    return json_answer(overview_out(ctx, query.period))


@api.get("/compliance/{partner_id}", response_model=StaffTrailOut | TrailOut)
def partner_compliance_api(
    ctx: Reader, partner_id: PartnerId, query: Annotated[ComplianceQuery, Query()]
) -> Response:
    """The audits and checks behind one partner's compliance score, with their findings."""
    return json_answer(trail_out(ctx, visible_trail(ctx, partner_id, query.period)))


# ------------------------------------------------------------------------------ pages


def _trail_page(request: Request, ctx: Ctx, t: cp.Trail) -> HTMLResponse:
    return page(
        request,
        ctx,
        "compliance_partner.html.j2",
        title=f"Compliance: {t.partner}",
        t=trail_out(ctx, t),
    )


@pages.get("/compliance", response_class=HTMLResponse)
def compliance_page(
    request: Request, ctx: Reader, query: Annotated[ComplianceQuery, Query()]
) -> HTMLResponse:
    """Staff: audits by category with pass rates, open and overdue corrective actions. A
    partner user: its own audits, findings and corrective actions."""
    if partner_view(ctx):
        return _trail_page(request, ctx, visible_trail(ctx, _own(ctx), query.period))
    return page(
        request,
        ctx,
        "compliance.html.j2",
        title="Compliance audits",
        o=overview_out(ctx, query.period),
    )


@pages.get("/compliance/{partner_id}", response_class=HTMLResponse)
def partner_compliance_page(
    request: Request,
    ctx: Reader,
    partner_id: PartnerId,
    query: Annotated[ComplianceQuery, Query()],
) -> HTMLResponse:
    """The audit trail behind one partner's compliance score."""
    return _trail_page(request, ctx, visible_trail(ctx, partner_id, query.period))
