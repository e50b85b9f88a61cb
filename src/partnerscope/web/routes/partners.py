"""A partner's page: its scorecard explained, trends, tiers and next-tier gap, alerts and
improvement plan; the partner portal shows a partner user exactly this page of its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.web.render import page
from partnerscope.web.security import EVERYONE, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["partners"])

Period = Annotated[
    str | None,
    Query(max_length=32, description="e.g. FY2026-Q1 (default: the latest scored period)"),
]


class Stamp(BaseModel):
    run_id: int
    as_of: str
    config_hash: str
    definitions_version: str
    engine: str


class ReportOut(BaseModel):
    """A report's content as data: figures carry the metric, the raw value and its text."""

    kind: str
    title: str
    subtitle: str
    period: str
    partner_id: str | None
    stamp: Stamp
    sections: dict[str, Any]
    #: Vega-Lite specs
    charts: dict[str, dict[str, Any]]


def scorecard(ctx: Ctx, partner_id: str, period: str | None) -> Any:
    """The partner's scorecard of the served run (the same content as its scorecard report)."""
    from partnerscope.reports import content

    pid = ctx.partner(partner_id)
    served = ctx.run
    return served.built(
        ("scorecard", pid, period),
        lambda: content.scorecard(served.data, pid, period, medians=served.medians),
    )


def report_out(report: Any) -> ReportOut:
    from dataclasses import asdict

    return ReportOut(
        kind=report.kind,
        title=report.title,
        subtitle=report.subtitle,
        period=report.period,
        partner_id=report.partner_id,
        stamp=Stamp(**{k: v for k, v in asdict(report.stamp).items() if k in Stamp.model_fields}),
        sections=report.sections,
        charts=report.charts,
    )


@api.get("/partners/{partner_id}", response_model=ReportOut)
def partner_api(
    ctx: Annotated[Ctx, Depends(allow(*EVERYONE))], partner_id: str, period: Period = None
) -> ReportOut:
    """A partner's scorecard: score and its explanation, tiers, metrics with trend and cohort
    median, alerts, flags and the improvement plan."""
    return report_out(scorecard(ctx, partner_id, period))


@pages.get("/partners/{partner_id}", response_class=HTMLResponse)
def partner_page(
    request: Request,
    ctx: Annotated[Ctx, Depends(allow(*EVERYONE))],
    partner_id: str,
    period: Period = None,
) -> HTMLResponse:
    report = scorecard(ctx, partner_id, period)
    return page(request, ctx, "partner.html.j2", report=report, periods=ctx.data.periods)
