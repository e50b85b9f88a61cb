"""The dashboard: the executive summary of the served run (KPIs against goals, tiers, risers
and decliners, alerts, decisions, MDF return), with its JSON twin built by the same function.
A partner manager sees the portfolio's aggregates and, in the lists that name partners, only
their own partners."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from partnerscope.web.params import Period
from partnerscope.web.render import page
from partnerscope.web.routes.partners import ReportOut, report_out
from partnerscope.web.run_index import json_safe, run_index, severity_rank, visible_rows
from partnerscope.web.security import STAFF, Ctx, allow

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
    from partnerscope.reports.content import Figure

    data = ctx.data
    start, _ = data.pick_period(report.period)
    n = data.workspace.config.reports.movers
    changes = sorted(
        (r["change"], r["partner_id"], r["score"], r["previous_score"])
        for r in visible_rows(ctx, index.partners(start))
        if r["change"] is not None
    )

    def mover(change: float, pid: str, score: float, old: float, direction: str) -> dict[str, Any]:
        return {
            "partner_id": pid,
            "name": index.name(pid),
            "score": Figure("score", score, f"{score:.1f}"),
            "previous": Figure("score", old, f"{old:.1f}"),
            "change": Figure("score_change", change, f"{change:+.1f}"),
            "direction": direction,
        }

    risers = [mover(c, p, s, o, "up") for c, p, s, o in reversed(changes[-n:]) if c > 0]
    decliners = [mover(c, p, s, o, "down") for c, p, s, o in changes[:n] if c < 0]
    keys = ("alert_id", "partner_id", "period", "kind", "metric", "severity", "message", "status")
    alerts = sorted(
        (a for a in data.alerts.table.to_pylist() if a["partner_id"] in visible),
        key=lambda a: severity_rank(a["severity"]),
    )[:20]
    charts = dict(report.charts)
    charts["movers"] = ch.spec(
        "bars",
        [
            {"label": m["name"], "value": m["change"].value, "group": m["direction"]}
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
            "alerts": [
                {**{k: a.get(k) for k in keys}, "partner": index.name(a["partner_id"])}
                for a in alerts
            ],
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


@pages.get("/", response_class=HTMLResponse)
def dashboard_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], period: Period = None
) -> HTMLResponse:
    report = dashboard(ctx, period)
    return page(request, ctx, "dashboard.html.j2", report=report, periods=ctx.data.periods)
