"""The landing page of each role at ``/``: the dashboard for admins and analysts (the executive
summary of the served run: KPIs against goals, tiers, risers and decliners, alerts, decisions,
MDF return, with its JSON twin built by the same function), "My partners" for a partner
manager (web/routes/partner_list.py), a partner user's own view and finance's work to do
(web/hub.py). A partner manager sees the dashboard at ``/dashboard``: the portfolio's
aggregates and, in the lists that name partners, only their own partners."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from partnerscope.accounts import Role
from partnerscope.web.params import Period
from partnerscope.web.render import page
from partnerscope.web.routes.partner_list import Partners, list_page
from partnerscope.web.routes.partners import ReportOut, report_out
from partnerscope.web.routes.predictions import outlook
from partnerscope.web.run_index import (
    json_safe,
    periods_with_data,
    run_index,
    severity_rank,
    visible_rows,
)
from partnerscope.web.security import EVERYONE, STAFF, Ctx, allow

if TYPE_CHECKING:
    from partnerscope.reports.content import Report

pages = APIRouter()
api = APIRouter(tags=["portfolio"])


def dashboard(ctx: Ctx, period: str | None) -> Report:
    """The executive summary of the served run. Portfolio aggregates are shown to every staff
    member; the lists that name partners (risers, decliners, most severe alerts) are made
    from the partners the caller may see only."""
    index = run_index(ctx)
    report = index.executive(period)
    visible = ctx.visible
    if visible is None:
        return report
    from partnerscope.reports import charts as ch
    from partnerscope.reports.content import Figure, Writer, alert_row

    data = ctx.data
    start, _ = data.pick_period(report.period)
    n = data.workspace.config.reports.movers
    changes = sorted(
        (r["change"], r["partner_id"], r["score"], r["previous_score"])
        for r in visible_rows(ctx, index.partners(start))
        if r["change"] is not None
    )

    w = Writer(data)
    words = w.words

    def mover(change: float, pid: str, score: float, old: float, direction: str) -> dict[str, Any]:
        signed = ("+" if change > 0 else "−") + words.number(abs(change), digits=1)
        return {
            "partner_id": pid,
            "name": index.name(pid),
            "score": Figure("score", score, words.number(score, digits=1)),
            "previous": Figure("score", old, words.number(old, digits=1)),
            "change": Figure("score_change", change, signed),
            "direction": direction,
        }

    risers = [mover(c, p, s, o, "up") for c, p, s, o in reversed(changes[-n:]) if c > 0]
    decliners = [mover(c, p, s, o, "down") for c, p, s, o in changes[:n] if c < 0]
    alerts = sorted(
        (a for a in data.alerts.table.to_pylist() if a["partner_id"] in visible),
        key=lambda a: severity_rank(a["severity"]),
    )[:20]
    charts = dict(report.charts)
    charts["movers"] = ch.spec(
        "bars",
        [
            {
                "label": m["name"],
                "value": m["change"].value,
                "group": "Risers" if m["direction"] == "up" else "Decliners",
            }
            for m in [*risers, *decliners]
        ],
        title=f"Score change of your partners from the previous period, top {n} each way",
    )
    return replace(
        report,
        sections={
            **report.sections,
            "risers": risers,
            "decliners": decliners,
            "alerts": [{**alert_row(a, w), "partner": index.name(a["partner_id"])} for a in alerts],
            # decisions are the analysts' (their signals may name any partner)
            "decisions": {"records": [], "alerts": []},
        },
        charts=charts,
    )


@api.get("/dashboard", response_model=ReportOut)
def dashboard_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None) -> ReportOut:
    """The executive summary: KPIs against goals, tier distribution and moves, risers and
    decliners, alerts, decisions and MDF return."""
    out = report_out(dashboard(ctx, period), ReportOut)
    out.sections = json_safe(out.sections)
    out.charts = json_safe(out.charts)
    return out


@pages.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None
) -> HTMLResponse:
    """The executive summary (for a partner manager, whose home is "My partners")."""
    report = dashboard(ctx, period)
    return page(
        request,
        ctx,
        "dashboard.html.j2",
        report=report,
        periods=periods_with_data(ctx),
        outlook=outlook(ctx),
    )


@pages.get("/", response_class=HTMLResponse)
def home_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*EVERYONE))], query: Partners
) -> HTMLResponse:
    """Each role's landing page: the dashboard for admins and analysts, "My partners" for a
    partner manager, a partner user's own view, and finance's work to approve and pay."""
    from fastapi import HTTPException

    from partnerscope.web import hub

    role = ctx.user.role
    if role is Role.PARTNER_MANAGER:
        return list_page(request, ctx, query, base="/", title="My partners")
    if role is Role.PARTNER_USER:
        if not ctx.user.partner_id:
            raise HTTPException(404, "your user has no partner; ask an admin")
        home = hub.partner_home(ctx)
        return page(request, ctx, "partner_home.html.j2", title=home["name"], home=home)
    if role is Role.FINANCE:
        home = hub.finance_home(ctx)
        return page(request, ctx, "finance_home.html.j2", title="Payouts and MDF to do", home=home)
    report = dashboard(ctx, query.period)
    return page(
        request,
        ctx,
        "dashboard.html.j2",
        report=report,
        periods=periods_with_data(ctx),
        outlook=outlook(ctx),
    )
