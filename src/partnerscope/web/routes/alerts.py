"""Alerts and flags: the served run's alerts (most severe first) and flags of a period, of
the partners the caller may see, filtered by severity, kind, metric, partner and flag."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from partnerscope.web.params import FilterText, Period
from partnerscope.web.render import page
from partnerscope.web.run_index import SEVERITIES, json_float, run_index, visible_rows
from partnerscope.web.security import STAFF, Ctx, allow

pages = APIRouter()
api = APIRouter(tags=["portfolio"])


class AlertOut(BaseModel):
    alert_id: str
    partner_id: str
    name: str
    period: str
    kind: str
    metric: str | None
    severity: str
    value: float | None
    reference: float | None
    z: float | None
    message: str
    status: str | None
    first_seen_run: int | None


class FlagOut(BaseModel):
    partner_id: str
    name: str
    period: str
    flag: str
    criterion: str
    evidence: str


class AlertsOut(BaseModel):
    period: str
    #: alerts per severity among those listed
    counts: dict[str, int]
    alerts: list[AlertOut]
    flags: list[FlagOut]


@dataclass(frozen=True)
class AlertQuery:
    period: str | None = None
    severity: str | None = None
    kind: str | None = None
    metric: str | None = None
    partner: str | None = None
    flag: str | None = None


def alert_query(
    period: Period = None,
    severity: Annotated[
        Literal["high", "medium", "low", ""] | None, Query(description="empty: all")
    ] = None,
    kind: Annotated[str | None, Query(max_length=64, description="e.g. anomaly_own")] = None,
    metric: FilterText = None,
    partner: Annotated[str | None, Query(max_length=64, description="a partner id")] = None,
    flag: Annotated[str | None, Query(max_length=64, description="e.g. exit")] = None,
) -> AlertQuery:
    return AlertQuery(period, severity or None, kind, metric, partner, flag)


Alerts = Annotated[AlertQuery, Depends(alert_query)]


@dataclass
class AlertsPage:
    out: AlertsOut
    kinds: list[str]
    metrics: list[str]
    flag_kinds: list[str]


def alerts_view(ctx: Ctx, query: AlertQuery) -> AlertsPage:
    """The run's alerts and flags of the period, of the partners the caller may see."""
    index = run_index(ctx)
    start, label = ctx.data.pick_period(query.period)
    alerts = visible_rows(ctx, index.alerts(start))
    flags = visible_rows(ctx, index.flags(start))
    kinds = sorted({a["kind"] for a in alerts})
    metrics = sorted({a["metric"] for a in alerts if a["metric"]})
    flag_kinds = sorted({f["flag"] for f in flags})
    partner = (query.partner or "").strip().casefold() or None

    def wanted(row: dict[str, Any]) -> bool:
        return partner is None or row["partner_id"].casefold() == partner

    chosen = [
        a
        for a in alerts
        if wanted(a)
        and (query.severity is None or a["severity"] == query.severity)
        and (not query.kind or a["kind"] == query.kind)
        and (not query.metric or a["metric"] == query.metric)
    ]
    flagged = [f for f in flags if wanted(f) and (not query.flag or f["flag"] == query.flag)]
    counts = Counter(a["severity"] for a in chosen)
    out = AlertsOut(
        period=label,
        counts={s: counts.get(s, 0) for s in SEVERITIES},
        alerts=[
            AlertOut(
                **{k: a[k] for k in AlertOut.model_fields if k not in ("value", "reference", "z")},
                value=json_float(a["value"]),
                reference=json_float(a["reference"]),
                z=json_float(a["z"]),
            )
            for a in chosen
        ],
        flags=[FlagOut(**{k: f[k] for k in FlagOut.model_fields}) for f in flagged],
    )
    return AlertsPage(out, kinds, metrics, flag_kinds)


@api.get("/alerts", response_model=AlertsOut)
def alerts_api(ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts) -> AlertsOut:
    """The run's alerts (most severe first) and flags of a period, filtered."""
    return alerts_view(ctx, query).out


@pages.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, ctx: Annotated[Ctx, Depends(allow(*STAFF))], query: Alerts
) -> HTMLResponse:
    view = alerts_view(ctx, query)
    return page(
        request,
        ctx,
        "alerts.html.j2",
        title="Alerts and flags",
        subtitle=f"{view.out.period} · {len(view.out.alerts)} alerts, {len(view.out.flags)} flags",
        view=view,
        query=query,
        periods=ctx.data.periods,
        severities=SEVERITIES,
    )
